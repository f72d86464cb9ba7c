"""Dataplane: a data plane proxy's inbounds, outbounds, gateway, listeners and probes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.durations import parse_duration
from meshmanager.model.resources.validation.golang.kubernetes import DNS1123_SUBDOMAIN
from meshmanager.model.resources.validation.golang.net import is_ip
from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.golang.url import URLError, parse_request_uri
from meshmanager.model.resources.validation.mesh_core.checks import (
    LOOPBACK,
    RFC1123_MESSAGE,
    overlap,
    validate_address,
    validate_identifier,
    validate_port,
)
from meshmanager.model.resources.validation.mesh_core.metrics import (
    METRICS_BACKEND,
    PROMETHEUS,
    UNKNOWN_METRICS_TYPE,
    validate_prometheus_conf,
)
from meshmanager.model.resources.validation.mesh_core.proto import BOOL, enum, pick
from meshmanager.model.resources.validation.schema import (
    STRING_MAP,
    UINT32,
    Arr,
    Message,
    ProtoDuration,
    Str,
    as_dict,
    as_dicts,
    as_int,
    as_list,
    as_str,
    as_tags,
    json_name,
    validate_with_schema,
)
from meshmanager.model.resources.validation.tags import (
    PROTOCOL_TAG,
    SERVICE_TAG,
    SUPPORTED_PROTOCOLS,
    TagRules,
    check_protocol_tag,
    parse_protocol,
    tag_path,
    validate_tags,
)

BACKEND_REF_KINDS = ("MeshExternalService", "MeshMultiZoneService", "MeshService")
INVALID_KIND = f"invalid value. Available values are: {','.join(BACKEND_REF_KINDS)}"

INBOUND = Message(
    {
        "port": UINT32,
        "servicePort": UINT32,
        "serviceAddress": Str(),
        "address": Str(),
        "tags": STRING_MAP,
        "health": Message({"ready": BOOL}),
        "serviceProbe": Message(
            {
                "interval": ProtoDuration(),
                "timeout": ProtoDuration(),
                "unhealthy_threshold": UINT32,
                "healthy_threshold": UINT32,
                "tcp": Message({}),
            }
        ),
        "state": enum("Ready", "NotReady", "Ignored"),
        "name": Str(),
        "protocol": Str(),
    }
)
OUTBOUND = Message(
    {
        "address": Str(),
        "port": UINT32,
        "tags": STRING_MAP,
        "backendRef": Message({"kind": Str(), "name": Str(), "port": UINT32, "labels": STRING_MAP}),
    }
)
TRANSPARENT_PROXYING = Message(
    {
        "redirect_port_inbound": UINT32,
        "redirect_port_outbound": UINT32,
        "direct_access_services": Arr(Str()),
        "reachable_services": Arr(Str()),
        "ip_family_mode": enum("UnSpecified", "DualStack", "IPv4", "IPv6"),
        "reachable_backends": Message(
            {
                "refs": Arr(
                    Message(
                        {
                            "kind": Str(),
                            "name": Str(),
                            "namespace": Str(),
                            "port": UINT32,
                            "labels": STRING_MAP,
                        }
                    )
                )
            }
        ),
    }
)
LISTENER = Message(
    {
        "type": enum("Unspecified", "ZoneIngress", "ZoneEgress"),
        "address": Str(),
        "port": UINT32,
        "name": Str(),
        "state": enum("Ready", "NotReady"),
    }
)
DATAPLANE = Message(
    {
        "networking": Message(
            {
                "address": Str(),
                "advertisedAddress": Str(),
                "inbound": Arr(INBOUND),
                "outbound": Arr(OUTBOUND),
                "gateway": Message({"tags": STRING_MAP, "type": enum("DELEGATED", "BUILTIN")}),
                "transparent_proxying": TRANSPARENT_PROXYING,
                "admin": Message({"port": UINT32}),
                "listeners": Arr(LISTENER),
            }
        ),
        "metrics": METRICS_BACKEND,
        "probes": Message(
            {
                "port": UINT32,
                "endpoints": Arr(
                    Message({"inbound_port": UINT32, "inbound_path": Str(), "path": Str()})
                ),
            }
        ),
    }
)


@validator("Dataplane")
def validate_dataplane(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(DATAPLANE, spec, Path(), _validate_dataplane, ctx.shape_checked)


def _validate_dataplane(spec: dict[str, Any], out: Violations) -> None:
    networking, path = spec.get("networking"), Path("networking")
    if networking is None:
        out.add(path, msg.MUST_BE_DEFINED)
        return
    _validate_admin_port(path, networking, out)
    gateway = networking.get("gateway")
    if gateway is None:
        _validate_sidecar(path, spec, out)
    elif gateway.get("type") == "BUILTIN":
        _validate_builtin_gateway(path, spec, out)
    else:
        _validate_delegated_gateway(path, spec, out)


def _validate_sidecar(path: Path, spec: dict[str, Any], out: Violations) -> None:
    networking = spec["networking"]
    _validate_networking(path, networking, out)
    _validate_probes(spec.get("probes"), out)
    metrics = spec.get("metrics")
    if metrics is not None:
        if metrics.get("type") != PROMETHEUS:
            out.add(Path("metrics").field("type"), UNKNOWN_METRICS_TYPE)
        else:
            validate_prometheus_conf(Path("metrics").field("conf"), metrics.get("conf"), out)
    _validate_listeners(path.field("listeners"), networking, out)


def _validate_delegated_gateway(path: Path, spec: dict[str, Any], out: Violations) -> None:
    networking = spec["networking"]
    if as_list(networking.get("inbound")):
        out.add(path.field("inbound"), "inbound cannot be defined for delegated gateways")
    if as_list(networking.get("listeners")):
        out.add(path.field("listeners"), "listeners cannot be defined for delegated gateways")
    _validate_gateway(path.field("gateway"), networking["gateway"], out)
    _validate_networking(path, networking, out)
    _validate_probes(spec.get("probes"), out)


def _validate_builtin_gateway(path: Path, spec: dict[str, Any], out: Violations) -> None:
    networking = spec["networking"]
    for field in ("inbound", "outbound", "listeners"):
        if as_list(networking.get(field)):
            out.add(path.field(field), f"{field} cannot be defined for builtin gateways")
    if spec.get("probes") is not None:
        out.add(path.field("probes"), "probes cannot be defined for builtin gateways")
    _validate_gateway(path.field("gateway"), networking["gateway"], out)
    _validate_networking(path, networking, out)


def _validate_admin_port(path: Path, networking: dict[str, Any], out: Violations) -> None:
    admin = networking.get("admin")
    if admin is None:
        return
    port = as_int(admin.get("port"))
    for inbound in as_dicts(networking.get("inbound")):
        dataplane_ip = as_str(inbound.get("address")) or as_str(networking.get("address"))
        dataplane_port = as_int(inbound.get("port"))
        workload_ip = as_str(inbound.get("serviceAddress")) or dataplane_ip
        workload_port = as_int(inbound.get("servicePort")) or dataplane_port
        if (port == dataplane_port and overlap(LOOPBACK, dataplane_ip)) or (
            port == workload_port and overlap(LOOPBACK, workload_ip)
        ):
            out.add(path.field("admin").field("port"), "must differ from inbound")
            break
    for outbound in as_dicts(networking.get("outbound")):
        address = as_str(outbound.get("address")) or "127.0.0.1"
        if port == as_int(outbound.get("port")) and overlap(LOOPBACK, address):
            out.add(path.field("admin").field("port"), "must differ from outbound")
            break


def _validate_networking(path: Path, networking: dict[str, Any], out: Violations) -> None:
    address = as_str(networking.get("address"))
    validate_address(path, address, out)
    for i, inbound in enumerate(as_dicts(networking.get("inbound"))):
        at = path.field("inbound").index(i)
        _validate_inbound(at, inbound, address, out)
        # An inbound without tags is the newer, tag-less model; only the older one needs
        # a service tag.
        tags = as_tags(inbound.get("tags"))
        if tags and SERVICE_TAG not in tags:
            out.add(tag_path(at.field("tags"), SERVICE_TAG), "tag has to exist")
    for i, outbound in enumerate(as_dicts(networking.get("outbound"))):
        _validate_outbound(path.field("outbound").index(i), outbound, out)
    # Kuma spells this path without the "y".
    _validate_reachable_backends(
        path.field("transparentProxing"), as_dict(pick(networking, "transparent_proxying")), out
    )


def _validate_inbound(
    path: Path, inbound: dict[str, Any], dataplane_address: str, out: Violations
) -> None:
    port, service_port = as_int(inbound.get("port")), as_int(inbound.get("servicePort"))
    validate_port(path.field("port"), port, out)
    if service_port != 0:
        validate_port(path.field("servicePort"), service_port, out)
    address = as_str(inbound.get("address"))
    service_address = as_str(inbound.get("serviceAddress"))
    same_port = service_port in (0, port)
    overlapping = "serviceAddress and servicePort has to differ from address and port"
    if service_address:
        if not is_ip(service_address):
            out.add(path.field("serviceAddress"), "serviceAddress has to be valid IP address")
        if service_address == dataplane_address and same_port:
            out.add(path.field("serviceAddress"), overlapping)
    if address:
        if not is_ip(address):
            out.add(path.field("address"), "address has to be valid IP address")
        if address == service_address and same_port:
            out.add(path.field("serviceAddress"), overlapping)
    rules = TagRules(map_checks=[check_protocol_tag])
    validate_tags(path.field("tags"), as_tags(inbound.get("tags")), rules, out)
    protocol = as_str(inbound.get("protocol"))
    if protocol and parse_protocol(protocol) is None:
        out.add(
            path.field("protocol"),
            f"has an invalid value {go_quote(protocol)}. "
            + msg.allowed_values_hint(*SUPPORTED_PROTOCOLS),
        )
    _validate_service_probe(path.field("serviceProbe"), inbound.get("serviceProbe"), out)


def _validate_service_probe(path: Path, probe: Any, out: Violations) -> None:
    if probe is None:
        return
    for field in ("interval", "timeout"):
        duration = probe.get(field)
        if duration is not None and parse_duration(duration) == 0:
            out.add(path.field(field), "must have a positive value")
    for field in ("unhealthy_threshold", "healthy_threshold"):
        threshold = pick(probe, field)
        if threshold is not None and as_int(threshold) == 0:
            out.add(path.field(json_name(field)), "must have a positive value")


def _validate_outbound(path: Path, outbound: dict[str, Any], out: Violations) -> None:
    validate_port(path.field("port"), as_int(outbound.get("port")), out)
    address = as_str(outbound.get("address"))
    if address and not is_ip(address):
        out.add(path.field("address"), "address has to be valid IP address")
    backend_ref, tags = outbound.get("backendRef"), as_tags(outbound.get("tags"))
    if backend_ref is not None:
        kind = as_str(backend_ref.get("kind"))
        if kind not in BACKEND_REF_KINDS:
            out.add(path.field("backendRef").field("kind"), INVALID_KIND)
        if not as_str(backend_ref.get("name")) and not as_tags(backend_ref.get("labels")):
            out.add(path.field("backendRef"), "either 'name' or 'labels' should be specified")
        # A MeshExternalService's port comes from its endpoints.
        if kind != "MeshExternalService":
            port = as_int(backend_ref.get("port"))
            validate_port(path.field("backendRef").field("port"), port, out)
    elif not tags:
        out.add(path.field("tags"), f"mandatory tag {go_quote(SERVICE_TAG)} is missing")
    else:
        validate_tags(path.field("tags"), tags, TagRules(require_service=True), out)
    if backend_ref is not None and tags:
        out.add(path.field("backendRef"), "both backendRef and tags/service cannot be defined")


def _validate_reachable_backends(path: Path, proxying: dict[str, Any], out: Violations) -> None:
    refs_path = path.field("reachableBackends").field("refs")
    refs = as_dicts(as_dict(pick(proxying, "reachable_backends")).get("refs"))
    for i, ref in enumerate(refs):
        at = refs_path.index(i)
        name, namespace = as_str(ref.get("name")), as_str(ref.get("namespace"))
        labels = as_tags(ref.get("labels"))
        if as_str(ref.get("kind")) not in BACKEND_REF_KINDS:
            out.add(at.field("kind"), INVALID_KIND)
        if name:
            validate_identifier(at.field("name"), name, out, DNS1123_SUBDOMAIN, RFC1123_MESSAGE)
        if not name and not namespace and not labels:
            out.add(at.field("name"), "name or labels are required")
        if not name and namespace:
            out.add(at.field("name"), "name is required, when namespace is defined")
        if (name or namespace) and labels:
            out.add(at.field("labels"), "labels cannot be defined when name is specified")


def _validate_probes(probes: Any, out: Violations) -> None:
    if probes is None:
        return
    path = Path("probes")
    validate_port(path.field("port"), as_int(probes.get("port")), out)
    for i, endpoint in enumerate(as_dicts(probes.get("endpoints"))):
        at = path.field("endpoints").index(i)
        validate_port(at.field("inboundPort"), as_int(pick(endpoint, "inbound_port")), out)
        for field, value in (
            ("inboundPath", pick(endpoint, "inbound_path")),
            ("path", endpoint.get("path")),
        ):
            try:
                parse_request_uri(as_str(value))
            except URLError:
                out.add(at.field(field), "should be a valid URL Path")


def _validate_listeners(path: Path, networking: dict[str, Any], out: Violations) -> None:
    inbounds = as_dicts(networking.get("inbound"))
    names = {as_str(i.get("name")) or str(as_int(i.get("port"))) for i in inbounds}
    inbound_binds = {
        f"{as_str(i.get('address')) or as_str(networking.get('address'))}:{as_int(i.get('port'))}"
        for i in inbounds
    }
    types_by_bind: dict[str, str] = {}
    for i, listener in enumerate(as_dicts(networking.get("listeners"))):
        at = path.index(i)
        kind = as_str(listener.get("type")) or "Unspecified"
        if kind == "Unspecified":
            out.add(at.field("type"), "type must be ZoneIngress or ZoneEgress")
        address, port = as_str(listener.get("address")), as_int(listener.get("port"))
        validate_address(at, address, out)
        validate_port(at.field("port"), port, out)
        name = as_str(listener.get("name"))
        if name:
            if name in names:
                out.add(
                    at.field("name"),
                    f"name {go_quote(name)} must be unique across inbounds and listeners",
                )
            names.add(name)
        bind = f"{address}:{port}"
        if bind not in types_by_bind:
            types_by_bind[bind] = kind
        elif types_by_bind[bind] == kind:
            out.add(at, f"address:port {bind} is already used by another listener")
        else:
            out.add(at, f"address:port {bind} is used by listeners of different types")
        if bind in inbound_binds:
            out.add(at, f"address:port {bind} collides with an inbound listener")


def _validate_gateway(path: Path, gateway: dict[str, Any], out: Violations) -> None:
    tags = as_tags(gateway.get("tags"))
    # A gateway without tags is the newer, tag-less model; only the older one needs a
    # service tag.
    rules = TagRules(require_service=bool(tags), map_checks=[_check_gateway_protocol_tag])
    validate_tags(path.field("tags"), tags, rules, out)


def _check_gateway_protocol_tag(path: Path, tags: Mapping[str, str], out: Violations) -> None:
    value = tags.get(PROTOCOL_TAG)
    if value is not None and parse_protocol(value) != "tcp":
        out.add(
            tag_path(path, PROTOCOL_TAG),
            f"other values than tcp are not allowed, provided value {go_quote(value)}",
        )

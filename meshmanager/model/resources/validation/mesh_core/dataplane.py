"""Dataplane: a data plane proxy's inbounds, outbounds, gateway, listeners and probes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.mesh_core.checks import (
    RFC1123_MESSAGE,
    RFC1123_SUBDOMAIN,
    SUPPORTED_PROTOCOLS,
    allowed_values_hint,
    parse_protocol,
    validate_address,
    validate_identifier,
    validate_port,
)
from meshmanager.model.resources.validation.mesh_core.golang import (
    LOOPBACK,
    is_ip,
    overlap,
    parse_duration,
    parse_request_uri,
    quote,
)
from meshmanager.model.resources.validation.mesh_core.metrics import (
    METRICS_BACKEND,
    PROMETHEUS,
    UNKNOWN_METRICS_TYPE,
    validate_prometheus_conf,
)
from meshmanager.model.resources.validation.mesh_core.proto import (
    BOOL,
    STRING_MAP,
    Duration,
    as_dict,
    as_dicts,
    as_int,
    as_list,
    as_str,
    as_tags,
    enum,
    json_name,
    message,
    pick,
    uint32,
)
from meshmanager.model.resources.validation.mesh_core.tags import (
    PROTOCOL_TAG,
    SERVICE_TAG,
    TagRules,
    validate_tags,
)
from meshmanager.model.resources.validation.schema import Arr, Str, check

BACKEND_REF_KINDS = ("MeshExternalService", "MeshMultiZoneService", "MeshService")
INVALID_KIND = f"invalid value. Available values are: {','.join(BACKEND_REF_KINDS)}"

INBOUND = message(
    {
        "port": uint32(),
        "servicePort": uint32(),
        "serviceAddress": Str(),
        "address": Str(),
        "tags": STRING_MAP,
        "health": message({"ready": BOOL}),
        "serviceProbe": message(
            {
                "interval": Duration(),
                "timeout": Duration(),
                "unhealthy_threshold": uint32(),
                "healthy_threshold": uint32(),
                "tcp": message({}),
            }
        ),
        "state": enum("Ready", "NotReady", "Ignored"),
        "name": Str(),
        "protocol": Str(),
    }
)
OUTBOUND = message(
    {
        "address": Str(),
        "port": uint32(),
        "tags": STRING_MAP,
        "backendRef": message(
            {"kind": Str(), "name": Str(), "port": uint32(), "labels": STRING_MAP}
        ),
    }
)
TRANSPARENT_PROXYING = message(
    {
        "redirect_port_inbound": uint32(),
        "redirect_port_outbound": uint32(),
        "direct_access_services": Arr(Str()),
        "reachable_services": Arr(Str()),
        "ip_family_mode": enum("UnSpecified", "DualStack", "IPv4", "IPv6"),
        "reachable_backends": message(
            {
                "refs": Arr(
                    message(
                        {
                            "kind": Str(),
                            "name": Str(),
                            "namespace": Str(),
                            "port": uint32(),
                            "labels": STRING_MAP,
                        }
                    )
                )
            }
        ),
    }
)
LISTENER = message(
    {
        "type": enum("Unspecified", "ZoneIngress", "ZoneEgress"),
        "address": Str(),
        "port": uint32(),
        "name": Str(),
        "state": enum("Ready", "NotReady"),
    }
)
DATAPLANE = message(
    {
        "networking": message(
            {
                "address": Str(),
                "advertisedAddress": Str(),
                "inbound": Arr(INBOUND),
                "outbound": Arr(OUTBOUND),
                "gateway": message({"tags": STRING_MAP, "type": enum("DELEGATED", "BUILTIN")}),
                "transparent_proxying": TRANSPARENT_PROXYING,
                "admin": message({"port": uint32()}),
                "listeners": Arr(LISTENER),
            }
        ),
        "metrics": METRICS_BACKEND,
        "probes": message(
            {
                "port": uint32(),
                "endpoints": Arr(
                    message({"inbound_port": uint32(), "inbound_path": Str(), "path": Str()})
                ),
            }
        ),
    }
)


@validator("Dataplane")
def validate_dataplane(spec: Any, ctx: Context) -> Violations:
    violations = check(DATAPLANE, spec, Path())
    if violations:
        return violations
    spec, out = as_dict(spec), Violations()
    networking, path = spec.get("networking"), Path("networking")
    if networking is None:
        out.add(path, "must be defined")
        return out
    _validate_admin_port(path, networking, out)
    gateway = networking.get("gateway")
    if gateway is None:
        _validate_sidecar(path, spec, out)
    elif gateway.get("type") == "BUILTIN":
        _validate_builtin_gateway(path, spec, out)
    else:
        _validate_delegated_gateway(path, spec, out)
    return out


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
            out.add(at.field("tags").key(SERVICE_TAG), "tag has to exist")
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
    rules = TagRules(map_checks=[_check_inbound_protocol_tag])
    validate_tags(path.field("tags"), as_tags(inbound.get("tags")), rules, out)
    protocol = as_str(inbound.get("protocol"))
    if protocol and parse_protocol(protocol) is None:
        out.add(
            path.field("protocol"),
            f"has an invalid value {quote(protocol)}. {allowed_values_hint(*SUPPORTED_PROTOCOLS)}",
        )
    _validate_service_probe(path.field("serviceProbe"), inbound.get("serviceProbe"), out)


def _check_inbound_protocol_tag(path: Path, tags: Mapping[str, str], out: Violations) -> None:
    value = tags.get(PROTOCOL_TAG)
    if value is not None and parse_protocol(value) is None:
        out.add(
            path.key(PROTOCOL_TAG),
            f"tag {quote(PROTOCOL_TAG)} has an invalid value {quote(value)}. "
            f"{allowed_values_hint(*SUPPORTED_PROTOCOLS)}",
        )


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
        out.add(path.field("tags"), f'mandatory tag "{SERVICE_TAG}" is missing')
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
            validate_identifier(at.field("name"), name, out, RFC1123_SUBDOMAIN, RFC1123_MESSAGE)
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
            if parse_request_uri(as_str(value)) is None:
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
                    f"name {quote(name)} must be unique across inbounds and listeners",
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
            path.key(PROTOCOL_TAG),
            f"other values than tcp are not allowed, provided value {quote(value)}",
        )

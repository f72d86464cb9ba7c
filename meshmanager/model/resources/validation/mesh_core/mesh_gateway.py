"""MeshGateway: the listeners of a builtin gateway and the proxies it binds to."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.mesh_core.checks import (
    validate_hostname,
    validate_port,
)
from meshmanager.model.resources.validation.mesh_core.proto import (
    BOOL,
    DATA_SOURCE,
    SELECTOR,
    enum,
    pick,
)
from meshmanager.model.resources.validation.schema import (
    STRING_MAP,
    UINT32,
    Arr,
    Message,
    Str,
    as_dict,
    as_dicts,
    as_int,
    as_list,
    as_str,
    as_tags,
    validate_with_schema,
)
from meshmanager.model.resources.validation.tags import (
    EXTERNAL_SERVICE_TAG,
    PROTOCOL_TAG,
    SERVICE_TAG,
    ZONE_TAG,
    TagRules,
    key_not_in,
    validate_selector,
    validate_selectors,
)

LISTENER = Message(
    {
        "hostname": Str(),
        "port": UINT32,
        "protocol": enum("NONE", "TCP", "TLS", "HTTP", "HTTPS"),
        "tls": Message(
            {
                "mode": enum("NONE", "TERMINATE", "PASSTHROUGH"),
                "certificates": Arr(DATA_SOURCE),
                "options": Message({}),
            }
        ),
        "tags": STRING_MAP,
        "crossMesh": BOOL,
        "resources": Message({"connection_limit": UINT32}),
    }
)
MESH_GATEWAY = Message(
    {
        "selectors": Arr(SELECTOR),
        "tags": STRING_MAP,
        "conf": Message({"listeners": Arr(LISTENER)}),
    }
)

# Tags that describe a Dataplane, so a gateway or listener may not set them.
DATAPLANE_TAGS = TagRules(
    key_checks=[key_not_in({EXTERNAL_SERVICE_TAG, PROTOCOL_TAG, SERVICE_TAG, ZONE_TAG})]
)


@validator("MeshGateway")
def validate_mesh_gateway(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(MESH_GATEWAY, spec, Path(), _validate_mesh_gateway)


def _validate_mesh_gateway(spec: dict[str, Any], out: Violations) -> None:
    listeners = as_dicts(as_dict(spec.get("conf")).get("listeners"))
    validate_selectors(
        Path("selectors"),
        as_list(spec.get("selectors")),
        TagRules(require_at_least_one_tag=True, require_service=True),
        out,
        at_least_one=True,
        at_most_one=any(listener.get("crossMesh") for listener in listeners),
    )
    validate_selector(Path("tags"), as_tags(spec.get("tags")), DATAPLANE_TAGS, out)
    conf = spec.get("conf")
    if conf is None:
        out.add(Path("conf"), "cannot be empty")
        return
    path = Path("conf").field("listeners")
    if not listeners:
        out.add(path, "cannot be empty")
    for i, listener in enumerate(listeners):
        _validate_listener(path.index(i), listener, out)
    _validate_listeners_share_ports(path, listeners, out)


def _validate_listener(path: Path, listener: dict[str, Any], out: Violations) -> None:
    hostname = as_str(listener.get("hostname"))
    if hostname:
        validate_hostname(path.field("hostname"), hostname, out)
    validate_port(path.field("port"), as_int(listener.get("port")), out)
    protocol, cross_mesh = listener.get("protocol") or "NONE", bool(listener.get("crossMesh"))
    tls = listener.get("tls")
    mode = as_str(as_dict(tls).get("mode")) or "NONE"
    if protocol == "NONE":
        out.add(path.field("protocol"), "cannot be empty")
    elif protocol == "HTTPS":
        if cross_mesh:
            out.add(path.field("protocol"), "protocol is not supported with crossMesh")
        elif tls is None:
            out.add(path.field("tls"), "cannot be empty")
        elif mode == "PASSTHROUGH":
            out.add(path.field("tls").field("mode"), "mode is not supported on HTTPS listeners")
    if tls is not None:
        _validate_tls(path.field("tls"), tls, mode, cross_mesh, out)
    validate_selector(path.field("tags"), as_tags(listener.get("tags")), DATAPLANE_TAGS, out)


def _validate_tls(
    path: Path, tls: dict[str, Any], mode: str, cross_mesh: bool, out: Violations
) -> None:
    certificates = as_list(tls.get("certificates"))
    if cross_mesh:
        if mode != "NONE" or certificates:
            out.add(path, "must be empty with crossMesh")
    elif mode == "NONE":
        out.add(path.field("mode"), "cannot be empty")
    elif mode == "TERMINATE" and not certificates:
        out.add(path.field("certificates"), "cannot be empty in TLS termination mode")
    elif mode == "TERMINATE" and len(certificates) > 2:
        # One RSA and one ECDSA certificate at most.
        out.add(path.field("certificates"), "cannot have more than 2 certificates")


def _validate_listeners_share_ports(
    path: Path, listeners: list[dict[str, Any]], out: Violations
) -> None:
    """Listeners on one port are served by one Envoy listener, so they must agree on the
    protocol and connection limit, and differ in hostname."""
    protocols: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    hostnames: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    limited: dict[int, list[int]] = defaultdict(list)
    limits: dict[int, set[int]] = defaultdict(set)
    for i, listener in enumerate(listeners):
        port = as_int(listener.get("port"))
        protocols[port][as_str(listener.get("protocol")) or "NONE"].append(i)
        # No hostname means every hostname, as "*" does.
        hostnames[port][as_str(listener.get("hostname")) or "*"].append(i)
        limit = as_int(pick(as_dict(listener.get("resources")), "connection_limit"))
        if limit:
            limited[port].append(i)
            limits[port].add(limit)
    for by_protocol in protocols.values():
        if len(by_protocol) > 1:
            for indexes in by_protocol.values():
                for i in indexes:
                    out.add(path.index(i), "protocol conflicts with other listeners on this port")
    for by_hostname in hostnames.values():
        for indexes in by_hostname.values():
            if len(indexes) > 1:
                for i in indexes:
                    out.add(path.index(i), "multiple listeners for hostname on this port")
    for port, indexes in limited.items():
        if len(limits[port]) > 1:
            for i in indexes:
                at = path.index(i).field("resources").field("connectionLimit")
                out.add(at, "conflicting values for this port")

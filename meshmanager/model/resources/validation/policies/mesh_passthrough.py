"""MeshPassthrough: which destinations outside the mesh a sidecar lets traffic through to."""

from __future__ import annotations

import re
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.golang.govalidator import is_dns_name
from meshmanager.model.resources.validation.golang.net import is_cidr, is_ip
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    each,
    obj,
    validate_policy,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import TargetRefRules
from meshmanager.model.resources.validation.schema import UINT32, Arr, Obj, Str

PROTOCOLS = ("tcp", "tls", "grpc", "http", "http2", "mysql")
# HTTP-like protocols are routed by port: one port cannot carry two of them.
_SHARED_PORT_PROTOCOLS = ("grpc", "http", "http2")
_PARTIAL_WILDCARD = re.compile(r"\*[^.]+")

# Match type and protocol have no enum: Validate() reports them with its own messages.
SCHEMA = Obj(
    {
        "targetRef": ref.TARGET_REF,
        "default": Obj(
            {
                "passthroughMode": Str(enum=("All", "Matched", "None")),
                "appendMatch": Arr(
                    Obj({"type": Str(), "value": Str(), "port": UINT32, "protocol": Str()})
                ),
            }
        ),
    }
)


def _rules(spec: Spec, out: Violations) -> None:
    kinds = (ref.MESH, ref.MESH_SUBSET, ref.DATAPLANE)
    validate_top_target_ref(out, spec, TargetRefRules(kinds))
    port_protocols: dict[int, str] = {}
    values_by_port: dict[tuple[int, str], set[str]] = {}
    for match_path, match in each(obj(spec, "default"), "appendMatch", SPEC.field("default")):
        match_type, value = match.get("type") or "", match.get("value") or ""
        port, protocol = match.get("port"), match.get("protocol") or ""
        port_path, value_path = match_path.field("port"), match_path.field("value")
        if protocol == "mysql" and port is None:
            out.add(port_path, "port must be defined for Mysql protocol")
        if port == 0 or (port or 0) > 65535:
            out.add(port_path, msg.INVALID_PORT)
        if port is not None:
            known = port_protocols.get(port)
            if known is not None and known != protocol and protocol in _SHARED_PORT_PROTOCOLS:
                out.add(
                    port_path,
                    "using the same port in multiple matches requires the same protocol for"
                    f" the following protocols: [{' '.join(_SHARED_PORT_PROTOCOLS)}]",
                )
            else:
                port_protocols[port] = protocol
            seen = values_by_port.setdefault((port, protocol), set())
            if value in seen:
                out.add(value_path, f"value {value} is already defiend for this port and protocol")
            seen.add(value)
        if protocol not in PROTOCOLS:
            out.add(match_path.field("protocol"), msg.must_be_one_of("protocol", PROTOCOLS))
        if match_type == "CIDR":
            if not is_cidr(value):
                out.add(value_path, "provided CIDR has incorrect value")
        elif match_type == "IP":
            if not is_ip(value):
                out.add(value_path, "provided IP has incorrect value")
        elif match_type == "Domain":
            if protocol in ("tcp", "mysql"):
                out.add(
                    match_path.field("protocol"),
                    f"protocol {protocol} is not supported for a domain",
                )
            if _PARTIAL_WILDCARD.match(value):
                out.add(
                    value_path,
                    "provided DNS has incorrect value, partial wildcard is currently not supported",
                )
            if port is None and value.startswith("*") and protocol in _SHARED_PORT_PROTOCOLS:
                out.add(
                    port_path, "wildcard domains doesn't work for all ports and layer 7 protocol"
                )
            host = value[2:] if value.startswith("*.") else value
            if not host.startswith("*") and not is_dns_name(host):
                out.add(value_path, "provided DNS has incorrect value")
        else:
            out.add(
                match_path.field("type"),
                f"provided type {match_type} is not supported, one of Domain, IP, or CIDR is"
                " supported",
            )


@validator("MeshPassthrough")
def validate_mesh_passthrough(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, _rules)

"""MeshOpenTelemetryBackend (Kuma v2.14.3 pkg/core/resources/apis/meshopentelemetrybackend)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.core_types._common import (
    INVALID_ADDRESS,
    ROOT,
    is_set,
    is_valid_port,
)
from meshmanager.model.resources.validation.golang.govalidator import is_dns_name
from meshmanager.model.resources.validation.golang.net import is_ip
from meshmanager.model.resources.validation.schema import (
    Bool,
    Int,
    Obj,
    Str,
    as_dict,
    validate_with_schema,
)

PROTOCOLS = ("grpc", "http")
ENV_MODES = ("Disabled", "Optional", "Required")
ENV_PRECEDENCES = ("ExplicitFirst", "EnvFirst")

# `protocol`, `env.mode` and `env.precedence` are checked by the rules below.
SPEC = Obj(
    {
        "endpoint": Obj({"address": Str(), "port": Int(), "path": Str()}),
        "protocol": Str(),
        "env": Obj({"mode": Str(), "precedence": Str(), "allowSignalOverrides": Bool()}),
    }
)


@validator("MeshOpenTelemetryBackend")
def validate_mesh_open_telemetry_backend(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(SPEC, spec, ROOT, _check_mesh_open_telemetry_backend)


def _check_mesh_open_telemetry_backend(spec: dict[str, Any], out: Violations) -> None:
    protocol = spec.get("protocol")
    protocol = "grpc" if protocol is None else protocol
    if is_set(spec, "endpoint"):
        _check_endpoint(as_dict(spec["endpoint"]), protocol, ROOT.field("endpoint"), out)
    if protocol != "" and protocol not in PROTOCOLS:
        out.add(ROOT.field("protocol"), msg.must_be_one_of("protocol", PROTOCOLS))
    env = as_dict(spec.get("env"))
    for field, allowed in (("mode", ENV_MODES), ("precedence", ENV_PRECEDENCES)):
        if env.get(field) and env[field] not in allowed:
            out.add(ROOT.field("env").field(field), msg.must_be_one_of(field, allowed))


def _check_endpoint(endpoint: dict[str, Any], protocol: str, path: Path, out: Violations) -> None:
    address = endpoint.get("address")
    if address == "":
        out.add(path.field("address"), msg.MUST_NOT_BE_EMPTY)
    elif address is not None and not (is_ip(address) or is_dns_name(address)):
        out.add(path.field("address"), INVALID_ADDRESS)
    if is_set(endpoint, "port") and not is_valid_port(endpoint["port"]):
        out.add(path.field("port"), msg.INVALID_PORT)
    url_path = endpoint.get("path")
    if not url_path:
        return
    if protocol in ("grpc", ""):
        out.add(path.field("path"), "must not be set when protocol is grpc")
        return
    if not url_path.startswith("/"):
        out.add(path.field("path"), "must start with /")
    if "?" in url_path or "#" in url_path:
        out.add(path.field("path"), "must not contain query or fragment")

"""ZoneEgress: the proxy that carries a zone's traffic to other zones and out of the
mesh."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.mesh_core.checks import (
    validate_address,
    validate_port,
    validate_zone_proxy_admin_port,
)
from meshmanager.model.resources.validation.schema import (
    UINT32,
    Message,
    Str,
    as_dict,
    as_int,
    as_str,
    validate_with_schema,
)

ZONE_EGRESS = Message(
    {
        "zone": Str(),
        "networking": Message(
            {"address": Str(), "port": UINT32, "admin": Message({"port": UINT32})}
        ),
    }
)


@validator("ZoneEgress")
def validate_zone_egress(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(ZONE_EGRESS, spec, Path(), _validate_zone_egress, ctx.shape_checked)


def _validate_zone_egress(spec: dict[str, Any], out: Violations) -> None:
    networking, path = as_dict(spec.get("networking")), Path("networking")
    address, port = as_str(networking.get("address")), as_int(networking.get("port"))
    validate_zone_proxy_admin_port(path, networking.get("admin"), [(address, port)], out)
    if address:
        validate_address(path.field("address"), address, out)
    validate_port(path.field("port"), port, out)

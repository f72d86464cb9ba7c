"""ZoneIngress: the proxy that carries traffic into a zone from other zones."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.mesh_core.checks import (
    validate_address,
    validate_port,
    validate_zone_proxy_admin_port,
)
from meshmanager.model.resources.validation.mesh_core.proto import BOOL
from meshmanager.model.resources.validation.schema import (
    STRING_MAP,
    UINT32,
    Arr,
    Message,
    Str,
    as_dict,
    as_dicts,
    as_int,
    as_str,
    as_tags,
    validate_with_schema,
)
from meshmanager.model.resources.validation.tags import TagRules, validate_tags

ZONE_INGRESS = Message(
    {
        "zone": Str(),
        "networking": Message(
            {
                "address": Str(),
                "advertisedAddress": Str(),
                "port": UINT32,
                "advertisedPort": UINT32,
                "admin": Message({"port": UINT32}),
            }
        ),
        "availableServices": Arr(
            Message(
                {
                    "tags": STRING_MAP,
                    "instances": UINT32,
                    "mesh": Str(),
                    "externalService": BOOL,
                }
            )
        ),
    }
)


@validator("ZoneIngress")
def validate_zone_ingress(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(
        ZONE_INGRESS, spec, Path(), _validate_zone_ingress, ctx.shape_checked
    )


def _validate_zone_ingress(spec: dict[str, Any], out: Violations) -> None:
    networking, path = as_dict(spec.get("networking")), Path("networking")
    address, port = as_str(networking.get("address")), as_int(networking.get("port"))
    public_address = as_str(networking.get("advertisedAddress"))
    public_port = as_int(networking.get("advertisedPort"))
    binds = [(address, port), (public_address, public_port)]
    validate_zone_proxy_admin_port(path, networking.get("admin"), binds, out)
    if not public_address and public_port:
        out.add(path.field("advertisedAddress"), "has to be defined with advertisedPort")
    if not public_port and public_address:
        out.add(path.field("advertisedPort"), "has to be defined with advertisedAddress")
    # Kuma nests these under an extra `.address`, as the paths show.
    if address:
        validate_address(path.field("address"), address, out)
    if public_address:
        validate_address(path.field("advertisedAddress"), public_address, out)
    validate_port(path.field("port"), port, out)
    if public_port:
        validate_port(path.field("advertisedPort"), public_port, out)
    for i, service in enumerate(as_dicts(spec.get("availableServices"))):
        tags_path = Path("availableService").index(i).field("tags")
        rules = TagRules(require_service=True)
        validate_tags(tags_path, as_tags(service.get("tags")), rules, out)

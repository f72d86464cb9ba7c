"""ZoneIngress: the proxy that carries traffic into a zone from other zones."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.mesh_core.checks import (
    validate_address,
    validate_port,
    validate_zone_proxy_admin_port,
)
from meshmanager.model.resources.validation.mesh_core.proto import (
    BOOL,
    STRING_MAP,
    as_dict,
    as_dicts,
    as_int,
    as_str,
    as_tags,
    message,
    uint32,
)
from meshmanager.model.resources.validation.mesh_core.tags import TagRules, validate_tags
from meshmanager.model.resources.validation.schema import Arr, Str, check

ZONE_INGRESS = message(
    {
        "zone": Str(),
        "networking": message(
            {
                "address": Str(),
                "advertisedAddress": Str(),
                "port": uint32(),
                "advertisedPort": uint32(),
                "admin": message({"port": uint32()}),
            }
        ),
        "availableServices": Arr(
            message(
                {
                    "tags": STRING_MAP,
                    "instances": uint32(),
                    "mesh": Str(),
                    "externalService": BOOL,
                }
            )
        ),
    }
)


@validator("ZoneIngress")
def validate_zone_ingress(spec: Any, ctx: Context) -> Violations:
    violations = check(ZONE_INGRESS, spec, Path())
    if violations:
        return violations
    spec, out = as_dict(spec), Violations()
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
    return out

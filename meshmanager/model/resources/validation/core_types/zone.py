"""Zone (Kuma v2.14.3 api/system/v1alpha1/zone.proto): whether the zone takes traffic."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.schema import Bool, Obj, check

ZONE_BODY = Obj({"enabled": Bool()})


@validator("Zone")
def validate_zone(spec: Any, ctx: Context) -> Violations:
    return check(ZONE_BODY, spec, Path())

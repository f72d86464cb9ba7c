"""MeshZoneAddress (Kuma v2.14.3 pkg/core/resources/apis/meshzoneaddress): the public
address of a mesh-scoped zone ingress. Kuma has no Validate() for it: its CRD schema
is all there is."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.core_types._common import ROOT
from meshmanager.model.resources.validation.schema import Int, Obj, Str, check

SPEC = Obj(
    {"address": Str(min_length=1), "port": Int(minimum=1, maximum=65535)},
    required=["address", "port"],
)


@validator("MeshZoneAddress")
def validate_mesh_zone_address(spec: Any, ctx: Context) -> Violations:
    return check(SPEC, spec, ROOT)

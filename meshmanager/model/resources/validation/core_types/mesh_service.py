"""MeshService (Kuma v2.14.3 pkg/core/resources/apis/meshservice/api/v1alpha1)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.core_types._common import (
    LABEL_SELECTOR,
    ROOT,
    check_name_length,
    is_set,
)
from meshmanager.model.resources.validation.schema import (
    Arr,
    Int,
    IntOrStr,
    Map,
    Obj,
    Str,
    as_dict,
    validate_with_schema,
)

MAX_NAME_LENGTH = 63
SELECTORS = ("dataplaneTags", "dataplaneRef", "dataplaneLabels")

PORT = Obj(
    {"name": Str(), "port": Int(), "targetPort": IntOrStr(), "appProtocol": Str()},
    required=["port"],
)
IDENTITY = Obj(
    {"type": Str(enum=["ServiceTag", "SpiffeID"]), "value": Str()}, required=["type", "value"]
)
SPEC = Obj(
    {
        "state": Str(enum=["Available", "Unavailable"]),
        "selector": Obj(
            {
                "dataplaneTags": Map(Str()),
                "dataplaneRef": Obj({"name": Str()}),
                "dataplaneLabels": LABEL_SELECTOR,
            }
        ),
        "ports": Arr(PORT),
        "identities": Arr(IDENTITY),
    }
)


@validator("MeshService")
def validate_mesh_service(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(
        SPEC, spec, ROOT, lambda checked, out: _check_mesh_service(ctx, checked, out)
    )


def _check_mesh_service(ctx: Context, spec: dict[str, Any], out: Violations) -> None:
    check_name_length(ctx, MAX_NAME_LENGTH, out)
    selector = as_dict(spec.get("selector"))
    if sum(is_set(selector, key) for key in SELECTORS) > 1:
        out.add(
            ROOT.field("selector"),
            "must specify only one of: dataplaneTags, dataplaneRef, or dataplaneLabels",
        )

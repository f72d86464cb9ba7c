"""Kong Mesh AccessRole: rules granting write access to types, names and meshes,
optionally only for policies matching `when` qualifiers. A flat (old-style) body:
paths start at `rules`. Kong Mesh's validation rules are not public, so this is the
schema its documentation describes."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.core_types._kong_access import (
    ACCESS_LIST,
    SELECTOR,
    TARGET_REF,
    TYPE_LIST,
)
from meshmanager.model.resources.validation.schema import Arr, Obj, Str, check

QUALIFIER = Obj(
    {
        "targetRef": TARGET_REF,
        "to": Obj({"targetRef": TARGET_REF}),
        "from": Obj({"targetRef": TARGET_REF}),
        "sources": SELECTOR,
        "destinations": SELECTOR,
        "selectors": SELECTOR,
        "dpToken": Obj({"tags": Arr(Obj({"name": Str(), "value": Str()}))}),
    }
)
RULE = Obj(
    {
        "types": TYPE_LIST,
        "names": Arr(Str()),
        "mesh": Str(),
        "access": ACCESS_LIST,
        "when": Arr(QUALIFIER),
    }
)
BODY = Obj({"rules": Arr(RULE)})


@validator("AccessRole")
def validate_access_role(spec: Any, ctx: Context) -> Violations:
    return check(BODY, spec, Path())

"""Kong Mesh AccessAudit: which actions on which types the audit log records.
A flat (old-style) body; schema from Kong Mesh's documentation."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.core_types._kong_access import ACCESS_LIST, TYPE_LIST
from meshmanager.model.resources.validation.schema import Arr, Bool, Obj, Str, check

RULE = Obj({"types": TYPE_LIST, "mesh": Str(), "access": ACCESS_LIST, "accessAll": Bool()})
BODY = Obj({"rules": Arr(RULE)})


@validator("AccessAudit")
def validate_access_audit(spec: Any, ctx: Context) -> Violations:
    return check(BODY, spec, Path())

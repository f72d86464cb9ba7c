"""Kong Mesh AccessRoleBinding: grants AccessRoles (by name) to users and groups.
A flat (old-style) body; schema from Kong Mesh's documentation."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.schema import Arr, Obj, Str, check

SUBJECT = Obj({"type": Str(enum=["User", "Group"]), "name": Str()})
BODY = Obj({"subjects": Arr(SUBJECT), "roles": Arr(Str())})


@validator("AccessRoleBinding")
def validate_access_role_binding(spec: Any, ctx: Context) -> Violations:
    return check(BODY, spec, Path())

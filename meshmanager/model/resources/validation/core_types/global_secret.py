"""GlobalSecret: the global-scoped Secret (same body, same message in Kuma)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.core_types.secret import SECRET_BODY
from meshmanager.model.resources.validation.schema import check


@validator("GlobalSecret")
def validate_global_secret(spec: Any, ctx: Context) -> Violations:
    return check(SECRET_BODY, spec, Path())

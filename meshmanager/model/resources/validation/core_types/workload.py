"""Workload (Kuma v2.14.3 pkg/core/resources/apis/workload): an empty spec; only the
name is checked."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.core_types._common import check_name_length
from meshmanager.model.resources.validation.schema import Obj, check

MAX_NAME_LENGTH = 253
SPEC = Obj({})


@validator("Workload")
def validate_workload(spec: Any, ctx: Context) -> Violations:
    structural = check(SPEC, spec, Path("spec"))
    if structural:
        return structural
    out = Violations()
    check_name_length(ctx, MAX_NAME_LENGTH, out)
    return out

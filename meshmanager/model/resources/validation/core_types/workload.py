"""Workload (Kuma v2.14.3 pkg/core/resources/apis/workload): an empty spec; only the
name is checked."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.core_types._common import ROOT, check_name_length
from meshmanager.model.resources.validation.schema import Obj, validate_with_schema

MAX_NAME_LENGTH = 253
SPEC = Obj({})


@validator("Workload")
def validate_workload(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(
        SPEC, spec, ROOT, lambda _spec, out: check_name_length(ctx, MAX_NAME_LENGTH, out)
    )

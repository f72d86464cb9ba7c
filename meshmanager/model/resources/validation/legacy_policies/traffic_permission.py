"""TrafficPermission (api/mesh/v1alpha1/traffic_permission.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.protojson import decode, message
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    ANY_TAGS,
    SELECTORS,
    validate_selectors,
)

TRAFFIC_PERMISSION = message({"sources": SELECTORS, "destinations": SELECTORS})


@validator("TrafficPermission")
def validate_traffic_permission(spec: Any, ctx: Context) -> Violations:
    problems, permission = decode(TRAFFIC_PERMISSION, spec)
    if problems:
        return problems
    out = validate_selectors(Path("sources"), permission.get("sources"), ANY_TAGS)
    out.extend(validate_selectors(Path("destinations"), permission.get("destinations"), ANY_TAGS))
    return out

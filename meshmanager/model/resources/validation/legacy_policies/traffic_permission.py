"""TrafficPermission (api/mesh/v1alpha1/traffic_permission.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.policy import validate_connection_policy
from meshmanager.model.resources.validation.legacy_policies.protojson import message
from meshmanager.model.resources.validation.legacy_policies.selectors import ANY_TAGS, SELECTORS

TRAFFIC_PERMISSION = message({"sources": SELECTORS, "destinations": SELECTORS})


@validator("TrafficPermission")
def validate_traffic_permission(spec: Any, ctx: Context) -> Violations:
    return validate_connection_policy(
        TRAFFIC_PERMISSION, spec, sources=ANY_TAGS, destinations=ANY_TAGS
    )

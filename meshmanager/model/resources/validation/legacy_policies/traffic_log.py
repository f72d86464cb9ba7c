"""TrafficLog (api/mesh/v1alpha1/traffic_log.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.policy import validate_connection_policy
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    STRING,
    message,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import SELECTORS

TRAFFIC_LOG = message(
    {"sources": SELECTORS, "destinations": SELECTORS, "conf": message({"backend": STRING})}
)


@validator("TrafficLog")
def validate_traffic_log(spec: Any, ctx: Context) -> Violations:
    # An empty conf or backend is fine: the mesh's default logging backend is used.
    return validate_connection_policy(TRAFFIC_LOG, spec)

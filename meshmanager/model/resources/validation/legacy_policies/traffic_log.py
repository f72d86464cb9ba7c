"""TrafficLog (api/mesh/v1alpha1/traffic_log.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    STRING,
    decode,
    message,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    ONLY_SERVICE,
    SELECTORS,
    WITH_SERVICE,
    validate_selectors,
)

TRAFFIC_LOG = message(
    {"sources": SELECTORS, "destinations": SELECTORS, "conf": message({"backend": STRING})}
)


@validator("TrafficLog")
def validate_traffic_log(spec: Any, ctx: Context) -> Violations:
    problems, log = decode(TRAFFIC_LOG, spec)
    if problems:
        return problems
    # An empty conf or backend is fine: the mesh's default logging backend is used.
    out = validate_selectors(Path("sources"), log.get("sources"), WITH_SERVICE)
    out.extend(validate_selectors(Path("destinations"), log.get("destinations"), ONLY_SERVICE))
    return out

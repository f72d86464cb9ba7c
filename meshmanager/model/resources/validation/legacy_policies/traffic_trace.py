"""TrafficTrace (api/mesh/v1alpha1/traffic_trace.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    STRING,
    message,
    validate_decoded,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    ANY_TAGS,
    SELECTORS,
    validate_selectors,
)

TRAFFIC_TRACE = message({"selectors": SELECTORS, "conf": message({"backend": STRING})})


@validator("TrafficTrace")
def validate_traffic_trace(spec: Any, ctx: Context) -> Violations:
    # An empty conf or backend is fine: the mesh's default tracing backend is used.
    return validate_decoded(
        TRAFFIC_TRACE,
        spec,
        lambda trace: validate_selectors(Path("selectors"), trace.get("selectors"), ANY_TAGS),
    )

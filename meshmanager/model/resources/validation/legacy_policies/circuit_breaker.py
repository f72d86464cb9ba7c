"""CircuitBreaker (api/mesh/v1alpha1/circuit_breaker.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.policy import validate_connection_policy
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    BOOL,
    DOUBLE,
    DURATION,
    UINT32,
    message,
    sub,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import SELECTORS

ERRORS = message({"consecutive": UINT32})
DETECTORS = message(
    {
        "totalErrors": ERRORS,
        "gatewayErrors": ERRORS,
        "localErrors": ERRORS,
        "standardDeviation": message(
            {"requestVolume": UINT32, "minimumHosts": UINT32, "factor": DOUBLE}
        ),
        "failure": message({"requestVolume": UINT32, "minimumHosts": UINT32, "threshold": UINT32}),
    }
)
THRESHOLDS = message(
    {
        "maxConnections": UINT32,
        "maxPendingRequests": UINT32,
        "maxRetries": UINT32,
        "maxRequests": UINT32,
    }
)
CONF = message(
    {
        "interval": DURATION,
        "baseEjectionTime": DURATION,
        "maxEjectionPercent": UINT32,
        "splitExternalAndLocalErrors": BOOL,
        "detectors": DETECTORS,
        "thresholds": THRESHOLDS,
    }
)
CIRCUIT_BREAKER = message({"sources": SELECTORS, "destinations": SELECTORS, "conf": CONF})
PERCENT_RANGE = "has to be in [0.0 - 100.0] range"


@validator("CircuitBreaker")
def validate_circuit_breaker(spec: Any, ctx: Context) -> Violations:
    return validate_connection_policy(CIRCUIT_BREAKER, spec, _validate_conf)


def _validate_conf(path: Path, conf: dict[str, Any]) -> Violations:
    out = Violations()
    detectors, thresholds = sub(conf, "detectors"), sub(conf, "thresholds")
    has_detectors = bool(detectors)  # any detector message set
    has_thresholds = bool(thresholds)  # any threshold wrapper set
    if not has_detectors and not has_thresholds:
        out.add(path, "must have at least one of the detector or threshold configured")
        return out
    if detectors is not None and not has_detectors:
        out.add(path.field("detectors"), "can't be empty")
    if conf.get("maxEjectionPercent", 0) > 100:
        out.add(path.field("maxEjectionPercent"), PERCENT_RANGE)
    failure = sub(detectors, "failure")
    if failure is not None and failure.get("threshold", 0) > 100:
        out.add(path.field("detectors").field("failure").field("threshold"), PERCENT_RANGE)
    if thresholds is not None and not has_thresholds:
        out.add(path.field("thresholds"), "can't be empty")
    return out

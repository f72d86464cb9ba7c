"""CircuitBreaker (api/mesh/v1alpha1/circuit_breaker.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    BOOL,
    DOUBLE,
    DURATION,
    UINT32,
    decode,
    message,
    sub,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    ONLY_SERVICE,
    SELECTORS,
    WITH_SERVICE,
    validate_selectors,
)

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
    problems, breaker = decode(CIRCUIT_BREAKER, spec)
    if problems:
        return problems
    out = validate_selectors(Path("sources"), breaker.get("sources"), WITH_SERVICE)
    out.extend(validate_selectors(Path("destinations"), breaker.get("destinations"), ONLY_SERVICE))
    out.extend(_validate_conf(Path("conf"), breaker.get("conf")))
    return out


def _validate_conf(path: Path, conf: dict[str, Any] | None) -> Violations:
    out = Violations()
    detectors, thresholds = sub(conf, "detectors"), sub(conf, "thresholds")
    has_detectors = bool(detectors)  # any detector message set
    has_thresholds = bool(thresholds)  # any threshold wrapper set
    if not has_detectors and not has_thresholds:
        out.add(path, "must have at least one of the detector or threshold configured")
        return out
    assert conf is not None
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

"""MeshCircuitBreaker: connection limits and outlier detection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies import values as check
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    affects_inbounds,
    each,
    obj,
    require_to_from_or_rules,
    rules_exclude_to_from,
    to_from_rules_schema,
    validate_policy,
    validate_targeted,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import TargetRefRules
from meshmanager.model.resources.validation.schema import UINT32, Bool, GoDuration, IntOrStr, Obj

_LIMITS = (
    "maxConnections",
    "maxConnectionPools",
    "maxPendingRequests",
    "maxRetries",
    "maxRequests",
)
_DETECTORS = (
    "totalFailures",
    "gatewayFailures",
    "localOriginFailures",
    "successRate",
    "failurePercentage",
)
_CONSECUTIVE = Obj({"consecutive": UINT32})
_CONF = Obj(
    {
        "connectionLimits": Obj({name: UINT32 for name in _LIMITS}),
        "outlierDetection": Obj(
            {
                "disabled": Bool(),
                "interval": GoDuration(),
                "baseEjectionTime": GoDuration(),
                "maxEjectionPercent": UINT32,
                "splitExternalAndLocalErrors": Bool(),
                "healthyPanicThreshold": IntOrStr(),
                "detectors": Obj(
                    {
                        "totalFailures": _CONSECUTIVE,
                        "gatewayFailures": _CONSECUTIVE,
                        "localOriginFailures": _CONSECUTIVE,
                        "successRate": Obj(
                            {
                                "minimumHosts": UINT32,
                                "requestVolume": UINT32,
                                "standardDeviationFactor": IntOrStr(),
                            }
                        ),
                        "failurePercentage": Obj(
                            {"minimumHosts": UINT32, "requestVolume": UINT32, "threshold": UINT32}
                        ),
                    }
                ),
            }
        ),
    }
)
SCHEMA = to_from_rules_schema(_CONF, rule_matches=False)


def _positive(out: Violations, path: Path, conf: Mapping[str, Any], *fields: str) -> None:
    for field in fields:
        check.integer_greater_than(out, path.field(field), conf.get(field), 0)


def _validate_detectors(out: Violations, path: Path, detectors: Mapping[str, Any] | None) -> None:
    if detectors is None:
        out.add(path, msg.MUST_BE_DEFINED)
        return
    if all(detectors.get(name) is None for name in _DETECTORS):
        out.add(path, msg.must_have_at_least_one(*_DETECTORS))
        return
    for name in ("totalFailures", "gatewayFailures", "localOriginFailures"):
        if detectors.get(name) is not None:
            _positive(out, path.field(name), detectors[name], "consecutive")
    success_rate = detectors.get("successRate")
    if success_rate is not None:
        rate_path = path.field("successRate")
        _positive(out, rate_path, success_rate, "minimumHosts", "requestVolume")
        factor = success_rate.get("standardDeviationFactor")
        if factor is not None:
            number = check.parse_decimal(factor)
            if number is None:
                out.add(rate_path.field("standardDeviationFactor"), "invalid number")
            elif number <= 0:
                out.add(rate_path.field("standardDeviationFactor"), msg.MUST_BE_GREATER_THAN_ZERO)
    failure_percentage = detectors.get("failurePercentage")
    if failure_percentage is not None:
        percentage_path = path.field("failurePercentage")
        _positive(out, percentage_path, failure_percentage, "minimumHosts", "requestVolume")
        check.uint_percentage_or_nil(
            out, percentage_path.field("threshold"), failure_percentage.get("threshold")
        )


def _validate_default(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    limits, outlier = conf.get("connectionLimits"), conf.get("outlierDetection")
    if limits is None and outlier is None:
        out.add(
            path,
            "at least one of: 'connectionLimits' or 'outlierDetection' should be configured",
        )
        return
    if limits is not None:
        _positive(out, path.field("connectionLimits"), limits, *_LIMITS)
    if outlier is not None:
        outlier_path = path.field("outlierDetection")
        for name in ("interval", "baseEjectionTime"):
            check.duration_greater_than_zero_or_nil(
                out, outlier_path.field(name), outlier.get(name)
            )
        check.uint_percentage_or_nil(
            out, outlier_path.field("maxEjectionPercent"), outlier.get("maxEjectionPercent")
        )
        check.percentage_or_nil(
            out, outlier_path.field("healthyPanicThreshold"), outlier.get("healthyPanicThreshold")
        )
        _validate_detectors(out, outlier_path.field("detectors"), outlier.get("detectors"))


_TOP_KINDS = (*ref.PROXY_KINDS, ref.MESH_GATEWAY)
_TO_KINDS = (ref.MESH, *ref.DESTINATION_KINDS)


def _rules(spec: Spec, out: Violations) -> None:
    top_rules = TargetRefRules(
        _TOP_KINDS, gateway_listener_tags=True, inbound=affects_inbounds(spec)
    )
    validate_top_target_ref(out, spec, top_rules)
    require_to_from_or_rules(out, spec)
    rules_exclude_to_from(out, spec)
    for index, (_, rule) in enumerate(each(spec, "rules")):
        # Kuma reports the rules' problems under `from` (sic).
        _validate_default(
            out, SPEC.field("from").index(index).field("default"), obj(rule, "default")
        )
    validate_targeted(out, spec, "from", (ref.MESH,), _validate_default)
    validate_targeted(out, spec, "to", _TO_KINDS, _validate_default)


@validator("MeshCircuitBreaker")
def validate_mesh_circuit_breaker(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, _rules)

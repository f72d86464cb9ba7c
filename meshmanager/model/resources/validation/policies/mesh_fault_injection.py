"""MeshFaultInjection: injected HTTP aborts, delays and bandwidth limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies import values as check
from meshmanager.model.resources.validation.policies.matches import validate_matches
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    affects_inbounds,
    each,
    includes_gateways,
    items,
    obj,
    role_target_ref_rules,
    to_from_rules_schema,
    top_target_ref,
    validate_policy,
    validate_targeted,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.schema import INT32, Arr, GoDuration, IntOrStr, Obj, Str

# Fields are not required: Kuma takes a missing one as its zero value and checks that.
_FAULT = Obj(
    {
        "abort": Obj({"httpStatus": INT32, "percentage": IntOrStr()}),
        "delay": Obj({"value": GoDuration(), "percentage": IntOrStr()}),
        "responseBandwidth": Obj({"limit": Str(), "percentage": IntOrStr()}),
    }
)
_CONF = Obj({"http": Arr(_FAULT)})
SCHEMA = to_from_rules_schema(_CONF)


def _validate_default(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    # An unset percentage is Go's zero, which is valid: checking only set ones is the same.
    http_path = path.field("http")
    for index, fault in enumerate(items(conf, "http")):
        abort = fault.get("abort")
        if abort is not None:
            # Kuma indexes the fault's kind, not the list: http.abort[0].
            abort_path = http_path.field("abort").index(index)
            check.status_code(out, abort_path.field("httpStatus"), abort.get("httpStatus") or 0)
            check.percentage_or_nil(out, abort_path.field("percentage"), abort.get("percentage"))
        delay = fault.get("delay")
        if delay is not None:
            delay_path = http_path.field("delay").index(index)
            check.duration_not_negative_or_nil(out, delay_path.field("value"), delay.get("value"))
            check.percentage_or_nil(out, delay_path.field("percentage"), delay.get("percentage"))
        bandwidth = fault.get("responseBandwidth")
        if bandwidth is not None:
            bandwidth_path = http_path.field("responseBandwidth").index(index)
            check.bandwidth(out, bandwidth_path.field("limit"), bandwidth.get("limit") or "")
            percentage = bandwidth.get("percentage")
            check.percentage_or_nil(out, bandwidth_path.field("percentage"), percentage)


_FROM_KINDS = (ref.MESH, ref.MESH_SUBSET, ref.MESH_SERVICE_SUBSET, ref.MESH_SERVICE)


def _rules(ctx: Context, spec: Spec, out: Violations) -> None:
    top_rules = role_target_ref_rules(ctx, (ref.MESH_GATEWAY,), inbound=affects_inbounds(spec))
    validate_top_target_ref(out, spec, top_rules)
    if items(spec, "from") and items(spec, "rules"):
        out.add(SPEC, msg.FROM_WITH_RULES)
    for rule_path, rule in each(spec, "rules"):
        validate_matches(out, rule_path.field("matches"), items(rule, "matches"))
        _validate_default(out, rule_path.field("default"), obj(rule, "default"))
    gateways = includes_gateways(top_target_ref(spec))
    if gateways and items(spec, "from"):
        out.add(SPEC.field("from"), msg.GATEWAY_FROM)
    else:
        validate_targeted(out, spec, "from", _FROM_KINDS, _validate_default)
    if not gateways and items(spec, "to"):
        out.add(SPEC.field("to"), msg.MUST_NOT_BE_DEFINED)
    else:
        validate_targeted(out, spec, "to", (ref.MESH,), _validate_default)


@validator("MeshFaultInjection")
def validate_mesh_fault_injection(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, lambda checked, out: _rules(ctx, checked, out))

"""MeshRateLimit: local HTTP request and TCP connection rate limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies import values as check
from meshmanager.model.resources.validation.policies.matches import validate_source_matches
from meshmanager.model.resources.validation.policies.nodes import HEADERS_TO_SET
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    affects_inbounds,
    each,
    includes_gateways,
    items,
    obj,
    role_target_ref_rules,
    rules_exclude_to_from,
    to_from_rules_schema,
    top_target_ref,
    validate_policy,
    validate_targeted,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.schema import UINT32, Bool, GoDuration, Obj

# A rate's fields are not required: Validate() checks the zero values they default to.
_RATE = Obj({"num": UINT32, "interval": GoDuration()})
_CONF = Obj(
    {
        "local": Obj(
            {
                "http": Obj(
                    {
                        "disabled": Bool(),
                        "requestRate": _RATE,
                        "onRateLimit": Obj(
                            {
                                "status": UINT32,
                                "headers": Obj({"set": HEADERS_TO_SET, "add": HEADERS_TO_SET}),
                            }
                        ),
                    }
                ),
                "tcp": Obj({"disabled": Bool(), "connectionRate": _RATE}),
            }
        )
    }
)
SCHEMA = to_from_rules_schema(_CONF)


# Operators' (System role) policies may also target gateways and routes.
_SYSTEM_KINDS = (ref.MESH_GATEWAY, ref.MESH_HTTP_ROUTE)


def _validate_rate(out: Violations, path: Path, rate: Mapping[str, Any]) -> None:
    check.integer_greater_than(out, path.field("num"), rate.get("num") or 0, 0)
    check.duration_greater_than(out, path.field("interval"), rate.get("interval"), "50ms")


def _validate_default(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    local_path, local = path.field("local"), conf.get("local")
    if local is None:
        out.add(local_path, msg.MUST_BE_DEFINED)
        return
    http, tcp = local.get("http"), local.get("tcp")
    if http is None and tcp is None:
        out.add(local_path, msg.must_have_at_least_one("tcp", "http"))
    if http is not None:
        http_path = local_path.field("http")
        if all(http.get(name) is None for name in ("disabled", "requestRate", "onRateLimit")):
            out.add(http_path, msg.must_have_at_least_one("disabled", "requestRate", "onRateLimit"))
        else:
            if http.get("requestRate") is not None:
                _validate_rate(out, http_path.field("requestRate"), http["requestRate"])
            if http.get("onRateLimit") is not None:
                status_path = http_path.field("onRateLimit").field("status")
                check.integer_greater_than(out, status_path, http["onRateLimit"].get("status"), 0)
    if tcp is not None:
        tcp_path = local_path.field("tcp")
        if tcp.get("disabled") is None and tcp.get("connectionRate") is None:
            out.add(tcp_path, msg.must_have_at_least_one("disabled", "connectionRate"))
        elif tcp.get("connectionRate") is not None:
            _validate_rate(out, tcp_path.field("connectionRate"), tcp["connectionRate"])


def _validate_rules(out: Violations, spec: Spec, top: Mapping[str, Any]) -> None:
    if items(spec, "rules") and (includes_gateways(top) or top.get("kind") == ref.MESH_HTTP_ROUTE):
        out.add(SPEC.field("rules"), msg.MUST_NOT_BE_DEFINED)
        return
    for rule_path, rule in each(spec, "rules"):
        conf, default_path = obj(rule, "default"), rule_path.field("default")
        from_spiffe_id = validate_source_matches(
            out, rule_path.field("matches"), items(rule, "matches")
        )
        if from_spiffe_id and obj(conf, "local").get("tcp") is not None:
            out.add(default_path.field("local").field("tcp"), msg.SOURCE_CONDITIONED)
        _validate_default(out, default_path, conf)


def _rules(ctx: Context, spec: Spec, out: Violations) -> None:
    rules_exclude_to_from(out, spec)
    top_rules = role_target_ref_rules(ctx, _SYSTEM_KINDS, inbound=affects_inbounds(spec))
    validate_top_target_ref(out, spec, top_rules)
    top = top_target_ref(spec)
    _validate_rules(out, spec, top)
    if items(spec, "from") and includes_gateways(top):
        out.add(SPEC.field("from"), msg.GATEWAY_FROM)
    elif items(spec, "from") and top.get("kind") == ref.MESH_HTTP_ROUTE:
        out.add(SPEC.field("from"), f"{msg.MUST_NOT_BE_DEFINED} when spec.kind is MeshHTTPRoute")
    else:
        validate_targeted(out, spec, "from", (ref.MESH,), _validate_default)
    if items(spec, "to") and not includes_gateways(top):
        out.add(SPEC.field("to"), msg.MUST_NOT_BE_DEFINED)
    else:
        validate_targeted(out, spec, "to", (ref.MESH,), _validate_default)


@validator("MeshRateLimit")
def validate_mesh_rate_limit(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, lambda checked, out: _rules(ctx, checked, out))

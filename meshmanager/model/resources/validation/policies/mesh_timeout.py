"""MeshTimeout: connection, idle and HTTP timeouts."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies import values as check
from meshmanager.model.resources.validation.policies.matches import validate_source_matches
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    affects_inbounds,
    each,
    items,
    obj,
    require_to_from_or_rules,
    role_target_ref_rules,
    rules_exclude_to_from,
    to_from_rules_schema,
    top_kind,
    validate_policy,
    validate_targeted,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.schema import GoDuration, Obj

# requestHeadersTimeout alone does not make an `http` section count as configured.
_HTTP_MAIN_TIMEOUTS = (
    "requestTimeout",
    "streamIdleTimeout",
    "maxStreamDuration",
    "maxConnectionDuration",
)
_HTTP_TIMEOUTS = (*_HTTP_MAIN_TIMEOUTS, "requestHeadersTimeout")
_CONF = Obj(
    {
        "connectionTimeout": GoDuration(),
        "idleTimeout": GoDuration(),
        "http": Obj({name: GoDuration() for name in _HTTP_TIMEOUTS}),
    }
)
SCHEMA = to_from_rules_schema(_CONF)

# Operators' (System role) policies may also target gateways and routes.
_SYSTEM_KINDS = (ref.MESH_GATEWAY, ref.MESH_HTTP_ROUTE)
_ROUTE_OR_GATEWAY = (ref.MESH_HTTP_ROUTE, ref.MESH_GATEWAY)
_TO_KINDS_ON_ROUTE = (ref.MESH, ref.MESH_EXTERNAL_SERVICE)
_TO_KINDS = (ref.MESH, *ref.DESTINATION_KINDS, ref.MESH_HTTP_ROUTE)
_ON_ROUTE = "can't be specified when top-level TargetRef is referencing MeshHTTPRoute"


def _set_fields_violate(
    out: Violations, path: Path, conf: Mapping[str, Any], http_fields: tuple[str, ...], message: str
) -> None:
    """`message` on connectionTimeout, idleTimeout and `http_fields` when they are set."""
    for field in ("connectionTimeout", "idleTimeout"):
        if conf.get(field) is not None:
            out.add(path.field(field), message)
    http = conf.get("http")
    if http is not None:
        for field in http_fields:
            if http.get(field) is not None:
                out.add(path.field("http").field(field), message)


def _validate_default(out: Violations, path: Path, conf: Mapping[str, Any], top: str) -> None:
    http = conf.get("http")
    if conf.get("connectionTimeout") is None and conf.get("idleTimeout") is None and http is None:
        out.add(path, "at least one timeout should be configured")
        return
    if top == ref.MESH_HTTP_ROUTE:
        _set_fields_violate(
            out, path, conf, ("maxStreamDuration", "maxConnectionDuration"), _ON_ROUTE
        )
    check.duration_greater_than_zero_or_nil(
        out, path.field("connectionTimeout"), conf.get("connectionTimeout")
    )
    check.duration_not_negative_or_nil(out, path.field("idleTimeout"), conf.get("idleTimeout"))
    if http is None:
        return
    http_path = path.field("http")
    if all(http.get(name) is None for name in _HTTP_MAIN_TIMEOUTS):
        out.add(http_path, "at least one timeout in this section should be configured")
    for name in _HTTP_TIMEOUTS:
        check.duration_not_negative_or_nil(out, http_path.field(name), http.get(name))


def _rules(ctx: Context, spec: Spec, out: Violations) -> None:
    top_rules = role_target_ref_rules(ctx, _SYSTEM_KINDS, inbound=affects_inbounds(spec))
    validate_top_target_ref(out, spec, top_rules)
    rules_exclude_to_from(out, spec)
    require_to_from_or_rules(out, spec)
    top = top_kind(spec)
    if top in _ROUTE_OR_GATEWAY and items(spec, "from"):
        out.add(SPEC.field("from"), msg.MUST_NOT_BE_DEFINED)
    elif top not in _ROUTE_OR_GATEWAY:
        validate_targeted(out, spec, "from", (ref.MESH,), partial(_validate_default, top=top))
    to_kinds = _TO_KINDS_ON_ROUTE if top in _ROUTE_OR_GATEWAY else _TO_KINDS
    validate_targeted(out, spec, "to", to_kinds, partial(_validate_default, top=top))
    for rule_path, rule in each(spec, "rules"):
        default_path, conf = rule_path.field("default"), obj(rule, "default")
        if validate_source_matches(out, rule_path.field("matches"), items(rule, "matches")):
            http_fields = ("requestHeadersTimeout", "maxStreamDuration", "maxConnectionDuration")
            _set_fields_violate(out, default_path, conf, http_fields, msg.SOURCE_CONDITIONED)
        _validate_default(out, default_path, conf, top)


@validator("MeshTimeout")
def validate_mesh_timeout(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, lambda checked, out: _rules(ctx, checked, out))

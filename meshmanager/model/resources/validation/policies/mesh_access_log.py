"""MeshAccessLog: access logs to a file, a TCP collector or OpenTelemetry."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.govalidator import is_file_path, is_url
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies import values as check
from meshmanager.model.resources.validation.policies.matches import validate_matches
from meshmanager.model.resources.validation.policies.nodes import OTEL_BACKEND_REF
from meshmanager.model.resources.validation.policies.policy import (
    Spec,
    affects_inbounds,
    each,
    items,
    obj,
    require_to_from_or_rules,
    rules_exclude_to_from,
    to_from_rules_schema,
    top_kind,
    validate_policy,
    validate_targeted,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import TargetRefRules
from meshmanager.model.resources.validation.schema import AnyValue, Arr, Bool, Obj, Str

# Key and value of JSON fields, a TCP address and a file path are not required here:
# Validate() reports them missing with its own messages.
_FORMAT = Obj(
    {
        "type": Str(enum=("Plain", "Json")),
        "plain": Str(),
        "json": Arr(Obj({"key": Str(), "value": Str()})),
        "omitEmptyValues": Bool(),
    },
    required=["type"],
)
_BACKEND = Obj(
    {
        "type": Str(enum=("Tcp", "File", "OpenTelemetry")),
        "tcp": Obj({"format": _FORMAT, "address": Str()}),
        "file": Obj({"format": _FORMAT, "path": Str()}),
        "openTelemetry": Obj(
            {
                "attributes": Arr(Obj({"key": Str(), "value": Str()}, required=["value"])),
                "body": AnyValue(),
                "endpoint": Str(),
                "backendRef": OTEL_BACKEND_REF,
            }
        ),
    },
    required=["type"],
)
_CONF = Obj({"backends": Arr(_BACKEND)})
SCHEMA = to_from_rules_schema(_CONF)


def _validate_format(out: Violations, path: Path, log_format: Mapping[str, Any]) -> None:
    if log_format.get("type") == "Plain":
        plain = log_format.get("plain")
        if plain is None:
            out.add(path.field("plain"), msg.MUST_BE_DEFINED)
        elif plain == "":
            out.add(path.field("plain"), msg.MUST_NOT_BE_EMPTY)
        return
    fields = log_format.get("json")
    if fields is None:
        out.add(path.field("json"), msg.MUST_BE_DEFINED)
        return
    if not fields:
        out.add(path.field("json"), msg.MUST_NOT_BE_EMPTY)
    for index, item in enumerate(fields):
        item_path = path.field("json").index(index)
        key, value = item.get("key") or "", item.get("value") or ""
        if key == "":
            out.add(item_path.field("key"), "key cannot be empty")
        if value == "":
            out.add(item_path.field("value"), "value cannot be empty")
        try:
            # Kuma pastes key and value between quotes, unescaped, and parses the result.
            json.loads('{"' + key + '": "' + value + '"}')
        except ValueError:
            out.add(item_path, "is not a valid JSON object")


def _validate_backend(out: Violations, path: Path, backend: Mapping[str, Any]) -> None:
    backend_type = backend.get("type")
    if backend_type == "OpenTelemetry":
        otel_path, otel = path.field("openTelemetry"), backend.get("openTelemetry")
        if otel is None:
            out.add(otel_path, msg.MUST_BE_DEFINED)
            return
        check.otel_endpoint_or_backend_ref(out, otel_path, otel)
        for index, attribute in enumerate(items(otel, "attributes")):
            key_path = otel_path.field("attributes").index(index).field("key")
            check.otel_attribute_name(out, key_path, attribute.get("key") or "")
        return
    field = "file" if backend_type == "File" else "tcp"
    conf = backend.get(field)
    if conf is None:
        out.add(path.field(field), msg.MUST_BE_DEFINED)
        return
    if conf.get("format") is not None:
        _validate_format(out, path.field(field).field("format"), conf["format"])
    if field == "file" and not is_file_path(conf.get("path") or ""):
        out.add(path.field("file").field("path"), "file backend requires a valid path")
    if field == "tcp" and not is_url(conf.get("address") or ""):
        out.add(path.field("tcp").field("address"), "tcp backend requires valid address")


def _validate_default(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    backends = conf.get("backends")
    if backends is None:
        out.add(path.field("backends"), msg.MUST_BE_DEFINED)
        return
    for index, backend in enumerate(backends):
        _validate_backend(out, path.field("backends").index(index), backend)


_TOP_KINDS = (*ref.PROXY_KINDS, ref.MESH_GATEWAY)
_TO_KINDS = (ref.MESH, *ref.DESTINATION_KINDS, ref.MESH_HTTP_ROUTE)


def _rules(spec: Spec, out: Violations) -> None:
    top_rules = TargetRefRules(
        _TOP_KINDS, gateway_listener_tags=True, inbound=affects_inbounds(spec)
    )
    validate_top_target_ref(out, spec, top_rules)
    rules_exclude_to_from(out, spec)
    require_to_from_or_rules(out, spec)
    to_kinds = (ref.MESH,) if top_kind(spec) == ref.MESH_GATEWAY else _TO_KINDS
    validate_targeted(out, spec, "to", to_kinds, _validate_default)
    validate_targeted(out, spec, "from", (ref.MESH,), _validate_default)
    for rule_path, rule in each(spec, "rules"):
        validate_matches(out, rule_path.field("matches"), items(rule, "matches"))
        _validate_default(out, rule_path.field("default"), obj(rule, "default"))


@validator("MeshAccessLog")
def validate_mesh_access_log(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, _rules)

"""MeshProxyPatch: modifications of the proxies' generated Envoy configuration."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies.jsonpatch import (
    JSON_PATCH_BLOCK,
    validate_json_patch_blocks,
)
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    each,
    items,
    obj,
    role_target_ref_rules,
    validate_policy,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.schema import Arr, Map, Node, Obj, Str

_RESOURCE_OPERATIONS = ("Add", "Patch", "Remove")
_FILTER_ADD_OPERATIONS = ("AddFirst", "AddLast", "AddBefore", "AddAfter")
_FILTER_OPERATIONS = (*_FILTER_ADD_OPERATIONS, "Patch", "Remove")
_FILTER_MATCH = Obj(
    {"origin": Str(), "name": Str(), "listenerName": Str(), "listenerTags": Map(Str())}
)


def _modification(match: Node) -> Obj:
    # No enum on operation: Validate() lists the operations each modification supports.
    return Obj(
        {"match": match, "operation": Str(), "value": Str(), "jsonPatches": Arr(JSON_PATCH_BLOCK)},
        required=["operation"],
    )


_MODIFICATIONS: dict[str, Node] = {
    "cluster": _modification(Obj({"origin": Str(), "name": Str()})),
    "listener": _modification(Obj({"origin": Str(), "name": Str(), "tags": Map(Str())})),
    "networkFilter": _modification(_FILTER_MATCH),
    "httpFilter": _modification(_FILTER_MATCH),
    "virtualHost": _modification(
        Obj({"origin": Str(), "name": Str(), "routeConfigurationName": Str()})
    ),
}
SCHEMA = Obj(
    {
        "targetRef": ref.TARGET_REF,
        "default": Obj({"appendModifications": Arr(Obj(_MODIFICATIONS))}),
    },
    required=["default"],
)


def _envoy_resource_error(value: str) -> str | None:
    """Why Kuma cannot read `value` (YAML or JSON) as an Envoy resource, or None.

    Only the document's syntax and shape are checked: the Envoy resource's own fields
    are not known here (Kuma also checks them against Envoy's protobuf definitions)."""
    try:
        document = yaml.safe_load(value)
    except (yaml.YAMLError, ValueError, RecursionError):  # ValueError: e.g. a bad date
        # Kuma then reads the text as JSON, whose decoder gives these errors.
        try:
            json.loads(value)
        except json.JSONDecodeError as error:
            if error.pos >= len(value.rstrip()):
                return "unexpected EOF"
            return f"invalid character {value[error.pos]!r} looking for beginning of value"
        return None
    if document is None or isinstance(document, dict):
        return None
    kind = {list: "array", str: "string", bool: "bool"}.get(type(document), "number")
    return f"json: cannot unmarshal {kind} into Go value of type map[string]json.RawMessage"


def _check_value(out: Violations, path: Path, value: str | None) -> None:
    if value is None:
        out.add(path, msg.MUST_BE_DEFINED)
        return
    error = _envoy_resource_error(value)
    if error:
        out.add(path, f"native Envoy resource is not valid: {error}")


def _check_patch(out: Violations, path: Path, name: str, mod: Mapping[str, Any]) -> None:
    """A Patch gives either a partial resource (`value`) or `jsonPatches`."""
    value, patches = mod.get("value"), items(mod, "jsonPatches")
    if value is not None and patches:
        out.add(path, msg.must_have_only_one(name, "value", "jsonPatches"))
    elif value is not None:
        _check_value(out, path.field("value"), value)
    elif patches:
        validate_json_patch_blocks(out, path.field("jsonPatches"), patches)
    else:
        out.add(path, msg.must_have_exactly_one_of(name, "value", "jsonPatches"))


def _check_operation(
    out: Violations, path: Path, mod: Mapping[str, Any], operations: tuple[str, ...]
) -> str:
    """The modification's operation, reported when it is not one of `operations`."""
    operation: str = mod.get("operation") or ""
    if operation not in operations:
        listed = ", ".join(go_quote(op) for op in operations)
        out.add(path.field("operation"), f"invalid operation. Available operations: {listed}")
    return operation


def _validate_resource_mod(out: Violations, path: Path, name: str, mod: Mapping[str, Any]) -> None:
    """A cluster, listener or virtual host modification."""
    operation = _check_operation(out, path, mod, _RESOURCE_OPERATIONS)
    match = mod.get("match")
    if operation == "Add":
        if name == "virtualHost" and match is not None and match.get("name") is not None:
            out.add(path.field("match").field("name"), msg.MUST_NOT_BE_DEFINED)
        elif name != "virtualHost" and match is not None:
            out.add(path.field("match"), msg.MUST_NOT_BE_DEFINED)
        _check_value(out, path.field("value"), mod.get("value"))
    elif operation == "Patch":
        _check_patch(out, path, name, mod)
    elif operation == "Remove" and mod.get("value") is not None:
        out.add(path.field("value"), msg.MUST_NOT_BE_DEFINED)


def _validate_filter_mod(out: Violations, path: Path, name: str, mod: Mapping[str, Any]) -> None:
    """A network or HTTP filter modification."""
    operation = _check_operation(out, path, mod, _FILTER_OPERATIONS)
    named = obj(mod, "match").get("name") is not None
    name_path = path.field("match").field("name")
    if operation in ("AddBefore", "AddAfter") and not named:
        where = "before" if operation == "AddBefore" else "after"
        out.add(
            name_path,
            f"{msg.MUST_BE_DEFINED}. You need to pick a filter {where} which this one will be"
            " added",
        )
    if operation in _FILTER_ADD_OPERATIONS:
        _check_value(out, path.field("value"), mod.get("value"))
    elif operation == "Patch":
        if not named:
            out.add(name_path, msg.MUST_BE_DEFINED)
        _check_patch(out, path, name, mod)
    elif operation == "Remove" and mod.get("value") is not None:
        out.add(path.field("value"), msg.MUST_NOT_BE_DEFINED)


def _validate_modifications(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    if not items(conf, "appendModifications"):
        out.add(path.field("appendModifications"), msg.MUST_NOT_BE_EMPTY)
    for mod_path, modification in each(conf, "appendModifications", path):
        present = [name for name in _MODIFICATIONS if modification.get(name) is not None]
        if len(present) != 1:
            out.add(
                mod_path,
                "exactly one modification can be defined at a time. Currently,"
                f" {len(present)} modifications are defined",
            )
            continue
        name = present[0]
        if name in ("networkFilter", "httpFilter"):
            _validate_filter_mod(out, mod_path.field(name), name, modification[name])
        else:
            _validate_resource_mod(out, mod_path.field(name), name, modification[name])


def _rules(ctx: Context, spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, role_target_ref_rules(ctx, (ref.MESH_GATEWAY,), False))
    _validate_modifications(out, SPEC.field("default"), obj(spec, "default"))


@validator("MeshProxyPatch")
def validate_mesh_proxy_patch(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, lambda checked, out: _rules(ctx, checked, out))

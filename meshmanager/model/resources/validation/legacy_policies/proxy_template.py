"""ProxyTemplate (api/mesh/v1alpha1/proxy_template.proto)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies import envoy
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    STRING,
    message,
    validate_decoded,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    SELECTORS,
    SelectorRules,
    validate_selectors,
)
from meshmanager.model.resources.validation.schema import STRING_MAP, Arr, Message
from meshmanager.model.resources.validation.tags import TagRules

# The profiles a Kuma control plane registers; a context may name others
# (`available_proxy_template_profiles`).
DEFAULT_PROFILES = ("default-proxy", "egress-proxy", "gateway-proxy", "ingress-proxy")


def _modification(match: Message) -> Message:
    return message({"match": match, "operation": STRING, "value": STRING})


MODIFICATION_KINDS = ("cluster", "listener", "networkFilter", "httpFilter", "virtualHost")
FILTER_MATCH = message(
    {"origin": STRING, "name": STRING, "listenerName": STRING, "listenerTags": STRING_MAP}
)
MODIFICATIONS = message(
    {
        "cluster": _modification(message({"origin": STRING, "name": STRING})),
        "listener": _modification(message({"origin": STRING, "name": STRING, "tags": STRING_MAP})),
        "networkFilter": _modification(FILTER_MATCH),
        "httpFilter": _modification(FILTER_MATCH),
        "virtualHost": _modification(
            message({"origin": STRING, "name": STRING, "routeConfigurationName": STRING})
        ),
    },
    oneofs=[MODIFICATION_KINDS],
)
RAW_RESOURCE = message({"name": STRING, "version": STRING, "resource": STRING})
CONF = message(
    {"imports": Arr(STRING), "resources": Arr(RAW_RESOURCE), "modifications": Arr(MODIFICATIONS)}
)
PROXY_TEMPLATE = message({"selectors": SELECTORS, "conf": CONF})
SELECTOR_RULES = SelectorRules(
    TagRules(require_at_least_one_tag=True, require_service=True), at_least_one_selector=False
)

RESOURCE_OPERATIONS = ("add", "patch", "remove")
FILTER_OPERATIONS = ("addFirst", "addLast", "addBefore", "addAfter", "patch", "remove")
ENVOY_TYPES = {
    "cluster": envoy.CLUSTER,
    "listener": envoy.LISTENER,
    "networkFilter": envoy.NETWORK_FILTER,
    "httpFilter": envoy.HTTP_FILTER,
    "virtualHost": envoy.VIRTUAL_HOST,
}


@validator("ProxyTemplate")
def validate_proxy_template(spec: Any, ctx: Context) -> Violations:
    profiles = ctx.extra.get("available_proxy_template_profiles", DEFAULT_PROFILES)
    return validate_decoded(
        PROXY_TEMPLATE, spec, lambda template: _validate_proxy_template(template, profiles)
    )


def _validate_proxy_template(template: dict[str, Any], profiles: Collection[str]) -> Violations:
    out = validate_selectors(Path("selectors"), template.get("selectors"), SELECTOR_RULES)
    conf = template.get("conf") or {}
    root = Path("conf")
    out.extend(_validate_imports(root.field("imports"), conf.get("imports", []), profiles))
    out.extend(_validate_resources(root.field("resources"), conf.get("resources", [])))
    for i, modification in enumerate(conf.get("modifications", [])):
        for kind, change in modification.items():
            path = root.field("modifications").index(i).field(kind)
            out.extend(_validate_modification(path, kind, change))
    return out


def _validate_imports(path: Path, imports: list[str], profiles: Collection[str]) -> Violations:
    out = Violations()
    for i, name in enumerate(imports):
        if name == "":
            out.add(path.index(i), "cannot be empty")
        elif name not in profiles:
            available = ",".join(sorted(profiles))
            out.add(path.index(i), f"profile not found. Available profiles: {available}")
    return out


def _validate_resources(path: Path, resources: list[dict[str, Any]]) -> Violations:
    out = Violations()
    for i, resource in enumerate(resources):
        for name in ("name", "version", "resource"):
            if not resource.get(name):
                out.add(path.index(i).field(name), "cannot be empty")
        if resource.get("resource") and (problem := envoy.check_any(resource["resource"])):
            out.add(path.index(i).field("resource"), problem)
    return out


def _validate_modification(path: Path, kind: str, change: dict[str, Any]) -> Violations:
    operation = change.get("operation", "")
    if kind in ("networkFilter", "httpFilter"):
        return _validate_filter_modification(path, kind, change, operation)
    out = Violations()
    if operation == "add":
        if kind == "virtualHost" and (change.get("match") or {}).get("name"):
            out.add(path.field("match").field("name"), "cannot be defined")
        elif kind != "virtualHost" and "match" in change:
            out.add(path.field("match"), "cannot be defined")
    elif operation not in ("patch", "remove"):
        out.add(path.field("operation"), _invalid_operation(RESOURCE_OPERATIONS))
        return out
    if operation in ("add", "patch"):
        out.extend(_validate_value(path, kind, change, validate=operation == "add"))
    return out


def _validate_filter_modification(
    path: Path, kind: str, change: dict[str, Any], operation: str
) -> Violations:
    out = Violations()
    if operation not in FILTER_OPERATIONS:
        out.add(path.field("operation"), _invalid_operation(FILTER_OPERATIONS))
        return out
    if operation == "remove":
        return out
    if not (change.get("match") or {}).get("name"):
        reason = {
            "addBefore": ". You need to pick a filter before which this one will be added",
            "addAfter": ". You need to pick a filter after which this one will be added",
            "patch": "",
        }
        if operation in reason:
            out.add(path.field("match").field("name"), "cannot be empty" + reason[operation])
    out.extend(_validate_value(path, kind, change, validate=operation != "patch"))
    return out


def _validate_value(path: Path, kind: str, change: dict[str, Any], validate: bool) -> Violations:
    out = Violations()
    problem = envoy.check_typed(change.get("value", ""), ENVOY_TYPES[kind], validate)
    if problem:
        out.add(path.field("value"), problem)
    return out


def _invalid_operation(operations: tuple[str, ...]) -> str:
    quoted = ", ".join(f'"{operation}"' for operation in operations)
    return f"invalid operation. Available operations: {quoted}"

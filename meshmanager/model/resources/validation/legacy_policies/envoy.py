"""Checks of the raw Envoy resources a ProxyTemplate carries as YAML strings.

Kuma decodes them into Envoy's protobuf types and runs their generated validation. We
reproduce the decoding errors (bad YAML/JSON, not an object, missing `@type`) and the
top-level rules of the common resource types; deeper Envoy rules are not checked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from meshmanager.model.resources.validation.golang.strconv import go_quote

PREFIX = "native Envoy resource is not valid: "


@dataclass(frozen=True)
class EnvoyType:
    """An Envoy message: its name and its top-level validation."""

    name: str
    rules: Callable[[str, Mapping[str, Any]], str | None]


def _name_required(type_name: str, field_names: tuple[str, ...]) -> Callable[..., str | None]:
    def rules(_: str, message: Mapping[str, Any]) -> str | None:
        proto_name, json_name = field_names
        value = message.get(json_name, message.get(proto_name)) or ""
        if not isinstance(value, str):
            return (
                "json: cannot unmarshal " + _go_json_kind(value) + " into Go value of type string"
            )
        if value == "":
            go_field = "".join(part.capitalize() for part in proto_name.split("_"))
            return f"invalid {type_name}.{go_field}: value length must be at least 1 runes"
        return None

    return rules


def _virtual_host_rules(type_name: str, message: Mapping[str, Any]) -> str | None:
    problem = _name_required(type_name, ("name", "name"))(type_name, message)
    if problem:
        return problem
    domains = message.get("domains") or []
    if not isinstance(domains, list):
        return (
            "json: cannot unmarshal "
            + _go_json_kind(domains)
            + " into Go value of type []json.RawMessage"
        )
    if not domains:
        return f"invalid {type_name}.Domains: value must contain at least 1 item(s)"
    for i, domain in enumerate(domains):
        if isinstance(domain, str) and any(char in domain for char in "\x00\n\r"):
            return (
                f"invalid {type_name}.Domains[{i}]: value does not match regex pattern "
                + go_quote("^[^\\x00\\n\\r]*$")
            )
    return None


def _no_rules(_: str, __: Mapping[str, Any]) -> str | None:
    return None


CLUSTER = EnvoyType("Cluster", _name_required("Cluster", ("name", "name")))
LISTENER = EnvoyType("Listener", _no_rules)
NETWORK_FILTER = EnvoyType("Filter", _name_required("Filter", ("name", "name")))
HTTP_FILTER = EnvoyType("HttpFilter", _name_required("HttpFilter", ("name", "name")))
VIRTUAL_HOST = EnvoyType("VirtualHost", _virtual_host_rules)
BY_TYPE_URL = {
    "envoy.config.cluster.v3.Cluster": CLUSTER,
    "envoy.config.listener.v3.Listener": LISTENER,
    "envoy.config.route.v3.VirtualHost": VIRTUAL_HOST,
    "envoy.config.listener.v3.Filter": NETWORK_FILTER,
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter": HTTP_FILTER,
    "envoy.config.endpoint.v3.ClusterLoadAssignment": EnvoyType(
        "ClusterLoadAssignment",
        _name_required("ClusterLoadAssignment", ("cluster_name", "clusterName")),
    ),
}
# Types Kuma's binary links in come from these packages; others do not resolve.
KNOWN_PACKAGES = ("envoy.", "google.protobuf.", "udpa.", "xds.", "kuma.", "contrib.")


def check_typed(text: str, envoy_type: EnvoyType, validate: bool) -> str | None:
    """Kuma's `ValidateResourceYAML` (validate) or `ValidateResourceYAMLPatch` (decode only)."""
    decoded, problem = _decode(text)
    if problem is None and decoded is not None and not isinstance(decoded, dict):
        problem = _not_an_object(decoded)
    if problem is None and validate:
        problem = envoy_type.rules(envoy_type.name, decoded or {})
    return None if problem is None else PREFIX + problem


def check_any(text: str) -> str | None:
    """Kuma's `ResourceFromYaml`: an object with `@type`, decoded and validated."""
    decoded, problem = _decode(text)
    if problem is None:
        problem = _any_problem(decoded)
    return None if problem is None else PREFIX + problem


def _any_problem(decoded: Any) -> str | None:
    if decoded is None:
        return "proto: invalid empty type URL"
    if not isinstance(decoded, dict):
        return _not_an_object(decoded)
    if "@type" not in decoded:
        return "Any JSON doesn't have '@type'"
    type_url = decoded["@type"]
    if not isinstance(type_url, str):
        return f"can't unmarshal Any's '@type': {go_quote(json.dumps(type_url))}"
    type_name = type_url.rsplit("/", 1)[-1]
    if not type_name.startswith(KNOWN_PACKAGES):
        return f"could not resolve Any message type: {type_url}"
    envoy_type = BY_TYPE_URL.get(type_name)
    problem = envoy_type.rules(envoy_type.name, decoded) if envoy_type else None
    if problem and problem.startswith("json: "):
        return f"can't unmarshal Any nested proto {type_url}: {problem}"
    return problem


def _decode(text: str) -> tuple[Any, str | None]:
    """sigs.k8s.io/yaml's YAML-to-JSON, falling back to the text as JSON, as Kuma does."""
    try:
        return yaml.safe_load(text), None
    except yaml.YAMLError:
        pass
    try:
        value, _ = json.JSONDecoder().raw_decode(text.lstrip(" \t\r\n"))
    except json.JSONDecodeError as error:
        return None, _go_json_error(error)
    return value, None


def _not_an_object(value: Any) -> str:
    return (
        f"json: cannot unmarshal {_go_json_kind(value)} into Go value of type "
        "map[string]json.RawMessage"
    )


def _go_json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"


def _go_json_error(error: json.JSONDecodeError) -> str:
    """Go's encoding/json wording for the most common syntax errors."""
    text = error.doc
    if not text.strip():
        return "EOF"
    if error.pos >= len(text):
        return "unexpected EOF"
    char = text[error.pos]
    quoted = "'\\''" if char == "'" else "'" + go_quote(char)[1:-1].replace('\\"', '"') + "'"
    object_key = "looking for beginning of object key string"
    context = {
        "Expecting ':' delimiter": "after object key",
        "Expecting ',' delimiter": "after object key:value pair"
        if "{" in text
        else "after array element",
        "Expecting property name enclosed in double quotes": object_key,
    }.get(error.msg, "looking for beginning of value")
    return f"invalid character {quoted} {context}"

"""MeshHTTPRoute: HTTP routing (matches, filters and weighted backends)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.kubernetes import (
    dns1123_subdomain_errors,
    parse_ip_sloppy,
)
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies.nodes import (
    HEADER_MATCH,
    HEADERS_TO_SET,
    IntEnum,
)
from meshmanager.model.resources.validation.policies.policy import (
    Spec,
    check_item_target_ref,
    each,
    items,
    obj,
    role_target_ref_rules,
    top_kind,
    validate_policy,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import (
    BACKEND_REF,
    TargetRefRules,
    validate_backend_ref,
    validate_target_ref,
)
from meshmanager.model.resources.validation.schema import Arr, Bool, Int, IntOrStr, Obj, Str

_METHODS = ("CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE")
_MATCH = Obj(
    {
        "path": Obj(
            {"type": Str(enum=("Exact", "PathPrefix", "RegularExpression")), "value": Str()},
            required=["type"],
        ),
        "method": Str(enum=_METHODS),
        "queryParams": Arr(
            Obj(
                {
                    "type": Str(enum=("Exact", "RegularExpression")),
                    "name": Str(min_length=1),
                    "value": Str(),
                },
                required=["type", "name", "value"],
            )
        ),
        "headers": Arr(HEADER_MATCH),
    }
)
_HEADER_MODIFIER = Obj(
    {"set": HEADERS_TO_SET, "add": HEADERS_TO_SET, "remove": Arr(Str(), max_items=16)}
)
_PATH_REWRITE = Obj(
    {
        "type": Str(enum=("ReplaceFullPath", "ReplacePrefixMatch")),
        "replaceFullPath": Str(),
        "replacePrefixMatch": Str(),
    },
    required=["type"],
)
# Hostnames are plain strings here: Validate() reports IPs and bad names itself.
_FILTER = Obj(
    {
        "type": Str(
            enum=(
                "RequestHeaderModifier",
                "ResponseHeaderModifier",
                "RequestRedirect",
                "URLRewrite",
                "RequestMirror",
            )
        ),
        "requestHeaderModifier": _HEADER_MODIFIER,
        "responseHeaderModifier": _HEADER_MODIFIER,
        "requestRedirect": Obj(
            {
                "scheme": Str(enum=("http", "https")),
                "hostname": Str(),
                "path": _PATH_REWRITE,
                "port": Int(minimum=1, maximum=65535),
                "statusCode": IntEnum((301, 302, 303, 307, 308)),
            }
        ),
        "urlRewrite": Obj(
            {"hostname": Str(), "path": _PATH_REWRITE, "hostToBackendHostname": Bool()}
        ),
        "requestMirror": Obj(
            {"percentage": IntOrStr(), "backendRef": BACKEND_REF}, required=["backendRef"]
        ),
    },
    required=["type"],
)
_RULE = Obj(
    {
        "matches": Arr(_MATCH),
        "default": Obj({"filters": Arr(_FILTER), "backendRefs": Arr(BACKEND_REF)}),
    },
)
SCHEMA = Obj(
    {
        "targetRef": ref.TARGET_REF,
        "to": Arr(
            Obj(
                {"targetRef": ref.TARGET_REF, "rules": Arr(_RULE), "hostnames": Arr(Str())},
                required=["targetRef"],
            )
        ),
    }
)


def _validate_path_match(out: Violations, path: Path, match: Mapping[str, Any]) -> None:
    value: str = match.get("value") or ""
    value_path = path.field("value")
    match_type = match.get("type")
    if match_type == "PathPrefix" and value != "/":
        if value.endswith("/"):
            out.add(
                value_path,
                "does not need a trailing slash because only a `/`-separated prefix or an"
                " entire path is matched",
            )
        if not value.startswith("/"):
            out.add(value_path, "must be an absolute path")
    elif match_type == "Exact" and not value.startswith("/"):
        out.add(value_path, "must be an absolute path")


def _validate_matches(out: Violations, path: Path, matches: Sequence[Mapping[str, Any]]) -> None:
    for index, match in enumerate(matches):
        match_path = path.index(index)
        if match.get("path") is not None:
            _validate_path_match(out, match_path.field("path"), match["path"])
        seen: set[str] = set()
        for param_path, param in each(match, "queryParams", match_path):
            name = param.get("name") or ""
            if name in seen:
                out.add(param_path.field("name"), f"multiple entries for name {name}")
            seen.add(name)
        for header_path, header in each(match, "headers", match_path):
            if header.get("type") in ("Present", "Absent") and header.get("value"):
                out.add(header_path.field("value"), msg.MUST_NOT_BE_DEFINED)


def _validate_hostname(out: Violations, path: Path, hostname: str | None) -> None:
    """A precise hostname: a DNS-1123 subdomain that is not an IP address."""
    if hostname is None:
        return
    if parse_ip_sloppy(hostname) is not None:
        out.add(path, "cannot be an IP address")
        return
    for error in dns1123_subdomain_errors(hostname):
        out.add(path, error)


def _validate_header_modifier(out: Violations, path: Path, modifier: Mapping[str, Any]) -> None:
    if all(modifier.get(name) is None for name in ("set", "add", "remove")):
        out.add(path, msg.must_have_at_least_one("set", "add", "remove"))
        return
    seen: set[str] = set()
    for operation in ("set", "add", "remove"):
        for item_path, item in each(modifier, operation, path):
            name = item if operation == "remove" else item.get("name") or ""
            if name in seen:
                out.add(item_path.field("name"), "duplicate header name")
            seen.add(name)


def _only_prefix_matches(matches: Sequence[Mapping[str, Any]]) -> bool:
    return all((match.get("path") or {}).get("type") == "PathPrefix" for match in matches)


def _validate_rewrite(
    out: Violations, path: Path, rewrite: Mapping[str, Any], matches: Sequence[Mapping[str, Any]]
) -> None:
    """The parts a redirect and a URL rewrite share: prefix replacement and hostname."""
    replaces_prefix = obj(rewrite, "path").get("replacePrefixMatch") is not None
    if replaces_prefix and not _only_prefix_matches(matches):
        out.add(
            path.field("path").field("replacePrefixMatch"),
            "can only appear if all matches match a path prefix",
        )
    _validate_hostname(out, path.field("hostname"), rewrite.get("hostname"))


_FILTER_FIELDS = {
    "RequestHeaderModifier": "requestHeaderModifier",
    "ResponseHeaderModifier": "responseHeaderModifier",
    "RequestRedirect": "requestRedirect",
    "URLRewrite": "urlRewrite",
    "RequestMirror": "requestMirror",
}
_MIRROR_KINDS = (ref.MESH_SERVICE, ref.MESH_SERVICE_SUBSET)


def _validate_filters(
    out: Violations,
    path: Path,
    filters: Sequence[Mapping[str, Any]],
    matches: Sequence[Mapping[str, Any]],
    top: str,
) -> None:
    for index, item in enumerate(filters):
        field = _FILTER_FIELDS[item["type"]]
        conf, conf_path = item.get(field), path.index(index).field(field)
        if conf is None:
            out.add(conf_path, msg.MUST_BE_DEFINED)
        elif field.endswith("HeaderModifier"):
            _validate_header_modifier(out, conf_path, conf)
        elif field == "requestRedirect":
            _validate_rewrite(out, conf_path, conf, matches)
        elif field == "urlRewrite":
            _validate_rewrite(out, conf_path, conf, matches)
            if conf.get("hostToBackendHostname"):
                host_path = conf_path.field("hostToBackendHostname")
                if top != ref.MESH_GATEWAY:
                    out.add(host_path, "can only be set with MeshGateway")
                if conf.get("hostname") is not None:
                    out.add(host_path, "cannot be set together with hostname")
        else:
            backend = obj(conf, "backendRef")
            rules = TargetRefRules(_MIRROR_KINDS)
            validate_target_ref(out, conf_path.field("backendRef"), backend, rules)


_BACKEND_RULES = TargetRefRules(
    (*ref.DESTINATION_KINDS, ref.MESH_SERVICE_SUBSET),
    allowed_invalid_names=(ref.UNRESOLVED_BACKEND,),
)


def _validate_rule(out: Violations, path: Path, rule: Mapping[str, Any], top: str) -> None:
    matches = items(rule, "matches")
    _validate_matches(out, path.field("matches"), matches)
    default, default_path = obj(rule, "default"), path.field("default")
    filters = items(default, "filters")
    _validate_filters(out, default_path.field("filters"), filters, matches, top)
    backends = items(default, "backendRefs")
    redirects = any(item.get("type") == "RequestRedirect" for item in filters)
    if not backends and top == ref.MESH_GATEWAY and not redirects:
        # A redirect answers the request itself, other rules need somewhere to send it.
        out.add(default_path.field("backendRefs"), msg.MUST_NOT_BE_EMPTY)
    for backend_path, backend in each(default, "backendRefs", default_path):
        validate_backend_ref(out, backend_path, backend, _BACKEND_RULES)


def _rules(ctx: Context, spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, role_target_ref_rules(ctx, (ref.MESH_GATEWAY,)))
    top = top_kind(spec)
    to_kinds = (ref.MESH,) if top == ref.MESH_GATEWAY else ref.DESTINATION_KINDS
    for item_path, item in each(spec, "to"):
        check_item_target_ref(out, item_path, item, to_kinds)
        for rule_path, rule in each(item, "rules", item_path):
            _validate_rule(out, rule_path, rule, top)
        if top != ref.MESH_GATEWAY and items(item, "hostnames"):
            out.add(item_path.field("hostnames"), msg.MUST_NOT_BE_DEFINED)


@validator("MeshHTTPRoute")
def validate_mesh_http_route(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, lambda checked, out: _rules(ctx, checked, out))

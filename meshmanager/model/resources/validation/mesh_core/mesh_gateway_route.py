"""MeshGatewayRoute: the HTTP and TCP routes of a builtin gateway."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.mesh_core.checks import validate_port
from meshmanager.model.resources.validation.mesh_core.proto import BOOL, SELECTOR, enum, pick
from meshmanager.model.resources.validation.schema import (
    STRING_MAP,
    UINT32,
    Arr,
    Message,
    Num,
    Str,
    as_dict,
    as_dicts,
    as_float,
    as_int,
    as_list,
    as_str,
    as_tags,
    validate_with_schema,
)
from meshmanager.model.resources.validation.tags import (
    TagRules,
    validate_selector,
    validate_selectors,
)

HTTP_METHODS = (
    "NONE",
    "CONNECT",
    "DELETE",
    "GET",
    "HEAD",
    "OPTIONS",
    "PATCH",
    "POST",
    "PUT",
    "TRACE",
)
HOST_HEADERS = (":authority", "Host", "host")

BACKEND = Message({"weight": UINT32, "destination": STRING_MAP})
HEADER_FILTER = Message(
    {
        "set": Arr(Message({"name": Str(), "value": Str()})),
        "add": Arr(Message({"name": Str(), "value": Str()})),
        "remove": Arr(Str()),
    }
)
REWRITE = Message(
    {"replace_full": Str(), "replace_prefix_match": Str(), "host_to_backend_hostname": BOOL},
    oneofs=[("replace_full", "replace_prefix_match")],
)
FILTER = Message(
    {
        "request_header": HEADER_FILTER,
        "mirror": Message({"backend": BACKEND, "percentage": Num()}),
        "redirect": Message(
            {
                "scheme": Str(),
                "hostname": Str(),
                "port": UINT32,
                "status_code": UINT32,
                "path": REWRITE,
            }
        ),
        "rewrite": REWRITE,
        "response_header": HEADER_FILTER,
    },
    oneofs=[("request_header", "mirror", "redirect", "rewrite", "response_header")],
)
MATCH = Message(
    {
        "path": Message({"match": enum("EXACT", "PREFIX", "REGEX"), "value": Str()}),
        "method": enum(*HTTP_METHODS),
        "headers": Arr(
            Message(
                {
                    "match": enum("EXACT", "REGEX", "ABSENT", "PRESENT"),
                    "name": Str(),
                    "value": Str(),
                }
            )
        ),
        "query_parameters": Arr(
            Message({"match": enum("EXACT", "REGEX"), "name": Str(), "value": Str()})
        ),
    }
)
HTTP_ROUTE = Message(
    {
        "hostnames": Arr(Str()),
        "rules": Arr(
            Message({"matches": Arr(MATCH), "filters": Arr(FILTER), "backends": Arr(BACKEND)})
        ),
    }
)
TCP_ROUTE = Message({"rules": Arr(Message({"backends": Arr(BACKEND)}))})
MESH_GATEWAY_ROUTE = Message(
    {
        "selectors": Arr(SELECTOR),
        "conf": Message({"tcp": TCP_ROUTE, "http": HTTP_ROUTE}, oneofs=[("tcp", "http")]),
    }
)

SERVICE_DESTINATION = TagRules(require_at_least_one_tag=True, require_service=True)


@validator("MeshGatewayRoute")
def validate_mesh_gateway_route(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(MESH_GATEWAY_ROUTE, spec, Path(), _validate_mesh_gateway_route)


def _validate_mesh_gateway_route(spec: dict[str, Any], out: Violations) -> None:
    validate_selectors(
        Path("selectors"),
        as_list(spec.get("selectors")),
        SERVICE_DESTINATION,
        out,
        at_least_one=True,
    )
    conf, path = as_dict(spec.get("conf")), Path("conf")
    if conf.get("tcp") is None and conf.get("http") is None:
        out.add(path, "cannot be empty")
    http = conf.get("http")
    if http is not None:
        rules = as_dicts(http.get("rules"))
        if not rules:
            out.add(path.field("http").field("rules"), "cannot be empty")
        for i, rule in enumerate(rules):
            _validate_rule(path.field("http").field("rules").index(i), rule, out)


def _validate_rule(path: Path, rule: dict[str, Any], out: Violations) -> None:
    matches = as_dicts(rule.get("matches"))
    if not matches:
        out.add(path.field("matches"), "cannot be empty")
        return
    for i, match in enumerate(matches):
        _validate_match(path.field("matches").index(i), match, out)
    has_prefix_match = any(as_dict(m.get("path")).get("match") == "PREFIX" for m in matches)
    all_filters = as_dicts(rule.get("filters"))
    # A rewrite of the host to the backend's is set aside, and the other filters are
    # numbered without it, as Kuma does.
    rewrites_host = [f for f in all_filters if _rewrites_host(f)]
    filters = [f for f in all_filters if not _rewrites_host(f)]
    for i, filter_ in enumerate(filters):
        at = path.field("filters").index(i)
        _validate_filter(at, filter_, has_prefix_match, bool(rewrites_host), out)
    redirects = any(f.get("redirect") is not None for f in filters)
    if redirects and len(all_filters) != 1:
        out.add(path.field("filters"), "redirects cannot be used with other filters")
        return
    backends = as_dicts(rule.get("backends"))
    if not backends and not redirects:
        out.add(path.field("backends"), "cannot be empty")
    elif backends and redirects:
        out.add(path.field("backends"), "must be empty when using redirect filters")
    for i, backend in enumerate(backends):
        _validate_backend(path.field("backends").index(i), backend, out)


def _rewrites_host(filter_: dict[str, Any]) -> bool:
    rewrite = filter_.get("rewrite")
    return rewrite is not None and bool(pick(rewrite, "host_to_backend_hostname"))


def _validate_match(path: Path, match: dict[str, Any], out: Violations) -> None:
    headers = as_dicts(match.get("headers"))
    queries = as_dicts(pick(match, "query_parameters"))
    route_path = match.get("path")
    method = match.get("method") or "NONE"
    if route_path is None and method == "NONE" and not headers and not queries:
        out.add(path, "cannot be empty")
    if route_path is not None:
        kind, value = route_path.get("match") or "EXACT", as_str(route_path.get("value"))
        if kind == "REGEX":
            if not value:
                out.add(path.field("value"), "cannot be empty")
        elif not value.startswith("/"):
            out.add(path.field("value"), "must be an absolute path")
    for i, header in enumerate(headers):
        at = path.field("headers").index(i)
        if not as_str(header.get("name")):
            out.add(at.field("name"), "cannot be empty")
        value = as_str(header.get("value"))
        if header.get("match") in ("ABSENT", "PRESENT"):
            if value:
                out.add(at.field("value"), "cannot be set")
        elif not value:
            out.add(at.field("value"), "cannot be empty")
    for i, query in enumerate(queries):
        at = path.field("query_parameters").index(i)
        for field in ("name", "value"):
            if not as_str(query.get(field)):
                out.add(at.field(field), "cannot be empty")


def _validate_filter(
    path: Path,
    filter_: dict[str, Any],
    has_prefix_match: bool,
    rewrites_host: bool,
    out: Violations,
) -> None:
    request_header = pick(filter_, "request_header")
    if request_header is not None:
        _validate_request_header(path.field("request_header"), request_header, rewrites_host, out)
    redirect = filter_.get("redirect")
    if redirect is not None:
        port = as_int(redirect.get("port"))
        if port > 0:
            validate_port(path.field("redirect").field("port"), port, out)
        if not 300 <= as_int(pick(redirect, "status_code")) <= 308:
            out.add(path.field("redirect").field("status_code"), "must be in the range [300, 308]")
    mirror = filter_.get("mirror")
    if mirror is not None:
        percentage, at = mirror.get("percentage"), path.field("mirror").field("percentage")
        if percentage is None:
            out.add(at, "cannot be empty")
        elif not 0.0 <= as_float(percentage) <= 100.0:
            out.add(at, "has to be in [0.0 - 100.0] range")
        _validate_backend(path.field("mirror").field("backend"), mirror.get("backend"), out)
    rewrite = filter_.get("rewrite")
    replaces_prefix = rewrite is not None and pick(rewrite, "replace_prefix_match") is not None
    if replaces_prefix and not has_prefix_match:
        out.add(
            path.field("rewrite").field("replacePrefixMatch"),
            "cannot be used without a match on path prefix",
        )


def _validate_request_header(
    path: Path, headers: dict[str, Any], rewrites_host: bool, out: Violations
) -> None:
    to_set, to_add = as_dicts(headers.get("set")), as_dicts(headers.get("add"))
    to_remove = as_list(headers.get("remove"))
    if not to_set and not to_add and not to_remove:
        out.add(path, "cannot be empty")
    for field, entries in (("set", to_set), ("add", to_add)):
        for i, header in enumerate(entries):
            at, name = path.field(field).index(i), as_str(header.get("name"))
            if name in HOST_HEADERS and rewrites_host:
                out.add(
                    at,
                    f"cannot modify '{name}' header, when route has set "
                    "'rewrite.host_to_backend_hostname' option",
                )
            elif name == "":
                out.add(at.field("name"), "cannot be empty")
            if not as_str(header.get("value")):
                out.add(at.field("value"), "cannot be empty")
    for i, name in enumerate(to_remove):
        if not as_str(name):
            out.add(path.field("remove").index(i), "cannot be empty")


def _validate_backend(path: Path, backend: Any, out: Violations) -> None:
    if backend is None:
        out.add(path, "cannot be empty")
        return
    validate_selector(path, as_tags(backend.get("destination")), SERVICE_DESTINATION, out)

"""TrafficRoute (api/mesh/v1alpha1/traffic_route.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.policy import validate_connection_policy
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    BOOL,
    STRING,
    UINT32,
    UINT64,
    message,
    sub,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    SELECTORS,
)
from meshmanager.model.resources.validation.schema import STRING_MAP, Arr, Map
from meshmanager.model.resources.validation.tags import TagRules, tag_path, validate_selector

STRING_MATCHER = message(
    {"prefix": STRING, "exact": STRING, "regex": STRING}, oneofs=[("prefix", "exact", "regex")]
)
REGEX_REPLACE = message({"pattern": STRING, "substitution": STRING})
HEADERS = message(
    {
        "add": Arr(message({"name": STRING, "value": STRING, "append": BOOL})),
        "remove": Arr(message({"name": STRING})),
    }
)
MODIFY = message(
    {
        "path": message(
            {"rewritePrefix": STRING, "regex": REGEX_REPLACE}, oneofs=[("rewritePrefix", "regex")]
        ),
        "host": message(
            {"value": STRING, "fromPath": REGEX_REPLACE}, oneofs=[("value", "fromPath")]
        ),
        "requestHeaders": HEADERS,
        "responseHeaders": HEADERS,
    }
)
SPLIT = message({"weight": UINT32, "destination": STRING_MAP})
HTTP = message(
    {
        "match": message(
            {"method": STRING_MATCHER, "path": STRING_MATCHER, "headers": Map(STRING_MATCHER)}
        ),
        "modify": MODIFY,
        "split": Arr(SPLIT),
        "destination": STRING_MAP,
    }
)
LB_TYPES = ("round_robin", "least_request", "ring_hash", "random", "maglev")
LOAD_BALANCER = message(
    {
        "round_robin": message({}),
        "least_request": message({"choice_count": UINT32}),
        "ring_hash": message(
            {"hash_function": STRING, "min_ring_size": UINT64, "max_ring_size": UINT64}
        ),
        "random": message({}),
        "maglev": message({}),
    },
    oneofs=[LB_TYPES],
)
CONF = message(
    {
        "split": Arr(SPLIT),
        "load_balancer": LOAD_BALANCER,
        "destination": STRING_MAP,
        "http": Arr(HTTP),
    }
)
TRAFFIC_ROUTE = message({"sources": SELECTORS, "destinations": SELECTORS, "conf": CONF})

DESTINATION_TAGS = TagRules(require_at_least_one_tag=True, require_service=True)
CANNOT_BE_EMPTY = "cannot be empty"
RING_HASH_FUNCTIONS = ("XX_HASH", "MURMUR_HASH_2")


@validator("TrafficRoute")
def validate_traffic_route(spec: Any, ctx: Context) -> Violations:
    return validate_connection_policy(TRAFFIC_ROUTE, spec, _validate_conf, CANNOT_BE_EMPTY)


def _validate_conf(path: Path, conf: dict[str, Any]) -> Violations:
    out = _validate_split_and_destination(path, conf)
    for i, http in enumerate(conf.get("http", [])):
        out.extend(_validate_http(path.field("http").index(i), http))
    out.extend(_validate_load_balancer(path.field("loadBalancer"), conf.get("loadBalancer")))
    return out


def _validate_http(path: Path, http: dict[str, Any]) -> Violations:
    out = _validate_match(path.field("match"), http.get("match") or {})
    modify = http.get("modify") or {}
    if "path" in modify:
        out.extend(_validate_modify_path(path.field("modify").field("path"), modify["path"], http))
    if "host" in modify:
        out.extend(_validate_modify_host(path.field("modify").field("host"), modify["host"]))
    for name in ("requestHeaders", "responseHeaders"):
        if name in modify:
            out.extend(_validate_headers(path.field("modify").field(name), modify[name]))
    out.extend(_validate_split_and_destination(path, http))
    return out


def _validate_match(path: Path, match: dict[str, Any]) -> Violations:
    out = Violations()
    if not match:
        out.add(
            path,
            'must be present and contain at least one of the elements: "method", "path" or '
            '"headers"',
        )
        return out
    for name in ("method", "path"):
        if name in match:
            out.extend(_validate_string_matcher(path.field(name), match[name]))
    headers = match.get("headers")
    if headers is not None and not headers:
        out.add(path.field("headers"), "must contain at least one element")
    for key, matcher in (headers or {}).items():
        if key == "":
            out.add(tag_path(path.field("headers"), key), CANNOT_BE_EMPTY)
        out.extend(_validate_string_matcher(tag_path(path.field("headers"), key), matcher))
    return out


def _validate_string_matcher(path: Path, matcher: dict[str, Any]) -> Violations:
    out = Violations()
    if "exact" in matcher:
        return out
    for kind in ("prefix", "regex"):
        if kind in matcher:
            if matcher[kind] == "":
                out.add(path.field(kind), CANNOT_BE_EMPTY)
            return out
    out.add(path, 'cannot be empty. Available options: "exact", "split" or "regex"')
    return out


def _validate_modify_path(path: Path, modify: dict[str, Any], http: dict[str, Any]) -> Violations:
    out = Violations()
    if "rewritePrefix" in modify:
        if modify["rewritePrefix"] == "":
            out.add(path.field("rewritePrefix"), CANNOT_BE_EMPTY)
        elif not (sub(sub(http, "match"), "path") or {}).get("prefix"):
            out.add(
                path.field("rewritePrefix"),
                "can only be set when .http.match.path.prefix is not empty",
            )
    elif "regex" in modify:
        out.extend(_validate_regex_replace(path.field("regex"), modify["regex"]))
    else:
        out.add(path, 'either "rewritePrefix" or "regex" has to be set')
    return out


def _validate_modify_host(path: Path, modify: dict[str, Any]) -> Violations:
    out = Violations()
    if "value" in modify:
        if modify["value"] == "":
            out.add(path.field("value"), CANNOT_BE_EMPTY)
    elif "fromPath" in modify:
        out.extend(_validate_regex_replace(path.field("fromPath"), modify["fromPath"]))
    else:
        out.add(path, 'either "value" or "fromPath" has to be set')
    return out


def _validate_regex_replace(path: Path, replace: dict[str, Any]) -> Violations:
    out = Violations()
    for name in ("pattern", "substitution"):
        if not replace.get(name):
            out.add(path.field(name), CANNOT_BE_EMPTY)
    return out


def _validate_headers(path: Path, headers: dict[str, Any]) -> Violations:
    out = Violations()
    for i, add in enumerate(headers.get("add", [])):
        out.extend(_validate_header_name(path.field("add").index(i).field("name"), add))
        if not add.get("value"):
            out.add(path.field("add").index(i).field("value"), CANNOT_BE_EMPTY)
    for i, remove in enumerate(headers.get("remove", [])):
        out.extend(_validate_header_name(path.field("remove").index(i).field("name"), remove))
    return out


def _validate_header_name(path: Path, header: dict[str, Any]) -> Violations:
    out = Violations()
    name = header.get("name", "")
    if name == "":
        out.add(path, CANNOT_BE_EMPTY)
    elif name.startswith(":") or name in ("host", "Host"):
        out.add(path, "host header and HTTP/2 pseudo-headers are not allowed to be modified")
    return out


def _validate_split_and_destination(path: Path, conf: dict[str, Any]) -> Violations:
    out = Violations()
    split, destination = conf.get("split"), conf.get("destination")
    if split is None and destination is None:
        out.add(path, 'requires either "destination" or "split"')
    if split is not None and destination is not None:
        out.add(path, '"split" cannot be defined at the same time as "destination"')
    if split is not None:
        out.extend(_validate_split(path.field("split"), split))
    if destination is not None:
        validate_selector(path.field("destination"), destination, DESTINATION_TAGS, out)
    return out


def _validate_split(path: Path, split: list[dict[str, Any]]) -> Violations:
    out = Violations()
    total_weight = 0
    for i, entry in enumerate(split):
        if "weight" not in entry:
            out.add(path.index(i).field("weight"), "needs to be defined")
        total_weight += entry.get("weight", 0)
        destination = entry.get("destination") or {}
        validate_selector(path.index(i).field("destination"), destination, DESTINATION_TAGS, out)
    # Go sums the weights in a uint32, which wraps around.
    if total_weight % (1 << 32) == 0:
        out.add(path, "there must be at least one split entry with weight above 0")
    return out


def _validate_load_balancer(path: Path, balancer: dict[str, Any] | None) -> Violations:
    out = Violations()
    if balancer is None:
        return out
    least_request = balancer.get("leastRequest")
    if least_request is not None and least_request.get("choiceCount") == 1:
        out.add(
            path.field("leastRequest").field("choiceCount"),
            "value must be greater than or equal to 2",
        )
    ring_hash = balancer.get("ringHash")
    if ring_hash is not None and ring_hash.get("hashFunction", "") not in RING_HASH_FUNCTIONS:
        out.add(path.field("ringHash").field("hashFunction"), "must have a valid hash function")
    return out

"""List parameters of the Kuma API: paging, and name, label, tag and gateway filters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request

from meshmanager.api.kuma.errors import KumaError
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation.base import Violation

LIST_TITLE = "Could not retrieve resources"
DEFAULT_SIZE = 100
MAX_SIZE = 1000
_FILTER = re.compile(r"^filter\[labels\.([^\]]+)\](\[.*\])?$")
GATEWAY_FILTERS = ("true", "false", "builtin", "delegated")


@dataclass(frozen=True)
class Paging:
    offset: int
    size: int


def paging(params: QueryParams) -> Paging:
    size_text = params.get("size")
    size = DEFAULT_SIZE
    if size_text is not None:
        try:
            size = int(size_text)
        except ValueError:
            raise _bad_size("invalid format") from None
        if size <= 0:
            raise _bad_size("must be greater than 0")
        if size > MAX_SIZE:
            raise _bad_size(f"invalid page size of {size}. Maximum page size is {MAX_SIZE}")
    offset_text = params.get("offset") or "0"
    try:
        offset = int(offset_text)
    except ValueError:
        detail = f'invalid: invalid offset: strconv.Atoi: parsing "{offset_text}": invalid syntax'
        raise KumaError(400, LIST_TITLE, detail) from None
    if offset < 0:
        raise KumaError(400, LIST_TITLE, "invalid: invalid offset: must not be negative")
    return Paging(offset, size)


def _bad_size(reason: str) -> KumaError:
    return KumaError(400, LIST_TITLE, "Invalid page size", [Violation("size", reason)])


def label_filters(params: QueryParams, route: str) -> tuple[tuple[str, str], ...]:
    found = []
    for key, value in params.multi_items():
        if not key.startswith("filter"):
            continue
        match = _FILTER.match(key)
        field = f"{route}.{key}"
        if match is None:
            raise KumaError(
                400,
                LIST_TITLE,
                "Resource is not valid",
                [Violation(field, "filters are only supported on labels")],
            )
        if match.group(2):
            raise KumaError(
                400,
                LIST_TITLE,
                "Resource is not valid",
                [Violation(field, "advanced filters are not supported")],
            )
        found.append((match.group(1), value))
    return tuple(found)


def next_url(request: Request, paging: Paging, total: int) -> str | None:
    """An absolute URL with the offset of the next page, or None on the last one."""
    following = paging.offset + paging.size
    return None if following >= total else link_with_offset(request, following)


def link_with_offset(request: Request, offset: int) -> str:
    """The request URL with `offset` replaced, keys sorted as Go's url.Values encodes them."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    query.append(("offset", str(offset)))
    encoded = urlencode(sorted(query, key=lambda item: item[0]))
    host = request.headers.get("host", "localhost")
    return f"{request.url.scheme}://{host}{request.url.path}?{encoded}"


def tag_filters(params: QueryParams) -> list[tuple[str, str]]:
    tags = []
    for raw in params.getlist("tag"):
        key, _, value = raw.partition(":")
        tags.append((key, value))
    return tags


def gateway_filter(params: QueryParams) -> str | None:
    value = params.get("gateway")
    if value is None:
        return None
    if value not in GATEWAY_FILTERS:
        raise KumaError(
            400,
            LIST_TITLE,
            "Resource is not valid",
            [Violation("gateway", f"shoud be one of {', '.join(GATEWAY_FILTERS)}")],
        )
    return value


def _tags_match(tags: dict[str, Any], wanted: list[tuple[str, str]]) -> bool:
    return all(key in tags and (value == "*" or value in str(tags[key])) for key, value in wanted)


def dataplane_matches(resource: Resource, tags: list[tuple[str, str]], gateway: str | None) -> bool:
    networking = (resource.spec or {}).get("networking") or {}
    gw = networking.get("gateway")
    if gateway == "true" and not gw:
        return False
    if gateway == "false" and gw:
        return False
    if gateway == "builtin" and not (gw and gw.get("type") == "BUILTIN"):
        return False
    if gateway == "delegated" and not (gw and gw.get("type", "DELEGATED") != "BUILTIN"):
        return False
    if not tags:
        return True
    inbound_tags = [i.get("tags") or {} for i in networking.get("inbound") or []]
    candidates = inbound_tags or ([gw.get("tags") or {}] if gw else [])
    return any(_tags_match(t, tags) for t in candidates)


def external_service_matches(resource: Resource, tags: list[tuple[str, str]]) -> bool:
    return _tags_match((resource.spec or {}).get("tags") or {}, tags)

"""Request dependencies: the store, the caller, paging and optimistic concurrency."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from meshmanager.model.errors import Conflict, invalid
from meshmanager.model.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest
from meshmanager.store import Store
from meshmanager.store.rows import Versioned
from meshmanager.tenancy.principal import Principal, authenticate

MAX_PAGE_NUMBER = 1_000_000

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="accessToken",
    description="A personal access token (`kpat_…`) or a system account token (`spat_…`).",
)


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    header = request.headers.get("authorization")
    return await authenticate(get_store(request), header if header else None)


def page_request(
    size: Annotated[
        int,
        Query(alias="page[size]", ge=1, le=MAX_PAGE_SIZE, description="Items per page."),
    ] = DEFAULT_PAGE_SIZE,
    number: Annotated[
        int,
        Query(alias="page[number]", ge=1, le=MAX_PAGE_NUMBER, description="Page, from 1."),
    ] = 1,
) -> PageRequest:
    return PageRequest(number=number, size=size)


StoreDep = Annotated[Store, Depends(get_store)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
PageDep = Annotated[PageRequest, Depends(page_request)]

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


def if_match(
    value: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="The ETag of the version read: the write fails with 409 if it is stale.",
        ),
    ] = None,
) -> int | None:
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.match(value.strip())
    if not match:
        raise invalid("If-Match", 'must be an ETag as returned by this API, e.g. "3"')
    return int(match.group(1))


IfMatchDep = Annotated[int | None, Depends(if_match)]


def check_version(current: Versioned[Any], expected: int | None) -> int:
    """The version a write must be conditional on: the caller's if given, else the one read."""
    if expected is not None and expected != current.version:
        raise Conflict(
            f"the object is at version {current.version}, not {expected}: read it again and retry"
        )
    return current.version


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'

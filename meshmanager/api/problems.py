"""Errors as application/problem+json, in the management API's (Konnect's) shape."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response

from meshmanager.model.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
    Unauthenticated,
    ValidationFailed,
)
from meshmanager.observability import request_id_var

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://kongapi.info/konnect/"

TITLES: dict[int, tuple[str, str]] = {
    400: ("Bad Request", "bad-request"),
    401: ("Unauthorized", "unauthenticated"),
    403: ("Forbidden", "unauthorized"),
    404: ("Not Found", "not-found"),
    405: ("Method Not Allowed", "method-not-allowed"),
    409: ("Conflict", "conflict"),
    413: ("Payload Too Large", "payload-too-large"),
    415: ("Unsupported Media Type", "unsupported-media-type"),
    500: ("Internal Server Error", "internal-server-error"),
    503: ("Service Unavailable", "service-unavailable"),
}

STATUS_OF: list[tuple[type[DomainError], int]] = [
    (ValidationFailed, 400),
    (PreconditionFailed, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
]


class InvalidParameterModel(BaseModel):
    field: str
    rule: str
    reason: str


class Problem(BaseModel):
    status: int
    title: str
    type: str
    instance: str
    detail: str


class BadRequestProblem(Problem):
    invalid_parameters: list[InvalidParameterModel] = []


def problem_response(
    status: int,
    detail: str,
    invalid_parameters: Sequence[InvalidParameter] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    title, slug = TITLES.get(status, ("Error", "error"))
    body: dict[str, Any] = {
        "status": status,
        "title": title,
        "type": TYPE_BASE + slug,
        "instance": f"meshmanager:trace:{request_id_var.get() or 'none'}",
        "detail": detail,
    }
    if status == 400:
        body["invalid_parameters"] = [
            {"field": p.field, "rule": p.rule, "reason": p.reason} for p in invalid_parameters
        ]
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` entries for the given error statuses."""
    return {
        status: {
            "model": BadRequestProblem if status == 400 else Problem,
            "content": {PROBLEM_JSON: {}},
            "description": TITLES[status][0],
        }
        for status in statuses
    }


RULES = {
    "missing": "required",
    "extra_forbidden": "unknown_property",
    "string_pattern_mismatch": "pattern",
    "string_too_short": "min_length",
    "string_too_long": "max_length",
    "too_short": "min_items",
    "too_long": "max_items",
    "literal_error": "enum",
    "enum": "enum",
    "union_tag_invalid": "enum",
    "greater_than_equal": "minimum",
    "less_than_equal": "maximum",
    "json_invalid": "invalid_json",
}


def invalid_parameters_of(errors: Sequence[Any]) -> list[InvalidParameter]:
    params = []
    for error in errors:
        kind = str(error.get("type", ""))
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]
        field = "body" if kind == "json_invalid" or not loc else ".".join(loc)
        rule = RULES.get(kind) or ("type" if kind.endswith(("_type", "_parsing")) else "invalid")
        params.append(InvalidParameter(field, rule, str(error.get("msg", ""))))
    return params


def _describe(params: Sequence[InvalidParameter]) -> str:
    first = params[0]
    more = f" (and {len(params) - 1} more)" if len(params) > 1 else ""
    return f"{first.field}: {first.reason}{more}"


async def _on_domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    status = next(code for kind, code in STATUS_OF if isinstance(error, kind))
    params = error.invalid_parameters if isinstance(error, ValidationFailed) else []
    detail = _describe(params) if params else error.detail
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem_response(status, detail, params, headers)


async def _on_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    params = invalid_parameters_of(error.errors())
    return problem_response(400, _describe(params), params)


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = str(error.detail)
    if error.status_code == 404 and detail == "Not Found":
        detail = f"no such endpoint: {request.method} {request.url.path}"
    elif error.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(error.status_code, detail, headers=dict(error.headers or {}))


async def on_client_disconnect(request: Request, error: Exception) -> Response:
    """The client went away mid-request: nobody is left to answer (nginx's 499)."""
    return Response(status_code=499)


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error")
    return problem_response(500, "an internal error occurred; it has been logged")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(ClientDisconnect, on_client_disconnect)
    app.add_exception_handler(Exception, _on_unexpected)

"""ASGI middleware: request ids, metrics, access logs and the request body limit."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meshmanager.api.problems import problem_response
from meshmanager.observability import HTTP_LATENCY, HTTP_REQUESTS, log_fields, request_id_var

log = logging.getLogger("meshmanager.access")

MAX_BODY_BYTES = 2 * 1024 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestContextMiddleware:
    """Gives each request an id (X-Request-Id), then counts, times and logs it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = _route_template(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info(
                "request",
                extra=log_fields(
                    method=scope["method"],
                    path=scope["path"],
                    route=route,
                    status=status,
                    ms=round(elapsed * 1000, 2),
                ),
            )
            request_id_var.reset(token)


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return f"{scope.get('meshmanager.route_prefix', '')}{path}" if path else "unmatched"


class PathAliasMiddleware:
    """Serves one path prefix as another: /v0/mesh/... is /v1/mesh/..."""

    def __init__(self, app: ASGIApp, aliases: dict[str, str]) -> None:
        self.app = app
        self.aliases = aliases

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for alias, target in self.aliases.items():
                if scope["path"].startswith(alias):
                    path = target + scope["path"][len(alias) :]
                    # In place, so that outer middleware sees the route that matched.
                    scope["path"], scope["raw_path"] = path, path.encode()
                    break
        await self.app(scope, receive, send)


class _BodyTooLarge(HTTPException):
    """An HTTPException, so that frameworks reading the body pass it on unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes (2 MiB)")


class BodyLimitMiddleware:
    """Answers 413 to bodies over the limit, whether announced or streamed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._reject(scope, receive, send, length)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._reject(scope, receive, send, None)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, length: str | None) -> None:
        if length is not None and not length.isdigit():
            response = problem_response(400, f"invalid Content-Length header {length!r}")
        else:
            response = problem_response(
                413, f"the request body is larger than the limit of {self.limit} bytes (2 MiB)"
            )
        await response(scope, receive, send)

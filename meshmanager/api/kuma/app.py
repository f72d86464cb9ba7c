"""The Kuma API application and how requests under a control plane reach it."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from meshmanager.addresses import HostPort
from meshmanager.api.kuma import (
    cp_config,
    insights,
    inspect,
    meta,
    proxy_inspect,
    resources,
    tokens,
)
from meshmanager.api.kuma.context import CP_ID_KEY
from meshmanager.api.kuma.envoy_admin import EnvoyAdminForwarder
from meshmanager.api.kuma.errors import KumaError
from meshmanager.api.problems import on_client_disconnect
from meshmanager.model.errors import Conflict, DomainError, NotFound
from meshmanager.store import Store

ITEM_METHODS = ["GET", "PUT", "DELETE"]


def _routes() -> list[Route]:
    return [
        Route("/", meta.index),
        Route("/_resources", meta.resource_types),
        Route("/policies", meta.policies),
        Route("/who-am-i", meta.who_am_i),
        Route("/config", cp_config.config),
        Route("/_kri/{kri}", resources.get_by_kri),
        # Literal segments (_overview, _resources, ...) before the generic {ws}/{name}.
        *insights.routes(),
        *proxy_inspect.routes(),
        *inspect.routes(),
        *tokens.routes(),
        Route("/meshes/{mesh}/{ws}", resources.list_resources),
        Route("/meshes/{mesh}/{ws}/{name}", _item, methods=ITEM_METHODS),
        Route("/{ws}", resources.list_resources),
        Route("/{ws}/{name}", _item, methods=ITEM_METHODS),
    ]


async def _item(request: Request) -> Response:
    handler = {
        "GET": resources.get_resource,
        "PUT": resources.put_resource,
        "DELETE": resources.delete_resource,
    }[request.method]
    return await handler(request)


async def _on_kuma_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, KumaError)
    return error.response()


async def _on_domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    if isinstance(error, Conflict):
        return KumaError(409, "Conflict", error.detail).response()
    if isinstance(error, NotFound):
        return KumaError(404, "Not Found", error.detail).response()
    return KumaError(400, "Bad Request", error.detail).response()


def create_kuma_app(
    store: Store,
    envoy_admin: EnvoyAdminForwarder | None = None,
    kds_address: HostPort | None = None,
) -> Starlette:
    app = Starlette(
        routes=_routes(),
        exception_handlers={
            KumaError: _on_kuma_error,
            DomainError: _on_domain_error,
            ClientDisconnect: on_client_disconnect,
        },
    )
    app.router.redirect_slashes = False
    app.state.store = store
    app.state.envoy_admin = envoy_admin  # None: no zone streams (tests of the API alone)
    app.state.kds_address = kds_address  # where zones connect, shown by /config
    return app


_MOUNT = re.compile(r"^(/v1/mesh/control-planes/([^/]+)/api)(/.*)?$")


class KumaApiDispatch:
    """Sends /v1/mesh/control-planes/{cpId}/api[/...] to the Kuma API app, with the
    prefix as the ASGI root path; kumactl asks for the index at the bare prefix."""

    def __init__(self, app: ASGIApp, kuma_app: ASGIApp) -> None:
        self.app = app
        self.kuma_app = kuma_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _MOUNT.match(scope["path"]) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        prefix, cp_id, rest = match.groups()
        scope["root_path"] = scope.get("root_path", "") + prefix
        scope["path"] = prefix + (rest or "/")
        scope[CP_ID_KEY] = cp_id
        scope["meshmanager.route_prefix"] = "/v1/mesh/control-planes/{cpId}/api"
        await self.kuma_app(scope, receive, send)

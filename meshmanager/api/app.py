"""The HTTP application: management API under /v1 (alias /v0) and identity under /v3."""

from __future__ import annotations

from fastapi import FastAPI

from meshmanager import __version__
from meshmanager.addresses import HostPort
from meshmanager.api import controlplanes, identity, zones
from meshmanager.api.kuma.app import KumaApiDispatch, create_kuma_app
from meshmanager.api.kuma.envoy_admin import EnvoyAdminForwarder
from meshmanager.api.middleware import (
    BodyLimitMiddleware,
    PathAliasMiddleware,
    RequestContextMiddleware,
)
from meshmanager.api.problems import install_problem_handlers
from meshmanager.model.zones import KdsEndpoint
from meshmanager.store import Store

DESCRIPTION = """\
meshmanager's management API. Control planes live under `/v1/mesh/control-planes`
(`/v0/mesh/control-planes` is an alias of the same operations), in the shape of Kong
Konnect's Mesh Manager API. Users, teams, system accounts, tokens and role
assignments live under `/v3`.

Every operation needs `Authorization: Bearer <token>` with a personal access token
(`kpat_…`) or a system account token (`spat_…`). Errors are `application/problem+json`.
Objects carry an `ETag`; send it back in `If-Match` to make a write fail with 409
instead of overwriting a concurrent change.
"""


def create_app(
    store: Store,
    envoy_admin: EnvoyAdminForwarder | None = None,
    kds_address: HostPort | None = None,
    kds_endpoint: KdsEndpoint | None = None,
) -> FastAPI:
    app = FastAPI(
        title="meshmanager",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
    )
    app.state.store = store
    app.state.kds_endpoint = kds_endpoint or KdsEndpoint()
    app.include_router(controlplanes.router)
    app.include_router(zones.router)
    app.include_router(identity.router)
    install_problem_handlers(app)
    app.add_middleware(KumaApiDispatch, kuma_app=create_kuma_app(store, envoy_admin, kds_address))
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(PathAliasMiddleware, aliases={"/v0/mesh/": "/v1/mesh/"})
    app.add_middleware(RequestContextMiddleware)
    return app

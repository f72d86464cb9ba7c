"""Property-based tests of the management API against its own OpenAPI document (schemathesis 4).

Every operation of /v1/openapi.json gets a bounded, derandomized set of generated
requests, sent in-process to the ASGI app with the bootstrap admin's token. A response
that is a 5xx, or that contradicts the document (status, content type, body schema or
declared headers), fails the test of that operation.

The app is served through an ASGI lifespan: schemathesis runs applications in one event
loop thread of its own and starts and stops their lifespan around each test, and the
store must live in that loop. Each start opens a fresh SQLite store, so operations do
not see one another's objects. This runs on SQLite only: it tests the HTTP contract,
which does not depend on the store (the other API tests run on both backends).
"""

from __future__ import annotations

import itertools
import secrets
import string
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import Receive, Scope, Send

from meshmanager.api.app import create_app
from meshmanager.store import Store, open_store
from meshmanager.tenancy.bootstrap import bootstrap

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# A fixed admin token, given to every bootstrap (as MESHMANAGER_ADMIN_TOKEN would be).
ADMIN_TOKEN = "kpat_" + "".join(
    secrets.choice(string.ascii_letters + string.digits) for _ in range(48)
)


class StoreLifespanApp:
    """The management API, with a fresh bootstrapped store per ASGI lifespan."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.starts = itertools.count()
        self.store: Store | None = None
        self.app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        assert self.app is not None, "a request outside the lifespan"
        await self.app(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                path = self.directory / f"meshmanager-{next(self.starts)}.db"
                self.store = await open_store(f"sqlite:///{path}")
                booted = await bootstrap(self.store, "acme", "admin@acme.example", ADMIN_TOKEN)
                assert booted is not None
                self.app = create_app(self.store)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.store is not None:
                    await self.store.close()
                self.store, self.app = None, None
                await send({"type": "lifespan.shutdown.complete"})
                return


_DATA = tempfile.TemporaryDirectory(prefix="meshmanager-schemathesis-")
APP = StoreLifespanApp(Path(_DATA.name))
schema = schemathesis.openapi.from_asgi("/v1/openapi.json", APP)


def test_the_document_describes_the_management_api() -> None:
    """Guards the property test below against passing vacuously on an empty document."""
    paths = schema.raw_schema["paths"]
    assert "/v1/mesh/control-planes" in paths
    assert "/v1/mesh/control-planes/{cpId}" in paths
    assert "/v3/users/{id}/access-tokens" in paths
    assert sum(len(item) for item in paths.values()) >= 40


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=CHECKS)

"""Fixtures: every store-backed test runs against SQLite and PostgreSQL.

PostgreSQL comes from MESHMANAGER_TEST_POSTGRES_URL (set by scripts/test). Without it
the PostgreSQL cases are skipped locally, and fail under CI=true: CI must run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from meshmanager.api.app import create_app
from meshmanager.store import Store, open_store
from meshmanager.tenancy.bootstrap import bootstrap

PG_URL_ENV = "MESHMANAGER_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def postgres_admin_url() -> str:
    url = os.environ.get(PG_URL_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{PG_URL_ENV} is not set: CI must run the PostgreSQL tests")
    pytest.skip(f"{PG_URL_ENV} is not set")


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A new, empty database, dropped afterwards."""
    admin = make_url(postgres_admin_url())
    name = f"mm_test_{uuid.uuid4().hex[:12]}"
    _pg_exec(admin.render_as_string(hide_password=False), f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_exec(
            admin.render_as_string(hide_password=False), f'DROP DATABASE "{name}" WITH (FORCE)'
        )


def _pg_exec(url: str, statement: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meshmanager.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    store = await open_store(store_url)
    try:
        yield store
    finally:
        await store.close()


@dataclass
class Api:
    """An HTTP client against the in-process app, with the bootstrap admin's token."""

    client: httpx.AsyncClient
    store: Store
    admin_token: str

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.auth(token), **kwargs.pop("headers", {})}
        return await self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
async def api(store: Store) -> AsyncIterator[Api]:
    result = await bootstrap(store, "acme", "admin@acme.example", None)
    assert result is not None
    app = create_app(store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, store, result.token)

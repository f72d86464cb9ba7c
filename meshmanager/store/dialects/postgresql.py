"""PostgreSQL through asyncpg: for several replicas and real scale."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from meshmanager.store.dialects import JSON_CODEC

MIGRATION_LOCK_KEY = 0x6D6D5F6D6967  # "mm_mig"
CHANNEL = "meshmanager_changes"


class PostgresDialect:
    name = "postgresql"
    exclusive_writer = False

    def __init__(self, url: str) -> None:
        self.url = make_url(url).set(drivername="postgresql+asyncpg")

    def create_engine(self) -> AsyncEngine:
        return create_async_engine(
            self.url, pool_size=10, max_overflow=10, pool_pre_ping=True, **JSON_CODEC
        )

    @asynccontextmanager
    async def write_guard(self) -> AsyncIterator[None]:
        yield

    async def lock_for_migration(self, conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})

    def describe(self) -> str:
        return self.url.render_as_string(hide_password=True)

    async def notify(self, conn: AsyncConnection, payload: str) -> None:
        # Delivered on commit, and only then: listeners never hear of a rolled-back write.
        await conn.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
        )

    async def listen(self, callback: Callable[[str], None]) -> Callable[[], Awaitable[None]]:
        """A dedicated connection outside the pool: LISTEN lasts as long as it."""
        url = self.url.set(drivername="postgresql")
        conn = await asyncpg.connect(url.render_as_string(hide_password=False))

        def deliver(_conn: object, _pid: int, _channel: str, payload: str) -> None:
            callback(payload)

        await conn.add_listener(CHANNEL, deliver)

        async def stop() -> None:
            await conn.close()

        return stop

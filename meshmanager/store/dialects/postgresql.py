"""PostgreSQL through asyncpg: for several replicas and real scale."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from meshmanager.store.dialects import JSON_CODEC

MIGRATION_LOCK_KEY = 0x6D6D5F6D6967  # "mm_mig"


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

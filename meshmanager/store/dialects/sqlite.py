"""SQLite: the embedded default. One file, WAL mode, fully synchronous commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from meshmanager.store.dialects import JSON_CODEC


class SqliteDialect:
    name = "sqlite"
    exclusive_writer = True

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("the sqlite store needs a file path: sqlite:////path/to/file.db")
        self.path = Path(parsed.database)
        self.url = parsed.set(drivername="sqlite+aiosqlite")
        # One writer at a time in this process; SQLite allows no more anyway, and
        # taking the lock here avoids SQLITE_BUSY upgrades of read transactions.
        self._write_lock = asyncio.Lock()

    def create_engine(self) -> AsyncEngine:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            self.url, pool_size=8, connect_args={"timeout": 30}, **JSON_CODEC
        )
        event.listen(engine.sync_engine, "connect", _set_pragmas)
        event.listen(engine.sync_engine, "begin", _begin)
        return engine

    @asynccontextmanager
    async def write_guard(self) -> AsyncIterator[None]:
        async with self._write_lock:
            yield

    async def lock_for_migration(self, conn: AsyncConnection) -> None:
        return None

    def describe(self) -> str:
        return f"sqlite:///{self.path}"

    async def notify(self, conn: AsyncConnection, payload: str) -> None:
        """One process owns an embedded store: there is nobody to tell."""

    async def listen(self, callback: Callable[[str], None]) -> Callable[[], Awaitable[None]]:
        async def stop() -> None:
            return None

        return stop


def _begin(conn: Any) -> None:
    # The driver's own transaction handling is off (isolation_level=None below), so that
    # transactions start where SQLAlchemy says and savepoints work.
    conn.exec_driver_sql("BEGIN")


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        # FULL syncs the WAL on every commit: an acknowledged write survives even a power cut.
        "synchronous=FULL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        # LIKE ignores ASCII case by default in SQLite, unlike PostgreSQL: filters must
        # give the same answer on both.
        "case_sensitive_like=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()

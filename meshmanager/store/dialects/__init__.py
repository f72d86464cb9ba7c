"""Per-database behaviour behind the store's one interface, as in SQLAlchemy's dialects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class StoreDialect(Protocol):
    name: str
    # True when this process is the only one writing the store (embedded SQLite): its
    # caches may then mirror its own writes instead of reading them back.
    exclusive_writer: bool

    def create_engine(self) -> AsyncEngine: ...

    def write_guard(self) -> AbstractAsyncContextManager[None]:
        """Held around every write transaction."""
        ...

    async def lock_for_migration(self, conn: AsyncConnection) -> None:
        """Makes concurrent starts of several replicas migrate one at a time."""
        ...

    def describe(self) -> str:
        """The store's location without credentials, for logs."""
        ...

    async def notify(self, conn: AsyncConnection, payload: str) -> None:
        """Tells the other replicas, once `conn`'s transaction commits, that it wrote."""
        ...

    async def listen(self, callback: Callable[[str], None]) -> Callable[[], Awaitable[None]]:
        """Calls `callback` with the payload of every other replica's `notify`; returns
        the function that stops listening."""
        ...


def json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


JSON_CODEC: dict[str, Any] = {"json_serializer": json_dumps, "json_deserializer": orjson.loads}


def dialect_for(url: str) -> StoreDialect:
    from meshmanager.store.dialects.postgresql import PostgresDialect
    from meshmanager.store.dialects.sqlite import SqliteDialect

    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme == "sqlite":
        return SqliteDialect(url)
    if scheme in ("postgresql", "postgres"):
        return PostgresDialect(url)
    raise ValueError(f"unsupported store URL scheme {scheme!r}: use sqlite:/// or postgresql://")

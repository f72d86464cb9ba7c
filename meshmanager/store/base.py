"""The Store: an engine, a dialect, migrations and the repositories over them."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from meshmanager.model.resources.stored import CpScope
from meshmanager.observability import log_fields
from meshmanager.store.dialects import StoreDialect, dialect_for
from meshmanager.store.events import StoreEvents, ZoneAccessRevoked

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


class Store:
    def __init__(self, dialect: StoreDialect) -> None:
        from meshmanager.store.controlplanes import ControlPlaneRepository
        from meshmanager.store.identity import IdentityRepository
        from meshmanager.store.resources import ResourceRepository
        from meshmanager.store.zones import ZoneRepository

        self.dialect = dialect
        self.events = StoreEvents()
        self.instance_id = uuid.uuid4().hex
        self._follow_tasks: set[asyncio.Task[None]] = set()
        self.engine = dialect.create_engine()
        # Bumped after every committed write that may change who may do what; caches of
        # authenticated callers compare it to know they are stale.
        self.identity_generation = 0
        self.control_planes = ControlPlaneRepository(self)
        self.identity = IdentityRepository(self)
        self.zones = ZoneRepository(self)
        self.resources = ResourceRepository(self)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self, affects_identity: bool = True) -> AsyncIterator[AsyncConnection]:
        """A transaction committed on leaving the block, and durable once it has.

        Writes that cannot change tokens, roles or control planes (Kuma resources, zone
        state) pass `affects_identity=False` so as not to empty the caller caches.
        """
        try:
            async with self.dialect.write_guard(), self.engine.begin() as conn:
                yield conn
        finally:
            if affects_identity:
                self.identity_generation += 1

    async def migrate(self, revision: str = "head") -> None:
        async with self.write() as conn:
            await self.dialect.lock_for_migration(conn)
            await conn.run_sync(_upgrade, revision)
        log.info("store migrated", extra=log_fields(revision=revision))

    async def current_revision(self) -> str | None:
        async with self.read() as conn:
            try:
                result = await conn.execute(text("SELECT version_num FROM alembic_version"))
            except Exception:
                return None
            return result.scalar_one_or_none()

    async def is_ready(self) -> bool:
        """Reachable and migrated to this version's schema."""
        try:
            return await self.current_revision() == head_revision()
        except Exception:
            log.warning("store not reachable", exc_info=True)
            return False

    async def announce_write(self, conn: AsyncConnection, scope: CpScope, revision: int) -> None:
        """Inside a write transaction: other replicas hear of it once it commits."""
        await self._announce(conn, "write", scope, str(revision))

    async def announce_revocation(self, conn: AsyncConnection, scope: CpScope, zone: str) -> None:
        """Inside a transaction that revoked a zone's access: other replicas end its
        connections once it commits."""
        await self._announce(conn, "revoke", scope, zone)

    async def _announce(self, conn: AsyncConnection, kind: str, scope: CpScope, what: str) -> None:
        payload = f"{self.instance_id}|{kind}|{scope.org_id}|{scope.cp_id}|{what}"
        await self.dialect.notify(conn, payload)

    async def follow_other_replicas(self) -> Callable[[], Awaitable[None]]:
        """Keeps caches and listeners current with writes of other replicas (PostgreSQL);
        returns the function that stops following."""
        return await self.dialect.listen(self._heard)

    def _heard(self, payload: str) -> None:
        try:
            instance, kind, org_id, cp_id, what = payload.split("|", 4)
            scope = CpScope(uuid.UUID(org_id), uuid.UUID(cp_id))
            revision = int(what) if kind == "write" else 0
        except ValueError:
            log.warning(
                "ignoring a malformed change notification", extra=log_fields(payload=payload)
            )
            return
        if instance == self.instance_id:
            return
        if kind == "revoke":
            self.events.publish(ZoneAccessRevoked(scope.org_id, scope.cp_id, what))
            return
        task = asyncio.create_task(self.resources.written_elsewhere(scope, revision))
        self._follow_tasks.add(task)
        task.add_done_callback(self._follow_tasks.discard)

    async def close(self) -> None:
        await self.engine.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def open_store(url: str, migrate: bool = True) -> Store:
    store = Store(dialect_for(url))
    if migrate:
        await store.migrate()
    return store

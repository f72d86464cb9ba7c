"""Kuma resources of a control plane: every type in one table, keyed by (control plane,
type, mesh, name), each row versioned and stamped with the revision that wrote it.
Reads are served from `ResourceCache`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from sqlalchemy import BigInteger, and_, bindparam, delete, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from meshmanager.model.errors import Conflict, NotFound
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.observability import store_operation
from meshmanager.store.events import ResourcesChanged
from meshmanager.store.resource_cache import CpResources, ResourceCache
from meshmanager.store.schema import control_planes, resource_tombstones, resources
from meshmanager.store.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from meshmanager.store.base import Store

r = resources
BULK_BATCH = 1000
WRITE_BATCH = 200


@dataclass(frozen=True)
class _WriteRequest:
    scope: CpScope
    changes: Sequence[Change]
    done: asyncio.Future[list[Resource]]


@dataclass(frozen=True)
class ResourceQuery:
    type: str
    mesh: str | None = None  # None: every mesh
    name_contains: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    offset: int = 0
    size: int | None = None

    def matches(self, resource: Resource) -> bool:
        if self.name_contains and self.name_contains not in resource.name:
            return False
        return all(resource.labels.get(key) == value for key, value in self.labels)


def _key(scope: CpScope, type_: str, mesh: str, name: str) -> Any:
    return and_(
        r.c.org_id == scope.org_id,
        r.c.cp_id == scope.cp_id,
        r.c.type == type_,
        r.c.mesh == mesh,
        r.c.name == name,
    )


class ResourceRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.cache = ResourceCache()
        self._pending: list[_WriteRequest] = []
        self._flusher: asyncio.Task[None] | None = None

    async def loaded(self, scope: CpScope) -> CpResources:
        """The control plane's resources, loaded from the store on first use."""
        cp = self.cache.slot(scope.cp_id)
        if cp.revision == -1:
            async with cp.lock:
                if cp.revision == -1:
                    with store_operation("resources.load"):
                        async with self.store.read() as conn:
                            await self.cache.catch_up(conn, scope, cp)
        return cp

    async def refresh(self, scope: CpScope) -> None:
        """Catches up with writes made elsewhere (another replica)."""
        cp = self.cache.control_planes.get(scope.cp_id)
        if cp is None:
            return
        async with cp.lock, self.store.read() as conn:
            await self.cache.catch_up(conn, scope, cp)

    async def get(self, scope: CpScope, type_: str, mesh: str, name: str) -> Resource | None:
        return (await self.loaded(scope)).get((type_, mesh, name))

    async def find(self, scope: CpScope, query: ResourceQuery) -> tuple[list[Resource], int]:
        cp = await self.loaded(scope)
        if not query.name_contains and not query.labels:
            return cp.page_of_type(query.type, query.mesh, query.offset, query.size)
        matching = [res for res in cp.of_type(query.type, query.mesh) if query.matches(res)]
        end = None if query.size is None else query.offset + query.size
        return matching[query.offset : end], len(matching)

    async def count_by_type(
        self, scope: CpScope, mesh: str | None = None
    ) -> dict[tuple[str, str], int]:
        """(type, mesh) -> number of resources."""
        counts: dict[tuple[str, str], int] = {}
        for type_, res_mesh, _ in (await self.loaded(scope)).entries:
            if mesh is None or res_mesh == mesh:
                counts[(type_, res_mesh)] = counts.get((type_, res_mesh), 0) + 1
        return counts

    async def bulk_create(self, scope: CpScope, items: Sequence[Resource]) -> None:
        """Inserts many new resources in one transaction, in one statement per batch."""
        with store_operation("resources.bulk_create"):
            async with self.store.write(affects_identity=False) as conn:
                revision = await _next_revision(conn, scope)
                await self.store.announce_write(conn, scope, revision)
                rows = [_new_row(scope, item, revision) for item in items]
                for start in range(0, len(rows), BULK_BATCH):
                    await conn.execute(insert(r), rows[start : start + BULK_BATCH])
        await self._after_write(scope)
        types = frozenset(item.type for item in items)
        self.store.events.publish(ResourcesChanged(scope.cp_id, revision, types))

    async def write(self, scope: CpScope, changes: Sequence[Change]) -> list[Resource]:
        """Applies creates, updates and deletes atomically, and returns once they are
        durable. Concurrent calls share one transaction (and one fsync); one caller's
        conflict fails only that caller (see `_commit`)."""
        request = _WriteRequest(scope, changes, asyncio.get_running_loop().create_future())
        self._pending.append(request)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await request.done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:WRITE_BATCH], self._pending[WRITE_BATCH:]
            try:
                results, revisions = await self._commit(batch)
            except Exception as error:  # the transaction itself failed: all of it did
                results, revisions = [error] * len(batch), {}
            stale = {request.scope for request in batch}
            if self.store.dialect.exclusive_writer and revisions:
                stale = self._apply_locally(batch, results, revisions)
            for scope in stale:
                await self._after_write(scope)
            for cp_id, revision in revisions.items():
                types = _written_types(batch, results, cp_id)
                self.store.events.publish(ResourcesChanged(cp_id, revision, types))
            for request, result in zip(batch, results, strict=True):
                if request.done.done():
                    continue  # the caller went away; its write stands
                if isinstance(result, BaseException):
                    request.done.set_exception(result)
                else:
                    request.done.set_result(result)

    def _apply_locally(
        self,
        batch: list[_WriteRequest],
        results: list[list[Resource] | Exception],
        revisions: dict[UUID, int],
    ) -> set[CpScope]:
        """With no other writer, what this process committed is all there is to catch up
        with: apply it to the cache without reading it back. Returns the control planes
        whose cache is behind anyway and must read from the store."""
        behind: set[CpScope] = set()
        for cp_id, revision in revisions.items():
            cp = self.cache.control_planes.get(cp_id)
            if cp is not None and cp.revision not in (-1, revision - 1):
                behind |= {r.scope for r in batch if r.scope.cp_id == cp_id}
        for request, result in zip(batch, results, strict=True):
            cp = self.cache.control_planes.get(request.scope.cp_id)
            if cp is None or cp.revision == -1 or request.scope in behind:
                continue
            if not isinstance(result, Exception):
                revision = revisions[request.scope.cp_id]
                for change, applied in zip(request.changes, result, strict=True):
                    change.apply_to(cp, applied, revision)
        for cp_id, revision in revisions.items():
            cp = self.cache.control_planes.get(cp_id)
            if cp is not None and cp.revision != -1 and cp_id not in {s.cp_id for s in behind}:
                cp.revision = revision
        return behind

    async def _commit(
        self, batch: list[_WriteRequest]
    ) -> tuple[list[list[Resource] | Exception], dict[UUID, int]]:
        """One transaction for the batch. Several requests go first without a savepoint
        each, two statements fewer per request (a status flush is a request per control
        plane); if one of them fails, the batch is redone with savepoints, so that it
        fails alone. A lone request's failure is the transaction's."""
        with store_operation("resources.write"):
            if len(batch) == 1:
                return await self._transaction(batch, _apply_all)
            with contextlib.suppress(_RequestFailed):
                return await self._transaction(batch, _apply_or_abort)
            return await self._transaction(batch, _apply_in_savepoint)

    async def _transaction(
        self,
        batch: list[_WriteRequest],
        apply: Callable[[AsyncConnection, CpScope, int, Sequence[Change]], Awaitable[Any]],
    ) -> tuple[list[list[Resource] | Exception], dict[UUID, int]]:
        results: list[list[Resource] | Exception] = []
        async with self.store.write(affects_identity=False) as conn:
            revisions: dict[UUID, int] = {}
            for request in batch:
                scope = request.scope
                if scope.cp_id not in revisions:
                    revisions[scope.cp_id] = await _next_revision(conn, scope)
                    await self.store.announce_write(conn, scope, revisions[scope.cp_id])
                results.append(await apply(conn, scope, revisions[scope.cp_id], request.changes))
        return results, revisions

    async def written_elsewhere(self, scope: CpScope, revision: int) -> None:
        """Another replica committed `revision`: catch up, then wake local listeners."""
        await self._after_write(scope)
        self.store.events.publish(ResourcesChanged(scope.cp_id, revision))

    async def _after_write(self, scope: CpScope) -> None:
        if scope.cp_id in self.cache.control_planes:
            await self.refresh(scope)


def _written_types(
    batch: list[_WriteRequest], results: list[list[Resource] | Exception], cp_id: UUID
) -> frozenset[str] | None:
    """The types a committed batch wrote in one control plane; None for "any type" (a
    mesh deletion removes resources of every type)."""
    types: set[str] = set()
    for request, result in zip(batch, results, strict=True):
        if request.scope.cp_id != cp_id or isinstance(result, Exception):
            continue
        for change in request.changes:
            if isinstance(change, DeleteMeshContents):
                return None
            types.add(change.resource.type)
    return frozenset(types)


async def _apply_all(
    conn: AsyncConnection, scope: CpScope, revision: int, changes: Sequence[Change]
) -> list[Resource]:
    """Applies changes in order; runs of creates or updates go in one statement each (a
    zone's first sync creates thousands of resources at once, a status flush updates
    the insights of every zone that reported)."""
    applied: list[Resource] = []
    for _, run in itertools.groupby(changes, type):
        batch = list(run)
        if len(batch) == 1:
            applied.append(await batch[0].apply(conn, scope, revision))
        else:
            applied += await batch[0].apply_many(conn, scope, revision, batch)
    return applied


class _RequestFailed(Exception):
    """A request of a batch written without savepoints failed: the transaction is lost."""


async def _apply_or_abort(
    conn: AsyncConnection, scope: CpScope, revision: int, changes: Sequence[Change]
) -> list[Resource]:
    try:
        return await _apply_all(conn, scope, revision, changes)
    except Exception as error:
        raise _RequestFailed from error


async def _apply_in_savepoint(
    conn: AsyncConnection, scope: CpScope, revision: int, changes: Sequence[Change]
) -> list[Resource] | Exception:
    """`_apply_all`, or its error with nothing of it applied."""
    savepoint = await conn.begin_nested()
    try:
        applied = await _apply_all(conn, scope, revision, changes)
    except Exception as error:
        await savepoint.rollback()
        return error
    await savepoint.commit()
    return applied


async def _next_revision(conn: AsyncConnection, scope: CpScope) -> int:
    """Bumps the control plane's revision; the row lock orders concurrent writers."""
    result = await conn.execute(
        update(control_planes)
        .where(control_planes.c.org_id == scope.org_id, control_planes.c.id == scope.cp_id)
        .values(resource_revision=control_planes.c.resource_revision + 1)
        .returning(control_planes.c.resource_revision)
    )
    revision = result.scalar_one_or_none()
    if revision is None:
        raise NotFound(f"control plane {scope.cp_id} not found")
    return int(revision)


class Change:
    resource: Resource

    async def apply(self, conn: AsyncConnection, scope: CpScope, revision: int) -> Resource:
        raise NotImplementedError

    async def apply_many(
        self, conn: AsyncConnection, scope: CpScope, revision: int, run: Sequence[Change]
    ) -> list[Resource]:
        """Applies `run`, changes of this change's class, in order."""
        return [await change.apply(conn, scope, revision) for change in run]

    def apply_to(self, cp: CpResources, applied: Resource, revision: int) -> None:
        """Mirrors a committed change in a cache (see ResourceRepository._apply_locally)."""
        cp.put(revision, applied)


@dataclass(frozen=True)
class Create(Change):
    resource: Resource

    async def apply(self, conn: AsyncConnection, scope: CpScope, revision: int) -> Resource:
        row = _new_row(scope, self.resource, revision)
        try:
            await conn.execute(insert(r).values(row))
        except IntegrityError as error:
            raise Conflict(f"{self.resource.type} {self.resource.name!r} already exists") from error
        return self.resource.with_changes(
            creation_time=row["created_at"], modification_time=row["updated_at"], version=1
        )

    async def apply_many(
        self, conn: AsyncConnection, scope: CpScope, revision: int, run: Sequence[Change]
    ) -> list[Resource]:
        creates = [c for c in run if isinstance(c, Create)]
        rows = [_new_row(scope, c.resource, revision) for c in creates]
        savepoint = await conn.begin_nested()
        try:
            for start in range(0, len(rows), BULK_BATCH):
                await conn.execute(insert(r), rows[start : start + BULK_BATCH])
        except IntegrityError:
            await savepoint.rollback()  # one of them exists: find which, one at a time
            return [await c.apply(conn, scope, revision) for c in creates]
        await savepoint.commit()
        return [
            c.resource.with_changes(
                creation_time=row["created_at"], modification_time=row["updated_at"], version=1
            )
            for c, row in zip(creates, rows, strict=True)
        ]


# One statement for every update, so SQLAlchemy compiles it once, not per row.
_UPDATE = (
    update(r)
    .where(
        r.c.org_id == bindparam("k_org"),
        r.c.cp_id == bindparam("k_cp"),
        r.c.type == bindparam("k_type"),
        r.c.mesh == bindparam("k_mesh"),
        r.c.name == bindparam("k_name"),
        r.c.version == bindparam("k_version"),
    )
    .values(
        {
            column: bindparam(f"v_{column}")
            for column in ("labels", "spec", "status", "updated_at", "version", "revision")
        }
    )
)
_UPDATE_RETURNING = _UPDATE.returning(r.c.created_at)


@dataclass(frozen=True)
class Update(Change):
    """Replaces labels, spec and status if the stored version is still `resource.version`."""

    resource: Resource

    def _params(self, scope: CpScope, revision: int, now: datetime) -> dict[str, Any]:
        res = self.resource
        row = _row(res)
        return {
            "k_org": scope.org_id,
            "k_cp": scope.cp_id,
            "k_type": res.type,
            "k_mesh": res.mesh,
            "k_name": res.name,
            "k_version": res.version,
            "v_labels": row["labels"],
            "v_spec": row["spec"],
            "v_status": row["status"],
            "v_updated_at": now,
            "v_version": res.version + 1,
            "v_revision": revision,
        }

    def _updated(self, created: datetime | None, now: datetime) -> Resource:
        res = self.resource
        return res.with_changes(
            creation_time=created, modification_time=now, version=res.version + 1
        )

    async def apply(self, conn: AsyncConnection, scope: CpScope, revision: int) -> Resource:
        now = utcnow()
        result = await conn.execute(_UPDATE_RETURNING, self._params(scope, revision, now))
        created = result.scalar_one_or_none()
        if created is None:
            res = self.resource
            raise Conflict(
                f"{res.type} {res.name!r} was modified concurrently: read it again and retry"
            )
        return self._updated(created, now)

    async def apply_many(
        self, conn: AsyncConnection, scope: CpScope, revision: int, run: Sequence[Change]
    ) -> list[Resource]:
        """One executemany where the driver counts its rows and every resource knows its
        creation time; otherwise, or when one of them conflicts, one at a time."""
        updates = [u for u in run if isinstance(u, Update)]
        known = all(u.resource.creation_time is not None for u in updates)
        if not (known and conn.dialect.supports_sane_multi_rowcount):
            return await super().apply_many(conn, scope, revision, run)
        now = utcnow()
        savepoint = await conn.begin_nested()
        result = await conn.execute(_UPDATE, [u._params(scope, revision, now) for u in updates])
        if result.rowcount != len(updates):
            await savepoint.rollback()  # a stale version among them: find it
            return await super().apply_many(conn, scope, revision, run)
        await savepoint.commit()
        return [u._updated(u.resource.creation_time, now) for u in updates]


@dataclass(frozen=True)
class Delete(Change):
    resource: Resource

    async def apply(self, conn: AsyncConnection, scope: CpScope, revision: int) -> Resource:
        result = await conn.execute(delete(r).where(_key(scope, *self.resource.key)))
        if result.rowcount == 0:
            raise NotFound(f"{self.resource.type} {self.resource.name!r} not found")
        await conn.execute(
            insert(resource_tombstones).values(
                cp_id=scope.cp_id,
                type=self.resource.type,
                mesh=self.resource.mesh,
                name=self.resource.name,
                revision=revision,
                deleted_at=utcnow(),
            )
        )
        return self.resource

    def apply_to(self, cp: CpResources, applied: Resource, revision: int) -> None:
        cp.remove(applied.key)


@dataclass(frozen=True)
class DeleteMeshContents(Change):
    """Removes every mesh-scoped resource of a mesh (what Kuma's owner references do)."""

    resource: Resource  # the Mesh

    async def apply(self, conn: AsyncConnection, scope: CpScope, revision: int) -> Resource:
        owned = and_(
            r.c.org_id == scope.org_id,
            r.c.cp_id == scope.cp_id,
            r.c.mesh == self.resource.name,
            r.c.type != "Mesh",
        )
        t = resource_tombstones
        await conn.execute(
            insert(t).from_select(
                [t.c.cp_id, t.c.type, t.c.mesh, t.c.name, t.c.revision, t.c.deleted_at],
                select(
                    r.c.cp_id,
                    r.c.type,
                    r.c.mesh,
                    r.c.name,
                    literal(revision, BigInteger),
                    literal(utcnow(), UTCDateTime()),
                ).where(owned),
            )
        )
        await conn.execute(delete(r).where(owned))
        return self.resource

    def apply_to(self, cp: CpResources, applied: Resource, revision: int) -> None:
        owned = [key for key in cp.entries if key[1] == applied.name and key[0] != "Mesh"]
        for key in owned:
            cp.remove(key)


def _row(resource: Resource) -> dict[str, Any]:
    return {
        "type": resource.type,
        "mesh": resource.mesh,
        "name": resource.name,
        "labels": resource.labels,
        # Spliced as they are: the JSON column type encodes with orjson (Fragment).
        "spec": orjson.Fragment(resource.spec_json),
        "status": None if resource.status_json is None else orjson.Fragment(resource.status_json),
    }


def _new_row(scope: CpScope, resource: Resource, revision: int) -> dict[str, Any]:
    now = utcnow()
    return _row(resource) | {
        "org_id": scope.org_id,
        "cp_id": scope.cp_id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "revision": revision,
    }

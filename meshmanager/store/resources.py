"""Kuma resources of a control plane: every type in one table, keyed by
(control plane, type, mesh, name), each row versioned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from meshmanager.model.errors import Conflict, NotFound
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.observability import store_operation
from meshmanager.store.schema import resources
from meshmanager.store.types import utcnow

if TYPE_CHECKING:
    from meshmanager.store.base import Store

r = resources


@dataclass(frozen=True)
class ResourceQuery:
    type: str
    mesh: str | None = None  # None: every mesh
    name_contains: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    offset: int = 0
    size: int | None = None


def _scoped(scope: CpScope) -> ColumnElement[bool]:
    return and_(r.c.org_id == scope.org_id, r.c.cp_id == scope.cp_id)


def _key(scope: CpScope, type_: str, mesh: str, name: str) -> ColumnElement[bool]:
    return and_(_scoped(scope), r.c.type == type_, r.c.mesh == mesh, r.c.name == name)


def to_resource(row: RowMapping) -> Resource:
    return Resource(
        type=row["type"],
        mesh=row["mesh"],
        name=row["name"],
        spec=row["spec"],
        labels=row["labels"],
        status=row["status"],
        creation_time=row["created_at"],
        modification_time=row["updated_at"],
        version=row["version"],
    )


def _where(scope: CpScope, query: ResourceQuery) -> list[ColumnElement[bool]]:
    where = [_scoped(scope), r.c.type == query.type]
    if query.mesh is not None:
        where.append(r.c.mesh == query.mesh)
    if query.name_contains:
        where.append(r.c.name.contains(query.name_contains, autoescape=True))
    for key, value in query.labels:
        label = r.c.labels[key].as_string()
        where.append(and_(label.is_not(None), label == value))
    return where


class ResourceRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, scope: CpScope, type_: str, mesh: str, name: str) -> Resource | None:
        with store_operation("resources.get"):
            async with self.store.read() as conn:
                row = (
                    (await conn.execute(select(r).where(_key(scope, type_, mesh, name))))
                    .mappings()
                    .first()
                )
        return None if row is None else to_resource(row)

    async def find(self, scope: CpScope, query: ResourceQuery) -> tuple[list[Resource], int]:
        where = _where(scope, query)
        stmt = select(r).where(*where).order_by(r.c.mesh, r.c.name).offset(query.offset)
        if query.size is not None:
            stmt = stmt.limit(query.size)
        with store_operation("resources.list"):
            async with self.store.read() as conn:
                total = (await conn.execute(select(func.count()).where(*where))).scalar_one()
                rows = (await conn.execute(stmt)).mappings()
                items = [to_resource(row) for row in rows]
        return items, int(total)

    async def count_by_type(
        self, scope: CpScope, mesh: str | None = None
    ) -> dict[tuple[str, str], int]:
        """(type, mesh) -> number of resources."""
        where = [_scoped(scope)] + ([r.c.mesh == mesh] if mesh is not None else [])
        stmt = select(r.c.type, r.c.mesh, func.count()).where(*where).group_by(r.c.type, r.c.mesh)
        async with self.store.read() as conn:
            rows = await conn.execute(stmt)
        return {(row[0], row[1]): int(row[2]) for row in rows}

    async def write(self, scope: CpScope, changes: Sequence[Change]) -> list[Resource]:
        """Applies creates, updates and deletes in one transaction."""
        with store_operation("resources.write"):
            async with self.store.write() as conn:
                return [await change.apply(conn, scope) for change in changes]


class Change:
    async def apply(self, conn: AsyncConnection, scope: CpScope) -> Resource:
        raise NotImplementedError


@dataclass(frozen=True)
class Create(Change):
    resource: Resource

    async def apply(self, conn: AsyncConnection, scope: CpScope) -> Resource:
        now = utcnow()
        row = _row(self.resource) | {
            "org_id": scope.org_id,
            "cp_id": scope.cp_id,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        try:
            await conn.execute(insert(r).values(row))
        except IntegrityError as error:
            raise Conflict(f"{self.resource.type} {self.resource.name!r} already exists") from error
        return self.resource.with_changes(creation_time=now, modification_time=now, version=1)


@dataclass(frozen=True)
class Update(Change):
    """Replaces labels, spec and status if the stored version is still `resource.version`."""

    resource: Resource

    async def apply(self, conn: AsyncConnection, scope: CpScope) -> Resource:
        res = self.resource
        now = utcnow()
        result = await conn.execute(
            update(r)
            .where(_key(scope, *res.key), r.c.version == res.version)
            .values(_row(res) | {"updated_at": now, "version": res.version + 1})
            .returning(r.c.created_at)
        )
        created = result.scalar_one_or_none()
        if created is None:
            raise Conflict(
                f"{res.type} {res.name!r} was modified concurrently: read it again and retry"
            )
        return res.with_changes(
            creation_time=created, modification_time=now, version=res.version + 1
        )


@dataclass(frozen=True)
class Delete(Change):
    resource: Resource

    async def apply(self, conn: AsyncConnection, scope: CpScope) -> Resource:
        result = await conn.execute(delete(r).where(_key(scope, *self.resource.key)))
        if result.rowcount == 0:
            raise NotFound(f"{self.resource.type} {self.resource.name!r} not found")
        return self.resource


@dataclass(frozen=True)
class DeleteMeshContents(Change):
    """Removes every mesh-scoped resource of a mesh (what Kuma's owner references do)."""

    resource: Resource  # the Mesh

    async def apply(self, conn: AsyncConnection, scope: CpScope) -> Resource:
        await conn.execute(
            delete(r).where(_scoped(scope), r.c.mesh == self.resource.name, r.c.type != "Mesh")
        )
        return self.resource


def _row(resource: Resource) -> dict[str, Any]:
    return {
        "type": resource.type,
        "mesh": resource.mesh,
        "name": resource.name,
        "labels": resource.labels,
        "spec": resource.spec,
        "status": resource.status,
    }

"""A repository for an org-scoped, versioned table: create, get, list, update, delete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.engine import RowMapping

from meshmanager.model.paging import PageRequest
from meshmanager.observability import store_operation
from meshmanager.store.rows import (
    Versioned,
    delete_scoped,
    fetch_one,
    fetch_page,
    insert_versioned,
    update_versioned,
)

if TYPE_CHECKING:
    from meshmanager.store.base import Store

M = TypeVar("M", bound=BaseModel)


class EntityRepository(Generic[M]):
    def __init__(self, store: Store, table: Table, model: type[M], sort_by: str = "name") -> None:
        self.store = store
        self.table = table
        self.model = model
        self.op = table.name
        self.default_order = (table.c[sort_by], table.c.id)

    def to_model(self, row: RowMapping) -> M:
        return self.model.model_validate(dict(row))

    def versioned(self, row: RowMapping) -> Versioned[M]:
        return Versioned(self.to_model(row), row["version"])

    async def create(self, org_id: UUID, values: dict[str, Any]) -> Versioned[M]:
        with store_operation(f"{self.op}.create"):
            async with self.store.write() as conn:
                row = await insert_versioned(conn, self.table, {"org_id": org_id, **values})
        return self.versioned(row)

    async def get(self, org_id: UUID, id_: UUID) -> Versioned[M]:
        with store_operation(f"{self.op}.get"):
            async with self.store.read() as conn:
                row = await fetch_one(conn, self.table, org_id, id_)
        return self.versioned(row)

    async def list(
        self,
        org_id: UUID,
        page: PageRequest,
        where: Sequence[ColumnElement[bool]] = (),
        order_by: Sequence[Any] | None = None,
    ) -> tuple[list[M], int]:
        stmt = select(self.table).where(self.table.c.org_id == org_id, *where)
        order = order_by if order_by is not None else self.default_order
        with store_operation(f"{self.op}.list"):
            async with self.store.read() as conn:
                rows, total = await fetch_page(conn, stmt, page, order)
        return [self.to_model(row) for row in rows], total

    async def update(
        self, org_id: UUID, id_: UUID, changes: dict[str, Any], expected_version: int | None
    ) -> Versioned[M]:
        with store_operation(f"{self.op}.update"):
            async with self.store.write() as conn:
                row = await update_versioned(
                    conn, self.table, org_id, id_, changes, expected_version
                )
        return self.versioned(row)

    async def delete(self, org_id: UUID, id_: UUID) -> None:
        with store_operation(f"{self.op}.delete"):
            async with self.store.write() as conn:
                await delete_scoped(conn, self.table, org_id, id_)

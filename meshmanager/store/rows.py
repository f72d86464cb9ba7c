"""Org-scoped, versioned row operations that every repository builds on."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from meshmanager.model.errors import Conflict, NotFound
from meshmanager.model.paging import PageRequest
from meshmanager.store.types import utcnow

T = TypeVar("T")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """An object with the version the store holds it at; a write must name it back."""

    item: T
    version: int


async def fetch_one(conn: AsyncConnection, table: Table, org_id: UUID, id_: UUID) -> RowMapping:
    row = (
        (await conn.execute(select(table).where(table.c.org_id == org_id, table.c.id == id_)))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"{_what(table)} {id_} not found")
    return row


async def fetch_page(
    conn: AsyncConnection, stmt: Select[Any], page: PageRequest, order_by: Sequence[Any]
) -> tuple[list[RowMapping], int]:
    total = (await conn.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await conn.execute(stmt.order_by(*order_by).limit(page.size).offset(page.offset))
    ).mappings()
    return list(rows), int(total)


async def insert_versioned(
    conn: AsyncConnection, table: Table, values: dict[str, Any]
) -> RowMapping:
    now = utcnow()
    row = {"id": uuid.uuid4(), "created_at": now, "updated_at": now, "version": 1, **values}
    result = await _guarded(conn, insert(table).values(row).returning(*table.c), table)
    inserted: RowMapping = result.mappings().one()
    return inserted


async def update_versioned(
    conn: AsyncConnection,
    table: Table,
    org_id: UUID,
    id_: UUID,
    changes: dict[str, Any],
    expected_version: int | None,
) -> RowMapping:
    """Applies `changes` only if the row is still at `expected_version` (else as read)."""
    current = await fetch_one(conn, table, org_id, id_)
    version = current["version"] if expected_version is None else expected_version
    stmt = (
        update(table)
        .where(table.c.org_id == org_id, table.c.id == id_, table.c.version == version)
        .values(**changes, updated_at=utcnow(), version=version + 1)
        .returning(*table.c)
    )
    updated: RowMapping | None = (await _guarded(conn, stmt, table)).mappings().first()
    if updated is None:
        raise Conflict(
            f"{_what(table)} {id_} was modified concurrently (version {current['version']},"
            f" expected {version}); read it again and retry"
        )
    return updated


async def delete_scoped(
    conn: AsyncConnection, table: Table, org_id: UUID, id_: UUID, *extra: ColumnElement[bool]
) -> None:
    result = await conn.execute(
        delete(table).where(table.c.org_id == org_id, table.c.id == id_, *extra)
    )
    if result.rowcount == 0:
        raise NotFound(f"{_what(table)} {id_} not found")


async def _guarded(conn: AsyncConnection, stmt: Any, table: Table) -> Any:
    try:
        return await conn.execute(stmt)
    except IntegrityError as error:
        raise Conflict(f"this {_what(table)} conflicts with an existing one (same name)") from error


def _what(table: Table) -> str:
    return table.name.removesuffix("s").replace("_", " ")

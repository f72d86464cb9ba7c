"""Zones of a control plane. Their connection state is written by the KDS server."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from meshmanager.observability import store_operation
from meshmanager.store.rows import insert_versioned
from meshmanager.store.schema import zones
from meshmanager.store.types import utcnow

if TYPE_CHECKING:
    from meshmanager.store.base import Store

# A zone whose connection has not been seen for this long is offline, even if the
# replica that held its stream died without recording the disconnect.
ZONE_STALE_AFTER = timedelta(minutes=5)


def online_clause(now: datetime) -> ColumnElement[bool]:
    return and_(
        zones.c.connected_at.is_not(None),
        or_(zones.c.disconnected_at.is_(None), zones.c.disconnected_at < zones.c.connected_at),
        zones.c.last_seen_at > now - ZONE_STALE_AFTER,
    )


async def online_zone_names(
    conn: AsyncConnection, org_id: UUID, cp_id: UUID, now: datetime
) -> list[str]:
    result = await conn.execute(
        select(zones.c.name)
        .where(zones.c.org_id == org_id, zones.c.cp_id == cp_id, online_clause(now))
        .order_by(zones.c.name)
    )
    return list(result.scalars())


class ZoneRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, org_id: UUID, cp_id: UUID, name: str) -> UUID:
        with store_operation("zones.create"):
            async with self.store.write(affects_identity=False) as conn:
                row = await insert_versioned(
                    conn, zones, {"org_id": org_id, "cp_id": cp_id, "name": name}
                )
        zone_id: UUID = row["id"]
        return zone_id

    async def mark_connected(self, org_id: UUID, cp_id: UUID, name: str) -> None:
        now = utcnow()
        await self._set_state(org_id, cp_id, name, connected_at=now, last_seen_at=now)

    async def mark_disconnected(self, org_id: UUID, cp_id: UUID, name: str) -> None:
        await self._set_state(org_id, cp_id, name, disconnected_at=utcnow())

    async def online_names(self, org_id: UUID, cp_id: UUID) -> list[str]:
        async with self.store.read() as conn:
            return await online_zone_names(conn, org_id, cp_id, utcnow())

    async def _set_state(self, org_id: UUID, cp_id: UUID, name: str, **values: datetime) -> None:
        with store_operation("zones.set_state"):
            async with self.store.write(affects_identity=False) as conn:
                await conn.execute(
                    update(zones)
                    .where(zones.c.org_id == org_id, zones.c.cp_id == cp_id, zones.c.name == name)
                    .values(**values, updated_at=utcnow())
                )

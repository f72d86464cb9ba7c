"""Zones of a control plane and their KDS credentials. Connection state is written by
the KDS server; a credential is kept only as its SHA-256 hash."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Update,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from meshmanager.model.errors import Conflict, NotFound
from meshmanager.model.resources.stored import CpScope
from meshmanager.observability import store_operation
from meshmanager.store.events import ZoneAccessRevoked
from meshmanager.store.rows import insert_versioned
from meshmanager.store.schema import zone_credentials, zones
from meshmanager.store.types import utcnow

if TYPE_CHECKING:
    from meshmanager.store.base import Store

# A zone whose connection has not been seen for this long is offline, even if the
# replica that held its stream died without recording the disconnect.
ZONE_STALE_AFTER = timedelta(minutes=5)


def is_online(row: RowMapping, now: datetime) -> bool:
    """The same rule as `online_clause`, for a `zones` row already read."""
    connected, disconnected, seen = row["connected_at"], row["disconnected_at"], row["last_seen_at"]
    if not isinstance(connected, datetime) or not isinstance(seen, datetime):
        return False
    if isinstance(disconnected, datetime) and disconnected >= connected:
        return False
    return seen > now - ZONE_STALE_AFTER


def online_clause(now: datetime) -> ColumnElement[bool]:
    return and_(
        zones.c.connected_at.is_not(None),
        or_(zones.c.disconnected_at.is_(None), zones.c.disconnected_at < zones.c.connected_at),
        zones.c.last_seen_at > now - ZONE_STALE_AFTER,
    )


async def _issue(conn: AsyncConnection, zone: RowMapping) -> str:
    secret = new_credential()
    await conn.execute(
        insert(zone_credentials).values(
            id=uuid.uuid4(),
            org_id=zone["org_id"],
            cp_id=zone["cp_id"],
            zone_id=zone["id"],
            secret_hash=credential_hash(secret),
            prefix=secret[:_DISPLAYED],
            created_at=utcnow(),
        )
    )
    return secret


async def _zone_row(conn: AsyncConnection, org_id: UUID, cp_id: UUID, name: str) -> RowMapping:
    found = await conn.execute(
        select(zones).where(zones.c.org_id == org_id, zones.c.cp_id == cp_id, zones.c.name == name)
    )
    row = found.mappings().first()
    if row is None:
        raise NotFound(f"zone {name!r} not found in this control plane")
    return row


async def online_zone_names(
    conn: AsyncConnection, org_id: UUID, cp_id: UUID, now: datetime
) -> list[str]:
    result = await conn.execute(
        select(zones.c.name)
        .where(zones.c.org_id == org_id, zones.c.cp_id == cp_id, online_clause(now))
        .order_by(zones.c.name)
    )
    return list(result.scalars())


CREDENTIAL_PREFIX = "mzc_"
_DISPLAYED = len(CREDENTIAL_PREFIX) + 4


def new_credential() -> str:
    """`mzc_` and 160 random bits as 32 lowercase base32 characters: URL-path safe."""
    return CREDENTIAL_PREFIX + base64.b32encode(secrets.token_bytes(20)).decode().lower()


def credential_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class CredentialCheck:
    outcome: Literal["ok", "unknown", "revoked", "expired"]
    org_id: UUID | None = None
    cp_id: UUID | None = None
    zone: str | None = None
    credential_id: UUID | None = None


@dataclass(frozen=True)
class ZoneSettings:
    name: str
    environment: str = "universal"
    ingress: bool = True
    egress: bool = False


ZoneState = tuple[UUID, UUID, str, dict[str, datetime]]  # org, cp, zone, columns
StateChange = tuple[UUID, UUID, str, dict[str, datetime], "asyncio.Future[None]"]


class ZoneRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._states: list[StateChange] = []
        self._state_flusher: asyncio.Task[None] | None = None

    async def create(
        self, org_id: UUID, cp_id: UUID, settings: ZoneSettings
    ) -> tuple[RowMapping, str]:
        """The zone row and its first credential (returned once, never stored)."""
        with store_operation("zones.create"):
            async with self.store.write(affects_identity=False) as conn:
                existing = await conn.execute(
                    select(zones.c.id).where(zones.c.cp_id == cp_id, zones.c.name == settings.name)
                )
                if existing.first() is not None:
                    raise Conflict(
                        f"a zone named {settings.name!r} already exists in this control plane"
                    )
                row = await insert_versioned(
                    conn,
                    zones,
                    {
                        "org_id": org_id,
                        "cp_id": cp_id,
                        "name": settings.name,
                        "environment": settings.environment,
                        "ingress_enabled": settings.ingress,
                        "egress_enabled": settings.egress,
                    },
                )
                secret = await _issue(conn, row)
        return row, secret

    async def rotate(self, org_id: UUID, cp_id: UUID, name: str) -> tuple[RowMapping, str]:
        """A new credential; the zone's earlier ones stop working (and their connections end)."""
        c = zone_credentials
        with store_operation("zones.rotate"):
            async with self.store.write(affects_identity=False) as conn:
                row = await _zone_row(conn, org_id, cp_id, name)
                live = c.c.zone_id == row["id"], c.c.revoked_at.is_(None)
                revoked = list((await conn.execute(select(c.c.id).where(*live))).scalars())
                await conn.execute(update(c).where(*live).values(revoked_at=utcnow()))
                secret = await _issue(conn, row)
                await self.store.announce_revocation(conn, CpScope(org_id, cp_id), name)
        for credential_id in revoked:
            self.store.events.publish(ZoneAccessRevoked(org_id, cp_id, name, credential_id))
        return row, secret

    async def delete(self, org_id: UUID, cp_id: UUID, name: str) -> None:
        with store_operation("zones.delete"):
            async with self.store.write(affects_identity=False) as conn:
                row = await _zone_row(conn, org_id, cp_id, name)
                await conn.execute(delete(zones).where(zones.c.id == row["id"]))
                await self.store.announce_revocation(conn, CpScope(org_id, cp_id), name)
        self.store.events.publish(ZoneAccessRevoked(org_id, cp_id, name))

    async def get(self, org_id: UUID, cp_id: UUID, name: str) -> RowMapping:
        async with self.store.read() as conn:
            return await _zone_row(conn, org_id, cp_id, name)

    async def page(
        self, org_id: UUID, cp_id: UUID, offset: int, size: int
    ) -> tuple[list[RowMapping], int]:
        where = (zones.c.org_id == org_id, zones.c.cp_id == cp_id)
        async with self.store.read() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(zones).where(*where))
            ).scalar_one()
            rows = await conn.execute(
                select(zones).where(*where).order_by(zones.c.name).offset(offset).limit(size)
            )
            return list(rows.mappings()), int(total)

    async def current_credentials(self, zone_ids: list[UUID]) -> dict[UUID, RowMapping]:
        """The live credential of each zone, by zone id."""
        if not zone_ids:
            return {}
        c = zone_credentials
        async with self.store.read() as conn:
            rows = await conn.execute(
                select(c).where(c.c.zone_id.in_(zone_ids), c.c.revoked_at.is_(None))
            )
            return {row["zone_id"]: row for row in rows.mappings()}

    async def check_credential(self, secret: str) -> CredentialCheck:
        c = zone_credentials
        async with self.store.read() as conn:
            found = await conn.execute(
                select(c.c.id, c.c.org_id, c.c.cp_id, c.c.revoked_at, c.c.expires_at, zones.c.name)
                .join(zones, zones.c.id == c.c.zone_id)
                .where(c.c.secret_hash == credential_hash(secret))
            )
            row = found.mappings().first()
        if row is None:
            return CredentialCheck("unknown")
        if row["revoked_at"] is not None:
            return CredentialCheck("revoked")
        if row["expires_at"] is not None and row["expires_at"] <= utcnow():
            return CredentialCheck("expired")
        return CredentialCheck("ok", row["org_id"], row["cp_id"], row["name"], row["id"])

    async def credential_still_valid(self, credential_id: UUID) -> bool:
        """Whether a credential that was accepted earlier is neither revoked, expired nor
        gone with its zone: for re-checking long-lived connections."""
        c = zone_credentials
        async with self.store.read() as conn:
            found = await conn.execute(
                select(c.c.revoked_at, c.c.expires_at).where(c.c.id == credential_id)
            )
            row = found.mappings().first()
        if row is None or row["revoked_at"] is not None:
            return False
        return row["expires_at"] is None or row["expires_at"] > utcnow()

    async def mark_connected(self, org_id: UUID, cp_id: UUID, name: str) -> None:
        now = utcnow()
        await self._set_state(org_id, cp_id, name, connected_at=now, last_seen_at=now)

    async def mark_disconnected(self, org_id: UUID, cp_id: UUID, name: str) -> None:
        await self._set_state(org_id, cp_id, name, disconnected_at=utcnow())

    async def touch(self, keys: Iterable[tuple[UUID, UUID, str]]) -> None:
        """These zones' (org, control plane, name) connections are still alive. A
        connected zone not touched within ZONE_STALE_AFTER reads offline (its replica may
        have died). One statement, not a queued call per zone: 10,000 of those cost the
        event loop more than the write."""
        now = utcnow()
        batch = [(*key, {"last_seen_at": now}) for key in keys]
        if not batch:
            return
        with store_operation("zones.touch"):
            await self._write_states(batch)

    async def abandoned(self, any_age: bool = False) -> list[tuple[UUID, UUID, str]]:
        """(org, control plane, zone) of the zones recorded as connected whose server
        stopped touching them (it died without recording the disconnect), or, with
        `any_age`, of every zone recorded as connected (a sole replica starting up)."""
        still_open = and_(
            zones.c.connected_at.is_not(None),
            or_(zones.c.disconnected_at.is_(None), zones.c.disconnected_at < zones.c.connected_at),
        )
        if not any_age:
            still_open = and_(still_open, zones.c.last_seen_at <= utcnow() - ZONE_STALE_AFTER)
        async with self.store.read() as conn:
            rows = await conn.execute(
                select(zones.c.org_id, zones.c.cp_id, zones.c.name).where(still_open)
            )
            return [(row.org_id, row.cp_id, row.name) for row in rows]

    async def online_names(self, org_id: UUID, cp_id: UUID) -> list[str]:
        async with self.store.read() as conn:
            return await online_zone_names(conn, org_id, cp_id, utcnow())

    async def _set_state(self, org_id: UUID, cp_id: UUID, name: str, **values: datetime) -> None:
        """Queued: the states of many zones connecting at once share one transaction."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._states.append((org_id, cp_id, name, values, done))
        if self._state_flusher is None or self._state_flusher.done():
            self._state_flusher = asyncio.create_task(self._flush_states())
        await done

    async def _flush_states(self) -> None:
        while self._states:
            batch, self._states = self._states, []
            try:
                with store_operation("zones.set_state"):
                    await self._write_states([change[:4] for change in batch])
            except Exception as error:
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(error)
            else:
                for *_, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _write_states(self, batch: list[ZoneState]) -> None:
        """One transaction for the state columns of many zones."""
        async with self.store.write(affects_identity=False) as conn:
            for statement, rows in _state_updates(batch):
                await conn.execute(statement, rows)


def _state_updates(
    batch: list[ZoneState],
) -> list[tuple[Update, list[dict[str, object]]]]:
    """One executemany per set of columns written (all of a touch is one). The
    columns hold timestamps taken when each call was made, so the order between sets
    does not matter."""
    grouped: dict[tuple[str, ...], list[dict[str, object]]] = {}
    now = utcnow()
    for org_id, cp_id, name, values in batch:
        row = {"k_org": org_id, "k_cp": cp_id, "k_name": name, "v_updated_at": now}
        row.update({f"v_{column}": value for column, value in values.items()})
        grouped.setdefault(tuple(sorted(values)), []).append(row)
    return [
        (
            update(zones)
            .where(
                zones.c.org_id == bindparam("k_org"),
                zones.c.cp_id == bindparam("k_cp"),
                zones.c.name == bindparam("k_name"),
            )
            .values({column: bindparam(f"v_{column}") for column in (*columns, "updated_at")}),
            rows,
        )
        for columns, rows in grouped.items()
    ]

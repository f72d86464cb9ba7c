"""What the web console keeps: users' password hashes and the key that signs sessions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from meshmanager.model.errors import NotFound
from meshmanager.observability import store_operation
from meshmanager.store.schema import (
    meta,
    role_assignments,
    system_accounts,
    teams,
    users,
    zones,
)
from meshmanager.store.types import utcnow

if TYPE_CHECKING:
    from meshmanager.store.base import Store

SESSION_KEY = "console_session_key"


@dataclass(frozen=True)
class UserCredentials:
    id: UUID
    org_id: UUID
    email: str
    active: bool
    org_admin: bool
    platform_operator: bool
    password_hash: str | None


_COLUMNS = (
    users.c.id,
    users.c.org_id,
    users.c.email,
    users.c.active,
    users.c.org_admin,
    users.c.platform_operator,
    users.c.password_hash,
)


async def credentials_by_email(store: Store, email: str) -> UserCredentials | None:
    """Emails are unique across organizations: the sign-in form needs no organization."""
    with store_operation("users.credentials"):
        async with store.read() as conn:
            row = (
                (await conn.execute(select(*_COLUMNS).where(users.c.email == email)))
                .mappings()
                .first()
            )
    return None if row is None else UserCredentials(**row)


async def credentials_by_id(store: Store, org_id: UUID, user_id: UUID) -> UserCredentials | None:
    with store_operation("users.credentials"):
        async with store.read() as conn:
            row = (
                (
                    await conn.execute(
                        select(*_COLUMNS).where(users.c.org_id == org_id, users.c.id == user_id)
                    )
                )
                .mappings()
                .first()
            )
    return None if row is None else UserCredentials(**row)


async def set_password_hash(store: Store, user_id: UUID, password_hash: str | None) -> None:
    with store_operation("users.set_password"):
        async with store.write() as conn:
            result = await conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(password_hash=password_hash, updated_at=utcnow())
            )
    if result.rowcount == 0:
        raise NotFound(f"user {user_id} not found")


async def session_key(store: Store) -> bytes:
    """The key sessions are signed with: made on first use, shared by every replica."""
    async with store.read() as conn:
        value = (
            await conn.execute(select(meta.c.value).where(meta.c.key == SESSION_KEY))
        ).scalar_one_or_none()
    if value is None:
        try:
            async with store.write(affects_identity=False) as conn:
                await conn.execute(
                    insert(meta).values(key=SESSION_KEY, value=secrets.token_hex(32))
                )
        except IntegrityError:
            pass  # another replica made it first: use theirs
        async with store.read() as conn:
            value = (
                await conn.execute(select(meta.c.value).where(meta.c.key == SESSION_KEY))
            ).scalar_one()
    return bytes.fromhex(value)


async def zone_names(store: Store, org_id: UUID, cp_id: UUID) -> list[str]:
    """Zones the control plane has records of, connected yet or not."""
    async with store.read() as conn:
        result = await conn.execute(
            select(zones.c.name)
            .where(zones.c.org_id == org_id, zones.c.cp_id == cp_id)
            .order_by(zones.c.name)
        )
    return list(result.scalars())


async def zone_records(store: Store, org_id: UUID, cp_id: UUID) -> dict[str, RowMapping]:
    """The `zones` rows of a control plane by name: zones created here, connected yet
    or not, with their connection state."""
    async with store.read() as conn:
        result = await conn.execute(
            select(zones).where(zones.c.org_id == org_id, zones.c.cp_id == cp_id)
        )
    return {row["name"]: row for row in result.mappings()}


@dataclass(frozen=True)
class AssignmentOn:
    id: UUID
    role_name: str
    entity_id: str
    subject_type: str
    subject_id: UUID
    subject_name: str


async def role_assignments_on(store: Store, org_id: UUID, cp_id: UUID) -> list[AssignmentOn]:
    """The platform role assignments that apply to one control plane (its own and `*`),
    with the name of whom each is assigned to."""
    ra = role_assignments
    async with store.read() as conn:
        rows = (
            (
                await conn.execute(
                    select(ra).where(ra.c.org_id == org_id, ra.c.entity_id.in_([str(cp_id), "*"]))
                )
            )
            .mappings()
            .all()
        )
        names: dict[UUID, str] = {}
        for table, column in (
            (users, users.c.email),
            (teams, teams.c.name),
            (system_accounts, system_accounts.c.name),
        ):
            result = await conn.execute(
                select(table.c.id, column).where(
                    table.c.org_id == org_id, table.c.id.in_([r["subject_id"] for r in rows])
                )
            )
            names.update({row[0]: row[1] for row in result})
    return sorted(
        (
            AssignmentOn(
                r["id"],
                r["role_name"],
                r["entity_id"],
                r["subject_type"],
                r["subject_id"],
                names.get(r["subject_id"], str(r["subject_id"])),
            )
            for r in rows
        ),
        key=lambda a: (a.subject_type, a.subject_name, a.role_name),
    )

"""Organizations, users, teams, system accounts, their tokens and role assignments."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from meshmanager.model.errors import Conflict, NotFound, invalid
from meshmanager.model.identity import (
    ALL_ENTITIES,
    AccessToken,
    Organization,
    Role,
    RoleAssignment,
    RoleAssignmentCreate,
    SubjectType,
    SystemAccount,
    Team,
    TokenOwner,
    User,
)
from meshmanager.model.paging import PageRequest
from meshmanager.observability import store_operation
from meshmanager.store.entities import EntityRepository
from meshmanager.store.rows import (
    Versioned,
    delete_scoped,
    fetch_one,
    fetch_page,
    insert_versioned,
    update_versioned,
)
from meshmanager.store.schema import (
    access_tokens,
    control_planes,
    meta,
    organizations,
    role_assignments,
    system_accounts,
    team_members,
    teams,
    users,
)
from meshmanager.store.types import utcnow

if TYPE_CHECKING:
    from meshmanager.store.base import Store

SUBJECT_TABLES = {
    SubjectType.USER: users,
    SubjectType.TEAM: teams,
    SubjectType.SYSTEM_ACCOUNT: system_accounts,
}
BOOTSTRAP_KEY = "bootstrapped_org"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    name: str
    token_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenIdentity:
    """What authenticating a token yields, before roles are resolved."""

    token_id: UUID
    org_id: UUID
    owner_type: TokenOwner
    owner_id: UUID
    owner_name: str
    expires_at: datetime
    last_used_at: datetime | None
    active: bool
    org_admin: bool
    platform_operator: bool


@dataclass(frozen=True)
class Grant:
    role: Role
    entity_id: str


class UserRepository(EntityRepository[User]):
    """Users, guarding that an organization always keeps an active admin."""

    async def update(
        self, org_id: UUID, id_: UUID, changes: dict[str, Any], expected_version: int | None
    ) -> Versioned[User]:
        with store_operation("users.update"):
            async with self.store.write() as conn:
                row = await update_versioned(conn, users, org_id, id_, changes, expected_version)
                await _require_an_admin(conn, org_id)
        return self.versioned(row)

    async def delete(self, org_id: UUID, id_: UUID) -> None:
        with store_operation("users.delete"):
            async with self.store.write() as conn:
                await _delete_subject(conn, SubjectType.USER, org_id, id_)
                await conn.execute(
                    delete(access_tokens).where(
                        access_tokens.c.owner_type == TokenOwner.USER,
                        access_tokens.c.owner_id == id_,
                    )
                )
                await _require_an_admin(conn, org_id)


class SubjectRepository(EntityRepository[Any]):
    """Teams and system accounts: deleting one removes its role assignments and tokens."""

    def __init__(self, store: Store, subject: SubjectType, model: type[Any]) -> None:
        super().__init__(store, SUBJECT_TABLES[subject], model)
        self.subject = subject

    async def delete(self, org_id: UUID, id_: UUID) -> None:
        with store_operation(f"{self.op}.delete"):
            async with self.store.write() as conn:
                await _delete_subject(conn, self.subject, org_id, id_)
                await conn.execute(
                    delete(access_tokens).where(
                        access_tokens.c.owner_type == str(self.subject),
                        access_tokens.c.owner_id == id_,
                    )
                )


class IdentityRepository:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.users = UserRepository(store, users, User, sort_by="email")
        self.teams = SubjectRepository(store, SubjectType.TEAM, Team)
        self.system_accounts = SubjectRepository(store, SubjectType.SYSTEM_ACCOUNT, SystemAccount)

    # Organizations

    async def create_organization(
        self,
        name: str,
        admin_email: str,
        admin_token: NewToken,
        platform_operator: bool = False,
        bootstrap: bool = False,
    ) -> tuple[Organization, User, AccessToken] | None:
        """Creates an organization with its admin user and token, atomically.

        With `bootstrap`, does nothing and returns None if the store was already
        bootstrapped, even by a concurrent replica.
        """
        with store_operation("organizations.create"):
            try:
                async with self.store.write() as conn:
                    if bootstrap:
                        await conn.execute(insert(meta).values(key=BOOTSTRAP_KEY, value=name))
                    org = await insert_versioned(conn, organizations, {"name": name})
                    user = await insert_versioned(
                        conn,
                        users,
                        {
                            "org_id": org["id"],
                            "email": admin_email,
                            "full_name": "Organization admin",
                            "org_admin": True,
                            "platform_operator": platform_operator,
                            "active": True,
                        },
                    )
                    token = await _insert_token(
                        conn, org["id"], TokenOwner.USER, user["id"], admin_token
                    )
            except (Conflict, IntegrityError):
                if bootstrap:
                    return None
                raise
        return (
            Organization.model_validate(dict(org)),
            User.model_validate(dict(user)),
            token,
        )

    async def get_organization(self, org_id: UUID) -> Organization:
        async with self.store.read() as conn:
            row = (
                (await conn.execute(select(organizations).where(organizations.c.id == org_id)))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"organization {org_id} not found")
        return Organization.model_validate(dict(row))

    async def list_organizations(self, page: PageRequest) -> tuple[list[Organization], int]:
        async with self.store.read() as conn:
            rows, total = await fetch_page(
                conn, select(organizations), page, (organizations.c.name,)
            )
        return [Organization.model_validate(dict(r)) for r in rows], total

    async def bootstrap_admin(self) -> tuple[UUID, UUID] | None:
        """The organization and user that the first start created, if any."""
        async with self.store.read() as conn:
            name = (
                await conn.execute(select(meta.c.value).where(meta.c.key == BOOTSTRAP_KEY))
            ).scalar_one_or_none()
            if name is None:
                return None
            row = (
                await conn.execute(
                    select(users.c.org_id, users.c.id)
                    .join(organizations, organizations.c.id == users.c.org_id)
                    .where(organizations.c.name == name, users.c.platform_operator.is_(True))
                    .order_by(users.c.created_at)
                )
            ).first()
        return None if row is None else (row[0], row[1])

    # Tokens

    async def create_token(
        self, org_id: UUID, owner_type: TokenOwner, owner_id: UUID, token: NewToken
    ) -> AccessToken:
        with store_operation("access_tokens.create"):
            async with self.store.write() as conn:
                await fetch_one(conn, SUBJECT_TABLES[SubjectType(owner_type)], org_id, owner_id)
                return await _insert_token(conn, org_id, owner_type, owner_id, token)

    async def list_tokens(
        self, org_id: UUID, owner_type: TokenOwner, owner_id: UUID, page: PageRequest
    ) -> tuple[list[AccessToken], int]:
        with store_operation("access_tokens.list"):
            async with self.store.read() as conn:
                await fetch_one(conn, SUBJECT_TABLES[SubjectType(owner_type)], org_id, owner_id)
                stmt = select(access_tokens).where(
                    access_tokens.c.org_id == org_id,
                    access_tokens.c.owner_type == owner_type,
                    access_tokens.c.owner_id == owner_id,
                )
                order = (access_tokens.c.created_at, access_tokens.c.id)
                rows, total = await fetch_page(conn, stmt, page, order)
        return [AccessToken.model_validate(dict(r)) for r in rows], total

    async def get_token(
        self, org_id: UUID, owner_type: TokenOwner, owner_id: UUID, token_id: UUID
    ) -> AccessToken:
        async with self.store.read() as conn:
            row = await fetch_one(conn, access_tokens, org_id, token_id)
        if row["owner_type"] != owner_type or row["owner_id"] != owner_id:
            raise NotFound(f"access token {token_id} not found")
        return AccessToken.model_validate(dict(row))

    async def revoke_token(
        self, org_id: UUID, owner_type: TokenOwner, owner_id: UUID, token_id: UUID
    ) -> None:
        with store_operation("access_tokens.delete"):
            async with self.store.write() as conn:
                await delete_scoped(
                    conn,
                    access_tokens,
                    org_id,
                    token_id,
                    access_tokens.c.owner_type == owner_type,
                    access_tokens.c.owner_id == owner_id,
                )

    async def identify_token(self, token_hash: str) -> TokenIdentity | None:
        with store_operation("access_tokens.identify"):
            async with self.store.read() as conn:
                token = (
                    (
                        await conn.execute(
                            select(access_tokens).where(access_tokens.c.token_hash == token_hash)
                        )
                    )
                    .mappings()
                    .first()
                )
                if token is None:
                    return None
                owner_type = TokenOwner(token["owner_type"])
                owner = await _token_owner(conn, owner_type, token)
        if owner is None:
            return None
        return TokenIdentity(
            token_id=token["id"],
            org_id=token["org_id"],
            owner_type=owner_type,
            owner_id=token["owner_id"],
            owner_name=owner["name"],
            expires_at=token["expires_at"],
            last_used_at=token["last_used_at"],
            active=owner["active"],
            org_admin=owner["org_admin"],
            platform_operator=owner["platform_operator"],
        )

    async def touch_token(self, token_id: UUID) -> None:
        now = utcnow()
        with store_operation("access_tokens.touch"):
            async with self.store.write(affects_identity=False) as conn:
                await conn.execute(
                    update(access_tokens)
                    .where(access_tokens.c.id == token_id)
                    .values(last_used_at=now)
                )

    # Role assignments and teams

    async def grants(self, org_id: UUID, subject: SubjectType, subject_id: UUID) -> list[Grant]:
        """The subject's own role assignments and, for a user, its teams'."""
        ra = role_assignments
        subjects = [(str(subject), subject_id)]
        async with self.store.read() as conn:
            if subject == SubjectType.USER:
                team_ids = await conn.execute(
                    select(team_members.c.team_id).where(
                        team_members.c.org_id == org_id, team_members.c.user_id == subject_id
                    )
                )
                subjects += [(str(SubjectType.TEAM), t) for t in team_ids.scalars()]
            rows = await conn.execute(
                select(ra.c.role_name, ra.c.entity_id, ra.c.subject_type, ra.c.subject_id).where(
                    ra.c.org_id == org_id, ra.c.subject_id.in_([s[1] for s in subjects])
                )
            )
        wanted = set(subjects)
        return [Grant(Role(r[0]), r[1]) for r in rows if (r[2], r[3]) in wanted]

    async def assign_role(
        self, org_id: UUID, subject: SubjectType, subject_id: UUID, body: RoleAssignmentCreate
    ) -> RoleAssignment:
        if body.role_name == Role.CREATOR and body.entity_id != ALL_ENTITIES:
            raise invalid("entity_id", "the Creator role applies to all control planes: use '*'")
        with store_operation("role_assignments.create"):
            async with self.store.write() as conn:
                await fetch_one(conn, SUBJECT_TABLES[subject], org_id, subject_id)
                await _require_entity(conn, org_id, body.entity_id)
                row = {
                    "id": uuid.uuid4(),
                    "org_id": org_id,
                    "subject_type": subject,
                    "subject_id": subject_id,
                    "created_at": utcnow(),
                    **body.model_dump(),
                }
                try:
                    await conn.execute(insert(role_assignments).values(row))
                except IntegrityError as error:
                    raise Conflict("this role is already assigned on this entity") from error
        return RoleAssignment.model_validate(row)

    async def list_roles(
        self, org_id: UUID, subject: SubjectType, subject_id: UUID, page: PageRequest
    ) -> tuple[list[RoleAssignment], int]:
        ra = role_assignments
        async with self.store.read() as conn:
            await fetch_one(conn, SUBJECT_TABLES[subject], org_id, subject_id)
            stmt = select(ra).where(
                ra.c.org_id == org_id, ra.c.subject_type == subject, ra.c.subject_id == subject_id
            )
            rows, total = await fetch_page(conn, stmt, page, (ra.c.created_at, ra.c.id))
        return [RoleAssignment.model_validate(dict(r)) for r in rows], total

    async def unassign_role(
        self, org_id: UUID, subject: SubjectType, subject_id: UUID, assignment_id: UUID
    ) -> None:
        ra = role_assignments
        async with self.store.write() as conn:
            await delete_scoped(
                conn,
                ra,
                org_id,
                assignment_id,
                ra.c.subject_type == subject,
                ra.c.subject_id == subject_id,
            )

    async def team_names(self, org_id: UUID, user_id: UUID) -> list[str]:
        async with self.store.read() as conn:
            result = await conn.execute(
                select(teams.c.name)
                .join(team_members, team_members.c.team_id == teams.c.id)
                .where(team_members.c.org_id == org_id, team_members.c.user_id == user_id)
            )
        return list(result.scalars())

    async def add_team_member(self, org_id: UUID, team_id: UUID, user_id: UUID) -> None:
        async with self.store.write() as conn:
            await fetch_one(conn, teams, org_id, team_id)
            await fetch_one(conn, users, org_id, user_id)
            try:
                await conn.execute(
                    insert(team_members).values(org_id=org_id, team_id=team_id, user_id=user_id)
                )
            except IntegrityError as error:
                raise Conflict(f"user {user_id} is already a member of team {team_id}") from error

    async def remove_team_member(self, org_id: UUID, team_id: UUID, user_id: UUID) -> None:
        async with self.store.write() as conn:
            result = await conn.execute(
                delete(team_members).where(
                    team_members.c.org_id == org_id,
                    team_members.c.team_id == team_id,
                    team_members.c.user_id == user_id,
                )
            )
        if result.rowcount == 0:
            raise NotFound(f"user {user_id} is not a member of team {team_id}")

    async def team_members(
        self, org_id: UUID, team_id: UUID, page: PageRequest
    ) -> tuple[list[User], int]:
        async with self.store.read() as conn:
            await fetch_one(conn, teams, org_id, team_id)
            stmt = (
                select(users)
                .join(team_members, team_members.c.user_id == users.c.id)
                .where(team_members.c.org_id == org_id, team_members.c.team_id == team_id)
            )
            rows, total = await fetch_page(conn, stmt, page, (users.c.email,))
        return [User.model_validate(dict(r)) for r in rows], total


async def _insert_token(
    conn: AsyncConnection, org_id: UUID, owner_type: TokenOwner, owner_id: UUID, token: NewToken
) -> AccessToken:
    row = {
        "id": uuid.uuid4(),
        "org_id": org_id,
        "owner_type": owner_type,
        "owner_id": owner_id,
        "name": token.name,
        "token_hash": token.token_hash,
        "created_at": utcnow(),
        "expires_at": token.expires_at,
        "last_used_at": None,
    }
    await conn.execute(insert(access_tokens).values(row))
    return AccessToken.model_validate(row)


async def _token_owner(
    conn: AsyncConnection, owner_type: TokenOwner, token: RowMapping
) -> dict[str, Any] | None:
    if owner_type == TokenOwner.USER:
        stmt = select(
            users.c.email.label("name"),
            users.c.active,
            users.c.org_admin,
            users.c.platform_operator,
        ).where(users.c.id == token["owner_id"], users.c.org_id == token["org_id"])
    else:
        sa = system_accounts
        stmt = select(sa.c.name, sa.c.org_admin).where(
            sa.c.id == token["owner_id"], sa.c.org_id == token["org_id"]
        )
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        return None
    return {"active": True, "platform_operator": False, **dict(row)}


async def _delete_subject(
    conn: AsyncConnection, subject: SubjectType, org_id: UUID, id_: UUID
) -> None:
    await delete_scoped(conn, SUBJECT_TABLES[subject], org_id, id_)
    await conn.execute(
        delete(role_assignments).where(
            role_assignments.c.org_id == org_id,
            role_assignments.c.subject_type == subject,
            role_assignments.c.subject_id == id_,
        )
    )


async def _require_an_admin(conn: AsyncConnection, org_id: UUID) -> None:
    admins = await conn.execute(
        select(func.count()).where(
            users.c.org_id == org_id, users.c.org_admin.is_(True), users.c.active.is_(True)
        )
    )
    if admins.scalar_one() == 0:
        raise Conflict("an organization must keep at least one active admin user")


async def _require_entity(conn: AsyncConnection, org_id: UUID, entity_id: str) -> None:
    if entity_id == ALL_ENTITIES:
        return
    try:
        cp_id = UUID(entity_id)
    except ValueError:
        raise invalid("entity_id", "must be a control plane id or '*'") from None
    try:
        await fetch_one(conn, control_planes, org_id, cp_id)
    except NotFound:
        raise invalid("entity_id", f"control plane {cp_id} not found") from None

"""Who is calling, and what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from meshmanager.model.errors import Forbidden, Unauthenticated
from meshmanager.model.identity import ALL_ENTITIES, ROLE_ACTIONS, Action, SubjectType, TokenOwner
from meshmanager.store import Store
from meshmanager.store.identity import Grant
from meshmanager.store.types import utcnow
from meshmanager.tenancy.tokens import hash_secret


@dataclass(frozen=True)
class Principal:
    org_id: UUID
    kind: TokenOwner
    id: UUID
    name: str
    org_admin: bool
    platform_operator: bool
    grants: tuple[Grant, ...]

    @property
    def subject(self) -> tuple[SubjectType, UUID]:
        return SubjectType(self.kind), self.id

    def can(self, action: Action, cp_id: UUID | None = None) -> bool:
        """`cp_id` None asks about the organization as a whole (e.g. creating one)."""
        if self.org_admin:
            return True
        wanted = {ALL_ENTITIES} if cp_id is None else {ALL_ENTITIES, str(cp_id)}
        return any(g.entity_id in wanted and action in ROLE_ACTIONS[g.role] for g in self.grants)

    def require(self, action: Action, cp_id: UUID | None = None) -> None:
        if not self.can(action, cp_id):
            scope = (
                "the organization's control planes" if cp_id is None else f"control plane {cp_id}"
            )
            raise Forbidden(f"Permission denied: {action} on {scope} needs a role that allows it")

    def require_org_admin(self) -> None:
        if not self.org_admin:
            raise Forbidden("Permission denied: this needs an organization admin")

    def visible_control_planes(self, action: Action = Action.LIST) -> frozenset[UUID] | None:
        """The control planes this principal may `action`; None means all of the org's."""
        if self.can(action):
            return None
        return frozenset(
            UUID(g.entity_id)
            for g in self.grants
            if g.entity_id != ALL_ENTITIES and action in ROLE_ACTIONS[g.role]
        )


async def authenticate(store: Store, authorization: str | None) -> Principal:
    if not authorization:
        raise Unauthenticated("A valid token is required: send 'Authorization: Bearer <token>'")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("A valid token is required: use the 'Bearer' scheme")
    identity = await store.identity.identify_token(hash_secret(secret.strip()))
    if identity is None:
        raise Unauthenticated("A valid token is required: this token is unknown or revoked")
    if identity.expires_at <= utcnow():
        raise Unauthenticated(
            f"A valid token is required: this token expired at {identity.expires_at.isoformat()}"
        )
    if not identity.active:
        raise Unauthenticated("A valid token is required: this user is deactivated")
    await store.identity.touch_token(identity.token_id, identity.last_used_at)
    grants = await store.identity.grants(
        identity.org_id, SubjectType(identity.owner_type), identity.owner_id
    )
    return Principal(
        org_id=identity.org_id,
        kind=identity.owner_type,
        id=identity.owner_id,
        name=identity.owner_name,
        org_admin=identity.org_admin,
        platform_operator=identity.platform_operator,
        grants=tuple(grants),
    )

"""Who is calling, and what they may do."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from weakref import WeakKeyDictionary

from meshmanager.model.errors import Forbidden, Unauthenticated
from meshmanager.model.identity import ALL_ENTITIES, ROLE_ACTIONS, Action, SubjectType, TokenOwner
from meshmanager.store import Store
from meshmanager.store.identity import LAST_USED_RESOLUTION, Grant
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


@dataclass
class _Cached:
    principal: Principal
    generation: int
    token_id: UUID
    expires_at: datetime
    last_used_at: datetime | None


class PrincipalCache:
    """Authenticated callers by token hash, valid while the store's identity generation
    is unchanged: any write to tokens, roles, users, teams or control planes empties it,
    so a revocation takes effect on the next request."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self.entries: OrderedDict[str, _Cached] = OrderedDict()

    def get(self, token_hash: str, generation: int) -> _Cached | None:
        entry = self.entries.get(token_hash)
        if entry is None or entry.generation != generation:
            return None
        self.entries.move_to_end(token_hash)
        return entry

    def put(self, token_hash: str, entry: _Cached) -> None:
        self.entries[token_hash] = entry
        self.entries.move_to_end(token_hash)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


_CACHES: WeakKeyDictionary[Store, PrincipalCache] = WeakKeyDictionary()


def _token_hash(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("A valid token is required: send 'Authorization: Bearer <token>'")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("A valid token is required: use the 'Bearer' scheme")
    return hash_secret(secret.strip())


async def authenticate(store: Store, authorization: str | None) -> Principal:
    return await authenticate_token_hash(store, _token_hash(authorization))


async def authenticate_token_hash(store: Store, token_hash: str) -> Principal:
    """The caller whose token hashes to `token_hash` (the console keeps only the hash of
    the token a session was opened with)."""
    cache = _CACHES.setdefault(store, PrincipalCache())
    generation = store.identity_generation
    entry = cache.get(token_hash, generation) or await _load(store, token_hash, generation)
    now = utcnow()
    if entry.expires_at <= now:
        raise Unauthenticated(
            f"A valid token is required: this token expired at {entry.expires_at.isoformat()}"
        )
    if entry.last_used_at is None or now - entry.last_used_at >= LAST_USED_RESOLUTION:
        await store.identity.touch_token(entry.token_id)
        entry.last_used_at = now
    cache.put(token_hash, entry)
    return entry.principal


async def _load(store: Store, token_hash: str, generation: int) -> _Cached:
    identity = await store.identity.identify_token(token_hash)
    if identity is None:
        raise Unauthenticated("A valid token is required: this token is unknown or revoked")
    if not identity.active:
        raise Unauthenticated("A valid token is required: this user is deactivated")
    grants = await store.identity.grants(
        identity.org_id, SubjectType(identity.owner_type), identity.owner_id
    )
    principal = Principal(
        org_id=identity.org_id,
        kind=identity.owner_type,
        id=identity.owner_id,
        name=identity.owner_name,
        org_admin=identity.org_admin,
        platform_operator=identity.platform_operator,
        grants=tuple(grants),
    )
    return _Cached(
        principal, generation, identity.token_id, identity.expires_at, identity.last_used_at
    )

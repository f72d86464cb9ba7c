"""Local users' passwords (scrypt) and the principal a password sign-in yields."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from uuid import UUID

from meshmanager.model.errors import invalid
from meshmanager.model.identity import SubjectType, TokenOwner
from meshmanager.store import Store
from meshmanager.store.console import (
    UserCredentials,
    credentials_by_email,
    credentials_by_id,
    set_password_hash,
)
from meshmanager.tenancy.principal import Principal

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class ScryptCost:
    n: int = 2**15
    r: int = 8
    p: int = 1


DEFAULT_COST = ScryptCost()
SCHEME = "scrypt"


def _scrypt(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=cost.n, r=cost.r, p=cost.p, maxmem=256 * 1024 * 1024
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, cost: ScryptCost = DEFAULT_COST) -> str:
    """`scrypt$N$r$p$salt$hash`, salt and hash in unpadded base64."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, cost)
    return f"{SCHEME}${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    if not encoded:
        return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != SCHEME:
            return False
        cost = ScryptCost(int(n), int(r), int(p))
        expected = _unb64(digest)
        actual = _scrypt(password, _unb64(salt), cost)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A password hash computed once, so that an unknown email costs the same time as a
# wrong password and does not reveal which emails exist.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters long", "min_length"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise invalid("password", f"must be at most {MAX_PASSWORD_LENGTH} characters long")


def password_epoch(password_hash: str | None) -> str:
    """Changes whenever the password does: a session carries it, so setting a new
    password signs out every other session of the user."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


async def check_credentials(store: Store, email: str, password: str) -> UserCredentials | None:
    """The user if the password is theirs and they are active; None otherwise."""
    found = await credentials_by_email(store, email.strip())
    encoded = found.password_hash if found is not None and found.password_hash else _dummy_hash()
    matches = await asyncio.to_thread(verify_password, password, encoded)
    if found is None or not found.password_hash or not matches or not found.active:
        return None
    return found


async def set_password(store: Store, user_id: UUID, password: str) -> None:
    check_password_policy(password)
    encoded = await asyncio.to_thread(hash_password, password)
    await set_password_hash(store, user_id, encoded)


async def set_password_by_email(store: Store, email: str, password: str) -> None:
    found = await credentials_by_email(store, email)
    if found is None:
        raise LookupError(f"no user with email {email!r}")
    await set_password(store, found.id, password)


async def user_principal(store: Store, org_id: UUID, user_id: UUID, epoch: str) -> Principal | None:
    """The principal of a password session, or None if it no longer stands (the user is
    gone or deactivated, or the password changed since the session began)."""
    found = await credentials_by_id(store, org_id, user_id)
    if found is None or not found.active or password_epoch(found.password_hash) != epoch:
        return None
    grants = await store.identity.grants(org_id, SubjectType.USER, user_id)
    return Principal(
        org_id=org_id,
        kind=TokenOwner.USER,
        id=user_id,
        name=found.email,
        org_admin=found.org_admin,
        platform_operator=found.platform_operator,
        grants=tuple(grants),
    )

"""Access token secrets: generated here, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime, timedelta

from meshmanager.model.errors import invalid
from meshmanager.model.identity import TOKEN_PREFIX, TokenOwner
from meshmanager.store.identity import NewToken
from meshmanager.store.types import utcnow

ALPHABET = string.ascii_letters + string.digits
SECRET_LENGTH = 48  # 48 base62 characters carry 285 bits, over the 32 bytes we promise.
MIN_SECRET_LENGTH = 43
DEFAULT_LIFETIME = timedelta(days=30)
MAX_LIFETIME = timedelta(days=366)


def generate_secret(owner: TokenOwner) -> str:
    return TOKEN_PREFIX[owner] + "".join(secrets.choice(ALPHABET) for _ in range(SECRET_LENGTH))


def hash_secret(secret: str) -> str:
    # The secrets are random with 256+ bits: a fast hash is as safe as a slow one here.
    return hashlib.sha256(secret.encode()).hexdigest()


def check_provided_secret(secret: str, owner: TokenOwner = TokenOwner.USER) -> None:
    """A secret supplied by an operator (MESHMANAGER_ADMIN_TOKEN) must be as strong as ours."""
    prefix = TOKEN_PREFIX[owner]
    body = secret.removeprefix(prefix)
    if not secret.startswith(prefix) or len(body) < MIN_SECRET_LENGTH or not body.isalnum():
        raise ValueError(
            f"an admin token must be {prefix!r} followed by at least {MIN_SECRET_LENGTH}"
            " letters and digits"
        )


def token_expiry(requested: datetime | None, now: datetime | None = None) -> datetime:
    now = now or utcnow()
    if requested is None:
        return now + DEFAULT_LIFETIME
    if requested.tzinfo is None:
        raise invalid("expires_at", "must include a time zone, e.g. 2030-01-01T00:00:00Z")
    if requested <= now:
        raise invalid("expires_at", "must be in the future")
    if requested - now > MAX_LIFETIME:
        raise invalid("expires_at", "must be at most a year away", rule="maximum")
    return requested


def new_token(
    name: str, owner: TokenOwner, expires_at: datetime, secret: str | None = None
) -> tuple[str, NewToken]:
    """The secret to show once, and what the store keeps of it."""
    secret = secret or generate_secret(owner)
    return secret, NewToken(name=name, token_hash=hash_secret(secret), expires_at=expires_at)

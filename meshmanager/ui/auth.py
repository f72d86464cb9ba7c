"""Console sessions: signed cookies, CSRF tokens and sign-in rate limiting.

A session is a cookie holding who signed in and how, signed with HMAC-SHA256 under a
key kept in the store (so every replica accepts it). It is HttpOnly and SameSite=Lax,
and Secure when the console is reached over HTTPS. A password session carries the
password's epoch, so a new password ends the older sessions; a token session carries
the token's hash, so revoking or expiring the token ends it.

Every form carries a CSRF token derived from the session's nonce (double-submit
against a cookie before sign-in); htmx requests send it in `X-CSRF-Token`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson

SESSION_COOKIE = "mm_session"
LOGIN_CSRF_COOKIE = "mm_login_csrf"
SESSION_LIFETIME_SECONDS = 12 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    kind: str  # "password" or "token"
    org_id: UUID
    nonce: str
    expires: int
    user_id: UUID | None = None
    epoch: str = ""  # password sessions: the password's epoch
    token_hash: str = ""  # token sessions

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "k": self.kind,
            "o": str(self.org_id),
            "n": self.nonce,
            "x": self.expires,
        }
        if self.user_id is not None:
            body["u"] = str(self.user_id)
        if self.epoch:
            body["e"] = self.epoch
        if self.token_hash:
            body["t"] = self.token_hash
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Session:
        return cls(
            kind=str(body["k"]),
            org_id=UUID(body["o"]),
            nonce=str(body["n"]),
            expires=int(body["x"]),
            user_id=UUID(body["u"]) if "u" in body else None,
            epoch=str(body.get("e", "")),
            token_hash=str(body.get("t", "")),
        )


def new_session(
    kind: str,
    org_id: UUID,
    user_id: UUID | None = None,
    epoch: str = "",
    token_hash: str = "",
    now: float | None = None,
) -> Session:
    expires = int((now if now is not None else time.time()) + SESSION_LIFETIME_SECONDS)
    return Session(kind, org_id, secrets.token_urlsafe(18), expires, user_id, epoch, token_hash)


def _mac(key: bytes, purpose: str, data: bytes) -> bytes:
    return hmac.new(key, purpose.encode() + b"|" + data, hashlib.sha256).digest()


def sign_session(key: bytes, session: Session) -> str:
    payload = orjson.dumps(session.to_json(), option=orjson.OPT_SORT_KEYS)
    return f"{_b64(payload)}.{_b64(_mac(key, 'session', payload))}"


def read_session(key: bytes, cookie: str | None, now: float | None = None) -> Session | None:
    """The session a cookie holds, if its signature is ours and it has not expired."""
    if not cookie or cookie.count(".") != 1:
        return None
    payload_text, mac_text = cookie.split(".")
    try:
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, TypeError):
        return None
    if not hmac.compare_digest(mac, _mac(key, "session", payload)):
        return None
    try:
        session = Session.from_json(orjson.loads(payload))
    except (ValueError, KeyError, TypeError):
        return None
    if session.expires <= (now if now is not None else time.time()):
        return None
    return session


def csrf_token(key: bytes, nonce: str) -> str:
    return _b64(_mac(key, "csrf", nonce.encode()))


def csrf_matches(key: bytes, nonce: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(key, nonce), given or "")


@dataclass
class _Window:
    limit: int
    seconds: float
    hits: dict[str, deque[float]] = field(default_factory=dict)

    def retry_after(self, key: str, now: float) -> float:
        hits = self.hits.get(key)
        if not hits:
            return 0.0
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if not hits:
            del self.hits[key]
            return 0.0
        if len(hits) < self.limit:
            return 0.0
        return hits[0] + self.seconds - now

    def hit(self, key: str, now: float) -> None:
        self.hits.setdefault(key, deque()).append(now)
        if len(self.hits) > 100_000:  # bounded memory under a flood of distinct keys
            self.hits.clear()


class LoginLimiter:
    """Failed sign-ins per client address and per account, in sliding windows: past
    the limit a sign-in is refused (429) before any password is checked."""

    def __init__(
        self,
        per_account: int = 5,
        per_address: int = 20,
        window_seconds: float = 300,
    ) -> None:
        self.accounts = _Window(per_account, window_seconds)
        self.addresses = _Window(per_address, window_seconds)

    def retry_after(self, address: str, account: str, now: float | None = None) -> int:
        """Seconds to wait before trying again; 0 if a sign-in may be tried now."""
        moment = time.monotonic() if now is None else now
        wait = max(
            self.accounts.retry_after(account.lower(), moment),
            self.addresses.retry_after(address, moment),
        )
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, address: str, account: str, now: float | None = None) -> None:
        moment = time.monotonic() if now is None else now
        self.accounts.hit(account.lower(), moment)
        self.addresses.hit(address, moment)

    def succeeded(self, account: str) -> None:
        self.accounts.hits.pop(account.lower(), None)

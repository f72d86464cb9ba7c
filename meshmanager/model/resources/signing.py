"""Token signing keys and the tokens a Kuma global issues with them (Kuma v2.14.3).

Kuma keeps each signing key as a PEM "RSA PRIVATE KEY" (PKCS#1, 2048 bits) in the `data`
of a Secret (dataplane tokens: one key set per mesh) or a GlobalSecret (zone tokens). A
key's name ends with its serial number, which is the `kid` header of every token it signs;
the newest key is the one with the highest serial. Zones verify tokens against these
secrets once KDS has synced them, so names, formats and claims here are exactly Kuma's.
See docs/kuma-defaults.md for the Kuma sources.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation.golang.durations import DurationError, parse_duration

DEFAULT_KEY_ID = "1"
LEGACY_KEY_ID = "0"  # Kuma 1.3 keys were named by the bare prefix
ZONE_TOKEN_SIGNING_KEY_PREFIX = "zone-token-signing-key"
ZONE_TOKEN_SIGNING_PUBLIC_KEY_PREFIX = "zone-token-signing-public-key"
RSA_KEY_BITS = 2048
RSA_PUBLIC_EXPONENT = 65537

SECOND_NS = 1_000_000_000
HOUR_NS = 3600 * SECOND_NS
EMPTY_VALID_FOR_NS = 10 * 365 * 24 * HOUR_NS  # Kuma's default when `validFor` is empty
CLOCK_SKEW_NS = 5 * SECOND_NS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidSigningKey(ValueError):
    """The `data` of a signing-key secret is not an RSA private key Kuma can read."""


# Names


def dataplane_signing_key_prefix(mesh: str) -> str:
    return f"dataplane-token-signing-key-{mesh}"


def signing_key_name(prefix: str, key_id: str = DEFAULT_KEY_ID) -> str:
    return prefix if key_id == LEGACY_KEY_ID else f"{prefix}-{key_id}"


def serial_number(name: str, prefix: str) -> int:
    """Kuma's serial of a key name: the name with every `<prefix>-` removed, read as an
    integer (Go's Atoi: a sign is allowed, out-of-range values clamp, anything else is 0)."""
    rest = name.replace(f"{prefix}-", "")
    if not re.fullmatch(r"[+-]?[0-9]+", rest):
        return 0
    return max(-(2**63), min(2**63 - 1, int(rest)))


def latest_signing_key(secrets: Iterable[Resource], prefix: str) -> Resource | None:
    """The secret among `secrets` whose name starts with `prefix` and has the highest serial."""
    latest, highest = None, -1
    for secret in secrets:
        if not secret.name.startswith(prefix):
            continue
        serial = serial_number(secret.name, prefix)
        if serial > highest:
            latest, highest = secret, serial
    return latest


def signing_key_not_found(prefix: str, mesh: str = "", key_id: str = DEFAULT_KEY_ID) -> str:
    """Kuma's message when no signing key exists (answered 404 `Signing Key not found`)."""
    name = signing_key_name(prefix, key_id)
    if not mesh:
        return (
            f'there is no signing key with KID {key_id}. GlobalSecret of name "{name}" is not'
            " found. If signing key was rotated, regenerate the token"
        )
    return (
        f'there is no signing key with KID {key_id}. Secret of name "{name}" in mesh "{mesh}"'
        " is not found. If signing key was rotated, regenerate the token"
    )


# Keys


def new_signing_key_secret(prefix: str, mesh: str = "", key_id: str = DEFAULT_KEY_ID) -> Resource:
    """A new signing key as Kuma stores it: a Secret in `mesh`, or a GlobalSecret when
    `mesh` is empty. Kuma adds no labels to these."""
    key = rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=RSA_KEY_BITS)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # "RSA PRIVATE KEY", PKCS#1
        serialization.NoEncryption(),
    )
    kind = "Secret" if mesh else "GlobalSecret"
    return Resource(kind, mesh, signing_key_name(prefix, key_id), {"data": _b64(pem)})


def private_key(signing_key: Resource, validated: bool = True) -> rsa.RSAPrivateKey:
    """The key in a signing-key secret: PEM "RSA PRIVATE KEY", or (legacy) bare PKCS#1 DER.
    Validating an RSA key tests its primes: tens of milliseconds for 2,048 bits."""
    data = secret_data(signing_key)
    skip = not validated
    try:
        if data.lstrip().startswith(b"-----BEGIN RSA PRIVATE KEY-----"):
            key = serialization.load_pem_private_key(
                data, password=None, unsafe_skip_rsa_key_validation=skip
            )
        else:
            key = serialization.load_der_private_key(
                data, password=None, unsafe_skip_rsa_key_validation=skip
            )
    except ValueError as error:
        raise InvalidSigningKey(f"{signing_key.name}: not an RSA private key: {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidSigningKey(f"{signing_key.name}: not an RSA private key")
    return key


def public_key_pem(signing_key: Resource) -> bytes:
    """The public half as Kuma writes it: PEM "RSA PUBLIC KEY" (PKCS#1). Unvalidated: the
    first zone of each control plane needs it, and a broken key only yields a public key
    that verifies nothing; signing tokens still validates it."""
    return (
        private_key(signing_key, validated=False)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    )


PUBLIC_KEY_MEMO = "zone-token-public-key"


def zone_public_key_secret(signing_key: Resource) -> Resource:
    """What a Kuma global sends a zone in place of a zone-token signing key: a GlobalSecret
    `zone-token-signing-public-key-<N>` holding only the public key, same labels."""
    public: Resource | None = signing_key.memo.get(PUBLIC_KEY_MEMO)
    if public is None:  # parsing the private key costs milliseconds, per zone connecting
        name = signing_key.name.replace(
            ZONE_TOKEN_SIGNING_KEY_PREFIX, ZONE_TOKEN_SIGNING_PUBLIC_KEY_PREFIX
        )
        data = {"data": _b64(public_key_pem(signing_key))}
        public = Resource("GlobalSecret", "", name, data, signing_key.labels)
        signing_key.memo[PUBLIC_KEY_MEMO] = public
    return public


def secret_data(secret: Resource) -> bytes:
    """The bytes of a Secret's `data` (protobuf BytesValue JSON: standard or URL-safe base64)."""
    raw = (secret.spec or {}).get("data")
    if not isinstance(raw, str):
        raise InvalidSigningKey(f"{secret.name}: the secret has no data")
    text = raw.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as error:
        raise InvalidSigningKey(f"{secret.name}: data is not base64: {error}") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# Tokens


@dataclass(frozen=True)
class DataplaneTokenRequest:
    """`POST /tokens/dataplane`, once validated."""

    mesh: str
    name: str = ""
    tags: Mapping[str, Sequence[str]] = field(default_factory=dict)
    type: str = ""
    workload: str = ""
    valid_for_ns: int = EMPTY_VALID_FOR_NS


@dataclass(frozen=True)
class ZoneTokenRequest:
    """`POST /tokens/zone`, once validated."""

    zone: str
    scope: Sequence[str]
    valid_for_ns: int = EMPTY_VALID_FOR_NS


def issue_dataplane_token(
    signing_key: Resource,
    request: DataplaneTokenRequest,
    now: datetime | None = None,
    token_id: str | None = None,
) -> str:
    """Kuma's dataplane token. The claim names are Go field names (Kuma's claims struct has
    no JSON tags); a tag is kept with its values sorted and unique, and dropped if it has none."""
    claims: dict[str, Any] = {
        "Name": request.name,
        "Mesh": request.mesh,
        "Tags": {k: sorted(set(v)) for k, v in sorted(request.tags.items()) if v},
        "Type": request.type,
        "Workload": request.workload,
    }
    prefix = dataplane_signing_key_prefix(signing_key.mesh)
    return _sign(signing_key, prefix, claims, request.valid_for_ns, now, token_id)


def issue_zone_token(
    signing_key: Resource,
    request: ZoneTokenRequest,
    now: datetime | None = None,
    token_id: str | None = None,
) -> str:
    claims: dict[str, Any] = {"Zone": request.zone, "Scope": list(request.scope)}
    prefix = ZONE_TOKEN_SIGNING_KEY_PREFIX
    return _sign(signing_key, prefix, claims, request.valid_for_ns, now, token_id)


def _sign(
    signing_key: Resource,
    prefix: str,
    claims: dict[str, Any],
    valid_for_ns: int,
    now: datetime | None,
    token_id: str | None,
) -> str:
    """RS256 with `kid` = the key's serial. As Kuma does, the token is dated 5 s in the past
    (for clock skew) and expires `validFor` + 5 s after that; times are whole seconds."""
    issued_ns = _unix_ns(now or datetime.now(UTC)) - CLOCK_SKEW_NS
    payload = {
        **claims,
        "exp": (issued_ns + valid_for_ns + CLOCK_SKEW_NS) // SECOND_NS,
        "nbf": issued_ns // SECOND_NS,
        "iat": issued_ns // SECOND_NS,
        "jti": token_id or str(uuid.uuid4()),
    }
    kid = str(serial_number(signing_key.name, prefix))
    return jwt.encode(payload, private_key(signing_key), algorithm="RS256", headers={"kid": kid})


def _unix_ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


# validFor: Go durations


class GoDurationError(ValueError):
    """A duration Go's time.ParseDuration rejects; the message is Go's."""


def parse_valid_for(text: str) -> int:
    """`validFor` of a dataplane or zone token request in nanoseconds; empty means 10 years."""
    return EMPTY_VALID_FOR_NS if text == "" else parse_go_duration(text)


def parse_go_duration(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds: `[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+`."""
    try:
        return parse_duration(text)
    except DurationError as error:
        raise GoDurationError(str(error)) from None

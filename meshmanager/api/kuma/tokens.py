"""`POST /tokens/dataplane` and `POST /tokens/zone`: tokens for data planes and zone
proxies, signed with the control plane's keys as a Kuma global signs them.

As in Kuma, a body that does not decode into the request gets a bare 400, invalid fields
a 400 `Invalid request`, and the token comes back as text/plain. A missing signing key is
created on first use (Kuma makes them with the mesh, or at startup for zone tokens).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meshmanager.api.kuma.context import KumaCall, kuma_call
from meshmanager.api.kuma.errors import KumaError, invalid
from meshmanager.model.identity import Action
from meshmanager.model.resources import signing
from meshmanager.model.resources.signing import (
    DataplaneTokenRequest,
    GoDurationError,
    InvalidSigningKey,
    ZoneTokenRequest,
)
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation import Violation
from meshmanager.tenancy.access_roles import Target
from meshmanager.tenancy.signing_keys import SigningKeys

INVALID_REQUEST = "Invalid request"
ISSUE_TITLE = "Could not issue a token"
PROXY_TYPES = ("dataplane", "ingress", "egress")


class _Undecodable(Exception):
    """The body does not decode into the request type (Go's json.Decoder would fail)."""


def routes() -> list[Route]:
    return [
        Route("/tokens/dataplane", dataplane_token, methods=["POST"]),
        Route("/tokens/zone", zone_token, methods=["POST"]),
    ]


async def dataplane_token(request: Request) -> Response:
    call = await kuma_call(request, Action.UPDATE)
    try:
        fields = _fields(await request.body(), _DATAPLANE_FIELDS)
    except _Undecodable:
        return Response(status_code=400)
    violations, valid_for = _valid_for(fields["validFor"])
    if not fields["mesh"]:
        violations.insert(0, Violation("mesh", "cannot be empty"))
    if fields["type"] and fields["type"] not in PROXY_TYPES:
        violations.append(Violation("type", f"{fields['type']} is not a valid proxy type"))
    if violations:
        raise invalid(INVALID_REQUEST, violations)
    mesh, name = fields["mesh"], fields["name"]
    await call.require_access("GENERATE_DATAPLANE_TOKEN", Target(mesh=mesh, name=name))
    token_request = DataplaneTokenRequest(
        mesh, name, fields["tags"] or {}, fields["type"], fields["workload"], valid_for
    )
    key = await _dataplane_signing_key(call, mesh)
    return _token(lambda: signing.issue_dataplane_token(key, token_request))


async def zone_token(request: Request) -> Response:
    call = await kuma_call(request, Action.UPDATE)
    try:
        fields = _fields(await request.body(), _ZONE_FIELDS)
    except _Undecodable:
        return Response(status_code=400)
    # Kuma checks access before it validates a zone token request.
    await call.require_access("GENERATE_ZONE_TOKEN", Target(name=fields["zone"]))
    violations, valid_for = _valid_for(fields["validFor"])
    if fields["scope"] is None:
        violations.insert(0, Violation("scope", "cannot be empty"))
    if violations:
        raise invalid(INVALID_REQUEST, violations)
    token_request = ZoneTokenRequest(fields["zone"], fields["scope"], valid_for)
    key = await _signing_key(call, "", signing.ZONE_TOKEN_SIGNING_KEY_PREFIX)
    return _token(lambda: signing.issue_zone_token(key, token_request))


def _valid_for(text: str) -> tuple[list[Violation], int]:
    try:
        return [], signing.parse_valid_for(text)
    except GoDurationError as error:
        return [Violation("validFor", f"is invalid: {error}")], 0


def _token(issue: Callable[[], str]) -> Response:
    try:
        token = issue()
    except InvalidSigningKey as error:
        raise KumaError(500, ISSUE_TITLE, f"the signing key cannot be used: {error}") from None
    # Exactly `text/plain`, as Kuma sends it (Starlette would add a charset).
    return Response(token, headers={"content-type": "text/plain"})


# Signing keys


async def _dataplane_signing_key(call: KumaCall, mesh: str) -> Resource:
    prefix = signing.dataplane_signing_key_prefix(mesh)
    if await call.store.resources.get(call.scope, "Mesh", "", mesh) is None:
        # Kuma finds no key for a mesh that does not exist.
        raise KumaError(404, "Signing Key not found", signing.signing_key_not_found(prefix, mesh))
    return await _signing_key(call, mesh, prefix)


async def _signing_key(call: KumaCall, mesh: str, prefix: str) -> Resource:
    """The newest key, made first if there is none (off the event loop, once)."""
    key = await SigningKeys(call.store).ensure(call.scope, prefix, mesh)
    if key is None:
        raise KumaError(500, ISSUE_TITLE, "the signing key could not be created")
    return key


# Decoding: what Go's encoding/json accepts for Kuma's request structs


def _string(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Undecodable
    return value


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _Undecodable
    return [_string(item) for item in value]


def _tags(value: Any) -> dict[str, list[str]] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Undecodable
    return {key: _strings(item) or [] for key, item in value.items()}


_DATAPLANE_FIELDS: dict[str, Callable[[Any], Any]] = {
    "name": _string,
    "mesh": _string,
    "tags": _tags,
    "type": _string,
    "workload": _string,
    "validFor": _string,
}
_ZONE_FIELDS: dict[str, Callable[[Any], Any]] = {
    "zone": _string,
    "scope": _strings,
    "validFor": _string,
}


def _fields(raw: bytes, decoders: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """The request's fields, each decoded as Go would: keys match case-insensitively, the
    last of duplicates wins, unknown keys are ignored, `null` leaves the zero value."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _Undecodable from None
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _Undecodable
    given = {key.lower(): value for key, value in body.items()}
    return {name: decode(given.get(name.lower())) for name, decode in decoders.items()}

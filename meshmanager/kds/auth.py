"""Which control plane and zone a KDS connection belongs to (docs/zones.md).

A zone presents its credential in one of two ways:

* Kong Mesh style: gRPC metadata `authorization: Bearer <credential>` on every RPC.
* Unmodified OSS Kuma zones send no token. Their credential is part of the global
  address they dial (`grpcs://zone:<credential>@host:5685`, or as the path
  `grpcs://host:5685/<credential>`): Kuma dials only host:port, but
  sends its whole config, global address included, in the node metadata of its
  GlobalToZoneSync requests. That stream authenticates the connection; the zone's other
  RPCs share its HTTP/2 connection, so they are bound to it by the TCP peer address.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

import grpc
from envoy.config.core.v3 import base_pb2
from google.protobuf import json_format

from meshmanager.model.resources.stored import CpScope

CREDENTIAL_PREFIX = "mzc_"
BIND_WAIT_SECONDS = 30.0

_REFUSALS = {
    "unknown": "the zone credential is unknown to this server",
    "revoked": "the zone credential was revoked",
    "expired": "the zone credential has expired",
}


class Refused(Exception):
    """Ends the RPC with `code` and a message the zone logs."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ZoneIdentity:
    org_id: UUID
    cp_id: UUID
    zone: str
    credential_id: UUID

    @property
    def scope(self) -> CpScope:
        return CpScope(self.org_id, self.cp_id)


@dataclass
class _Binding:
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    identity: ZoneIdentity | None = None
    refusal: Refused | None = None


def metadata_values(context: grpc.aio.ServicerContext[Any, Any], key: str) -> list[str]:
    values = []
    for item in context.invocation_metadata() or ():
        if item.key == key:
            value = item.value
            values.append(value.decode() if isinstance(value, bytes) else value)
    return values


def client_id(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    values = metadata_values(context, "client-id")
    if not values or not values[0]:
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "the client-id metadata is missing")
    return values[0]


def bearer_credential(context: grpc.aio.ServicerContext[Any, Any]) -> str | None:
    for value in metadata_values(context, "authorization"):
        scheme, _, token = value.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else value.strip()
    return None


def zone_config(node: base_pb2.Node) -> dict[str, Any]:
    """The zone's kuma-cp config from node metadata (a JSON string), or {}."""
    metadata = json_format.MessageToDict(node.metadata) if node.HasField("metadata") else {}
    text = metadata.get("config")
    if not isinstance(text, str) or not text:
        return {}
    try:
        config = json.loads(text)
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def global_address(config: dict[str, Any]) -> str:
    zone = ((config.get("multizone") or {}).get("zone")) or {}
    address = zone.get("globalAddress") if isinstance(zone, dict) else None
    return address if isinstance(address, str) else ""


def credential_in_address(address: str) -> str | None:
    """The credential in a global address: its userinfo password, as in
    `grpcs://zone:<credential>@host:5685` (Kuma redacts it in its logs), or its path,
    as in `grpcs://host:5685/<credential>`."""
    try:
        parts = urlsplit(address)
        candidates = (parts.password or "", parts.username or "", parts.path.strip("/"))
    except ValueError:
        return None
    return next((c for c in candidates if c.startswith(CREDENTIAL_PREFIX)), None)


def mask_credential(address: str) -> str:
    """The global address as shown in insights and logs: the credential cut to its
    prefix, so a leaked config does not leak the secret."""
    credential = credential_in_address(address)
    if credential is None:
        return address
    return address.replace(credential, credential[: len(CREDENTIAL_PREFIX) + 4] + "…")


class CredentialCheck(Protocol):
    outcome: str  # ok, unknown, revoked or expired
    org_id: UUID | None
    cp_id: UUID | None
    zone: str | None
    credential_id: UUID | None


class CredentialStore(Protocol):
    async def check_credential(self, secret: str) -> CredentialCheck: ...


class Authenticator:
    def __init__(self, credentials: CredentialStore) -> None:
        self.credentials = credentials
        # By (TCP peer, client-id): loopback or NAT may hand a closed connection's port
        # to another zone's connection while the old binding is still remembered.
        self._bindings: dict[tuple[str, str], _Binding] = {}

    async def check(self, credential: str, zone: str) -> ZoneIdentity:
        found = await self.credentials.check_credential(credential)
        if found.outcome != "ok":
            raise Refused(grpc.StatusCode.UNAUTHENTICATED, _REFUSALS[found.outcome])
        assert found.org_id and found.cp_id and found.zone and found.credential_id
        if found.zone != zone:
            raise Refused(
                grpc.StatusCode.UNAUTHENTICATED,
                f"the zone credential was issued for zone {found.zone!r}, but this zone"
                f" calls itself {zone!r} (multizone.zone.name)",
            )
        return ZoneIdentity(found.org_id, found.cp_id, found.zone, found.credential_id)

    async def authenticate_sync(
        self, context: grpc.aio.ServicerContext[Any, Any], zone: str, node: base_pb2.Node
    ) -> ZoneIdentity:
        """For GlobalToZoneSync, given the node of its first request: authenticates and
        binds the connection's peer, so the zone's other RPCs find their identity."""
        key = (context.peer(), zone)
        binding = self._bindings.get(key)
        if binding is None or binding.ready.is_set():  # none, or an earlier connection's
            binding = self._bindings[key] = _Binding()
        try:
            identity = await self._identify(context, zone, node)
        except Refused as refused:
            binding.refusal = refused
            binding.ready.set()
            raise
        binding.identity = identity
        binding.ready.set()
        return identity

    async def _identify(
        self, context: grpc.aio.ServicerContext[Any, Any], zone: str, node: base_pb2.Node
    ) -> ZoneIdentity:
        credential = bearer_credential(context) or credential_in_address(
            global_address(zone_config(node))
        )
        if credential is None:
            raise Refused(
                grpc.StatusCode.UNAUTHENTICATED,
                "no zone credential: configure the zone's global address as"
                " grpcs://<zone>:<credential>@<host>:<port> (multizone.zone.globalAddress),"
                " or send 'authorization: Bearer <credential>'",
            )
        return await self.check(credential, zone)

    async def authenticate_other(
        self, context: grpc.aio.ServicerContext[Any, Any], zone: str
    ) -> ZoneIdentity:
        """For every RPC but GlobalToZoneSync: its own bearer credential, or the identity
        its connection's GlobalToZoneSync established."""
        credential = bearer_credential(context)
        if credential is not None:
            return await self.check(credential, zone)
        key = (context.peer(), zone)
        binding = self._bindings.setdefault(key, _Binding())
        if not binding.ready.is_set():  # wait_for costs a task: not for every health check
            await self._bound(key, binding)
        if binding.refusal is not None:
            raise binding.refusal
        assert binding.identity is not None
        return binding.identity

    async def _bound(self, key: tuple[str, str], binding: _Binding) -> None:
        try:
            await asyncio.wait_for(binding.ready.wait(), BIND_WAIT_SECONDS)
        except TimeoutError:
            self._forget(key, binding)
            raise Refused(
                grpc.StatusCode.UNAUTHENTICATED,
                "this connection never authenticated: its GlobalToZoneSync stream did not"
                f" present a zone credential within {BIND_WAIT_SECONDS:.0f}s",
            ) from None

    def unbind(self, context: grpc.aio.ServicerContext[Any, Any], zone: str) -> None:
        """When the connection's GlobalToZoneSync ends. A refusal is kept a while, so
        that the zone's other RPCs on this connection get its reason, not a timeout."""
        key = (context.peer(), zone)
        binding = self._bindings.get(key)
        if binding is None:
            return
        if binding.refusal is not None:
            asyncio.get_running_loop().call_later(BIND_WAIT_SECONDS, self._forget, key, binding)
        else:
            self._forget(key, binding)

    def _forget(self, key: tuple[str, str], binding: _Binding) -> None:
        if self._bindings.get(key) is binding:
            del self._bindings[key]

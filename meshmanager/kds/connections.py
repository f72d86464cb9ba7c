"""The live zone connections of this server, so that revoking a credential or deleting
a zone ends them, and the envoy-admin forwarder finds a zone's streams."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import grpc

from meshmanager.kds.auth import Refused, ZoneIdentity
from meshmanager.observability import log_fields
from meshmanager.store.events import Event, ZoneAccessRevoked

log = logging.getLogger(__name__)
T = TypeVar("T")
ZoneKey = tuple[UUID, str]  # (control plane, zone)


@dataclass(eq=False)
class ZoneConnection:
    identity: ZoneIdentity
    peer: str
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    reason: Refused | None = None

    def end(self, reason: Refused) -> None:
        if not self.ended.is_set():
            self.reason = reason
            self.ended.set()


class Connections:
    def __init__(self) -> None:
        self._by_zone: dict[ZoneKey, set[ZoneConnection]] = {}

    def open(self, identity: ZoneIdentity, peer: str) -> ZoneConnection:
        connection = ZoneConnection(identity, peer)
        self._by_zone.setdefault((identity.cp_id, identity.zone), set()).add(connection)
        return connection

    def close(self, connection: ZoneConnection) -> None:
        key = (connection.identity.cp_id, connection.identity.zone)
        live = self._by_zone.get(key, set())
        live.discard(connection)
        if not live:
            self._by_zone.pop(key, None)

    def of_zone(self, cp_id: UUID, zone: str) -> list[ZoneConnection]:
        return list(self._by_zone.get((cp_id, zone), ()))

    def zones_online(self, cp_id: UUID) -> set[str]:
        return {zone for cp, zone in self._by_zone if cp == cp_id}

    def on_store_event(self, event: Event) -> None:
        if not isinstance(event, ZoneAccessRevoked):
            return
        for connection in self.of_zone(event.cp_id, event.zone):
            if event.credential_id in (None, connection.identity.credential_id):
                connection.end(
                    Refused(
                        grpc.StatusCode.UNAUTHENTICATED,
                        "the zone credential was revoked or the zone was deleted",
                    )
                )

    def end_all(self, reason: Refused) -> None:
        for live in list(self._by_zone.values()):
            for connection in list(live):
                connection.end(reason)


async def until_ended(connection: ZoneConnection, work: Awaitable[T]) -> T:
    """Runs `work` unless the connection ends first; then raises the reason."""
    task = asyncio.ensure_future(work)
    ended = asyncio.ensure_future(connection.ended.wait())
    try:
        await asyncio.wait({task, ended}, return_when=asyncio.FIRST_COMPLETED)
        finished = task.done()
    finally:  # also when the RPC itself is cancelled: the work must not outlive it
        ended.cancel()
        if not task.done():
            task.cancel()
        task.add_done_callback(_discard_outcome)  # unless returned below, it is dropped
    if finished:
        return task.result()
    assert connection.reason is not None
    raise connection.reason


def _discard_outcome(task: asyncio.Future[Any]) -> None:
    """Work cut short by its RPC's end may fail instead of being cancelled (a write to
    the ended stream): that failure is the RPC's end, already handled."""
    if not task.cancelled():
        task.exception()


class RefusalLog:
    """Logs refused zones for the operator, once a minute per zone and reason: a zone
    with a bad credential retries its six RPCs every few seconds."""

    def __init__(self, every_seconds: float = 60.0) -> None:
        self.every_seconds = every_seconds
        self._last: dict[tuple[str, str, str], float] = {}

    def refused(self, context: grpc.aio.ServicerContext[Any, Any], refused: Refused) -> None:
        if refused.code == grpc.StatusCode.UNAVAILABLE:
            return  # not a refusal: the stream ended, or the server is stopping
        zone = dict(context.invocation_metadata() or ()).get("client-id", "")
        host = context.peer().rsplit(":", 1)[0]
        key = (host, str(zone), refused.message)
        now = time.monotonic()
        if now - self._last.get(key, -self.every_seconds) < self.every_seconds:
            return
        if len(self._last) > MAX_REMEMBERED_REFUSALS:
            self._last.clear()
        self._last[key] = now
        log.warning(
            "zone refused",
            extra=log_fields(zone=zone, peer=host, code=refused.code.name, reason=refused.message),
        )


MAX_REMEMBERED_REFUSALS = 10_000
refusals = RefusalLog()


async def refuse_on_error(
    context: grpc.aio.ServicerContext[Any, Any], handler: Callable[[], Awaitable[None]]
) -> None:
    """Turns a `Refused` into the RPC's final status."""
    try:
        await handler()
    except Refused as refused:
        refusals.refused(context, refused)
        await context.abort(refused.code, refused.message)

"""ZoneToGlobalSync: roles reversed (spec §5). The global sends the subscriptions, the
zone answers with DeltaDiscoveryResponses, and the global ACKs or NACKs every one, with
`node.id` = the zone name on every request (a request without a node crashes a zone).

What a zone sends is attributed to the connection's zone, can only replace or remove
that zone's own resources, and is validated; invalid items are NACKed, the rest applied.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import struct_pb2
from google.rpc import status_pb2

from meshmanager import __version__
from meshmanager.kds import envelope, rules
from meshmanager.kds.auth import ZoneIdentity
from meshmanager.kds.services import KdsServices
from meshmanager.kds.status import KUMA_VERSION
from meshmanager.model.errors import Conflict, NotFound
from meshmanager.model.resources.registry import BY_NAME, Sync
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation.synced import synced_problems
from meshmanager.observability import log_fields
from meshmanager.store.resources import Change, Create, Delete, Update

log = logging.getLogger(__name__)

Z2G_TYPES = tuple(sorted(t.name for t in BY_NAME.values() if t.sync & Sync.ZONE_TO_GLOBAL))
FEATURES = ["zone-token", "hash-suffix", "hg-mz-selector", "producer-policy-flow",
            "optional-top-level-target-ref"]  # fmt: skip
WRITE_ATTEMPTS = 3
RESPONSES_PER_SECOND = 20.0
RESPONSE_BURST = 200  # a zone's first full state is one response per type
MAX_ERRORS_REPORTED = 20


@functools.cache
def _global_metadata() -> struct_pb2.Struct:
    """The same for every zone; building a Struct from dicts is slow, copying one is not."""
    metadata = struct_pb2.Struct()
    metadata.update(
        {
            "version": {
                "kumaCp": {"version": KUMA_VERSION, "gitTag": f"meshmanager-{__version__}"}
            },
            "config": "",
            "control-plane-id": f"meshmanager-{__version__}",
            "features": FEATURES,
        }
    )
    return metadata


def _node(zone: str, initial: bool) -> base_pb2.Node:
    node = base_pb2.Node(id=zone)
    if initial:
        node.metadata.CopyFrom(_global_metadata())
    return node


def subscriptions(zone: str) -> list[discovery_pb2.DeltaDiscoveryRequest]:
    return [
        discovery_pb2.DeltaDiscoveryRequest(
            type_url=type_name, resource_names_subscribe=["*"], node=_node(zone, initial=True)
        )
        for type_name in Z2G_TYPES
    ]


class Pace:
    """A token bucket that waits instead of refusing: a zone that sends faster than
    `rate` is read more slowly, and gRPC flow control pushes back on it."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens, self.last = float(burst), time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            await asyncio.sleep((1 - self.tokens) / self.rate)
            self.tokens, self.last = 1.0, time.monotonic()
        self.tokens -= 1


class ZoneToGlobalStream:
    def __init__(
        self,
        services: KdsServices,
        identity: ZoneIdentity,
        write: Callable[[Any], Awaitable[None]],
        hash_suffix: bool = True,
    ) -> None:
        self.services = services
        self.identity = identity
        self.write = write
        self.hash_suffix = hash_suffix
        self.answered: set[str] = set()  # types whose first (full-state) response came

    async def run(self, responses: AsyncIterator[Any]) -> None:
        for request in subscriptions(self.identity.zone):
            await self.write(request)
        pace = Pace(RESPONSES_PER_SECOND, RESPONSE_BURST)
        async for response in responses:
            await pace.wait()  # a flooding zone slows itself down, not the others
            async with self.services.applying:  # bounds memory held at once, not throughput
                errors = await self.apply(response)
            await self.write(self._reply(response, errors))

    def _reply(
        self, response: discovery_pb2.DeltaDiscoveryResponse, errors: list[str]
    ) -> discovery_pb2.DeltaDiscoveryRequest:
        request = discovery_pb2.DeltaDiscoveryRequest(
            type_url=response.type_url,
            response_nonce=response.nonce,
            node=_node(self.identity.zone, initial=False),
        )
        if errors:
            shown = errors[:MAX_ERRORS_REPORTED]
            more = len(errors) - len(shown)
            message = "; ".join(shown) + (f"; and {more} more" if more else "")
            request.resource_names_subscribe.append("*")
            request.error_detail.CopyFrom(status_pb2.Status(message=message))
            log.info(
                "NACK to zone",
                extra=log_fields(
                    zone=self.identity.zone,
                    cp=str(self.identity.cp_id),
                    type=response.type_url,
                    error=message,
                ),
            )
        return request

    async def apply(self, response: discovery_pb2.DeltaDiscoveryResponse) -> list[str]:
        type_name = response.type_url
        if type_name not in Z2G_TYPES:
            return [f"type {type_name!r} is not accepted from zones"]
        initial = type_name not in self.answered
        self.answered.add(type_name)
        incoming, errors = self._decode(type_name, response)
        for _ in range(WRITE_ATTEMPTS):
            changes, conflicts = await self._changes(type_name, incoming, response, initial)
            try:
                if changes:
                    await self.services.store.resources.write(self.identity.scope, changes)
                return errors + conflicts
            except (Conflict, NotFound):
                continue  # someone else wrote meanwhile (a previous stream of this zone)
        return [*errors, *conflicts, "user error: the resources changed concurrently; resend"]

    def _decode(
        self, type_name: str, response: discovery_pb2.DeltaDiscoveryResponse
    ) -> tuple[dict[tuple[str, str], Resource], list[str]]:
        incoming: dict[tuple[str, str], Resource] = {}
        errors: list[str] = []
        zone = self.identity.zone
        for item in response.resources:
            try:
                decoded = envelope.decode(type_name, item)
            except envelope.EnvelopeError as error:
                errors.append(str(error))
                continue
            if not self.hash_suffix:
                decoded = replace(decoded, name=f"{zone}.{decoded.name}")
            decoded = rules.from_zone(decoded, zone)
            problems = synced_problems(
                type_name,
                decoded.mesh,
                decoded.name,
                decoded.labels,
                decoded.spec,
                from_protobuf=envelope.is_packed_type(type_name),
            )
            if problems:
                errors.append(f"{type_name} {decoded.name!r}: {'; '.join(problems)}")
                continue
            incoming[(decoded.mesh, decoded.name)] = decoded.resource()
        return incoming, errors

    async def _changes(
        self,
        type_name: str,
        incoming: dict[tuple[str, str], Resource],
        response: discovery_pb2.DeltaDiscoveryResponse,
        initial: bool,
    ) -> tuple[list[Change], list[str]]:
        cp = await self.services.store.resources.loaded(self.identity.scope)
        zone = self.identity.zone
        changes: list[Change] = []
        conflicts: list[str] = []
        for (mesh, name), resource in incoming.items():
            existing = cp.get((type_name, mesh, name))
            if existing is None:
                changes.append(Create(resource))
            elif not rules.owned_by_zone(existing, zone):
                conflicts.append(
                    f"user error: {type_name} {name!r} exists on the global and is not"
                    f" owned by zone {zone!r}"
                )
            elif _differs(existing, resource):
                changes.append(
                    Update(
                        existing.with_changes(
                            labels=resource.labels,
                            spec_json=resource.spec_json,
                            status_json=resource.status_json,
                        )
                    )
                )
        if initial:
            owned = cp.of_zone(type_name, zone)
            if not self.hash_suffix:  # legacy zones' resources carry `<zone>.` names
                owned += [r for r in cp.of_type(type_name, None) if rules.owned_by_zone(r, zone)]
            gone = [r for r in owned if (r.mesh, r.name) not in incoming]
        else:
            keys = (envelope.split_key(k) for k in response.removed_resources)
            found = (cp.get((type_name, mesh, name)) for name, mesh in keys)
            gone = [r for r in found if r is not None and rules.owned_by_zone(r, zone)]
        changes.extend(Delete(r) for r in gone)
        return changes, conflicts


def _differs(existing: Resource, incoming: Resource) -> bool:
    """Compared as stored JSON: a zone resends unchanged resources in the same field
    order, and a rare false difference costs only a redundant update."""
    return (
        existing.labels != incoming.labels
        or existing.spec_json != incoming.spec_json
        or existing.status_json != incoming.status_json
    )

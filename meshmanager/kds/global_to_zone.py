"""GlobalToZoneSync: the global is the delta-xDS server, the zone subscribes (spec §4).

Per stream and type: the first response holds the complete state, later ones only what
changed plus `removed_resources`; at most one response per type is in flight until the
zone ACKs or NACKs it. Changes arrive through the change feed, not a timer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import json_format

from meshmanager.kds import envelope, rules
from meshmanager.kds.auth import ZoneIdentity
from meshmanager.kds.feed import Watcher
from meshmanager.kds.services import KdsServices
from meshmanager.kds.status import Subscription
from meshmanager.kds.waiting import abandon, next_or_wakeup
from meshmanager.model.resources import naming
from meshmanager.model.resources.stored import Resource
from meshmanager.observability import log_fields

log = logging.getLogger(__name__)

GLOBAL_ID = "global"
XdsResources = dict[str, discovery_pb2.Resource]


@dataclass
class _TypeState:
    sent: dict[str, str] = field(default_factory=dict)  # key -> version
    in_flight: str | None = None  # nonce
    dirty: bool = False


def node_features(node: base_pb2.Node) -> frozenset[str]:
    metadata = json_format.MessageToDict(node.metadata) if node.HasField("metadata") else {}
    features = metadata.get("features")
    return (
        frozenset(f for f in features if isinstance(f, str))
        if isinstance(features, list)
        else frozenset()
    )


def _xds(resource: Resource, zone: rules.ZonePeer) -> discovery_pb2.Resource:
    """The resource as `zone` receives it, computed once per stored version and naming
    mode (only the hash-suffix feature changes how a resource is mapped)."""
    memo_key = "kds-hashed" if naming.HASH_SUFFIX_FEATURE in zone.features else "kds-plain"
    encoded: discovery_pb2.Resource | None = resource.memo.get(memo_key)
    if encoded is None:
        encoded = envelope.to_xds(rules.to_zone(resource, zone), include_status=False)
        resource.memo[memo_key] = encoded
    return encoded


class GlobalToZoneStream:
    def __init__(
        self,
        services: KdsServices,
        identity: ZoneIdentity,
        features: frozenset[str],
        subscription: Subscription,
        write: Any,
    ) -> None:
        self.services = services
        self.identity = identity
        self.features = features
        self.subscription = subscription
        self.write = write
        self.types: dict[str, _TypeState] = {}
        self.nonce = 0
        self._disabled: frozenset[str] | None = None  # zones with enabled: false
        # The control plane cache's change counter when this stream last looked.
        self._seen_changes = 0

    async def run(
        self, first: discovery_pb2.DeltaDiscoveryRequest, requests: AsyncIterator[Any]
    ) -> None:
        watcher = self.services.feed.watch(self.identity.cp_id, self.types)
        queue: asyncio.Queue[discovery_pb2.DeltaDiscoveryRequest | None] = asyncio.Queue()
        reader = asyncio.create_task(_read_into(requests, queue))
        try:
            cp = await self.services.store.resources.loaded(self.identity.scope)
            self._seen_changes = cp.changes
            await self.on_request(first)
            await self._serve(queue, watcher, reader)
        finally:
            abandon(reader)
            self.services.feed.unwatch(self.identity.cp_id, watcher)

    async def _serve(
        self,
        queue: asyncio.Queue[discovery_pb2.DeltaDiscoveryRequest | None],
        watcher: Watcher,
        reader: asyncio.Task[None],
    ) -> None:
        while True:
            got, request = await next_or_wakeup(queue, watcher.wakeup)
            if got:
                if request is None:
                    await reader  # re-raises what ended the reading
                    return
                await self.on_request(request)
            if watcher.wakeup.is_set():
                await self.on_change(watcher.take())

    async def on_request(self, request: discovery_pb2.DeltaDiscoveryRequest) -> None:
        type_name = request.type_url
        state = self.types.get(type_name)
        if not request.response_nonce:  # an initial (wildcard) subscription
            self.types[type_name] = _TypeState()
            await self._send(type_name, full=True)
            return
        if state is None or request.response_nonce != state.in_flight:
            return  # an ACK of a response this stream did not send, or a stale one
        state.in_flight = None
        if request.HasField("error_detail"):
            self.subscription.rejected(type_name)
            log.warning(
                "zone rejected a KDS response",
                extra=log_fields(
                    zone=self.identity.zone,
                    cp=str(self.identity.cp_id),
                    type=type_name,
                    error=request.error_detail.message,
                ),
            )
        else:
            self.subscription.acknowledged(type_name)
        if state.dirty:
            await self._send(type_name, full=False)

    async def on_change(self, changed: set[str] | None) -> None:
        cp = await self.services.store.resources.loaded(self.identity.scope)
        since, self._seen_changes = self._seen_changes, cp.changes
        if cp.changes == since:
            return  # the cache is as it was: the safety net's idle poke costs nothing
        if changed is None:  # the safety net, or "any type": what the cache saw change
            changed = cp.types_changed_since(since)
        if "Zone" in changed:  # a zone disabled: every type may change
            self._disabled = None
            affected = list(self.types)
        else:
            affected = [t for t in changed if t in self.types]
        for type_name in affected:
            state = self.types[type_name]
            state.dirty = True
            if state.in_flight is None:
                await self._send(type_name, full=False)

    async def _current(self, type_name: str) -> XdsResources:
        if type_name not in envelope.KDS_TYPES:
            return {}  # a type newer than us: the zone has none of it from here
        cp = await self.services.store.resources.loaded(self.identity.scope)
        if type_name == envelope.CONFIG:
            candidates: list[Resource] = [rules.cluster_id_config(str(self.identity.cp_id))]
        else:
            candidates = list(cp.of_type(type_name, None))
        if self._disabled is None:
            self._disabled = frozenset(
                z.name for z in cp.of_type("Zone", None) if (z.spec or {}).get("enabled") is False
            )
        peer = rules.ZonePeer(self.identity.zone, self.features, self._disabled)
        mapped = (_xds(r, peer) for r in candidates if rules.sendable(r, peer))
        return {item.name: item for item in mapped}

    async def _send(self, type_name: str, full: bool) -> None:
        state = self.types[type_name]
        state.dirty = False
        current = await self._current(type_name)
        if full:
            changed = list(current.values())
            removed: list[str] = []
        else:
            changed = [r for key, r in current.items() if state.sent.get(key) != r.version]
            removed = [key for key in state.sent if key not in current]
            if not changed and not removed:
                return
        state.sent = {key: r.version for key, r in current.items()}
        self.nonce += 1
        state.in_flight = str(self.nonce)
        response = discovery_pb2.DeltaDiscoveryResponse(
            type_url=type_name,
            resources=changed,
            removed_resources=removed,
            nonce=state.in_flight,
            control_plane=base_pb2.ControlPlane(identifier=GLOBAL_ID),
        )
        await self.write(response)
        self.subscription.sent(type_name)


async def _read_into(requests: AsyncIterator[Any], queue: asyncio.Queue[Any]) -> None:
    try:
        async for request in requests:
            await queue.put(request)
    finally:
        await queue.put(None)

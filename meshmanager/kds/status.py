"""Zone status as Kuma keeps it (spec §7): a ZoneInsight per zone with one KDS
subscription per GlobalToZoneSync stream, ACK/NACK statistics per type, the zone's
version and (masked) config, and the last health check.

Insights are written when a stream opens or closes, and otherwise at most every
`FLUSH_SECONDS` while something changed, all dirty zones of a control plane in one
write; health-check times alone only every `TOUCH_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from google.protobuf import json_format

from meshmanager import __version__
from meshmanager.kds.auth import ZoneIdentity, global_address, mask_credential
from meshmanager.kds.generated.kuma.system.v1alpha1 import zone_insight_pb2
from meshmanager.kds.protojson import message_to_dict
from meshmanager.model.errors import Conflict, NotFound
from meshmanager.model.resources.insights import is_online
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.observability import log_fields
from meshmanager.store.base import Store
from meshmanager.store.resources import Create, Update

log = logging.getLogger(__name__)

FLUSH_SECONDS = 10.0
TOUCH_SECONDS = 120.0  # well within ZONE_STALE_AFTER (5 minutes)
SAVE_ATTEMPTS = 3
SUBSCRIPTION_LIMIT = 10
PROXY_INSIGHTS = ("DataplaneInsight", "ZoneIngressInsight", "ZoneEgressInsight")
KUMA_VERSION = "2.14.3"


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def compatible(zone_version: str) -> bool:
    """Kuma's DeploymentVersionCompatible: same major, minor within ±2; unparsable
    versions count as compatible."""
    try:
        major, minor = (int(part) for part in zone_version.split(".")[:2])
        our_major, our_minor = (int(part) for part in KUMA_VERSION.split(".")[:2])
    except ValueError:
        return True
    return major == our_major and abs(minor - our_minor) <= 2


class Subscription:
    """One GlobalToZoneSync stream's entry in the zone's insight."""

    def __init__(
        self, identity: ZoneIdentity, zone_instance_id: str, node_version: Any, config: Any
    ) -> None:
        self.identity = identity
        self.message = zone_insight_pb2.KDSSubscription(
            id=str(uuid.uuid4()),
            global_instance_id=f"meshmanager-{__version__}",
            zone_instance_id=zone_instance_id,
            auth_token_provided=False,
        )
        self.message.connect_time.GetCurrentTime()
        self.message.status.last_update_time.GetCurrentTime()
        kuma_cp = (node_version or {}).get("kumaCp") if isinstance(node_version, dict) else None
        if isinstance(kuma_cp, dict):
            json_format.ParseDict(kuma_cp, self.message.version.kumaCp, ignore_unknown_fields=True)
            self.message.version.kumaCp.kumaCpGlobalCompatible = compatible(
                self.message.version.kumaCp.version
            )
        if isinstance(config, dict) and config:
            self.message.config = _masked_config(config)
        self.dirty = True

    @property
    def zone_version(self) -> str:
        return self.message.version.kumaCp.version

    def count(self, type_name: str, field: str) -> None:
        for stats in (self.message.status.total, self.message.status.stat[type_name]):
            setattr(stats, field, getattr(stats, field) + 1)
        self.message.status.last_update_time.GetCurrentTime()
        self.dirty = True

    def sent(self, type_name: str) -> None:
        self.count(type_name, "responses_sent")

    def acknowledged(self, type_name: str) -> None:
        self.count(type_name, "responses_acknowledged")

    def rejected(self, type_name: str) -> None:
        self.count(type_name, "responses_rejected")

    def disconnect(self) -> None:
        self.message.disconnect_time.GetCurrentTime()
        self.dirty = True

    def as_dict(self) -> dict[str, Any]:
        converted: dict[str, Any] = message_to_dict(self.message)
        return converted


def _disconnected(spec: Any, moment: str) -> Any:
    subscriptions = [
        s if s.get("disconnectTime") else {**s, "disconnectTime": moment}
        for s in spec.get("subscriptions") or []
    ]
    return {**spec, "subscriptions": subscriptions}


def _masked_config(config: dict[str, Any]) -> str:
    zone = (config.get("multizone") or {}).get("zone")
    if isinstance(zone, dict) and "globalAddress" in zone:
        zone["globalAddress"] = mask_credential(global_address(config))
    return json.dumps(config, separators=(",", ":"))


def merged_insight(
    current: dict[str, Any], subscription: dict[str, Any], health_time: datetime | None
) -> dict[str, Any]:
    """The ZoneInsight spec with `subscription` put in (replacing its earlier state),
    older open subscriptions finalised, and at most SUBSCRIPTION_LIMIT kept."""
    now = _timestamp(datetime.now(UTC))
    subscriptions = []
    for existing in current.get("subscriptions") or []:
        if existing.get("id") == subscription["id"]:
            continue
        if not existing.get("disconnectTime"):
            existing = {**existing, "disconnectTime": now}
        subscriptions.append(existing)
    subscriptions.append(subscription)
    insight = {**current, "subscriptions": subscriptions[-SUBSCRIPTION_LIMIT:]}
    if health_time is not None:
        insight["healthCheck"] = {"time": _timestamp(health_time)}
    return insight


class StatusRecorder:
    """Keeps the subscriptions of live streams and writes them into ZoneInsights."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.live: set[Subscription] = set()
        self._streams: Counter[tuple[UUID, str]] = Counter()  # live subscriptions per zone
        self.health: dict[tuple[uuid.UUID, str], datetime] = {}
        self._dirty_health: set[tuple[CpScope, str]] = set()
        self._flusher: asyncio.Task[None] | None = None
        # One insight write per zone at a time (no version races); different zones'
        # writes share a transaction.
        self._writing: dict[tuple[CpScope, str], asyncio.Lock] = {}

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_forever())

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()

    async def opened(self, subscription: Subscription) -> None:
        self.live.add(subscription)
        identity = subscription.identity
        self._streams[(identity.cp_id, identity.zone)] += 1
        await self.store.zones.mark_connected(identity.org_id, identity.cp_id, identity.zone)
        await self._save(identity.scope, [identity.zone], [subscription])

    async def closed(self, subscription: Subscription) -> None:
        self.live.discard(subscription)
        subscription.disconnect()
        identity = subscription.identity
        key = (identity.cp_id, identity.zone)
        self._streams[key] -= 1
        if self._streams[key] <= 0:
            del self._streams[key]
        await self._save(identity.scope, [identity.zone], [subscription])
        # The zone may reconnect during each write; its state writes are queued in call
        # order, so a disconnect queued before a later connect never overwrites it.
        if key in self._streams:
            return
        await self.store.zones.mark_disconnected(identity.org_id, identity.cp_id, identity.zone)
        if key in self._streams:
            return  # its proxies' insights are the new connection's now
        await self._disconnect_proxies(identity.scope, identity.zone)

    async def finalize_abandoned(self, starting: bool = False) -> None:
        """Kuma's subscription finalizer: a zone whose server died without recording its
        disconnect is offline, and so are its proxies. A sole replica that is `starting`
        holds no connection yet, so every zone still recorded as connected is abandoned."""
        any_age = starting and self.store.dialect.exclusive_writer
        live = {(s.identity.cp_id, s.identity.zone) for s in self.live}
        for org_id, cp_id, zone in await self.store.zones.abandoned(any_age):
            if (cp_id, zone) in live:
                continue
            scope = CpScope(org_id, cp_id)
            with contextlib.suppress(Conflict, NotFound):  # the zone is back meanwhile
                await self._finalize_insight(scope, zone)
            await self.store.zones.mark_disconnected(org_id, cp_id, zone)
            await self._disconnect_proxies(scope, zone)
            log.info("abandoned zone set offline", extra=log_fields(zone=zone, cp=str(cp_id)))

    async def _finalize_insight(self, scope: CpScope, zone: str) -> None:
        lock = self._writing.setdefault((scope, zone), asyncio.Lock())
        async with lock:
            insight = await self.store.resources.get(scope, "ZoneInsight", "", zone)
            if insight is None:
                return
            moment = _timestamp(datetime.now(UTC))
            await self.store.resources.write(
                scope, [Update(insight.with_changes(spec=_disconnected(insight.spec, moment)))]
            )

    async def _disconnect_proxies(self, scope: CpScope, zone: str) -> None:
        """The proxies of a zone that went offline are no longer known to be online:
        their open subscriptions end now (a reconnecting zone sends their real state).
        Kuma keeps reporting them online (kumahq/kuma#7027)."""
        cp = await self.store.resources.loaded(scope)
        now = _timestamp(datetime.now(UTC))
        changes = [
            Update(insight.with_changes(spec=_disconnected(insight.spec, now)))
            for type_name in PROXY_INSIGHTS
            for insight in cp.of_zone(type_name, zone)
            if is_online(insight.spec)
        ]
        with contextlib.suppress(Conflict, NotFound):  # the zone is back and wrote first
            if changes:
                await self.store.resources.write(scope, changes)

    def health_checked(self, identity: ZoneIdentity) -> None:
        self.health[(identity.cp_id, identity.zone)] = datetime.now(UTC)
        self._dirty_health.add((identity.scope, identity.zone))

    async def _flush_forever(self) -> None:
        last_touch = time.monotonic()
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                slow_round = time.monotonic() - last_touch >= TOUCH_SECONDS
                await self.flush(with_health=slow_round)
                if slow_round:
                    last_touch = time.monotonic()
                    await self.touch_live_zones()
                    await self.finalize_abandoned()
            except Exception:
                log.exception("writing zone insights failed; retrying")

    async def touch_live_zones(self) -> None:
        """Records that this server still holds these zones' connections (a zone not
        seen for 5 minutes reads offline: its server may have died). One transaction."""
        live = {(s.identity.org_id, s.identity.cp_id, s.identity.zone) for s in self.live}
        await self.store.zones.touch(live)

    async def flush(self, with_health: bool = True) -> None:
        """Writes the insights of zones whose subscriptions changed and, `with_health`,
        of zones that only health-checked. Those go every TOUCH_SECONDS, not every
        FLUSH_SECONDS: each write costs ~1 ms of the event loop per control plane, and
        10,000 zones health-check 33 times a second."""
        dirty: dict[CpScope, tuple[set[str], list[Subscription]]] = {}
        for subscription in list(self.live):
            if subscription.dirty:
                zones, subscriptions = dirty.setdefault(subscription.identity.scope, (set(), []))
                zones.add(subscription.identity.zone)
                subscriptions.append(subscription)
        for scope, zone in list(self._dirty_health) if with_health else ():
            dirty.setdefault(scope, (set(), []))[0].add(zone)
        # Concurrent, so that the store commits all control planes in one transaction.
        saves = [self._save(scope, sorted(zones), subs) for scope, (zones, subs) in dirty.items()]
        for outcome in await asyncio.gather(*saves, return_exceptions=True):
            if isinstance(outcome, Exception):
                raise outcome

    async def _save(
        self, scope: CpScope, zones: list[str], subscriptions: list[Subscription]
    ) -> None:
        """Writes the insights of `zones` (sorted), with these of their subscriptions."""
        locks = [self._writing.setdefault((scope, zone), asyncio.Lock()) for zone in zones]
        async with contextlib.AsyncExitStack() as held:
            for lock in locks:
                await held.enter_async_context(lock)
            for attempt in range(1, SAVE_ATTEMPTS + 1):
                try:
                    await self._save_locked(scope, zones, subscriptions)
                    return
                except Conflict:
                    # A save whose caller was cancelled (its RPC ended) let go of the lock
                    # before its write committed: merge into what it wrote.
                    if attempt == SAVE_ATTEMPTS:
                        raise

    async def _save_locked(
        self, scope: CpScope, zones: list[str], subscriptions: list[Subscription]
    ) -> None:
        changes: list[Create | Update] = []
        for zone in zones:
            ours = [s for s in subscriptions if s.identity.zone == zone]
            changes.append(await self._insight_change(scope, zone, ours))
            self._dirty_health.discard((scope, zone))
        for subscription in subscriptions:
            subscription.dirty = False
        if changes:
            await self.store.resources.write(scope, changes)

    async def _insight_change(
        self, scope: CpScope, zone: str, subscriptions: list[Subscription]
    ) -> Create | Update:
        existing = await self.store.resources.get(scope, "ZoneInsight", "", zone)
        spec: dict[str, Any] = dict(existing.spec or {}) if existing is not None else {}
        health_time = self.health.get((scope.cp_id, zone))
        for subscription in subscriptions:
            spec = merged_insight(spec, subscription.as_dict(), health_time)
        if not subscriptions and health_time is not None:
            spec["healthCheck"] = {"time": _timestamp(health_time)}
        if existing is None:
            return Create(Resource("ZoneInsight", "", zone, spec))
        return Update(existing.with_changes(spec=spec))

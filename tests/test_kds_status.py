"""Zone status kept by the KDS server: a zone connected for longer than the staleness
window stays online while its connection lives."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import update

from meshmanager.kds.auth import ZoneIdentity
from meshmanager.kds.status import StatusRecorder, Subscription
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import Store
from meshmanager.store.resources import Change, Create
from meshmanager.store.schema import zones
from meshmanager.store.types import utcnow
from meshmanager.store.zones import ZONE_STALE_AFTER, ZoneSettings
from tests.test_store import _fields, _org


async def _opened_zone(store: Store, recorder: StatusRecorder, org_id: uuid.UUID) -> ZoneIdentity:
    """zone-1 of a new control plane, with one subscription open on `recorder`."""
    cp_id = (await store.control_planes.create_owned(org_id, _fields("cp"))).item.id
    await store.zones.create(org_id, cp_id, ZoneSettings("zone-1"))
    identity = ZoneIdentity(org_id, cp_id, "zone-1", uuid.uuid4())
    await recorder.opened(Subscription(identity, "zone-1-first", None, {}))
    return identity


async def test_live_zones_are_touched_so_they_stay_online(store: Store) -> None:
    recorder = StatusRecorder(store)
    identity = await _opened_zone(store, recorder, await _org(store))
    org_id, cp_id = identity.org_id, identity.cp_id
    assert await store.zones.online_names(org_id, cp_id) == ["zone-1"]
    async with store.write() as conn:  # as if connected long ago and never seen since
        stale = utcnow() - ZONE_STALE_AFTER - timedelta(seconds=1)
        await conn.execute(update(zones).values(connected_at=stale, last_seen_at=stale))
    assert await store.zones.online_names(org_id, cp_id) == []
    await recorder.touch_live_zones()
    assert await store.zones.online_names(org_id, cp_id) == ["zone-1"]


async def test_a_save_cancelled_mid_write_does_not_make_the_next_one_conflict(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A zone whose RPC ends while its insight is being written: the cancelled save lets
    go of the zone's lock before its write commits, and the save on disconnect merges
    into what it wrote instead of failing on the stale version."""
    recorder = StatusRecorder(store)
    identity = await _opened_zone(store, recorder, await _org(store))
    write, queued = store.resources.write, asyncio.Event()

    async def write_and_tell(scope: CpScope, changes: Sequence[Change]) -> list[Resource]:
        queued.set()
        return await write(scope, changes)

    monkeypatch.setattr(store.resources, "write", write_and_tell)
    second = Subscription(identity, "zone-1-second", None, {})
    opening = asyncio.ensure_future(recorder.opened(second))
    await queued.wait()
    opening.cancel()  # its write is queued and will commit
    await recorder.closed(second)
    insight = await store.resources.get(identity.scope, "ZoneInsight", "", "zone-1")
    assert insight is not None
    subscriptions = insight.spec["subscriptions"]
    assert len(subscriptions) == 2  # the cancelled save's subscription is kept
    assert subscriptions[-1].get("disconnectTime")


async def test_a_zone_reconnecting_while_its_old_stream_closes_stays_online(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old stream's close is still saving its insight when the zone's new stream
    opens: the zone must not be recorded as disconnected after that new connect."""
    recorder = StatusRecorder(store)
    identity = await _opened_zone(store, recorder, await _org(store))
    old = next(iter(recorder.live))
    write, saving = store.resources.write, asyncio.Event()

    async def write_slowly(scope: CpScope, changes: Sequence[Change]) -> list[Resource]:
        saving.set()
        await asyncio.sleep(0.05)
        return await write(scope, changes)

    monkeypatch.setattr(store.resources, "write", write_slowly)
    closing = asyncio.ensure_future(recorder.closed(old))
    await saving.wait()
    await recorder.opened(Subscription(identity, "zone-1-second", None, {}))
    await closing
    assert await store.zones.online_names(identity.org_id, identity.cp_id) == ["zone-1"]


async def _connected_zone(
    store: Store, recorder: StatusRecorder, name: str, org_id: uuid.UUID
) -> ZoneIdentity:
    cp_id = (await store.control_planes.create_owned(org_id, _fields(f"cp-{name}"))).item.id
    await store.zones.create(org_id, cp_id, ZoneSettings(name))
    identity = ZoneIdentity(org_id, cp_id, name, uuid.uuid4())
    await recorder.opened(Subscription(identity, f"{name}-instance", None, {}))
    proxy = {"subscriptions": [{"id": "s1", "connectTime": "2026-11-28T10:00:00Z"}]}
    labels = {"kuma.io/zone": name, "kuma.io/origin": "zone"}
    await store.resources.write(
        identity.scope, [Create(Resource("DataplaneInsight", "default", "web-1", proxy, labels))]
    )
    return identity


async def _as_if_last_seen_long_ago(store: Store, identity: ZoneIdentity) -> None:
    stale = utcnow() - ZONE_STALE_AFTER - timedelta(seconds=1)
    async with store.write() as conn:
        await conn.execute(
            update(zones).where(zones.c.name == identity.zone).values(last_seen_at=stale)
        )


async def _is_finalized(store: Store, identity: ZoneIdentity) -> bool:
    insight = await store.resources.get(identity.scope, "ZoneInsight", "", identity.zone)
    proxy = await store.resources.get(identity.scope, "DataplaneInsight", "default", "web-1")
    assert insight is not None and proxy is not None
    ends = [
        s.get("disconnectTime")
        for s in (insight.spec["subscriptions"][-1], proxy.spec["subscriptions"][-1])
    ]
    return all(ends)


async def test_a_zone_whose_server_died_is_finalized_once_stale(store: Store) -> None:
    """The server holding the zone was killed: nobody recorded the disconnect. Another
    server (or this one, restarted) finalizes its insight and its proxies' insights."""
    org_id = await _org(store)
    died_with_server = StatusRecorder(store)
    abandoned = await _connected_zone(store, died_with_server, "zone-1", org_id)
    survivor = StatusRecorder(store)
    live = await _connected_zone(store, survivor, "zone-2", org_id)
    await _as_if_last_seen_long_ago(store, abandoned)
    await _as_if_last_seen_long_ago(store, live)  # stale in the table, but its stream is here
    await survivor.finalize_abandoned()
    assert await _is_finalized(store, abandoned)
    assert await store.zones.online_names(abandoned.org_id, abandoned.cp_id) == []
    assert not await _is_finalized(store, live)


async def test_a_recently_seen_zone_is_left_alone_unless_the_sole_replica_restarts(
    store: Store,
) -> None:
    zone = await _connected_zone(store, StatusRecorder(store), "zone-1", await _org(store))
    restarted = StatusRecorder(store)
    await restarted.finalize_abandoned()
    assert not await _is_finalized(store, zone)  # another replica may hold it
    await restarted.finalize_abandoned(starting=True)
    assert await _is_finalized(store, zone) == store.dialect.exclusive_writer


async def test_state_writes_of_many_zones_in_one_batch_each_land(store: Store) -> None:
    """Connects and disconnects queued together share a transaction (one statement per
    set of columns), alongside a touch of many zones; every zone ends in the state of
    its own last call."""
    org_id = await _org(store)
    cp_id = (await store.control_planes.create_owned(org_id, _fields("cp"))).item.id
    names = [f"zone-{n}" for n in range(6)]
    for name in names:
        await store.zones.create(org_id, cp_id, ZoneSettings(name))
    await asyncio.gather(*(store.zones.mark_connected(org_id, cp_id, name) for name in names))
    await asyncio.gather(
        store.zones.mark_disconnected(org_id, cp_id, "zone-0"),
        store.zones.mark_disconnected(org_id, cp_id, "zone-1"),
        store.zones.mark_connected(org_id, cp_id, "zone-1"),  # back at once
        store.zones.touch([(org_id, cp_id, name) for name in names[2:]]),
    )
    assert await store.zones.online_names(org_id, cp_id) == names[1:]


async def test_a_zone_connecting_writes_only_its_own_insight(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Health checks of other zones wait for the periodic flush: were each connect to
    write them too, a storm of N zones reconnecting would write N x N insights."""
    recorder = StatusRecorder(store)
    org_id = await _org(store)
    first = await _opened_zone(store, recorder, org_id)
    others = []
    for name in ("zone-2", "zone-3"):
        await store.zones.create(org_id, first.cp_id, ZoneSettings(name))
        others.append(ZoneIdentity(org_id, first.cp_id, name, uuid.uuid4()))
        recorder.health_checked(others[-1])
    write, written = store.resources.write, []

    async def write_and_record(scope: CpScope, changes: Sequence[Change]) -> list[Resource]:
        written.append(sorted(change.resource.name for change in changes))
        return await write(scope, changes)

    monkeypatch.setattr(store.resources, "write", write_and_record)
    await recorder.opened(Subscription(first, "zone-1-second", None, {}))
    assert written == [["zone-1"]]
    await recorder.flush()
    assert written[1:] == [["zone-2", "zone-3"]]
    for identity in others:
        insight = await store.resources.get(identity.scope, "ZoneInsight", "", identity.zone)
        assert insight is not None and insight.spec["healthCheck"]["time"]


async def test_health_checks_alone_wait_for_the_slow_round(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 10 s flush writes zones whose subscriptions changed (with their health time);
    zones that only health-checked wait for the round that also touches live zones."""
    recorder = StatusRecorder(store)
    org_id = await _org(store)
    first = await _opened_zone(store, recorder, org_id)
    await store.zones.create(org_id, first.cp_id, ZoneSettings("zone-2"))
    second = ZoneIdentity(org_id, first.cp_id, "zone-2", uuid.uuid4())
    recorder.health_checked(first)
    recorder.health_checked(second)
    next(iter(recorder.live)).acknowledged("Mesh")  # zone-1's subscription changed
    write, written = store.resources.write, []

    async def write_and_record(scope: CpScope, changes: Sequence[Change]) -> list[Resource]:
        written.append(sorted(change.resource.name for change in changes))
        return await write(scope, changes)

    monkeypatch.setattr(store.resources, "write", write_and_record)
    await recorder.flush(with_health=False)
    assert written == [["zone-1"]]
    insight = await store.resources.get(first.scope, "ZoneInsight", "", "zone-1")
    assert insight is not None and insight.spec["healthCheck"]["time"]
    await recorder.flush(with_health=True)
    assert written[1:] == [["zone-2"]]

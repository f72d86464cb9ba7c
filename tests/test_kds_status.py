"""Zone status kept by the KDS server: a zone connected for longer than the staleness
window stays online while its connection lives."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from meshmanager.kds.auth import ZoneIdentity
from meshmanager.kds.status import StatusRecorder, Subscription
from meshmanager.store import Store
from meshmanager.store.schema import zones
from meshmanager.store.types import utcnow
from meshmanager.store.zones import ZONE_STALE_AFTER, ZoneSettings
from tests.test_store import _fields, _org


async def test_live_zones_are_touched_so_they_stay_online(store: Store) -> None:
    org_id = await _org(store)
    cp_id = (await store.control_planes.create_owned(org_id, _fields("cp"))).item.id
    await store.zones.create(org_id, cp_id, ZoneSettings("zone-1"))
    recorder = StatusRecorder(store)
    identity = ZoneIdentity(org_id, cp_id, "zone-1", uuid.uuid4())
    await recorder.opened(Subscription(identity, "zone-1-abcd", None, {}))
    assert await store.zones.online_names(org_id, cp_id) == ["zone-1"]
    async with store.write() as conn:  # as if connected long ago and never seen since
        stale = utcnow() - ZONE_STALE_AFTER - timedelta(seconds=1)
        await conn.execute(update(zones).values(connected_at=stale, last_seen_at=stale))
    assert await store.zones.online_names(org_id, cp_id) == []
    await recorder.touch_live_zones()
    assert await store.zones.online_names(org_id, cp_id) == ["zone-1"]

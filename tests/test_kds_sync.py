"""KDS end to end, over real sockets and TLS: the in-process KDS server and simulated
Kuma zones (meshmanager.kds.simulator), on SQLite and PostgreSQL.

Covers both sync directions, deltas and removals, the filters (no echo, tenant
isolation), zone status on disconnect, credential refusals and revocation, the
envoy-admin streams and the end status of streams."""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from meshmanager.kds import connections
from meshmanager.kds.global_to_zone import GlobalToZoneStream
from meshmanager.kds.simulator import ZoneSimulator
from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.naming import hashed_name
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import Store
from meshmanager.store.resources import Create, Delete, Update
from tests.conftest import Api
from tests.kds_harness import Kds, eventually, kds_context, make_tls, new_control_plane, new_zone

TIMEOUT = 1.0 * 10
MESH_TIMEOUT_SPEC = {
    "targetRef": {"kind": "Mesh"},
    "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "20s"}}],
}


@pytest.fixture
async def kds(store: Store, tmp_path: Path) -> AsyncIterator[Kds]:
    async with kds_context(store, make_tls(tmp_path)) as running:
        yield running


@pytest.fixture
async def cp(api: Api) -> CpScope:
    return await new_control_plane(api, "cp-a")


async def _global(store: Store, scope: CpScope, type_name: str) -> dict[str, Resource]:
    loaded = await store.resources.loaded(scope)
    return {r.name: r for r in loaded.of_type(type_name, None)}


async def _connected(
    kds: Kds, store: Store, scope: CpScope, name: str, **kw: object
) -> ZoneSimulator:
    zone = kds.zone(name, await new_zone(store, scope, name), **kw)  # type: ignore[arg-type]
    await zone.wait_synced(TIMEOUT)
    return zone


# --- global -> zone --------------------------------------------------------------------


async def test_the_zone_gets_the_full_state_of_the_global(
    kds: Kds, store: Store, cp: CpScope
) -> None:
    zone = await _connected(kds, store, cp, "zone-1")
    names = {(r.type, r.name) for r in zone.received()}
    assert ("Mesh", "default") in names
    assert ("Secret", "dataplane-token-signing-key-default-1") in names
    assert ("Config", "kuma-cluster-id") in names
    assert ("GlobalSecret", "zone-token-signing-public-key-1") in names
    for policy in ("mesh-timeout-all-default", "mesh-retry-all-default"):
        hashed = hashed_name("default", policy, None, None)
        copy = next(r for r in zone.received() if r.name == hashed)
        assert copy.labels[kuma_labels.DISPLAY_NAME] == policy
        assert copy.labels[kuma_labels.ORIGIN] == "global"
    generators = {r.labels[kuma_labels.DISPLAY_NAME] for r in zone.received("HostnameGenerator")}
    assert "synced-universal-mesh-service" in generators
    assert all(r.labels[kuma_labels.ORIGIN] == "global" for r in zone.received())

    cluster_id = zone.store.get("Config", "", "kuma-cluster-id")
    assert cluster_id is not None and cluster_id.spec["config"] == str(cp.cp_id)
    public = zone.store.get("GlobalSecret", "", "zone-token-signing-public-key-1")
    assert public is not None
    import base64

    pem = base64.b64decode(public.spec["data"])
    assert pem.startswith(b"-----BEGIN RSA PUBLIC KEY-----")
    serialization.load_pem_public_key(pem)
    secret = zone.store.get("Secret", "default", "dataplane-token-signing-key-default-1")
    assert secret is not None and base64.b64decode(secret.spec["data"]).startswith(
        b"-----BEGIN RSA PRIVATE KEY-----"
    )

    assert zone.observed.nacks_sent == []
    assert {r.type_url for r in zone.observed.responses} <= set(zone.g2z_types)
    first: dict[str, object] = {}
    for response in zone.observed.responses:
        first.setdefault(response.type_url, response)
    assert set(first) == set(zone.g2z_types), "one full-state response per subscribed type"


@pytest.mark.parametrize("version", ["2.12.4", "2.13.0"])
async def test_older_zones_only_get_the_types_they_know(
    kds: Kds, store: Store, cp: CpScope, version: str
) -> None:
    zone = await _connected(kds, store, cp, "old", kuma_version=version)
    assert "MeshZoneAddress" not in zone.g2z_types
    assert {r.type_url for r in zone.observed.responses} <= set(zone.g2z_types)
    assert zone.observed.crashed is None and zone.observed.nacks_sent == []


async def test_policy_changes_arrive_as_deltas_and_removals(
    kds: Kds, store: Store, cp: CpScope
) -> None:
    zone = await _connected(kds, store, cp, "zone-1")
    policy = Resource(
        "MeshTimeout", "default", "t1", MESH_TIMEOUT_SPEC, {"kuma.io/mesh": "default"}
    )
    await store.resources.write(cp, [Create(policy)])
    hashed = hashed_name("default", "t1", None, None)
    await eventually(lambda: zone.store.get("MeshTimeout", "default", hashed), what="t1 created")
    delta = [r for r in zone.observed.responses if f"{hashed}.default" in r.names][-1]
    assert not delta.initial and delta.names == [f"{hashed}.default"], "only what changed"

    stored = await store.resources.get(cp, "MeshTimeout", "default", "t1")
    assert stored is not None
    changed = {
        **MESH_TIMEOUT_SPEC,
        "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "7s"}}],
    }
    await store.resources.write(cp, [Update(stored.with_changes(spec=changed))])

    def updated() -> bool:
        got = zone.store.get("MeshTimeout", "default", hashed)
        return got is not None and got.spec["to"][0]["default"]["idleTimeout"] == "7s"

    await eventually(updated, what="t1 updated")
    stored = await store.resources.get(cp, "MeshTimeout", "default", "t1")
    assert stored is not None
    await store.resources.write(cp, [Delete(stored)])
    await eventually(
        lambda: zone.store.get("MeshTimeout", "default", hashed) is None, what="t1 removed"
    )
    removal = zone.observed.responses[-1]
    assert removal.removed == [f"{hashed}.default"] and removal.names == []
    assert zone.observed.nacks_sent == []


# --- zone -> global ----------------------------------------------------------------------


async def test_zone_resources_appear_on_the_global_attributed_to_the_zone(
    kds: Kds, store: Store, cp: CpScope
) -> None:
    zone = kds.zone("zone-1", await new_zone(store, cp, "zone-1"), start=False)
    zone.add_dataplanes(6, offline_every=3)
    zone.add_zone_proxies(ingresses=1, egresses=1)
    zone.start()
    dp_name = hashed_name("default", "web-0", "zone-1", None)

    async def arrived() -> bool:
        kinds = ("ZoneIngress", "ZoneIngressInsight", "ZoneEgress", "ZoneEgressInsight")
        counts = [len(await _global(store, cp, kind)) for kind in kinds]
        dataplanes = len(await _global(store, cp, "Dataplane"))
        insights = len(await _global(store, cp, "DataplaneInsight"))
        return counts == [1, 1, 1, 1] and dataplanes == insights == 6

    await eventually(arrived, what="dataplanes on the global")
    dataplanes = await _global(store, cp, "Dataplane")
    web = dataplanes[dp_name]
    assert web.labels[kuma_labels.ORIGIN] == "zone"
    assert web.labels[kuma_labels.ZONE] == "zone-1"
    assert web.labels[kuma_labels.DISPLAY_NAME] == "web-0"
    insight = (await _global(store, cp, "DataplaneInsight"))[dp_name]
    assert all(s.get("generation", 0) == 0 for s in insight.spec["subscriptions"])
    assert insight.spec["mTLS"]["issuedBackend"] == "ca-1"
    services = await _global(store, cp, "MeshService")
    assert hashed_name("default", "web", "zone-1", None) in services
    ingress = next(iter((await _global(store, cp, "ZoneIngress")).values()))
    assert ingress.spec["zone"] == "zone-1"
    assert zone.observed.nacks_received == []

    # never echoed back to the zone they came from
    await asyncio.sleep(0.3)
    assert zone.received("MeshService") == [] and zone.received("ZoneIngress") == []
    # but synced to another zone of the control plane
    other = await _connected(kds, store, cp, "zone-2")
    await eventually(lambda: other.received("MeshService"), what="services in zone-2")
    copy = other.received("MeshService")[0]
    assert copy.labels[kuma_labels.ZONE] == "zone-1"
    assert copy.labels[kuma_labels.ORIGIN] == "global"
    assert other.received("ZoneIngress")
    assert other.received("Dataplane") == []


async def test_zone_changes_and_removals_flow_up(kds: Kds, store: Store, cp: CpScope) -> None:
    zone = kds.zone("zone-1", await new_zone(store, cp, "zone-1"), start=False)
    zone.add_dataplanes(3)
    zone.start()
    name = hashed_name("default", "backend-2", "zone-1", None)
    await eventually(lambda: _has(store, cp, "Dataplane", name), what="dataplane up")
    zone.set_dataplane_online("default", "backend-2", online=False)

    async def offline() -> bool:
        insight = (await _global(store, cp, "DataplaneInsight")).get(name)
        return insight is not None and "disconnectTime" in insight.spec["subscriptions"][-1]

    await eventually(offline, what="insight offline")
    zone.remove("Dataplane", "default", "backend-2")
    zone.remove("DataplaneInsight", "default", "backend-2")

    async def gone() -> bool:
        return not await _has(store, cp, "Dataplane", name)

    await eventually(gone, what="dataplane removed on the global")
    assert zone.observed.nacks_received == []


async def _has(store: Store, scope: CpScope, type_name: str, name: str) -> bool:
    return name in await _global(store, scope, type_name)


# --- status ------------------------------------------------------------------------------


async def test_a_disconnected_zone_is_offline_within_10s(
    kds: Kds, store: Store, cp: CpScope
) -> None:
    zone = kds.zone("zone-1", await new_zone(store, cp, "zone-1"), start=False)
    zone.add_dataplanes(2)
    zone.start()
    await zone.wait_synced(TIMEOUT)
    await eventually(
        lambda: _has(store, cp, "DataplaneInsight", hashed_name("default", "web-0", "zone-1", None))
    )
    assert await store.zones.online_names(cp.org_id, cp.cp_id) == ["zone-1"]
    insight = (await _global(store, cp, "ZoneInsight"))["zone-1"]
    subscription = insight.spec["subscriptions"][-1]
    assert subscription["version"]["kumaCp"]["version"] == "2.14.3"
    assert "disconnectTime" not in subscription
    assert zone.observed.health_checks >= 1

    await zone.stop()

    async def offline() -> bool:
        found = (await _global(store, cp, "ZoneInsight"))["zone-1"]
        return "disconnectTime" in found.spec["subscriptions"][-1] and not (
            await store.zones.online_names(cp.org_id, cp.cp_id)
        )

    await eventually(offline, within=10, what="zone offline")
    insights = await _global(store, cp, "DataplaneInsight")
    assert all("disconnectTime" in i.spec["subscriptions"][-1] for i in insights.values())


# --- auth ----------------------------------------------------------------------------------


async def _refused(zone: ZoneSimulator) -> tuple[str, str, str]:
    error: tuple[str, str, str] = await eventually(zone.observed.last_error, what="a refusal")
    await zone.stop()
    return error


async def test_unknown_missing_and_mismatched_credentials_are_refused(
    kds: Kds,
    store: Store,
    cp: CpScope,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connections, "refusals", connections.RefusalLog())
    caplog.set_level(logging.WARNING, logger="meshmanager.kds.connections")
    credential = await new_zone(store, cp, "zone-1")
    unknown = await _refused(kds.zone("zone-1", "mzc_" + "x" * 40))
    assert unknown[1] == "UNAUTHENTICATED" and "unknown" in unknown[2]
    missing = await _refused(kds.zone("zone-1", None))
    assert missing[1] == "UNAUTHENTICATED" and "no zone credential" in missing[2]
    other_name = await _refused(kds.zone("zone-2", credential))
    assert other_name[1] == "UNAUTHENTICATED" and "'zone-1'" in other_name[2]
    for zone in kds.zones:
        assert zone.received() == []
        assert zone.observed.crashed is None
    # The operator sees each refusal once, with the zone and the reason, not once per RPC.
    logged = [r.fields for r in caplog.records if r.getMessage() == "zone refused"]  # type: ignore[attr-defined]
    assert sorted((f["zone"], f["reason"]) for f in logged) == sorted(
        {("zone-1", unknown[2]), ("zone-1", missing[2]), ("zone-2", other_name[2])}
    )


async def test_a_kong_mesh_style_bearer_credential_is_accepted(
    kds: Kds, store: Store, cp: CpScope
) -> None:
    credential = await new_zone(store, cp, "zone-1")
    zone = kds.zone("zone-1", None, authorization=credential)
    await zone.wait_synced(TIMEOUT)
    assert zone.store.get("Mesh", "", "default") is not None


async def test_a_revoked_credential_drops_the_connection_within_5s(
    kds: Kds, store: Store, cp: CpScope
) -> None:
    zone = await _connected(kds, store, cp, "zone-1")
    connects = zone.observed.connects
    await store.zones.rotate(cp.org_id, cp.cp_id, "zone-1")
    error = await eventually(
        lambda: next((e for e in zone.observed.errors if e[1] == "UNAUTHENTICATED"), None),
        within=5,
        what="connection dropped",
    )
    assert "revoked" in error[2] or "deleted" in error[2]
    # reconnecting with the old credential is refused, saying why
    await eventually(
        lambda: any("was revoked" in e[2] for e in zone.observed.errors), what="refused as revoked"
    )
    assert zone.observed.connects >= connects
    # what ended each connection: the first RPC to fail, with the server's status
    assert any(
        cause.split()[1] == "UNAUTHENTICATED" and "revoked" in cause
        for cause in zone.observed.ended_by
    ), zone.observed.ended_by


async def test_control_planes_never_see_each_others_data(
    api: Api, kds: Kds, store: Store, cp: CpScope
) -> None:
    other = await new_control_plane(api, "cp-b")
    await store.resources.write(
        other, [Create(Resource("MeshTimeout", "default", "only-b", MESH_TIMEOUT_SPEC))]
    )
    a = kds.zone("zone-1", await new_zone(store, cp, "zone-1"), start=False)
    b = kds.zone("zone-1", await new_zone(store, other, "zone-1"), start=False)
    a.add_dataplanes(2)
    b.add_dataplanes(3, start=100)
    a.start()
    b.start()
    await a.wait_synced(TIMEOUT)
    await b.wait_synced(TIMEOUT)
    await eventually(lambda: _count(store, other, "Dataplane", 3), what="B's dataplanes on B")
    await eventually(lambda: _count(store, cp, "Dataplane", 2), what="A's dataplanes on A")
    assert not any(r.labels.get(kuma_labels.DISPLAY_NAME) == "only-b" for r in a.received())
    assert any(r.labels.get(kuma_labels.DISPLAY_NAME) == "only-b" for r in b.received())
    ids = {r.spec["config"] for z in (a, b) for r in z.received("Config")}
    assert ids == {str(cp.cp_id), str(other.cp_id)}
    a_names = set(await _global(store, cp, "Dataplane"))
    b_names = set(await _global(store, other, "Dataplane"))
    assert not a_names & b_names


async def _count(store: Store, scope: CpScope, type_name: str, n: int) -> bool:
    return len(await _global(store, scope, type_name)) == n


# --- envoy admin, health, end of streams ---------------------------------------------------


async def test_envoy_admin_requests_are_answered_by_the_zone(
    kds: Kds, store: Store, cp: CpScope
) -> None:
    zone = kds.zone("zone-1", await new_zone(store, cp, "zone-1"), start=False)
    zone.add_dataplanes(2)
    zone.start()
    name = hashed_name("default", "web-0", "zone-1", None)
    await eventually(lambda: _has(store, cp, "Dataplane", name))
    dataplane = (await _global(store, cp, "Dataplane"))[name]
    admin = kds.server.services.admin
    await eventually(lambda: admin.connected(cp.cp_id, "zone-1", "clusters"))
    dump = await admin.forward(cp.cp_id, "zone-1", "xds", dataplane)
    assert b"BootstrapConfigDump" in dump
    stats = await admin.forward(cp.cp_id, "zone-1", "stats", dataplane)
    assert b"upstream_rq_total" in stats
    clusters = await admin.forward(cp.cp_id, "zone-1", "clusters", dataplane, json_format=True)
    assert b"cluster_statuses" in clusters
    assert ("xds", "Dataplane", "default", "web-0") in zone.observed.admin_requests


async def test_streams_end_with_a_non_ok_status_and_zones_reconnect(
    store: Store, cp: CpScope, tmp_path: Path
) -> None:
    tls = make_tls(tmp_path)
    credential = await new_zone(store, cp, "zone-1")
    async with kds_context(store, tls) as kds:
        port = kds.port
        zone = kds.zone("zone-1", credential)
        await zone.wait_synced(TIMEOUT)
        await kds.server.stop()
        await eventually(lambda: not zone.connected.is_set(), what="disconnected")
        codes = {code for _, code, _ in zone.observed.errors}
        assert codes and "OK" not in codes, zone.observed.errors
        assert zone.observed.crashed is None
        kds.zones.remove(zone)
        # a new server on the same port: the zone reconnects by itself
        from meshmanager.addresses import HostPort
        from meshmanager.kds.server import KdsServer

        again = KdsServer(HostPort.parse(f"127.0.0.1:{port}"), store, tls)
        await again.start()
        try:
            zone.reconnect_now()
            await eventually(lambda: zone.observed.connects >= 2, what="reconnected")
            await zone.wait_synced(TIMEOUT)
        finally:
            await zone.stop()
            await again.stop()


async def test_many_zones_share_the_server(kds: Kds, store: Store, cp: CpScope) -> None:
    zones = [await _connected(kds, store, cp, f"zone-{n}") for n in range(8)]
    assert all(z.store.get("Mesh", "", "default") is not None for z in zones)
    assert len(await store.zones.online_names(cp.org_id, cp.cp_id)) == 8
    assert uuid.UUID(zones[0].store.get("Config", "", "kuma-cluster-id").spec["config"]) == cp.cp_id  # type: ignore[union-attr]


async def test_the_zone_sim_command_syncs_and_prints(
    kds: Kds, store: Store, cp: CpScope, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from meshmanager.cli.main import cli

    assert kds.tls is not None and kds.tls.ca_pem is not None
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(kds.tls.ca_pem)
    credential = await new_zone(store, cp, "cli-zone")
    args = [
        "zone-sim",
        "--global-address",
        kds.address(credential),
        "--zone",
        "cli-zone",
        "--ca-file",
        str(ca_file),
        "--dataplanes",
        "4",
        "--ingresses",
        "1",
        "--print",
        "--duration",
        "3",
    ]
    result = await asyncio.to_thread(CliRunner().invoke, cli, args)
    assert result.exit_code == 0, result.output
    assert '"event": "connected"' in result.output
    assert '"event": "received"' in result.output
    assert '"kuma-cluster-id"' in result.output
    dataplanes = await _global(store, cp, "Dataplane")
    assert len(dataplanes) == 4


async def test_a_refused_and_stopped_zone_leaves_no_task_behind(
    kds: Kds, store: Store, cp: CpScope
) -> None:
    reported: list[str] = []
    asyncio.get_running_loop().set_exception_handler(
        lambda _loop, context: reported.append(f"{context.get('message')} {context.get('task')}")
    )
    zone = kds.zone("zone-1", await new_zone(store, cp, "zone-1"))
    zone.add_dataplanes(3)
    await zone.wait_synced()
    await store.zones.rotate(cp.org_id, cp.cp_id, "zone-1")  # the server ends its streams
    await eventually(
        lambda: next((e for e in zone.observed.errors if e[1] == "UNAUTHENTICATED"), None),
        what="the refusal",
    )
    await zone.stop()
    await asyncio.sleep(0.05)
    gc.collect()
    assert reported == []


async def test_the_safety_net_resends_nothing_idle_and_catches_a_missed_commit(
    kds: Kds, store: Store, cp: CpScope, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = await _connected(kds, store, cp, "zone-1")
    feed = kds.server.services.feed
    sent = len(zone.observed.responses)
    computed: list[str] = []
    compute = GlobalToZoneStream._current

    async def counted(stream: GlobalToZoneStream, type_name: str) -> Any:
        computed.append(type_name)
        return await compute(stream, type_name)

    monkeypatch.setattr(GlobalToZoneStream, "_current", counted)
    feed.poke_all()  # nothing was committed since the stream looked: nothing is recomputed
    # A commit of what zones are not sent (as every status flush is): still nothing.
    await store.resources.write(cp, [Create(Resource("ZoneInsight", "", "zone-9", {}))])
    feed.poke_all()
    await asyncio.sleep(0.3)
    assert computed == []
    assert len(zone.observed.responses) == sent

    policy = Resource(
        "MeshTimeout", "default", "missed", MESH_TIMEOUT_SPEC, {"kuma.io/mesh": "default"}
    )
    with monkeypatch.context() as lost:  # as if the commit's event never reached the stream
        lost.setattr(feed, "_watchers", {})
        await store.resources.write(cp, [Create(policy)])
    await asyncio.sleep(0.3)
    hashed = hashed_name("default", "missed", None, None)
    assert zone.store.get("MeshTimeout", "default", hashed) is None
    feed.poke_all()
    await eventually(lambda: zone.store.get("MeshTimeout", "default", hashed), what="caught up")
    assert computed == ["MeshTimeout"], "the poke looks at the types that changed only"

"""Unit tests of the KDS building blocks: the wire envelope, the sync rules, the change
feed, credentials in global addresses and zone insights. End-to-end sync over real
sockets is in test_kds_sync.py."""

from __future__ import annotations

import asyncio
import gc
import uuid
from typing import Any

import grpc
import orjson
import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import any_pb2

from meshmanager.kds import auth, envelope, rules, zone_to_global
from meshmanager.kds.admin import zone_local_name
from meshmanager.kds.auth import credential_in_address, mask_credential
from meshmanager.kds.connections import Connections, until_ended
from meshmanager.kds.feed import ChangeFeed
from meshmanager.kds.generated.kuma.mesh.v1alpha1 import kds_pb2, mesh_pb2
from meshmanager.kds.status import compatible, merged_insight
from meshmanager.model.resources import signing
from meshmanager.model.resources.stored import Resource
from meshmanager.store.events import ResourcesChanged

ZONE1 = rules.ZonePeer("zone-1", frozenset({"hash-suffix", "producer-policy-flow"}))


def _roundtrip(resource: Resource, status: bool = True) -> Resource:
    return envelope.from_xds(resource.type, envelope.to_xds(resource, status))


def test_old_style_specs_travel_as_packed_protobuf() -> None:
    mesh = Resource("Mesh", "", "default", {"mtls": {"enabledBackend": "ca-1"}})
    item = envelope.to_xds(mesh, include_status=False)
    assert item.name == "default."
    assert item.resource.type_url == "type.googleapis.com/kuma.mesh.v1alpha1.KumaResource"
    wrapped = kds_pb2.KumaResource.FromString(item.resource.value)
    assert wrapped.spec.type_url == "type.googleapis.com/kuma.mesh.v1alpha1.Mesh"
    assert mesh_pb2.Mesh.FromString(wrapped.spec.value).mtls.enabledBackend == "ca-1"
    assert _roundtrip(mesh).spec == mesh.spec


def test_new_style_specs_travel_as_json_with_an_empty_type_url() -> None:
    spec = {"targetRef": {"kind": "Mesh"}, "to": [{"targetRef": {"kind": "Mesh"}}]}
    policy = Resource("MeshTimeout", "default", "t1", spec, {"team": "a"})
    item = envelope.to_xds(policy, include_status=False)
    assert item.name == "t1.default"
    wrapped = kds_pb2.KumaResource.FromString(item.resource.value)
    assert wrapped.spec.type_url == ""
    assert orjson.loads(wrapped.spec.value) == spec
    assert _roundtrip(policy).labels == {"team": "a"}


def test_status_is_sent_only_when_asked_and_the_type_has_one() -> None:
    service = Resource("MeshService", "default", "s", {"ports": []}, status={"vips": []})
    assert _roundtrip(service).status == {"vips": []}
    assert _roundtrip(service, status=False).status is None


def test_versions_change_with_content_only() -> None:
    a = Resource("MeshTimeout", "default", "t1", {"to": []})
    assert envelope.to_xds(a, False).version == envelope.to_xds(a.with_changes(), False).version
    changed = a.with_changes(spec={"to": [{}]})
    assert envelope.to_xds(a, False).version != envelope.to_xds(changed, False).version


def _item(type_url: str, value: bytes) -> discovery_pb2.Resource:
    return discovery_pb2.Resource(name="x.", resource=any_pb2.Any(type_url=type_url, value=value))


@pytest.mark.parametrize(
    ("type_name", "item", "reason"),
    [
        ("Mesh", _item("type.googleapis.com/kuma.mesh.v1alpha1.Mesh", b""), "not a KumaResource"),
        ("Mesh", _item(envelope.KUMA_RESOURCE_TYPE_URL, b"\xff\xff\xff"), "not a KumaResource"),
        (
            "Mesh",
            _item(
                envelope.KUMA_RESOURCE_TYPE_URL,
                kds_pb2.KumaResource(meta=kds_pb2.KumaResource.Meta(name="m")).SerializeToString(),
            ),
            "has no spec",
        ),
        (
            "MeshTimeout",
            _item(
                envelope.KUMA_RESOURCE_TYPE_URL,
                kds_pb2.KumaResource(
                    meta=kds_pb2.KumaResource.Meta(name="m"), spec=any_pb2.Any(value=b"{nope")
                ).SerializeToString(),
            ),
            "not valid JSON",
        ),
        (
            "Mesh",
            _item(
                envelope.KUMA_RESOURCE_TYPE_URL,
                kds_pb2.KumaResource(
                    meta=kds_pb2.KumaResource.Meta(name="m"),
                    spec=any_pb2.Any(type_url="type.googleapis.com/kuma.mesh.v1alpha1.Dataplane"),
                ).SerializeToString(),
            ),
            "expected",
        ),
    ],
)
def test_undecodable_resources_say_why(
    type_name: str, item: discovery_pb2.Resource, reason: str
) -> None:
    with pytest.raises(envelope.EnvelopeError, match=reason):
        envelope.from_xds(type_name, item)


@pytest.mark.parametrize(
    ("key", "expected"),
    [("default.", ("default", "")), ("a.b.mesh-1", ("a.b", "mesh-1")), ("plain", ("plain", ""))],
)
def test_removed_keys_split_at_the_last_dot(key: str, expected: tuple[str, str]) -> None:
    assert envelope.split_key(key) == expected


def _zone_resource(type_name: str, zone: str, **labels: str) -> Resource:
    all_labels = {"kuma.io/origin": "zone", "kuma.io/zone": zone, **labels}
    return Resource(type_name, "default", f"svc-{zone}", {"ports": []}, all_labels)


def test_global_resources_go_down_with_origin_display_name_and_hashed_name() -> None:
    policy = Resource("MeshTimeout", "default", "default-timeout-global", {"to": []})
    assert rules.sendable(policy, ZONE1)
    mapped = rules.to_zone(policy, ZONE1)
    assert mapped.name == "default-timeout-global-54dbd4c66zwbcf9c"
    assert mapped.labels == {
        "kuma.io/origin": "global",
        "kuma.io/display-name": "default-timeout-global",
    }


def test_meshes_keep_their_name_and_lose_nothing() -> None:
    mapped = rules.to_zone(Resource("Mesh", "", "default", {}), ZONE1)
    assert (mapped.name, mapped.labels) == ("default", {"kuma.io/origin": "global"})


def test_without_hash_suffix_names_stay() -> None:
    old_zone = rules.ZonePeer("zone-1", frozenset())
    policy = Resource("MeshTimeout", "default", "t", {"to": []})
    assert rules.to_zone(policy, old_zone).name == "t"


def test_a_zone_never_gets_its_own_resources_back() -> None:
    service = _zone_resource("MeshService", "zone-1")
    assert not rules.sendable(service, ZONE1)
    assert rules.sendable(service, rules.ZonePeer("zone-2", frozenset()))


def test_nothing_is_sent_from_a_disabled_zone() -> None:
    service = _zone_resource("MeshService", "zone-2")
    disabled = rules.ZonePeer("zone-1", frozenset(), frozenset({"zone-2"}))
    assert not rules.sendable(service, disabled)


def test_zone_resources_of_types_not_synced_across_zones_stay_on_the_global() -> None:
    dataplane = _zone_resource("Dataplane", "zone-2")
    assert not rules.sendable(dataplane, ZONE1)


@pytest.mark.parametrize(
    ("labels", "namespace", "to", "expected"),
    [
        ({"kuma.io/policy-role": "producer"}, "kuma-demo", "MeshService", True),
        ({"kuma.io/policy-role": "producer"}, None, "MeshService", False),  # universal: system
        ({}, "kuma-demo", "MeshService", False),
        ({"kuma.io/policy-role": "producer"}, "kuma-demo", "Mesh", False),
    ],
)
def test_zone_policies_cross_zones_only_as_producers(
    labels: dict[str, str], namespace: str | None, to: str, expected: bool
) -> None:
    extra = {"k8s.kuma.io/namespace": namespace} if namespace else {}
    spec = {"targetRef": {"kind": "Mesh"}, "to": [{"targetRef": {"kind": to, "name": "backend"}}]}
    policy = Resource(
        "MeshTimeout",
        "default",
        "p",
        spec,
        {"kuma.io/origin": "zone", "kuma.io/zone": "zone-2", **labels, **extra},
    )
    assert rules.sendable(policy, ZONE1) is expected


def test_kds_sync_disabled_and_private_secrets_stay() -> None:
    disabled = Resource("MeshTimeout", "default", "t", {}, {"kuma.io/kds-sync": "disabled"})
    assert not rules.sendable(disabled, ZONE1)
    for name in ("envoy-admin-ca", "inter-cp-ca", "user-token-signing-key-1"):
        assert not rules.sendable(Resource("GlobalSecret", "", name, {}), ZONE1)
    assert rules.sendable(Resource("GlobalSecret", "", "zone-token-revocations", {}), ZONE1)
    assert not rules.sendable(Resource("Config", "", "other", {}), ZONE1)
    assert rules.sendable(rules.cluster_id_config("id"), ZONE1)


def test_hostname_generators_for_multizone_services_need_the_feature() -> None:
    generator = Resource("HostnameGenerator", "", "hg", {"selector": {"meshMultiZoneService": {}}})
    assert not rules.sendable(generator, ZONE1)
    assert rules.sendable(generator, rules.ZonePeer("z", frozenset({"hg-mz-selector"})))


def test_zone_token_signing_keys_go_down_as_public_keys() -> None:
    key = signing.new_signing_key_secret(signing.ZONE_TOKEN_SIGNING_KEY_PREFIX)
    mapped = rules.to_zone(key, ZONE1)
    assert mapped.name == "zone-token-signing-public-key-1"
    assert b"PUBLIC KEY" in signing.secret_data(mapped)
    assert b"PRIVATE" not in signing.secret_data(mapped)


def test_what_a_zone_sends_is_attributed_to_the_connection() -> None:
    spec: dict[str, Any] = {
        "networking": {
            "address": "10.0.0.1",
            "inbound": [{"port": 80, "tags": {"kuma.io/service": "a", "kuma.io/zone": "zone-9"}}],
        }
    }
    claimed = {"kuma.io/origin": "global", "kuma.io/zone": "zone-9", "x": "y"}
    sent = envelope.Decoded("Dataplane", "default", "dp", claimed, spec, None)
    stored = rules.from_zone(sent, "zone-1")
    assert stored.labels == {"kuma.io/origin": "zone", "kuma.io/zone": "zone-1", "x": "y"}
    assert stored.spec["networking"]["inbound"][0]["tags"]["kuma.io/zone"] == "zone-1"
    ingress = rules.from_zone(
        envelope.Decoded("ZoneIngress", "", "zi", {}, {"zone": "other"}, None), "zone-1"
    )
    assert ingress.spec["zone"] == "zone-1"


def test_the_feed_wakes_watchers_of_the_written_control_plane_only() -> None:
    feed, cp, other = ChangeFeed(), uuid.uuid4(), uuid.uuid4()
    watcher = feed.watch(cp)
    feed.on_store_event(ResourcesChanged(other, 1, frozenset({"Mesh"})))
    assert not watcher.wakeup.is_set()
    feed.on_store_event(ResourcesChanged(cp, 2, frozenset({"MeshTimeout"})))
    feed.on_store_event(ResourcesChanged(cp, 3, frozenset({"Mesh"})))
    assert watcher.wakeup.is_set()
    assert watcher.take() == {"Mesh", "MeshTimeout"}
    assert not watcher.wakeup.is_set()
    feed.on_store_event(ResourcesChanged(cp, 4, None))
    assert watcher.take() is None


def test_credentials_are_read_from_the_address_path_and_masked() -> None:
    address = "grpcs://kds.example.com:5685/mzc_abcdefghijklmnopqrstuvwxyz234567"
    assert credential_in_address(address) == "mzc_abcdefghijklmnopqrstuvwxyz234567"
    assert credential_in_address("grpcs://kds.example.com:5685") is None
    in_userinfo = "grpcs://zone-1:mzc_abcdefghijklmnopqrstuvwxyz234567@kds.example.com:5685"
    assert credential_in_address(in_userinfo) == "mzc_abcdefghijklmnopqrstuvwxyz234567"
    assert "qrstuvwxyz" not in mask_credential(in_userinfo)
    assert credential_in_address("grpcs://[bad") is None
    masked = mask_credential(address)
    assert "mzc_abcd" in masked and "qrstuvwxyz" not in masked


def test_admin_requests_name_the_proxy_as_its_zone_knows_it() -> None:
    labels = {"kuma.io/display-name": "web-1", "k8s.kuma.io/namespace": "shop"}
    assert zone_local_name(Resource("Dataplane", "m", "web-1-xyz", {}, labels)) == "web-1.shop"
    assert zone_local_name(Resource("Dataplane", "m", "plain", {})) == "plain"


@pytest.mark.parametrize(
    ("version", "expected"),
    [("2.14.1", True), ("2.12.4", True), ("2.11.0", False), ("3.14.0", False), ("dev", True)],
)
def test_version_compatibility_is_kumas(version: str, expected: bool) -> None:
    assert compatible(version) is expected


def test_a_new_subscription_finalises_older_ones_and_the_list_is_capped() -> None:
    insight: dict[str, Any] = {}
    for i in range(12):
        insight = merged_insight(insight, {"id": str(i), "connectTime": "t"}, None)
    subscriptions = insight["subscriptions"]
    assert [s["id"] for s in subscriptions] == [str(i) for i in range(2, 12)]
    assert all(s.get("disconnectTime") for s in subscriptions[:-1])
    assert "disconnectTime" not in subscriptions[-1]


async def test_a_flooding_zone_is_paced_not_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(zone_to_global.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(zone_to_global.asyncio, "sleep", fake_sleep)
    pace = zone_to_global.Pace(rate=10.0, burst=3)
    for _ in range(5):
        await pace.wait()
    assert slept == [pytest.approx(0.1), pytest.approx(0.1)], "the burst passes, then 10/s"
    clock[0] += 60
    await pace.wait()
    assert len(slept) == 2, "an idle zone earns its burst back"


class _Context:
    def __init__(self, peer: str, **metadata: str) -> None:
        self._peer, self._metadata = peer, metadata

    def peer(self) -> str:
        return self._peer

    def invocation_metadata(self) -> list[Any]:
        return [type("Item", (), {"key": k, "value": v})() for k, v in self._metadata.items()]


class _NoCredentials:
    async def check_credential(self, secret: str) -> Any:
        return type("Found", (), {"outcome": "revoked"})()


async def test_a_refused_connection_tells_its_other_rpcs_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    authenticator = auth.Authenticator(_NoCredentials())
    sync_call = _Context("ipv4:10.0.0.1:4000", authorization="Bearer mzc_x")
    node = base_pb2.Node(id="zone-1")
    with pytest.raises(auth.Refused, match="revoked"):
        await authenticator.authenticate_sync(sync_call, "zone-1", node)  # type: ignore[arg-type]
    authenticator.unbind(sync_call, "zone-1")  # type: ignore[arg-type]
    other = _Context("ipv4:10.0.0.1:4000")
    with pytest.raises(auth.Refused, match="revoked"):
        await authenticator.authenticate_other(other, "zone-1")  # type: ignore[arg-type]


class _OneZoneCredential:
    async def check_credential(self, secret: str) -> Any:
        ids = {"org_id": uuid.uuid4(), "cp_id": uuid.uuid4(), "credential_id": uuid.uuid4()}
        return type("Found", (), {"outcome": "ok", "zone": "zone-2", **ids})()


async def test_a_port_reused_by_another_zone_gets_that_zones_own_identity() -> None:
    """zone-1's refused connection left its reason for its own RPCs; zone-2's next
    connection got the same client port (loopback, NAT) and must not inherit it."""
    authenticator = auth.Authenticator(_NoCredentials())
    port = "ipv4:10.0.0.1:4000"
    node = base_pb2.Node(id="zone-1")
    refused_call = _Context(port, authorization="Bearer mzc_x")
    with pytest.raises(auth.Refused, match="revoked"):
        await authenticator.authenticate_sync(refused_call, "zone-1", node)  # type: ignore[arg-type]
    authenticator.unbind(refused_call, "zone-1")  # type: ignore[arg-type]
    authenticator.credentials = _OneZoneCredential()
    sync_call = _Context(port, authorization="Bearer mzc_x")
    identity = await authenticator.authenticate_sync(sync_call, "zone-2", node)  # type: ignore[arg-type]
    other = await authenticator.authenticate_other(_Context(port), "zone-2")  # type: ignore[arg-type]
    assert other == identity and other.zone == "zone-2"


async def test_an_rpc_whose_connection_never_authenticates_is_refused_and_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auth, "BIND_WAIT_SECONDS", 0.01)
    authenticator = auth.Authenticator(_NoCredentials())
    with pytest.raises(auth.Refused, match="never authenticated"):
        await authenticator.authenticate_other(_Context("ipv4:10.0.0.2:1"), "z")  # type: ignore[arg-type]
    assert authenticator._bindings == {}


def test_a_write_of_types_a_stream_did_not_subscribe_to_does_not_wake_it() -> None:
    feed, cp = ChangeFeed(), uuid.uuid4()
    watcher = feed.watch(cp, interest={"MeshTimeout"})
    feed.on_store_event(ResourcesChanged(cp, 1, frozenset({"ZoneInsight", "Dataplane"})))
    assert not watcher.wakeup.is_set()
    feed.on_store_event(ResourcesChanged(cp, 2, frozenset({"MeshTimeout", "Dataplane"})))
    assert watcher.take() == {"MeshTimeout"}
    feed.on_store_event(ResourcesChanged(cp, 3, frozenset({"Zone"})))
    assert watcher.take() == {"Zone"}, "a disabled zone changes what every type sends"


async def test_work_that_fails_as_its_connection_ends_leaves_no_unretrieved_error() -> None:
    reported: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    identity = auth.ZoneIdentity(uuid.uuid4(), uuid.uuid4(), "zone-1", uuid.uuid4())
    connection = Connections().open(identity, "ipv4:127.0.0.1:1")

    async def write_to_the_ended_stream() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise RuntimeError("execute_batch failed") from None  # as grpc's write does

    loop.call_later(0.01, connection.end, auth.Refused(grpc.StatusCode.UNAUTHENTICATED, "revoked"))
    try:
        await until_ended(connection, write_to_the_ended_stream())
    except auth.Refused as refused:
        assert refused.message == "revoked"
    else:
        pytest.fail("until_ended returned although the connection ended")
    await asyncio.sleep(0.01)
    del connection  # its reason's traceback holds the work's task
    gc.collect()
    assert reported == []

"""Bad input on the KDS port: garbage bytes as messages, unknown type URLs,
undecodable Anys, invalid resources, oversized messages and floods. Each gets a NACK
with error_detail or ends its stream with a clear non-OK status, and the server keeps
serving a well-behaved zone meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import orjson
import pytest
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import any_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshmanager.kds import envelope
from meshmanager.kds.generated.kuma.mesh.v1alpha1 import kds_pb2
from meshmanager.kds.simulator import ZoneSimulator
from meshmanager.kds.simulator.client import G2Z_METHOD, Z2G_METHOD
from meshmanager.kds.zone_to_global import Z2G_TYPES
from meshmanager.model.resources.naming import hashed_name
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import Store
from meshmanager.store.resources import Create
from tests.conftest import Api
from tests.kds_harness import Kds, eventually, kds_context, new_control_plane, new_zone

T = TypeVar("T")
BIG = 64 * 1024 * 1024
KUMA = envelope.KUMA_RESOURCE_TYPE_URL
POLICY = {
    "targetRef": {"kind": "Mesh"},
    "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "3s"}}],
}


def _examples(strategy: st.SearchStrategy[T], count: int) -> list[T]:
    """Draws `count` examples with hypothesis (shrinking is not needed: every example
    is replayed and reported with its value)."""
    found: list[T] = []

    @settings(
        max_examples=count, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(strategy)
    def collect(value: T) -> None:
        found.append(value)

    collect()
    return found


@dataclass
class Fixture:
    kds: Kds
    scope: CpScope
    store: Store
    bystander: ZoneSimulator
    credentials: dict[str, str]


@pytest.fixture
async def fx(api: Api, store: Store) -> AsyncIterator[Fixture]:
    scope = await new_control_plane(api, "cp-fuzz")
    credentials = {name: await new_zone(store, scope, name) for name in ("good", "bad", "bad-2")}
    async with kds_context(store, None) as kds:
        bystander = kds.zone("good", credentials["good"])
        await bystander.wait_synced(10)
        yield Fixture(kds, scope, store, bystander, credentials)


async def _still_serving(fx: Fixture, name: str) -> None:
    """A policy written now reaches the well-behaved zone."""
    await fx.store.resources.write(
        fx.scope,
        [Create(Resource("MeshTimeout", "default", name, POLICY))],
    )
    hashed = hashed_name("default", name, None, None)
    await eventually(
        lambda: fx.bystander.store.get("MeshTimeout", "default", hashed), what="delta to bystander"
    )
    assert fx.bystander.observed.crashed is None


class RawZone:
    """A zone speaking raw bytes: identity serializers on both sync streams."""

    def __init__(self, fx: Fixture, name: str) -> None:
        self.zone = ZoneSimulator(fx.kds.address(fx.credentials[name]), name)
        self.channel = grpc.aio.insecure_channel(
            f"127.0.0.1:{fx.kds.port}",
            options=[
                ("grpc.use_local_subchannel_pool", 1),
                ("grpc.max_send_message_length", BIG),
                ("grpc.max_receive_message_length", BIG),
            ],
        )

    def stream(self, method: str) -> Any:
        return self.channel.stream_stream(method)(metadata=self.zone.metadata)

    async def authenticate(self) -> Any:
        g2z = self.stream(G2Z_METHOD)
        initial = discovery_pb2.DeltaDiscoveryRequest(
            type_url="Mesh", resource_names_subscribe=["*"], node=self.zone.node(True)
        )
        await g2z.write(initial.SerializeToString())
        first = discovery_pb2.DeltaDiscoveryResponse.FromString(await g2z.read())
        assert first.type_url == "Mesh"
        return g2z

    async def zone_to_global(self) -> Any:
        z2g = self.stream(Z2G_METHOD)
        for _ in Z2G_TYPES:
            request = discovery_pb2.DeltaDiscoveryRequest.FromString(await z2g.read())
            assert request.node.id == self.zone.zone
        return z2g

    async def close(self) -> None:
        await self.channel.close()


async def _status(call: Any) -> tuple[grpc.StatusCode, str]:
    code = await asyncio.wait_for(call.code(), 10)
    return code, await call.details()


def _response(type_url: str, items: list[discovery_pb2.Resource], nonce: str) -> bytes:
    return discovery_pb2.DeltaDiscoveryResponse(
        type_url=type_url, resources=items, nonce=nonce
    ).SerializeToString()


def _item(name: str, value: bytes, type_url: str = KUMA) -> discovery_pb2.Resource:
    return discovery_pb2.Resource(name=name, resource=any_pb2.Any(type_url=type_url, value=value))


def _envelope(name: str, spec: any_pb2.Any | None, mesh: str = "default") -> bytes:
    wrapped = kds_pb2.KumaResource(meta=kds_pb2.KumaResource.Meta(name=name, mesh=mesh))
    if spec is not None:
        wrapped.spec.CopyFrom(spec)
    data: bytes = wrapped.SerializeToString()
    return data


async def test_garbage_before_authentication_ends_the_stream(fx: Fixture) -> None:
    for n, garbage in enumerate(_examples(st.binary(min_size=1, max_size=300), 25)):
        raw = RawZone(fx, "bad")
        call = raw.stream(G2Z_METHOD)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call.write(garbage)
            await asyncio.wait_for(call.read(), 10)
        code = raised.value.code()
        assert code not in (grpc.StatusCode.OK, None), garbage
        await raw.close()
        if n % 10 == 0:
            await _still_serving(fx, f"alive-{n}")


def _spec(type_url: str = "", value: bytes = b"") -> any_pb2.Any:
    return any_pb2.Any(type_url=type_url, value=value)


DATAPLANE_URL = "type.googleapis.com/kuma.mesh.v1alpha1.Dataplane"
MESH_URL = "type.googleapis.com/kuma.mesh.v1alpha1.Mesh"
BAD_ZONE_DATA = [
    ("unknown type", _response("NoSuchType", [], "1"), "not accepted"),
    ("global-only type", _response("Mesh", [], "1"), "not accepted"),
    (
        "not a KumaResource",
        _response("Dataplane", [_item("x.default", b"", "type.googleapis.com/foo.Bar")], "1"),
        "not a KumaResource",
    ),
    (
        "undecodable envelope",
        _response("Dataplane", [_item("x.default", b"\xff\xff\xff\xff")], "1"),
        "not a KumaResource",
    ),
    (
        "no spec",
        _response("Dataplane", [_item("x.default", _envelope("x", None))], "1"),
        "no spec",
    ),
    (
        "wrong spec type",
        _response("Dataplane", [_item("x.default", _envelope("x", _spec(MESH_URL)))], "1"),
        "expected",
    ),
    (
        "invalid JSON spec",
        _response("MeshService", [_item("s.default", _envelope("s", _spec(value=b"{no")))], "1"),
        "not valid JSON",
    ),
    (
        "invalid dataplane",
        _response("Dataplane", [_item("x.default", _envelope("x", _spec(DATAPLANE_URL)))], "1"),
        "Dataplane",
    ),
    (
        "invalid MeshService",
        _response(
            "MeshService",
            [_item("s.default", _envelope("s", _spec(value=orjson.dumps({"state": "Weird"}))))],
            "1",
        ),
        "MeshService",
    ),
]


@pytest.mark.parametrize(("label", "message", "expected"), BAD_ZONE_DATA)
async def test_bad_zone_data_is_nacked_with_the_reason(
    fx: Fixture, label: str, message: bytes, expected: str
) -> None:
    raw = RawZone(fx, "bad")
    g2z = await raw.authenticate()
    z2g = await raw.zone_to_global()
    await z2g.write(message)
    reply = discovery_pb2.DeltaDiscoveryRequest.FromString(await asyncio.wait_for(z2g.read(), 10))
    assert reply.response_nonce == "1"
    assert reply.HasField("error_detail"), label
    assert expected in reply.error_detail.message, reply.error_detail.message
    assert reply.node.id == "bad", "node.id on every request, NACKs included"
    # the stream goes on: a valid (empty) response is ACKed
    await z2g.write(_response("Dataplane", [], "2"))
    ack = discovery_pb2.DeltaDiscoveryRequest.FromString(await asyncio.wait_for(z2g.read(), 10))
    assert ack.response_nonce == "2" and not ack.HasField("error_detail")
    await _still_serving(fx, "alive")
    g2z.cancel()
    await raw.close()


async def test_random_responses_get_an_ack_or_a_nack(fx: Fixture) -> None:
    types = st.sampled_from([*Z2G_TYPES, "", "Bogus", "Mesh"])
    items = st.lists(
        st.builds(
            _item,
            st.text(max_size=20),
            st.binary(max_size=120),
            st.sampled_from([KUMA, "", "type.googleapis.com/x"]),
        ),
        max_size=4,
    )
    cases = _examples(st.tuples(types, items), 60)
    raw = RawZone(fx, "bad")
    g2z = await raw.authenticate()
    z2g = await raw.zone_to_global()
    for n, (type_url, resources) in enumerate(cases, start=1):
        await z2g.write(_response(type_url, resources, str(n)))
        reply = discovery_pb2.DeltaDiscoveryRequest.FromString(
            await asyncio.wait_for(z2g.read(), 10)
        )
        assert reply.response_nonce == str(n)
        if reply.HasField("error_detail"):
            assert reply.error_detail.message
        else:
            assert all(not r.name for r in resources) or type_url in Z2G_TYPES
    await _still_serving(fx, "alive")
    g2z.cancel()
    await raw.close()


async def test_garbage_on_an_authenticated_stream_ends_it_with_a_clear_status(fx: Fixture) -> None:
    raw = RawZone(fx, "bad")
    g2z = await raw.authenticate()
    z2g = await raw.zone_to_global()
    await z2g.write(b"\xff\x00garbage")
    code, details = await _status(z2g)
    assert code not in (grpc.StatusCode.OK,), details
    # the global-to-zone stream survives or ends non-OK too; either way not OK
    await g2z.write(b"\x0a\xffnot-a-request")
    g2z_code, _ = await _status(g2z)
    assert g2z_code != grpc.StatusCode.OK
    await _still_serving(fx, "alive")
    await raw.close()


async def test_an_oversized_message_is_refused(fx: Fixture) -> None:
    raw = RawZone(fx, "bad")
    g2z = await raw.authenticate()
    z2g = await raw.zone_to_global()
    spec = any_pb2.Any(value=b'{"x":"' + b"a" * (11 * 1024 * 1024) + b'"}')
    await z2g.write(_response("MeshService", [_item("s.default", _envelope("s", spec))], "1"))
    code, details = await _status(z2g)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED, details
    g2z.cancel()
    await _still_serving(fx, "alive")
    await raw.close()


async def test_a_flood_is_answered_and_does_not_starve_other_zones(fx: Fixture) -> None:
    raw = RawZone(fx, "bad")
    g2z = await raw.authenticate()
    z2g = await raw.zone_to_global()
    count = 240

    async def flood() -> None:
        for n in range(1, count + 1):
            await z2g.write(_response("NoSuchType", [], str(n)))

    sender = asyncio.create_task(flood())
    await _still_serving(fx, "during-flood")
    replies = []
    for _ in range(count):
        raw_reply = await asyncio.wait_for(z2g.read(), 20)
        replies.append(discovery_pb2.DeltaDiscoveryRequest.FromString(raw_reply))
    await sender
    assert [r.response_nonce for r in replies] == [str(n) for n in range(1, count + 1)]
    assert all(r.HasField("error_detail") for r in replies)
    g2z.cancel()
    await raw.close()


async def test_bad_global_to_zone_requests_do_not_break_the_server(fx: Fixture) -> None:
    raw = RawZone(fx, "bad-2")
    g2z = await raw.authenticate()
    node = discovery_pb2.DeltaDiscoveryRequest(type_url="Mesh", response_nonce="999")
    await g2z.write(node.SerializeToString())  # an ACK of a response never sent
    nack = discovery_pb2.DeltaDiscoveryRequest(type_url="Mesh", response_nonce="1")
    nack.error_detail.message = "zone says no"
    await g2z.write(nack.SerializeToString())
    unknown = discovery_pb2.DeltaDiscoveryRequest(
        type_url="NoSuchType", resource_names_subscribe=["*"]
    )
    await g2z.write(unknown.SerializeToString())
    reply = discovery_pb2.DeltaDiscoveryResponse.FromString(await asyncio.wait_for(g2z.read(), 10))
    assert reply.type_url == "NoSuchType" and not reply.resources
    await _still_serving(fx, "alive")
    g2z.cancel()
    await raw.close()

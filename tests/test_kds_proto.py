"""The KDS protobuf layer: service shapes, the KumaResource envelope, wire bytes
derived from field numbers, and reproducibility of meshmanager/kds/generated/."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import any_pb2, empty_pb2, message, unknown_fields, wrappers_pb2

from meshmanager.kds.generated.kuma.mesh.v1alpha1 import (
    circuit_breaker_pb2,
    dataplane_insight_pb2,
    dataplane_pb2,
    externalservice_pb2,
    fault_injection_pb2,
    gateway_pb2,
    gateway_route_pb2,
    health_check_pb2,
    kds_pb2,
    kds_pb2_grpc,
    mesh_pb2,
    proxy_template_pb2,
    rate_limit_pb2,
    retry_pb2,
    service_insight_pb2,
    timeout_pb2,
    traffic_log_pb2,
    traffic_permission_pb2,
    traffic_route_pb2,
    traffic_trace_pb2,
    virtual_outbound_pb2,
    zone_ingress_insight_pb2,
    zone_ingress_pb2,
    zoneegress_pb2,
    zoneegressinsight_pb2,
)
from meshmanager.kds.generated.kuma.system.v1alpha1 import (
    config_pb2,
    secret_pb2,
    zone_insight_pb2,
    zone_pb2,
)

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "meshmanager" / "kds" / "generated"

DDReq = "envoy.service.discovery.v3.DeltaDiscoveryRequest"
DDResp = "envoy.service.discovery.v3.DeltaDiscoveryResponse"
P = "kuma.mesh.v1alpha1."

# full method -> (zone->global message, global->zone message, client streaming, server streaming)
METHODS = {
    "/kuma.mesh.v1alpha1.KDSSyncService/GlobalToZoneSync": (DDReq, DDResp, True, True),
    "/kuma.mesh.v1alpha1.KDSSyncService/ZoneToGlobalSync": (DDResp, DDReq, True, True),
    "/kuma.mesh.v1alpha1.GlobalKDSService/StreamXDSConfigs": (
        P + "XDSConfigResponse",
        P + "XDSConfigRequest",
        True,
        True,
    ),
    "/kuma.mesh.v1alpha1.GlobalKDSService/StreamStats": (
        P + "StatsResponse",
        P + "StatsRequest",
        True,
        True,
    ),
    "/kuma.mesh.v1alpha1.GlobalKDSService/StreamClusters": (
        P + "ClustersResponse",
        P + "ClustersRequest",
        True,
        True,
    ),
    "/kuma.mesh.v1alpha1.GlobalKDSService/HealthCheck": (
        P + "ZoneHealthCheckRequest",
        P + "ZoneHealthCheckResponse",
        False,
        False,
    ),
}

# Kuma type name -> protobuf spec class for every KDS type whose spec is a packed
# proto (spec §10 "P"); all other synced types carry JSON bytes.
PACKED_SPECS: dict[str, type[message.Message]] = {
    "Mesh": mesh_pb2.Mesh,
    "Secret": secret_pb2.Secret,
    "GlobalSecret": secret_pb2.Secret,
    "Config": config_pb2.Config,
    "ExternalService": externalservice_pb2.ExternalService,
    "MeshGatewayRoute": gateway_route_pb2.MeshGatewayRoute,
    "CircuitBreaker": circuit_breaker_pb2.CircuitBreaker,
    "FaultInjection": fault_injection_pb2.FaultInjection,
    "HealthCheck": health_check_pb2.HealthCheck,
    "ProxyTemplate": proxy_template_pb2.ProxyTemplate,
    "RateLimit": rate_limit_pb2.RateLimit,
    "Retry": retry_pb2.Retry,
    "Timeout": timeout_pb2.Timeout,
    "TrafficLog": traffic_log_pb2.TrafficLog,
    "TrafficPermission": traffic_permission_pb2.TrafficPermission,
    "TrafficRoute": traffic_route_pb2.TrafficRoute,
    "TrafficTrace": traffic_trace_pb2.TrafficTrace,
    "VirtualOutbound": virtual_outbound_pb2.VirtualOutbound,
    "ServiceInsight": service_insight_pb2.ServiceInsight,
    "MeshGateway": gateway_pb2.MeshGateway,
    "ZoneIngress": zone_ingress_pb2.ZoneIngress,
    "Dataplane": dataplane_pb2.Dataplane,
    "DataplaneInsight": dataplane_insight_pb2.DataplaneInsight,
    "ZoneIngressInsight": zone_ingress_insight_pb2.ZoneIngressInsight,
    "ZoneEgress": zoneegress_pb2.ZoneEgress,
    "ZoneEgressInsight": zoneegressinsight_pb2.ZoneEgressInsight,
}


# --- hand encoding from field numbers (protobuf wire format) -----------------


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def vfield(number: int, value: int) -> bytes:
    return varint(number << 3 | 0) + varint(value)


def lfield(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def fields(data: bytes) -> list[tuple[int, int, Any]]:
    """Decode one message level with protobuf's own wire reader: (number, wire type, value)."""
    holder = empty_pb2.Empty()
    holder.ParseFromString(data)
    found = unknown_fields.UnknownFieldSet(holder)
    return [(f.field_number, f.wire_type, f.data) for f in (found[i] for i in range(len(found)))]


VARINT, LEN = 0, 2


# --- (a) services ------------------------------------------------------------


def test_services_have_exactly_the_six_methods() -> None:
    services = kds_pb2.DESCRIPTOR.services_by_name
    assert set(services) == {"GlobalKDSService", "KDSSyncService"}
    found = {
        f"/{svc.full_name}/{m.name}": (
            m.input_type.full_name,
            m.output_type.full_name,
            m.client_streaming,
            m.server_streaming,
        )
        for svc in services.values()
        for m in svc.methods
    }
    assert found == METHODS


class _RecordingServer:
    def __init__(self) -> None:
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        pass

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        for name, handler in handlers.items():
            self.handlers[f"/{service}/{name}"] = handler


class _RecordingChannel:
    def __init__(self) -> None:
        self.calls: dict[str, tuple[str, Callable[..., Any], Callable[..., Any]]] = {}

    def _record(self, kind: str) -> Callable[..., object]:
        def register(
            path: str, request_serializer: Any, response_deserializer: Any, **_: Any
        ) -> object:
            self.calls[path] = (kind, request_serializer, response_deserializer)
            return object()

        return register

    def __getattr__(self, kind: str) -> Callable[..., object]:
        return self._record(kind)


def _message_of(from_string: Any) -> str:
    """DeltaDiscoveryRequest.FromString -> 'envoy...DeltaDiscoveryRequest'. (Serializers
    are the shared Message.SerializeToString, so only deserializers name their type.)"""
    return str(from_string.__self__.DESCRIPTOR.full_name)


def test_generated_grpc_code_uses_the_reversed_roles() -> None:
    server = _RecordingServer()
    kds_pb2_grpc.add_KDSSyncServiceServicer_to_server(_Global(), server)
    kds_pb2_grpc.add_GlobalKDSServiceServicer_to_server(_Global(), server)
    assert set(server.handlers) == set(METHODS)
    for path, (zone_sends, _, c_stream, s_stream) in METHODS.items():
        h = server.handlers[path]
        assert (h.request_streaming, h.response_streaming) == (c_stream, s_stream), path
        # the global (server side) decodes what the zone sends ...
        assert _message_of(h.request_deserializer) == zone_sends, path

    channel = _RecordingChannel()
    kds_pb2_grpc.KDSSyncServiceStub(channel)
    kds_pb2_grpc.GlobalKDSServiceStub(channel)
    assert set(channel.calls) == set(METHODS)
    for path, (_, global_sends, c_stream, _) in METHODS.items():
        kind, _, deserializer = channel.calls[path]
        assert kind == ("stream_stream" if c_stream else "unary_unary"), path
        # ... and the zone (client side) decodes what the global sends
        assert _message_of(deserializer) == global_sends, path


class _Global(kds_pb2_grpc.KDSSyncServiceServicer, kds_pb2_grpc.GlobalKDSServiceServicer):
    """Loopback global: answers each zone message with one of its own."""

    async def GlobalToZoneSync(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:
        async for req in request_iterator:
            yield discovery_pb2.DeltaDiscoveryResponse(type_url=req.type_url, nonce="1")

    async def ZoneToGlobalSync(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:
        yield discovery_pb2.DeltaDiscoveryRequest(type_url="Dataplane", node={"id": "zone-1"})
        async for resp in request_iterator:
            yield discovery_pb2.DeltaDiscoveryRequest(
                type_url=resp.type_url, response_nonce=resp.nonce, node={"id": "zone-1"}
            )
            return

    async def StreamXDSConfigs(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:
        yield kds_pb2.XDSConfigRequest(request_id="r1", resource_type="Dataplane")
        async for resp in request_iterator:
            yield kds_pb2.XDSConfigRequest(request_id=resp.request_id + "-seen")
            return

    async def StreamStats(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:
        yield kds_pb2.StatsRequest(request_id="s1", format=kds_pb2.JSON, used_only=True)
        async for resp in request_iterator:
            yield kds_pb2.StatsRequest(request_id=resp.request_id + "-seen")
            return

    async def StreamClusters(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:
        yield kds_pb2.ClustersRequest(request_id="c1")
        async for resp in request_iterator:
            yield kds_pb2.ClustersRequest(request_id=resp.request_id + "-seen")
            return

    async def HealthCheck(self, request: Any, context: Any) -> Any:
        reply = kds_pb2.ZoneHealthCheckResponse()
        reply.interval.FromSeconds(15)
        return reply


async def test_six_rpcs_over_a_loopback_server() -> None:
    server = grpc.aio.server()
    kds_pb2_grpc.add_KDSSyncServiceServicer_to_server(_Global(), server)
    kds_pb2_grpc.add_GlobalKDSServiceServicer_to_server(_Global(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            sync = kds_pb2_grpc.KDSSyncServiceStub(channel)
            admin = kds_pb2_grpc.GlobalKDSServiceStub(channel)
            md = (("client-id", "zone-1"),)

            call = sync.GlobalToZoneSync(metadata=md)
            await call.write(discovery_pb2.DeltaDiscoveryRequest(type_url="Mesh"))
            got = await call.read()
            assert isinstance(got, discovery_pb2.DeltaDiscoveryResponse)
            assert (got.type_url, got.nonce) == ("Mesh", "1")
            call.cancel()

            call = sync.ZoneToGlobalSync(metadata=md)
            first = await call.read()
            assert isinstance(first, discovery_pb2.DeltaDiscoveryRequest)
            assert (first.type_url, first.node.id) == ("Dataplane", "zone-1")
            await call.write(discovery_pb2.DeltaDiscoveryResponse(type_url="Dataplane", nonce="7"))
            ack = await call.read()
            assert (ack.type_url, ack.response_nonce) == ("Dataplane", "7")
            call.cancel()

            for rpc, reply in (
                (admin.StreamXDSConfigs, kds_pb2.XDSConfigResponse(config=b"{}")),
                (admin.StreamStats, kds_pb2.StatsResponse(stats=b"x 1")),
                (admin.StreamClusters, kds_pb2.ClustersResponse(error="boom")),
            ):
                call = rpc(metadata=md)
                request = await call.read()
                assert type(request).__name__ == type(reply).__name__.replace("Response", "Request")
                reply.request_id = request.request_id
                await call.write(reply)
                again = await call.read()
                assert again.request_id == request.request_id + "-seen"
                call.cancel()

            health = await admin.HealthCheck(kds_pb2.ZoneHealthCheckRequest(), metadata=md)
            assert health.interval.ToSeconds() == 15
    finally:
        await server.stop(None)


# --- (b) envelope round trips ------------------------------------------------


def _wrap(res: kds_pb2.KumaResource, name: str) -> bytes:
    body = any_pb2.Any()
    body.Pack(res)
    response = discovery_pb2.DeltaDiscoveryResponse(type_url="Mesh", nonce="1")
    response.resources.add(name=name, version="v", resource=body)
    return bytes(response.SerializeToString())


def _unwrap(wire: bytes) -> kds_pb2.KumaResource:
    response = discovery_pb2.DeltaDiscoveryResponse.FromString(wire)
    (item,) = response.resources
    assert item.resource.type_url == "type.googleapis.com/kuma.mesh.v1alpha1.KumaResource"
    res = kds_pb2.KumaResource()
    assert item.resource.Unpack(res)
    return res


def test_packed_old_style_spec_round_trips() -> None:
    mesh = mesh_pb2.Mesh(
        mtls=mesh_pb2.Mesh.Mtls(
            enabledBackend="ca-1",
            backends=[mesh_pb2.CertificateAuthorityBackend(name="ca-1", type="builtin")],
        ),
        meshServices=mesh_pb2.Mesh.MeshServices(mode=mesh_pb2.Mesh.MeshServices.Exclusive),
    )
    res = kds_pb2.KumaResource(
        meta=kds_pb2.KumaResource.Meta(name="default", labels={"kuma.io/origin": "global"})
    )
    res.spec.Pack(mesh)
    assert res.spec.type_url == "type.googleapis.com/kuma.mesh.v1alpha1.Mesh"

    back = _unwrap(_wrap(res, "default."))
    assert back == res
    assert back.meta.mesh == "" and back.meta.version == ""
    assert dict(back.meta.labels) == {"kuma.io/origin": "global"}
    assert not back.HasField("status")
    decoded = mesh_pb2.Mesh()
    assert back.spec.Unpack(decoded)
    assert decoded == mesh


def test_json_spec_with_empty_type_url_round_trips() -> None:
    spec = b'{"to":[{"targetRef":{"kind":"Mesh"},"default":{"connectionTimeout":"2s"}}]}'
    res = kds_pb2.KumaResource(
        meta=kds_pb2.KumaResource.Meta(
            name="t1-54dbd4c66zwbcf9c",
            mesh="default",
            labels={"kuma.io/origin": "global", "kuma.io/display-name": "t1"},
        ),
        spec=any_pb2.Any(value=spec),
        status=any_pb2.Any(value=b"{}"),
    )
    back = _unwrap(_wrap(res, "t1-54dbd4c66zwbcf9c.default"))
    assert back == res
    assert back.HasField("spec") and back.spec.type_url == ""
    assert back.spec.value == spec
    assert back.status.value == b"{}"
    # the envelope keeps a present-but-empty type_url: only field 2 (value) is on the wire
    assert fields(back.spec.SerializeToString()) == [(2, LEN, spec)]


@pytest.mark.parametrize("kind", sorted(PACKED_SPECS))
def test_every_packed_spec_type_has_its_kuma_type_url(kind: str) -> None:
    cls = PACKED_SPECS[kind]
    package = "kuma.system.v1alpha1." if kind in {"Secret", "GlobalSecret", "Config"} else P
    expected = package + ("Secret" if kind == "GlobalSecret" else kind)
    assert cls.DESCRIPTOR.full_name == expected
    res = kds_pb2.KumaResource(meta=kds_pb2.KumaResource.Meta(name="x"))
    res.spec.Pack(cls())
    assert res.spec.type_url == f"type.googleapis.com/{expected}"
    assert res.spec.Unpack(cls())


def test_insight_and_zone_messages_exist_for_the_global() -> None:
    assert zone_pb2.Zone.DESCRIPTOR.full_name == "kuma.system.v1alpha1.Zone"
    insight = zone_insight_pb2.ZoneInsight()
    sub = insight.subscriptions.add(id="s1", config="{}", auth_token_provided=False)
    sub.status.stat["Mesh"].responses_sent = 3
    sub.version.kumaCp.version = "2.14.3"
    again = zone_insight_pb2.ZoneInsight.FromString(insight.SerializeToString())
    assert again.subscriptions[0].status.stat["Mesh"].responses_sent == 3


def test_unknown_fields_from_newer_zones_survive_a_round_trip() -> None:
    wire = lfield(1, "zone-9") + lfield(99, "from the future")
    ingress = zone_ingress_pb2.ZoneIngress.FromString(wire)
    assert ingress.zone == "zone-9"
    assert ingress.SerializeToString() == wire


# --- (c) wire compatibility --------------------------------------------------


def test_kuma_resource_bytes_match_the_field_numbers() -> None:
    meta = (
        lfield(1, "default")
        + lfield(2, "mesh-1")
        + lfield(5, "v9")
        + lfield(6, lfield(1, "a") + lfield(2, "1"))
        + lfield(6, lfield(1, "b") + lfield(2, "2"))
    )
    spec = lfield(1, "type.googleapis.com/kuma.system.v1alpha1.Secret") + lfield(
        2, lfield(1, lfield(1, b"\x00key"))
    )
    status = lfield(2, b"{}")
    expected = lfield(1, meta) + lfield(2, spec) + lfield(3, status)

    res = kds_pb2.KumaResource(
        meta=kds_pb2.KumaResource.Meta(
            name="default", mesh="mesh-1", version="v9", labels={"b": "2", "a": "1"}
        ),
        status=any_pb2.Any(value=b"{}"),
    )
    res.spec.Pack(secret_pb2.Secret(data=wrappers_pb2.BytesValue(value=b"\x00key")))
    assert res.SerializeToString(deterministic=True) == expected
    assert kds_pb2.KumaResource.FromString(expected) == res

    top = fields(expected)
    assert [(n, wt) for n, wt, _ in top] == [(1, LEN), (2, LEN), (3, LEN)]
    meta_fields = fields(top[0][2])
    assert [(n, v) for n, _, v in meta_fields[:3]] == [(1, b"default"), (2, b"mesh-1"), (5, b"v9")]
    assert [fields(v) for n, _, v in meta_fields[3:]] == [
        [(1, LEN, b"a"), (2, LEN, b"1")],
        [(1, LEN, b"b"), (2, LEN, b"2")],
    ]


def test_envoy_admin_and_health_bytes() -> None:
    health = kds_pb2.ZoneHealthCheckResponse()
    health.interval.FromSeconds(10)
    assert health.SerializeToString() == bytes.fromhex("0a02080a")

    stats = kds_pb2.StatsRequest(
        request_id="id",
        resource_type="Dataplane",
        resource_name="dp-1",
        resource_mesh="default",
        format=kds_pb2.JSON,
        used_only=True,
    )
    assert stats.SerializeToString() == (
        lfield(1, "id")
        + lfield(2, "Dataplane")
        + lfield(3, "dp-1")
        + lfield(4, "default")
        + vfield(5, 1)
        + vfield(6, 1)
    )
    assert kds_pb2.XDSConfigRequest(request_id="id", include_eds=True).SerializeToString() == (
        lfield(1, "id") + vfield(5, 1)
    )

    # oneof result: error = 2, payload bytes = 3
    for cls, payload_field in (
        (kds_pb2.XDSConfigResponse, "config"),
        (kds_pb2.StatsResponse, "stats"),
        (kds_pb2.ClustersResponse, "clusters"),
    ):
        ok = cls.FromString(lfield(1, "id") + lfield(3, b"\x01\x02"))
        assert ok.WhichOneof("result") == payload_field
        assert getattr(ok, payload_field) == b"\x01\x02"
        failed = cls.FromString(lfield(1, "id") + lfield(2, "no such dataplane"))
        assert (failed.WhichOneof("result"), failed.error) == ("error", "no such dataplane")

    assert kds_pb2.ClustersRequest(format=kds_pb2.TEXT).SerializeToString() == b""


def test_dataplane_and_zone_ingress_bytes() -> None:
    inbound = lfield(2, lfield(1, "kuma.io/service") + lfield(2, "web")) + vfield(3, 8080)
    networking = lfield(1, inbound) + lfield(5, "10.0.0.1")
    wire = lfield(1, networking)
    dp = dataplane_pb2.Dataplane.FromString(wire)
    assert dp.networking.address == "10.0.0.1"
    assert dp.networking.inbound[0].port == 8080
    assert dict(dp.networking.inbound[0].tags) == {"kuma.io/service": "web"}
    assert dp.SerializeToString() == wire

    ingress = zone_ingress_pb2.ZoneIngress(
        zone="zone-1",
        networking=zone_ingress_pb2.ZoneIngress.Networking(advertisedPort=10001),
        availableServices=[
            zone_ingress_pb2.ZoneIngress.AvailableService(instances=2, mesh="default")
        ],
    )
    assert ingress.SerializeToString() == (
        lfield(1, "zone-1")
        + lfield(2, vfield(4, 10001))
        + lfield(3, vfield(2, 2) + lfield(3, "default"))
    )


# --- (d) reproducibility -----------------------------------------------------


def _tree(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_gen_protos_reproduces_the_committed_files(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen-protos"), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    committed, fresh = _tree(GENERATED), _tree(out)
    assert committed == fresh
    differing = [
        name
        for name in sorted(committed)
        if not filecmp.cmp(GENERATED / name, out / name, shallow=False)
    ]
    assert differing == []

"""Envoy admin forwarding end to end: the Kuma API of a control plane answers
`…/dataplanes/{name}/xds|stats|clusters` by asking the proxy's zone over its KDS
streams, on real sockets. The zone here is a bare gRPC client speaking the wire
protocol, with a stub credential lookup (credentials have their own tests)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import struct_pb2

from meshmanager.addresses import HostPort
from meshmanager.api.app import create_app
from meshmanager.kds.generated.kuma.mesh.v1alpha1 import kds_pb2
from meshmanager.kds.server import KdsServer
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import Store
from meshmanager.store.resources import Create
from tests.conftest import Api

CREDENTIAL = "mzc_" + "a" * 32


@dataclass
class _Found:
    outcome: str
    org_id: uuid.UUID | None
    cp_id: uuid.UUID | None
    zone: str | None
    credential_id: uuid.UUID | None


class _Credentials:
    def __init__(self, scope: CpScope, zone: str) -> None:
        self.scope, self.zone = scope, zone

    async def check_credential(self, secret: str) -> _Found:
        if secret != CREDENTIAL:
            return _Found("unknown", None, None, None, None)
        return _Found("ok", self.scope.org_id, self.scope.cp_id, self.zone, uuid.uuid4())


def _metadata(zone: str) -> list[tuple[str, str]]:
    return [("client-id", zone), ("version", "2.14.3"), ("features", "hash-suffix")]


def _node(zone: str, port: int) -> base_pb2.Node:
    config = {
        "multizone": {
            "zone": {"name": zone, "globalAddress": f"grpc://127.0.0.1:{port}/{CREDENTIAL}"}
        }
    }
    metadata = struct_pb2.Struct()
    metadata.update({"config": json.dumps(config), "features": ["hash-suffix"]})
    return base_pb2.Node(id=zone, metadata=metadata)


@dataclass
class Setup:
    api: Api
    client: httpx.AsyncClient
    kds: KdsServer
    scope: CpScope
    channel: grpc.aio.Channel


@pytest.fixture
async def setup(api: Api, store: Store) -> AsyncIterator[Setup]:
    created = await api.call("POST", "/v1/mesh/control-planes", json={"name": "cp"})
    cp_id = uuid.UUID(created.json()["id"])
    org_id = (await store.identity.bootstrap_admin() or (uuid.uuid4(), None))[0]
    scope = CpScope(org_id, cp_id)
    await store.resources.write(scope, [Create(Resource("Mesh", "", "default"))])
    dataplane = Resource(
        "Dataplane",
        "default",
        "web-1-abc",
        {
            "networking": {
                "address": "10.0.0.1",
                "inbound": [{"port": 80, "tags": {"kuma.io/service": "web"}}],
            }
        },
        {"kuma.io/origin": "zone", "kuma.io/zone": "zone-1", "kuma.io/display-name": "web-1"},
    )
    await store.resources.write(scope, [Create(dataplane)])
    kds = KdsServer(HostPort.parse("127.0.0.1:0"), store, None)
    kds.services.auth.credentials = _Credentials(scope, "zone-1")
    await kds.start()
    app = create_app(store, kds.services.admin)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        grpc.aio.insecure_channel(f"127.0.0.1:{kds.port}") as channel,
    ):
        yield Setup(api, client, kds, scope, channel)
    await kds.stop()


async def _connect_zone(setup: Setup) -> tuple[Any, Any]:
    """Opens GlobalToZoneSync (which authenticates the connection) and StreamXDSConfigs."""
    sync = setup.channel.stream_stream(
        "/kuma.mesh.v1alpha1.KDSSyncService/GlobalToZoneSync",
        request_serializer=discovery_pb2.DeltaDiscoveryRequest.SerializeToString,
        response_deserializer=discovery_pb2.DeltaDiscoveryResponse.FromString,
    )(metadata=_metadata("zone-1"))
    node = _node("zone-1", setup.kds.port)
    await sync.write(
        discovery_pb2.DeltaDiscoveryRequest(
            type_url="Mesh", resource_names_subscribe=["*"], node=node
        )
    )
    assert (await sync.read()).type_url == "Mesh"
    admin = setup.channel.stream_stream(
        "/kuma.mesh.v1alpha1.GlobalKDSService/StreamXDSConfigs",
        request_serializer=kds_pb2.XDSConfigResponse.SerializeToString,
        response_deserializer=kds_pb2.XDSConfigRequest.FromString,
    )(metadata=_metadata("zone-1"))
    for _ in range(100):  # the stream registers once the server authenticated it
        if setup.kds.services.admin.connected(setup.scope.cp_id, "zone-1", "xds"):
            break
        await asyncio.sleep(0.02)
    return sync, admin


def _url(setup: Setup, tail: str) -> str:
    return f"/v1/mesh/control-planes/{setup.scope.cp_id}/api/meshes/default/dataplanes/{tail}"


async def test_a_config_dump_is_fetched_from_the_proxys_zone(setup: Setup) -> None:
    sync, admin = await _connect_zone(setup)
    headers = setup.api.auth()
    pending = asyncio.create_task(setup.client.get(_url(setup, "web-1-abc/xds"), headers=headers))
    request = await asyncio.wait_for(admin.read(), timeout=5)
    assert (request.resource_type, request.resource_name, request.resource_mesh) == (
        "Dataplane",
        "web-1",
        "default",
    ), "the zone knows the proxy by its display name"
    dump = json.dumps({"configs": [{"@type": "bootstrap"}]}).encode()
    await admin.write(kds_pb2.XDSConfigResponse(request_id=request.request_id, config=dump))
    response = await asyncio.wait_for(pending, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"configs": [{"@type": "bootstrap"}]}
    sync.cancel()
    admin.cancel()


async def test_an_error_of_the_zone_reaches_the_caller(setup: Setup) -> None:
    sync, admin = await _connect_zone(setup)
    pending = asyncio.create_task(
        setup.client.get(_url(setup, "web-1-abc/xds"), headers=setup.api.auth())
    )
    request = await asyncio.wait_for(admin.read(), timeout=5)
    await admin.write(
        kds_pb2.XDSConfigResponse(request_id=request.request_id, error="envoy is down")
    )
    response = await asyncio.wait_for(pending, timeout=5)
    assert response.status_code == 400
    assert "envoy is down" in response.json()["detail"]
    sync.cancel()
    admin.cancel()


async def test_a_zone_without_streams_gets_a_clear_error(setup: Setup) -> None:
    response = await setup.client.get(_url(setup, "web-1-abc/stats"), headers=setup.api.auth())
    assert response.status_code in (400, 404)
    assert response.json()["title"]

"""`?format=k8s` (the Kubernetes objects a Kuma global with a universal store infers)
and `GET /config` (the control plane's kuma-cp configuration)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from meshmanager.addresses import HostPort
from meshmanager.api.app import create_app
from meshmanager.api.kuma import cp_config
from meshmanager.kds import server as kds_server
from meshmanager.kds import status as kds_status
from meshmanager.model.resources.naming import hashed_name
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store.resources import Create
from tests.conftest import Api
from tests.helpers import assign_role, create_cp, expect, my_org_id, new_user
from tests.test_kuma_api import assert_kuma_error

MESH_TIMEOUT = {
    "type": "MeshTimeout",
    "mesh": "default",
    "name": "timeout-global",
    "labels": {"team": "core"},
    "spec": {
        "targetRef": {"kind": "Mesh"},
        "to": [
            {
                "targetRef": {"kind": "Mesh"},
                "default": {"http": {"requestTimeout": "4s"}},
            }
        ],
    },
}
TRAFFIC_ROUTE_SPEC = {
    "sources": [{"match": {"kuma.io/service": "*"}}],
    "destinations": [{"match": {"kuma.io/service": "*"}}],
    "conf": {"destination": {"kuma.io/service": "*"}},
}


class Cp:
    def __init__(self, api: Api, cp: dict[str, Any], scope: CpScope) -> None:
        self.api = api
        self.id = cp["id"]
        self.base = f"/v1/mesh/control-planes/{cp['id']}/api"
        self.scope = scope

    async def get(self, path: str, status: int = 200, token: str | None = None) -> Any:
        return expect(await self.api.call("GET", self.base + path, token), status)

    async def put(self, path: str, body: dict[str, Any]) -> None:
        response = await self.api.call("PUT", self.base + path, json=body)
        assert response.status_code in (200, 201), response.text

    async def load(self, *resources: Resource) -> None:
        await self.api.store.resources.write(self.scope, [Create(r) for r in resources])


async def new_cp(api: Api, name: str = "k8s", **fields: Any) -> Cp:
    cp = await create_cp(api, name, **fields)
    found = Cp(api, cp, CpScope(await my_org_id(api), UUID(cp["id"])))
    await found.put("/meshes/default", {"type": "Mesh", "name": "default"})
    return found


def seconds(rest_time: str) -> str:
    """A universal `creationTime` as Kubernetes writes it: whole seconds, UTC."""
    moment = datetime.fromisoformat(rest_time.replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_a_new_style_policy_is_a_namespaced_crd_with_the_mesh_as_label(api: Api) -> None:
    cp = await new_cp(api)
    path = "/meshes/default/meshtimeouts/timeout-global"
    await cp.put(path, MESH_TIMEOUT)
    universal = await cp.get(path)
    body = await cp.get(f"{path}?format=k8s")
    assert body == {
        "kind": "MeshTimeout",
        "apiVersion": "kuma.io/v1alpha1",
        "metadata": {
            "name": "timeout-global",
            "namespace": "kuma-system",
            "creationTimestamp": seconds(universal["creationTime"]),
            # Kuma copies no labels but the mesh: `team` is left behind.
            "labels": {"kuma.io/mesh": "default"},
        },
        "spec": universal["spec"],
    }
    assert list(body) == ["kind", "apiVersion", "metadata", "spec"]
    assert list(body["metadata"]) == ["name", "namespace", "creationTimestamp", "labels"]
    assert await cp.get(f"{path}?format=kubernetes") == body
    assert await cp.get(f"{path}?format=universal") == universal


async def test_a_mesh_is_cluster_scoped_with_its_flat_spec_under_spec(api: Api) -> None:
    cp = await new_cp(api)
    mtls = {"enabledBackend": "ca-1", "backends": [{"name": "ca-1", "type": "builtin"}]}
    await cp.put("/meshes/secure", {"type": "Mesh", "name": "secure", "mtls": mtls})
    universal = await cp.get("/meshes/secure")
    body = await cp.get("/meshes/secure?format=k8s&namespace=ignored")
    assert body == {
        "kind": "Mesh",
        "apiVersion": "kuma.io/v1alpha1",
        "metadata": {"name": "secure", "creationTimestamp": seconds(universal["creationTime"])},
        "spec": {"mtls": mtls},
    }
    empty = await cp.get("/meshes/default?format=k8s")
    assert empty["spec"] == {} and "mesh" not in empty


async def test_a_legacy_policy_keeps_its_mesh_as_a_field(api: Api) -> None:
    cp = await new_cp(api)
    path = "/meshes/default/traffic-routes/route-all"
    body = {"type": "TrafficRoute", "mesh": "default", "name": "route-all", **TRAFFIC_ROUTE_SPEC}
    await cp.put(path, body)
    universal = await cp.get(path)
    k8s = await cp.get(f"{path}?format=k8s")
    assert k8s == {
        "kind": "TrafficRoute",
        "apiVersion": "kuma.io/v1alpha1",
        "metadata": {"name": "route-all", "creationTimestamp": seconds(universal["creationTime"])},
        "mesh": "default",
        "spec": TRAFFIC_ROUTE_SPEC,
    }
    assert list(k8s) == ["kind", "apiVersion", "metadata", "mesh", "spec"]


async def test_a_dataplane_is_namespaced_without_its_labels(api: Api) -> None:
    cp = await new_cp(api)
    networking = {
        "address": "10.0.0.5",
        "inbound": [{"port": 8080, "tags": {"kuma.io/service": "backend"}}],
    }
    labels = {"kuma.io/origin": "zone", "kuma.io/zone": "zone-1", "kuma.io/mesh": "default"}
    created = datetime(2025, 1, 10, 9, 1, 2, 345678, tzinfo=UTC)
    dataplane = Resource(
        "Dataplane",
        "default",
        "backend-1",
        {"networking": networking},
        labels,
        creation_time=created,
        modification_time=created,
    )
    await cp.load(dataplane)
    body = await cp.get("/meshes/default/dataplanes/backend-1?format=k8s")
    assert body["kind"] == "Dataplane" and body["mesh"] == "default"
    assert body["metadata"]["namespace"] == "kuma-system"
    assert "labels" not in body["metadata"]
    assert body["spec"] == {"networking": networking}
    assert body["metadata"]["creationTimestamp"].endswith("Z")
    assert "." not in body["metadata"]["creationTimestamp"]


async def test_secrets_are_kubernetes_secrets_of_kumas_types(api: Api) -> None:
    cp = await new_cp(api)
    await cp.put(
        "/meshes/default/secrets/s1",
        {"type": "Secret", "mesh": "default", "name": "s1", "data": "aGVsbG8="},
    )
    universal = await cp.get("/meshes/default/secrets/s1")
    body = await cp.get("/meshes/default/secrets/s1?format=k8s")
    assert body == {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {
            "name": "s1",
            "namespace": "kuma-system",
            "creationTimestamp": seconds(universal["creationTime"]),
            "labels": {"kuma.io/mesh": "default"},
        },
        "data": {"value": "aGVsbG8="},
        "type": "system.kuma.io/secret",
    }
    assert list(body) == ["kind", "apiVersion", "metadata", "data", "type"]

    await cp.put("/global-secrets/g1", {"type": "GlobalSecret", "name": "g1", "data": "d29ybGQ="})
    body = await cp.get("/globalsecrets/g1?format=k8s&namespace=other")
    assert body["metadata"]["namespace"] == "other" and "labels" not in body["metadata"]
    assert body["data"] == {"value": "d29ybGQ="}
    assert body["type"] == "system.kuma.io/global-secret"


async def test_status_is_carried_and_namespace_can_be_overridden(api: Api) -> None:
    cp = await new_cp(api)
    spec = {"selector": {"dataplaneTags": {"app": "web"}}, "ports": [{"port": 80}]}
    status = {"addresses": [{"hostname": "web.svc.mesh.local"}], "vips": [{"ip": "241.0.0.1"}]}
    service = Resource("MeshService", "default", "web", spec, {}, status=status)
    plain = Resource("MeshService", "default", "plain", spec, {})
    await cp.load(service, plain)
    body = await cp.get("/meshes/default/meshservices/web?format=k8s&namespace=shop")
    assert list(body) == ["kind", "apiVersion", "metadata", "spec", "status"]
    assert body["metadata"]["namespace"] == "shop"
    assert body["metadata"]["labels"] == {"kuma.io/mesh": "default"}
    assert (body["spec"], body["status"]) == (spec, status)
    assert (await cp.get("/meshes/default/meshservices/plain?format=k8s"))["status"] == {}
    # `?namespace=` with no value is no override.
    body = await cp.get("/meshes/default/meshservices/web?format=k8s&namespace=")
    assert body["metadata"]["namespace"] == "kuma-system"


async def test_an_unknown_format_is_kumas_400_after_the_lookup(api: Api) -> None:
    cp = await new_cp(api)
    response = await api.call("GET", f"{cp.base}/meshes/default?format=yaml")
    body = assert_kuma_error(response, 400, "Could not retrieve a resource")
    reason = '"format" must be one of ["k8s", "kubernetes", "universal"]'
    assert body == {
        "type": "/std-errors",
        "status": 400,
        "title": "Could not retrieve a resource",
        "detail": "Resource is not valid",
        "invalid_parameters": [{"field": "", "reason": reason}],
        "details": "Resource is not valid",
        "causes": [{"field": "", "message": reason}],
    }
    missing = await api.call("GET", f"{cp.base}/meshes/nope?format=yaml")
    assert_kuma_error(missing, 404, "Could not retrieve a resource")


async def test_kri_lookups_answer_k8s_in_the_namespace_of_the_kri(api: Api) -> None:
    cp = await new_cp(api)
    await cp.put("/meshes/default/meshtimeouts/timeout-global", MESH_TIMEOUT)
    body = await cp.get("/_kri/kri_mt_default___timeout-global_?format=k8s")
    assert body["kind"] == "MeshTimeout"
    assert body["metadata"]["name"] == "timeout-global"
    assert body["metadata"]["namespace"] == "kuma-system"

    # A zone's policy from a Kubernetes namespace, stored under its KDS hashed name.
    stored = hashed_name("default", "local", "zone-1", "app-ns")
    labels = {
        "kuma.io/origin": "zone",
        "kuma.io/zone": "zone-1",
        "k8s.kuma.io/namespace": "app-ns",
        "kuma.io/display-name": "local",
    }
    await cp.load(Resource("MeshTimeout", "default", stored, MESH_TIMEOUT["spec"], labels))
    body = await cp.get("/_kri/kri_mt_default_zone-1_app-ns_local_?format=kubernetes")
    assert body["metadata"]["name"] == stored
    assert body["metadata"]["namespace"] == "app-ns"

    response = await api.call("GET", f"{cp.base}/_kri/kri_mt_default___timeout-global_?format=x")
    assert_kuma_error(response, 400, "Could not format a resource")


# --- /config --------------------------------------------------------------------------


async def test_config_is_a_kuma_global_config_for_viewers(api: Api) -> None:
    features = [{"type": "MeshCreation", "meshCreation": {"enabled": True}}]
    cp = await create_cp(api, "configured", features=features)
    base = f"/v1/mesh/control-planes/{cp['id']}/api"
    missing_token = await api.client.get(f"{base}/config")
    assert_kuma_error(missing_token, 401)
    viewer = await new_user(api, "viewer@acme.example")
    await assign_role(api, "users", viewer.id, "Viewer", cp["id"])
    body = expect(await api.call("GET", f"{base}/config", viewer.token), 200)
    assert list(body) == ["environment", "mode", "store", "apiServer", "defaults", "multizone"]
    assert (body["environment"], body["mode"]) == ("universal", "global")
    dialect = api.store.dialect.name
    assert body["store"]["type"] == ("postgres" if dialect == "postgresql" else "memory")
    assert body["store"]["postgres"] is None
    assert body["apiServer"]["basePath"] == base
    assert body["defaults"]["skipMeshCreation"] is False
    assert body["defaults"]["SkipHostnameGenerators"] is True
    kds = body["multizone"]["global"]["kds"]
    assert kds["grpcPort"] == 5685
    assert kds["maxMsgSize"] == 10485760
    assert kds["zoneInsightFlushInterval"] == "10s"
    assert kds["refreshInterval"] == "5m0s"
    assert kds["tlsEnabled"] is False
    assert "password" not in str(body).lower()

    plain = await create_cp(api, "plain")
    other = expect(await api.call("GET", f"/v1/mesh/control-planes/{plain['id']}/api/config"), 200)
    assert other["defaults"]["skipMeshCreation"] is True


@pytest.fixture
async def kds_api(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api.store, None, HostPort("0.0.0.0", 15685))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_config_shows_the_kds_port_the_server_listens_on(
    api: Api, kds_api: httpx.AsyncClient
) -> None:
    cp = await create_cp(api, "kds")
    response = await kds_api.get(
        f"/v1/mesh/control-planes/{cp['id']}/api/config", headers=api.auth()
    )
    assert expect(response, 200)["multizone"]["global"]["kds"]["grpcPort"] == 15685


def test_config_restates_what_the_kds_server_uses() -> None:
    assert cp_config.KDS_MAX_MESSAGE_BYTES == kds_server.MAX_MESSAGE_BYTES
    assert cp_config.KDS_RESYNC_SECONDS == kds_server.SAFETY_NET_SECONDS
    assert cp_config.KDS_ZONE_INSIGHT_FLUSH_SECONDS == kds_status.FLUSH_SECONDS
    assert [cp_config.go_duration(s) for s in (0, 0.2, 1, 10, 60, 300, 3725)] == [
        "0s",
        "200ms",
        "1s",
        "10s",
        "1m0s",
        "5m0s",
        "1h2m5s",
    ]

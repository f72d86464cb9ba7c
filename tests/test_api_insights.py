"""Insights and overviews of the Kuma API: what the global computes from stored
Dataplanes, insights and ExternalServices, and the shapes kumactl and the GUI decode."""

from __future__ import annotations

from typing import Any

import pytest

from meshmanager.model.resources.insights import (
    DataplaneOverview,
    GlobalInputs,
    MeshInputs,
    Status,
    global_insight,
    mesh_insight_spec,
    service_insight_spec,
    service_overview,
)
from meshmanager.model.resources.stored import Resource
from tests.conformance.api_vectors import ControlPlane, fresh_control_plane, parse_resources
from tests.conftest import Api
from tests.helpers import expect

CONNECTED = {"id": "s1", "connectTime": "2026-01-01T00:00:00Z"}
DISCONNECTED = {**CONNECTED, "disconnectTime": "2026-01-01T01:00:00Z"}


def dataplane(
    name: str,
    *inbounds: dict[str, Any],
    gateway: dict[str, Any] | None = None,
    mesh: str = "default",
) -> Resource:
    networking: dict[str, Any] = {"address": "10.0.0.1"}
    if gateway is not None:
        networking["gateway"] = gateway
    if inbounds:
        networking["inbound"] = list(inbounds)
    return Resource("Dataplane", mesh, name, {"networking": networking})


def inbound(service: str | None, port: int = 8080, **extra: Any) -> dict[str, Any]:
    tags = {"kuma.io/service": service} if service else {"app": "x"}
    return {"port": port, "tags": tags, **extra}


def insight(
    name: str, *subscriptions: dict[str, Any], mesh: str = "default", **extra: Any
) -> Resource:
    return Resource("DataplaneInsight", mesh, name, {"subscriptions": list(subscriptions), **extra})


def overview(dp: Resource, *subscriptions: dict[str, Any], **extra: Any) -> DataplaneOverview:
    if not subscriptions and not extra:
        return DataplaneOverview(dp)
    return DataplaneOverview(dp, insight(dp.name, *subscriptions, mesh=dp.mesh, **extra))


def versioned(kuma_dp: str, envoy: str) -> dict[str, Any]:
    return {**CONNECTED, "version": {"kumaDp": {"version": kuma_dp}, "envoy": {"version": envoy}}}


MESH = Resource("Mesh", "", "default", {})
EXCLUSIVE_MESH = Resource("Mesh", "", "default", {"meshServices": {"mode": "Exclusive"}})
BUILTIN = {"type": "BUILTIN", "tags": {"kuma.io/service": "edge"}}
DELEGATED = {"tags": {"kuma.io/service": "kong"}}


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (overview(dataplane("a", inbound("web")), CONNECTED), Status.ONLINE),
        (overview(dataplane("a", inbound("web")), DISCONNECTED), Status.OFFLINE),
        (overview(dataplane("a", inbound("web"))), Status.OFFLINE),
        (
            overview(
                dataplane("a", inbound("web"), inbound("web", 81, health={"ready": False})),
                CONNECTED,
            ),
            Status.PARTIALLY_DEGRADED,
        ),
        (overview(dataplane("a", inbound("web", state="NotReady")), CONNECTED), Status.OFFLINE),
        (overview(dataplane("a"), CONNECTED), Status.OFFLINE),
        (overview(dataplane("gw", gateway=BUILTIN), CONNECTED), Status.ONLINE),
        (overview(dataplane("gw", gateway=DELEGATED), DISCONNECTED), Status.OFFLINE),
    ],
    ids=[
        "connected",
        "disconnected",
        "no-insight",
        "one-inbound-unhealthy",
        "no-inbound-ready",
        "no-inbound",
        "gateway-connected",
        "gateway-disconnected",
    ],
)
def test_dataplane_status_follows_connection_and_inbound_readiness(
    subject: DataplaneOverview, expected: Status
) -> None:
    assert subject.status is expected


def _mixed_mesh(mesh: Resource = MESH) -> MeshInputs:
    return MeshInputs(
        mesh=mesh,
        dataplanes=[
            overview(
                dataplane("web-1", inbound("web")),
                versioned("2.14.3", "1.36.0"),
                mTLS={"issuedBackend": "ca-1", "supportedBackends": ["ca-1", "ca-2"]},
            ),
            overview(
                dataplane("web-2", inbound("web"), inbound("web", 81, state="NotReady")),
                versioned("2.14.3", "1.36.0"),
            ),
            overview(dataplane("db-1", inbound("db"), inbound("db", 5433, state="Ignored"))),
            overview(dataplane("edge-1", gateway=BUILTIN), CONNECTED),
            overview(dataplane("kong-1", gateway=DELEGATED), DISCONNECTED),
        ],
        external_services=[
            Resource(
                "ExternalService",
                "default",
                "httpbin",
                {
                    "networking": {"address": "httpbin.org:443"},
                    "tags": {"kuma.io/service": "httpbin", "kuma.io/zone": "zone-1"},
                },
            )
        ],
        resource_counts={
            "Dataplane": 5,
            "DataplaneInsight": 4,
            "ExternalService": 1,
            "MeshTimeout": 2,
            "Secret": 1,
        },
    )


def test_mesh_insight_counts_dataplanes_versions_mtls_services_and_resources() -> None:
    assert mesh_insight_spec(_mixed_mesh()) == {
        "dataplanes": {"total": 5, "online": 2, "offline": 2, "partiallyDegraded": 1},
        "policies": {"MeshTimeout": {"total": 2}},
        "dpVersions": {
            # a partially degraded proxy is not in its version's total, as in Kuma
            "kumaDp": {
                "2.14.3": {"total": 1, "online": 1, "partiallyDegraded": 1},
                "unknown": {"total": 3, "online": 1, "offline": 2},
            },
            "envoy": {
                "1.36.0": {"total": 1, "online": 1, "partiallyDegraded": 1},
                "unknown": {"total": 3, "online": 1, "offline": 2},
            },
        },
        "mTLS": {
            "issuedBackends": {"ca-1": {"total": 1, "online": 1}},
            "supportedBackends": {
                "ca-1": {"total": 1, "online": 1},
                "ca-2": {"total": 1, "online": 1},
            },
        },
        "services": {"total": 5, "internal": 4, "external": 1},
        "dataplanesByType": {
            "standard": {"total": 3, "online": 1, "offline": 1, "partiallyDegraded": 1},
            "gateway": {"total": 2, "online": 1, "offline": 1},
            "gatewayBuiltin": {"total": 1, "online": 1},
            "gatewayDelegated": {"total": 1, "offline": 1},
        },
        "resources": {
            "Dataplane": {"total": 5},
            "ExternalService": {"total": 1},
            "MeshTimeout": {"total": 2},
            "Secret": {"total": 1},
        },
    }


def test_an_empty_mesh_insight_still_has_every_object_kumactl_reads() -> None:
    assert mesh_insight_spec(MeshInputs(MESH)) == {
        "dataplanes": {},
        "dpVersions": {},
        "mTLS": {},
        "services": {},
        "dataplanesByType": {
            "standard": {},
            "gateway": {},
            "gatewayBuiltin": {},
            "gatewayDelegated": {},
        },
    }


def test_service_insight_has_a_status_per_service() -> None:
    assert service_insight_spec(_mixed_mesh()) == {
        "services": {
            "db": {"status": "offline", "dataplanes": {"offline": 1}},
            "edge": {
                "status": "online",
                "dataplanes": {"online": 1},
                "serviceType": "gateway_builtin",
            },
            "httpbin": {
                "status": "not_available",
                "dataplanes": {},
                "serviceType": "external",
                "addressPort": "httpbin.org:443",
                "zones": ["zone-1"],
            },
            "kong": {
                "status": "offline",
                "dataplanes": {"offline": 1},
                "serviceType": "gateway_delegated",
            },
            # web-2 is partially degraded, which a service counts as offline, and is
            # counted once per inbound, as Kuma does
            "web": {
                "status": "partially_degraded",
                "dataplanes": {"online": 1, "offline": 2},
                "issuedBackends": {"ca-1": 1},
            },
        }
    }


def test_exclusive_mesh_services_mode_keeps_only_delegated_gateways() -> None:
    inputs = _mixed_mesh(EXCLUSIVE_MESH)
    assert list(service_insight_spec(inputs)["services"]) == ["kong"]
    assert "services" not in mesh_insight_spec(inputs)


def test_service_overview_fills_total_and_internal_address() -> None:
    stored = {"status": "none", "serviceType": "internal", "dataplanes": {"online": 2}}
    assert service_overview("web", stored) == {
        "dataplanes": {"total": 2, "online": 2},
        "addressPort": "web.mesh:80",
    }
    external = {"status": "not_available", "serviceType": "external", "addressPort": "a:1"}
    assert service_overview("ext", external) == {**external, "dataplanes": {}}


def test_global_insight_sums_meshes_services_and_zones() -> None:
    inputs = _mixed_mesh()
    summary = global_insight(
        GlobalInputs(
            mesh_insights=[mesh_insight_spec(inputs), mesh_insight_spec(inputs)],
            services=list(service_insight_spec(inputs)["services"].values()),
            zone_insights=[{"subscriptions": [CONNECTED]}, {"subscriptions": [DISCONNECTED]}],
            zone_ingress_insights=[{"subscriptions": [CONNECTED]}],
            zone_egress_insights=[],
            global_counts={"HostnameGenerator": 2, "GlobalSecret": 3, "Mesh": 2, "Zone": 2},
        )
    )
    assert summary["dataplanes"]["standard"] == {
        "offline": 2,
        "online": 2,
        "partiallyDegraded": 2,
        "total": 6,
    }
    assert summary["meshes"] == {"total": 2} and summary["policies"] == {"total": 4}
    # admin-only GlobalSecrets and the types counted under `zones` are left out
    assert summary["resources"]["HostnameGenerator"] == {"total": 2}
    assert not {"GlobalSecret", "Mesh", "Zone"} & set(summary["resources"])
    assert summary["resources"]["MeshTimeout"] == {"total": 4}
    assert summary["services"] == {
        "external": {"total": 1},
        "gatewayBuiltin": {"offline": 0, "online": 1, "partiallyDegraded": 0, "total": 1},
        "gatewayDelegated": {"offline": 1, "online": 0, "partiallyDegraded": 0, "total": 1},
        "internal": {"offline": 1, "online": 0, "partiallyDegraded": 1, "total": 2},
    }
    assert summary["zones"] == {
        "controlPlanes": {"online": 1, "total": 2},
        "zoneEgresses": {"online": 0, "total": 0},
        "zoneIngresses": {"online": 1, "total": 1},
    }


# Through the API, with resources loaded into the store as zones would sync them.

STORE = """
type: Mesh
name: default
---
type: Mesh
name: other
---
type: Dataplane
mesh: default
name: web-1
labels: {kuma.io/zone: zone-1, team: core}
networking:
  address: 10.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: web, version: v1}}]
---
type: DataplaneInsight
mesh: default
name: web-1
subscriptions: [{id: s1, connectTime: "2026-01-01T00:00:00Z"}]
mTLS: {issuedBackend: ca-1, supportedBackends: [ca-1]}
---
type: Dataplane
mesh: default
name: web-2
networking:
  address: 10.0.0.2
  inbound: [{port: 8080, tags: {kuma.io/service: web, version: v2}}]
---
type: Dataplane
mesh: default
name: edge
networking:
  address: 10.0.0.3
  gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}
---
type: DataplaneInsight
mesh: default
name: edge
subscriptions: [{id: s2, connectTime: "2026-01-01T00:00:00Z"}]
---
type: Dataplane
mesh: other
name: api-1
networking:
  address: 10.1.0.1
  inbound: [{port: 80, tags: {kuma.io/service: api}}]
---
type: ExternalService
mesh: default
name: httpbin
networking: {address: "httpbin.org:443"}
tags: {kuma.io/service: httpbin}
---
type: MeshTimeout
mesh: default
name: timeout
spec: {targetRef: {kind: Mesh}}
---
type: Zone
name: zone-1
enabled: true
---
type: ZoneInsight
name: zone-1
subscriptions: [{id: z1, globalInstanceId: g1, connectTime: "2026-01-01T00:00:00Z"}]
---
type: Zone
name: zone-2
---
type: ZoneIngress
name: ingress-1
zone: zone-1
networking: {address: 10.2.0.1, port: 10001}
---
type: ZoneIngressInsight
name: ingress-1
subscriptions: [{id: i1, connectTime: "2026-01-01T00:00:00Z"}]
---
type: ZoneEgress
name: egress-1
zone: zone-1
networking: {address: 10.3.0.1, port: 10002}
---
type: HostnameGenerator
name: local
spec: {template: "{{ .DisplayName }}.mesh"}
"""


@pytest.fixture
async def cp(api: Api) -> ControlPlane:
    loaded = await fresh_control_plane(api, "insights")
    await loaded.load(parse_resources(STORE))
    return loaded


async def get(api: Api, cp: ControlPlane, path: str, status: int = 200, /, **params: Any) -> Any:
    return expect(await api.call("GET", cp.base + path, params=params), status)


async def test_mesh_insights_list_every_mesh_with_a_dataplanes_object(
    api: Api, cp: ControlPlane
) -> None:
    listed = await get(api, cp, "/mesh-insights")
    assert listed["total"] == 2 and listed["next"] is None
    default, other = listed["items"]
    assert default["type"] == "MeshInsight" and default["name"] == "default"
    assert "mesh" not in default and default["creationTime"].endswith("Z")
    assert default["dataplanes"] == {"total": 3, "online": 2, "offline": 1}
    assert default["policies"] == {"MeshTimeout": {"total": 1}}
    assert default["services"] == {"total": 3, "internal": 2, "external": 1}
    assert default["mTLS"]["issuedBackends"] == {"ca-1": {"total": 1, "online": 1}}
    assert other["dataplanes"] == {"total": 1, "offline": 1}
    assert await get(api, cp, "/mesh-insights/other") == other


async def test_mesh_insights_page_and_filter_like_any_list(api: Api, cp: ControlPlane) -> None:
    first = await get(api, cp, "/mesh-insights", size=1)
    assert [i["name"] for i in first["items"]] == ["default"]
    assert first["next"].endswith("/mesh-insights?offset=1&size=1")
    assert [i["name"] for i in (await get(api, cp, "/mesh-insights", name="oth"))["items"]] == [
        "other"
    ]
    labelled = await get(api, cp, "/mesh-insights", **{"filter[labels.team]": "core"})
    assert labelled == {"total": 0, "items": [], "next": None}
    missing = await get(api, cp, "/mesh-insights/nope", 404)
    assert missing["title"] == "Could not retrieve a resource"


async def test_service_insights_are_expanded_per_service(api: Api, cp: ControlPlane) -> None:
    listed = await get(api, cp, "/meshes/default/service-insights")
    assert [i["name"] for i in listed["items"]] == ["edge", "httpbin", "web"]
    web = listed["items"][2]
    assert web == {
        "type": "ServiceInsight",
        "mesh": "default",
        "name": "web",
        "creationTime": web["creationTime"],
        "modificationTime": web["modificationTime"],
        "status": "partially_degraded",
        "dataplanes": {"total": 2, "online": 1, "offline": 1},
        "issuedBackends": {"ca-1": 1},
        "addressPort": "web.mesh:80",
    }
    assert await get(api, cp, "/meshes/default/service-insights/web") == web
    everywhere = await get(api, cp, "/service-insights")
    assert [(i["mesh"], i["name"]) for i in everywhere["items"]][-1] == ("other", "api")


async def test_service_insights_filter_by_type_and_name(api: Api, cp: ControlPlane) -> None:
    path = "/meshes/default/service-insights"
    typed = await get(api, cp, path, type="gateway_builtin, EXTERNAL")
    assert [i["name"] for i in typed["items"]] == ["edge", "httpbin"]
    named = await get(api, cp, path, name="e", size=1)
    assert [i["name"] for i in named["items"]] == ["edge"] and named["total"] == 2
    bad = await get(api, cp, path, 400, type="internal,sidecar")
    assert (
        bad["title"] == "Bad Request" and bad["detail"] == "bad request: unsupported service type"
    )


async def test_an_unknown_service_has_empty_counts_and_an_unknown_mesh_is_404(
    api: Api, cp: ControlPlane
) -> None:
    unknown = await get(api, cp, "/meshes/default/service-insights/ghost")
    assert unknown["dataplanes"] == {} and unknown["addressPort"] == "ghost.mesh:80"
    missing = await get(api, cp, "/meshes/nope/service-insights", 404)
    assert missing["title"] == "Failed to retrieve Mesh"
    refused = await api.call("PUT", f"{cp.base}/meshes/default/service-insights/web", json={})
    assert refused.status_code == 405


async def test_dataplane_overviews_join_each_dataplane_with_its_insight(
    api: Api, cp: ControlPlane
) -> None:
    listed = await get(api, cp, "/meshes/default/dataplanes/_overview")
    assert [i["name"] for i in listed["items"]] == ["edge", "web-1", "web-2"]
    web_1 = listed["items"][1]
    assert web_1["type"] == "DataplaneOverview" and web_1["mesh"] == "default"
    assert web_1["labels"] == {"kuma.io/zone": "zone-1", "team": "core"}
    assert web_1["kri"] == "kri_dp_default_zone-1__web-1_"
    assert web_1["dataplane"]["networking"]["address"] == "10.0.0.1"
    assert web_1["dataplaneInsight"]["mTLS"]["issuedBackend"] == "ca-1"
    assert "dataplaneInsight" not in listed["items"][2]  # a list leaves a missing insight out
    single = await get(api, cp, "/meshes/default/dataplanes/web-2/_overview")
    assert single["dataplaneInsight"] == {}  # a single overview shows it empty
    assert await get(api, cp, "/meshes/default/dataplanes+insights") == listed
    assert await get(api, cp, "/meshes/default/dataplanes+insights/web-1") == web_1
    missing = await get(api, cp, "/meshes/default/dataplanes/nope/_overview", 404)
    assert missing["title"] == "Could not retrieve a resource"


async def test_dataplane_overviews_filter_and_page(api: Api, cp: ControlPlane) -> None:
    path = "/meshes/default/dataplanes/_overview"

    async def names(**params: Any) -> list[str]:
        return [i["name"] for i in (await get(api, cp, path, **params))["items"]]

    assert await names(tag="version:v2") == ["web-2"]
    assert await names(gateway="builtin") == ["edge"]
    assert await names(gateway="false", name="web-") == ["web-1", "web-2"]
    assert await names(**{"filter[labels.team]": "core"}) == ["web-1"]
    paged = await get(api, cp, path, size=2, gateway="false")
    assert paged["total"] == 2 and paged["next"] is None
    paged = await get(api, cp, path, size=1, offset=1)
    assert [i["name"] for i in paged["items"]] == ["web-1"]
    assert paged["next"].endswith(f"{cp.base}{path}?offset=2&size=1")
    every = await get(api, cp, "/dataplanes/_overview")
    assert [(i["mesh"], i["name"]) for i in every["items"]][-1] == ("other", "api-1")
    assert await get(api, cp, "/dataplanes+insights") == every
    bad = await get(api, cp, path, 400, **{"filter[name]": "x"})
    assert (
        bad["invalid_parameters"][0]["field"] == f"{path.replace('default', '{mesh}')}.filter[name]"
    )
    assert (await get(api, cp, path, 400, gateway="maybe"))["invalid_parameters"]
    assert (await get(api, cp, path, 400, size=0))["invalid_parameters"][0]["field"] == "size"
    assert (await get(api, cp, "/meshes/nope/dataplanes/_overview", 404))["title"] == (
        "Failed to retrieve Mesh"
    )


async def test_zone_overviews_and_their_aliases(api: Api, cp: ControlPlane) -> None:
    zones = await get(api, cp, "/zones/_overview")
    zone_1, zone_2 = zones["items"]
    assert zone_1["type"] == "ZoneOverview" and zone_1["kri"] == "kri_z____zone-1_"
    assert zone_1["zone"] == {"enabled": True}
    assert zone_1["zoneInsight"]["subscriptions"][0]["globalInstanceId"] == "g1"
    assert zone_2["zone"] == {} and "zoneInsight" not in zone_2
    assert await get(api, cp, "/zones+insights") == zones
    assert (await get(api, cp, "/zones/zone-2/_overview"))["zoneInsight"] == {}
    assert await get(api, cp, "/zones+insights/zone-1") == zone_1


async def test_zone_ingress_and_egress_overviews(api: Api, cp: ControlPlane) -> None:
    ingresses = await get(api, cp, "/zoneingresses/_overview")
    (ingress,) = ingresses["items"]
    assert ingress["type"] == "ZoneIngressOverview" and ingress["kri"] == "kri_zi____ingress-1_"
    assert ingress["zoneIngress"]["networking"]["port"] == 10001
    assert ingress["zoneIngressInsight"]["subscriptions"][0]["id"] == "i1"
    for alias in ("/zone-ingresses/_overview", "/zoneingresses+insights"):
        assert await get(api, cp, alias) == ingresses
    for item in ("/zone-ingresses/ingress-1/_overview", "/zoneingresses+insights/ingress-1"):
        assert await get(api, cp, item) == ingress
    egresses = await get(api, cp, "/zoneegresses/_overview")
    (egress,) = egresses["items"]
    assert egress["type"] == "ZoneEgressOverview" and "zoneEgressInsight" not in egress
    assert egress["zoneEgress"]["zone"] == "zone-1"
    assert await get(api, cp, "/zoneegressoverviews") == egresses
    assert (await get(api, cp, "/zoneegressoverviews/egress-1"))["zoneEgressInsight"] == {}
    assert (await get(api, cp, "/zoneegresses/nope/_overview", 404))["status"] == 404


async def test_global_insight_summarises_the_control_plane(api: Api, cp: ControlPlane) -> None:
    summary = await get(api, cp, "/global-insight")
    assert summary["createdAt"].endswith("Z")
    assert summary["meshes"] == {"total": 2} and summary["policies"] == {"total": 1}
    assert summary["dataplanes"]["standard"] == {
        "offline": 2,
        "online": 1,
        "partiallyDegraded": 0,
        "total": 3,
    }
    assert summary["dataplanes"]["gatewayBuiltin"]["online"] == 1
    assert summary["services"]["internal"]["total"] == 2
    assert summary["services"]["external"] == {"total": 1}
    assert summary["zones"] == {
        "controlPlanes": {"online": 1, "total": 1},
        "zoneEgresses": {"online": 0, "total": 0},
        "zoneIngresses": {"online": 1, "total": 1},
    }
    assert summary["resources"]["HostnameGenerator"] == {"total": 1}
    assert summary["resources"]["Dataplane"] == {"total": 4}


async def test_global_insights_count_global_types(api: Api, cp: ControlPlane) -> None:
    body = await get(api, cp, "/global-insights")
    assert body["type"] == "GlobalInsights"
    assert body["resources"] == {
        "GlobalSecret": {"total": 0},
        "HostnameGenerator": {"total": 1},
        "Mesh": {"total": 2},
        "Zone": {"total": 2},
        "ZoneEgress": {"total": 1},
        "ZoneIngress": {"total": 1},
    }


async def test_insights_need_a_token_and_stay_within_the_control_plane(
    api: Api, cp: ControlPlane
) -> None:
    response = await api.client.get(f"{cp.base}/mesh-insights")
    assert response.status_code == 401 and response.json()["title"]
    other = await fresh_control_plane(api, "empty")
    assert await get(api, other, "/dataplanes/_overview") == {
        "total": 0,
        "items": [],
        "next": None,
    }
    assert (await get(api, other, "/global-insight"))["meshes"] == {"total": 0}

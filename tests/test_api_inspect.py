"""The inspection endpoints of the Kuma API: policy <-> dataplane matching, a proxy's
rules, layout and per inbound/outbound/route confs, service hostnames, the legacy shapes
kumactl decodes, proxy config and Envoy admin on a global control plane."""

from __future__ import annotations

from typing import Any

import pytest

from meshmanager.model.resources import confs
from meshmanager.model.resources.stored import Resource
from tests.conformance.api_vectors import ControlPlane, fresh_control_plane
from tests.conftest import Api

MESH = Resource("Mesh", "", "default", {"meshServices": {"mode": "Exclusive"}})


def dataplane(
    name: str,
    *services: str,
    mesh: str = "default",
    labels: dict[str, str] | None = None,
    gateway: str | None = None,
) -> Resource:
    """A Dataplane as Kuma's test builders make it: inbound port 80 per service, or a
    builtin gateway with the given service tag."""
    networking: dict[str, Any] = {"address": "127.0.0.1"}
    if gateway is not None:
        networking["gateway"] = {"type": "BUILTIN", "tags": {"kuma.io/service": gateway}}
    else:
        networking["inbound"] = [
            {"port": 80 + i, "servicePort": 8080 + i, "tags": {"kuma.io/service": service}}
            for i, service in enumerate(services)
        ]
    return Resource("Dataplane", mesh, name, {"networking": networking}, labels or {})


def policy(type_: str, name: str, spec: dict[str, Any], **labels: str) -> Resource:
    return Resource(type_, "default", name, spec, dict(labels))


def mtp(name: str, target_ref: dict[str, Any], **labels: str) -> Resource:
    spec = {
        "targetRef": target_ref,
        "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
    }
    return policy("MeshTrafficPermission", name, spec, **labels)


def gateway(name: str, service: str, *ports: int, **labels: str) -> Resource:
    spec = {
        "selectors": [{"match": {"kuma.io/service": service}}],
        "conf": {"listeners": [{"port": p, "protocol": "HTTP"} for p in ports]},
    }
    return Resource("MeshGateway", "default", name, spec, dict(labels))


async def control_plane(api: Api, *resources: Resource) -> ControlPlane:
    cp = await fresh_control_plane(api)
    await cp.load([MESH, *resources])
    return cp


async def get(api: Api, cp: ControlPlane, path: str, status: int = 200, **params: Any) -> Any:
    response = await api.call("GET", cp.base + path, params=params)
    assert response.status_code == status, response.text
    return response.json()


def kuma_error(body: dict[str, Any], status: int, title: str, detail: str) -> None:
    assert body["type"] == "/std-errors"
    assert (body["status"], body["title"], body["detail"]) == (status, title, detail)


def names(body: dict[str, Any]) -> list[str]:
    return [item["name"] for item in body["items"]]


# --- _resources/dataplanes ------------------------------------------------------------


async def test_resources_dataplanes_pages_and_links_the_next_page(api: Api) -> None:
    dataplanes = [dataplane(f"dp-{i}", "web") for i in range(5)]
    cp = await control_plane(api, mtp("all", {"kind": "Mesh"}), *dataplanes)
    url = "/meshes/default/meshtrafficpermissions/all/_resources/dataplanes"
    first = await get(api, cp, url, size=2, name="dp-")
    assert (first["total"], names(first)) == (5, ["dp-0", "dp-1"])
    assert first["next"] == f"http://testserver{cp.base}{url}?name=dp-&offset=2&size=2"
    last = await get(api, cp, url, size=2, offset=4)
    assert names(last) == ["dp-4"] and "next" not in last
    assert last["items"][0] == {
        "type": "Dataplane",
        "mesh": "default",
        "name": "dp-4",
        "labels": {},
    }


async def test_resources_dataplanes_errors_use_kuma_titles(api: Api) -> None:
    cp = await control_plane(api, mtp("all", {"kind": "Mesh"}))
    url = "/meshes/default/meshtrafficpermissions/all/_resources/dataplanes"
    body = await get(api, cp, url, 400, size=0)
    kuma_error(body, 400, "Could not retrieve policy", "Invalid page size")
    assert body["invalid_parameters"] == [{"field": "size", "reason": "must be greater than 0"}]
    body = await get(api, cp, url, 400, offset="x")
    assert body["title"] == "failed inspect"
    body = await get(api, cp, "/meshes/default/meshtimeouts/none/_resources/dataplanes", 404)
    kuma_error(body, 404, "Could not retrieve policy", "Not found")
    body = await get(api, cp, "/meshes/nope/meshtimeouts/none/_resources/dataplanes", 404)
    kuma_error(body, 404, "Failed to retrieve Mesh", "Not found")
    # MeshGateway is no policy, so it has no such endpoint.
    await get(api, cp, "/meshes/default/meshgateways/gw/_resources/dataplanes", 404)


async def test_mesh_gateway_policies_select_listeners_of_builtin_gateways(api: Api) -> None:
    timeout = policy(
        "MeshTimeout",
        "gw-timeout",
        {
            "targetRef": {"kind": "MeshGateway", "name": "edge"},
            "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "1s"}}],
        },
    )
    sidecars_only = mtp("sidecars", {"kind": "Mesh", "proxyTypes": ["Sidecar"]})
    cp = await control_plane(
        api,
        gateway("edge", "edge-gw", 8080),
        gateway("other", "other-gw", 9090),
        timeout,
        sidecars_only,
        dataplane("edge-1", gateway="edge-gw"),
        dataplane("other-1", gateway="other-gw"),
        dataplane("web-1", "web"),
    )
    meshes = "/meshes/default"
    body = await get(api, cp, f"{meshes}/meshtimeouts/gw-timeout/_resources/dataplanes")
    assert names(body) == ["edge-1"]
    body = await get(api, cp, f"{meshes}/meshtrafficpermissions/sidecars/_resources/dataplanes")
    assert names(body) == ["web-1"]


async def test_zone_policies_apply_only_to_proxies_of_their_zone(api: Api) -> None:
    zone_label = {"kuma.io/origin": "zone", "kuma.io/zone": "east"}
    cp = await control_plane(
        api,
        mtp("east-only", {"kind": "Mesh"}, **zone_label),
        dataplane("east-1", "web", labels=zone_label),
        dataplane("west-1", "web", labels={"kuma.io/origin": "zone", "kuma.io/zone": "west"}),
    )
    body = await get(
        api, cp, "/meshes/default/meshtrafficpermissions/east-only/_resources/dataplanes"
    )
    assert names(body) == ["east-1"]


async def test_old_style_policies_select_by_sources_and_destinations(api: Api) -> None:
    health_check = Resource(
        "HealthCheck",
        "default",
        "hc",
        {
            "sources": [{"match": {"kuma.io/service": "web"}}],
            "destinations": [{"match": {"kuma.io/service": "db"}}],
        },
    )
    cp = await control_plane(
        api, health_check, dataplane("web-1", "web"), dataplane("db-1", "db"), dataplane("x", "x")
    )
    body = await get(api, cp, "/meshes/default/health-checks/hc/_resources/dataplanes")
    assert names(body) == ["db-1", "web-1"]


async def test_mesh_service_dataplanes_by_ref_and_labels(api: Api) -> None:
    by_ref = Resource(
        "MeshService", "default", "by-ref", {"selector": {"dataplaneRef": {"name": "web-1"}}}
    )
    by_labels = Resource(
        "MeshService",
        "default",
        "by-labels",
        {"selector": {"dataplaneLabels": {"matchLabels": {"app": "web"}}}},
    )
    cp = await control_plane(
        api,
        by_ref,
        by_labels,
        dataplane("web-1", "web"),
        dataplane("web-2", "web", labels={"app": "web"}),
    )
    body = await get(api, cp, "/meshes/default/meshservices/by-ref/_dataplanes")
    assert names(body) == ["web-1"]
    body = await get(api, cp, "/meshes/default/meshservices/by-labels/_resources/dataplanes")
    assert names(body) == ["web-2"]


# --- _policies ------------------------------------------------------------------------


async def test_policies_merge_proxy_confs_in_kuma_order(api: Api) -> None:
    passthrough = {
        "targetRef": {"kind": "Mesh"},
        "default": {"appendMatch": [{"type": "Domain", "value": "a.com"}]},
    }
    more = {
        "targetRef": {"kind": "MeshService", "name": "web"},
        "default": {
            "passthroughMode": "Matched",
            "appendMatch": [{"type": "Domain", "value": "b.com", "protocol": "tls"}],
        },
    }
    metric = {"default": {"backends": [{"type": "Prometheus", "prometheus": {"port": 1234}}]}}
    cp = await control_plane(
        api,
        dataplane("web-1", "web"),
        policy("MeshMetric", "metrics", metric),
        policy("MeshPassthrough", "b-specific", more),
        policy("MeshPassthrough", "a-mesh", passthrough),
        mtp("not-proxy-wide", {"kind": "Mesh"}),
    )
    body = await get(api, cp, "/meshes/default/dataplanes/web-1/_policies")
    assert [p["kind"] for p in body["policies"]] == ["MeshPassthrough", "MeshMetric"]
    passthrough_conf = body["policies"][0]
    assert passthrough_conf["conf"] == {
        "passthroughMode": "Matched",
        "appendMatch": [
            {"type": "Domain", "value": "a.com", "protocol": "tcp"},
            {"type": "Domain", "value": "b.com", "protocol": "tls"},
        ],
    }
    assert passthrough_conf["origins"] == [
        {"kri": "kri_mp_default___a-mesh_"},
        {"kri": "kri_mp_default___b-specific_"},
    ]
    assert body["policies"][1]["conf"] == {
        "backends": [{"type": "Prometheus", "prometheus": {"port": 1234, "path": "/metrics"}}]
    }


async def test_policies_need_mesh_services_and_an_existing_dataplane(api: Api) -> None:
    cp = await control_plane(api, dataplane("web-1", "web"))
    body = await get(api, cp, "/meshes/default/dataplanes/none/_policies", 404)
    kuma_error(body, 404, "Could not retrieve Dataplane", "Not found")
    await cp.load([Resource("Mesh", "", "plain"), dataplane("web-1", "web", mesh="plain")])
    body = await get(api, cp, "/meshes/plain/dataplanes/web-1/_policies", 400)
    kuma_error(
        body,
        400,
        "Bad Request",
        "bad request: can't use _policies endpoint without meshService enabled",
    )


# --- the legacy shapes of kumactl inspect -------------------------------------------


async def test_legacy_dataplane_policies_attach_targetref_policies_to_the_dataplane(
    api: Api,
) -> None:
    cp = await control_plane(api, dataplane("backend-1", "backend"), mtp("mtp-1", {"kind": "Mesh"}))
    body = await get(api, cp, "/meshes/default/dataplanes/backend-1/policies")
    assert (body["kind"], body["total"]) == ("SidecarDataplane", 1)
    [item] = body["items"]
    assert item["type"] == "dataplane" and "name" not in item and "service" not in item
    [matched] = item["matchedPolicies"]["MeshTrafficPermission"]
    assert matched.pop("creationTime").endswith("Z") and matched.pop("modificationTime")
    assert matched == {
        "type": "MeshTrafficPermission",
        "mesh": "default",
        "name": "mtp-1",
        "kri": "kri_mtp_default___mtp-1_",
    }


async def test_legacy_dataplane_policies_empty_and_gateway_shapes(api: Api) -> None:
    cp = await control_plane(
        api,
        dataplane("backend-1", "backend"),
        dataplane("gateway-1", gateway="edge-gw"),
        gateway("edge", "edge-gw", 80),
    )
    body = await get(api, cp, "/meshes/default/dataplanes/backend-1/policies")
    assert body == {"kind": "SidecarDataplane", "total": 0, "items": []}
    body = await get(api, cp, "/meshes/default/dataplanes/gateway-1/policies")
    assert body == {
        "kind": "MeshGatewayDataplane",
        "gateway": {"mesh": "default", "name": "edge"},
        # a listener without routes still has its wildcard virtual host
        "listeners": [{"port": 80, "protocol": "HTTP", "hosts": [{"hostName": "*", "routes": []}]}],
    }
    body = await get(api, cp, "/meshes/default/dataplanes/none/policies", 404)
    kuma_error(body, 404, "Could not get MatchedPolicies", "Not found")


async def test_legacy_policy_dataplanes_lists_sidecars_with_their_attachment(api: Api) -> None:
    # Kuma's "inspect meshtrafficpermission" vector (testdata/inspect_meshtrafficpermission.json).
    cp = await control_plane(
        api,
        Resource("Mesh", "", "mesh-1"),
        dataplane("backend-1", "backend", mesh="mesh-1"),
        Resource(
            "MeshTrafficPermission",
            "mesh-1",
            "mtp-1",
            {
                "targetRef": {"kind": "MeshService", "name": "backend"},
                "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
            },
        ),
    )
    body = await get(api, cp, "/meshes/mesh-1/meshtrafficpermissions/mtp-1/dataplanes")
    assert body == {
        "total": 1,
        "items": [
            {
                "kind": "SidecarDataplane",
                "dataplane": {"mesh": "mesh-1", "name": "backend-1"},
                "attachments": [{"type": "dataplane"}],
            }
        ],
    }
    body = await get(api, cp, "/meshes/mesh-1/traffic-traces/tt-1/dataplanes")
    assert body == {"total": 0, "items": []}
    await get(api, cp, "/meshes/mesh-1/meshgatewayroutes/r/dataplanes", 404)


async def test_mesh_gateway_dataplanes(api: Api) -> None:
    # Kuma's "inspect meshgateway dataplanes" vector (testdata/inspect_gateway_dataplanes.json).
    cp = await control_plane(
        api,
        dataplane("gateway-1", gateway="gateway"),
        dataplane("othergateway-1", gateway="othergateway"),
        dataplane("redis-1", "redis"),
        gateway("gateway", "gateway", 80),
    )
    body = await get(api, cp, "/meshes/default/meshgateways/gateway/dataplanes")
    assert body == {"total": 1, "items": [{"dataplane": {"mesh": "default", "name": "gateway-1"}}]}
    body = await get(api, cp, "/meshes/default/meshgateways/none/dataplanes", 404)
    kuma_error(body, 404, "Could not find MeshGateway", "Not found")


# --- proxy config and Envoy admin ------------------------------------------------------


async def test_config_is_not_allowed_on_global(api: Api) -> None:
    cp = await control_plane(api)
    for path in ("dataplanes/dp/_config", "meshgateways/gw/_config"):
        body = await get(api, cp, f"/meshes/default/{path}", 405)
        kuma_error(body, 405, "Method not allowed", "Not allowed on global CP")


def zone_insight(zone: str, online: bool) -> Resource:
    subscription = {"id": "1", "connectTime": "2025-01-01T00:00:00Z"}
    if not online:
        subscription["disconnectTime"] = "2025-01-01T01:00:00Z"
    return Resource("ZoneInsight", "", zone, {"subscriptions": [subscription]})


@pytest.mark.parametrize(("kind", "rpc"), [("xds", "XDS Config Dump"), ("stats", "Stats")])
async def test_envoy_admin_needs_the_zone_of_the_proxy(api: Api, kind: str, rpc: str) -> None:
    east = {"kuma.io/zone": "east"}
    cp = await control_plane(
        api,
        dataplane("east-1", "web", labels=east),
        dataplane("west-1", "web", labels={"kuma.io/zone": "west"}),
        dataplane("north-1", "web", labels={"kuma.io/zone": "north"}),
        zone_insight("east", online=False),
        zone_insight("west", online=True),
    )
    body = await get(api, cp, f"/meshes/default/dataplanes/east-1/{kind}", 400)
    detail = f"couldn't execute {rpc} operation, zone is offline"
    kuma_error(body, 400, "Could not execute admin operation", detail)
    body = await get(api, cp, f"/meshes/default/dataplanes/west-1/{kind}", 400)
    detail = f"stream to execute {rpc} operations is not yet connected"
    kuma_error(body, 400, "Bad Request", detail)
    body = await get(api, cp, f"/meshes/default/dataplanes/north-1/{kind}", 404)
    kuma_error(body, 404, "Could not execute admin operation", "Not found")


async def test_envoy_admin_errors_for_unknown_kinds_and_proxies(api: Api) -> None:
    ingress = Resource("ZoneIngress", "", "zi-1", {}, {"kuma.io/zone": "east"})
    cp = await control_plane(api, dataplane("dp-1", "web"), ingress, zone_insight("east", False))
    body = await get(api, cp, "/meshes/default/dataplanes/dp-1/notAType", 404)
    kuma_error(body, 404, "Could not execute admin operation", "Not found")
    body = await get(api, cp, "/meshes/default/dataplanes/none/clusters", 404)
    kuma_error(body, 404, "Could not get dataplane resource", "Not found")
    body = await get(api, cp, "/zoneingresses/zi-1/clusters", 400)
    kuma_error(
        body,
        400,
        "Could not execute admin operation",
        "couldn't execute Clusters operation, zone is offline",
    )
    body = await get(api, cp, "/zoneegresses/ze-1/xds", 404)
    kuma_error(body, 404, "Could not get zone ingress resource", "Not found")


async def test_inspection_needs_a_valid_token(api: Api) -> None:
    cp = await control_plane(api)
    response = await api.client.get(
        f"{cp.base}/meshes/default/dataplanes/dp/_config",
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert response.status_code == 401


async def test_a_route_targeting_a_route_selects_nothing_instead_of_looping(api: Api) -> None:
    looping_route = policy(
        "MeshHTTPRoute", "loop", {"targetRef": {"kind": "MeshHTTPRoute", "name": "loop"}}
    )
    timeout = policy(
        "MeshTimeout",
        "on-loop",
        {
            "targetRef": {"kind": "MeshHTTPRoute", "name": "loop"},
            "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "1s"}}],
        },
    )
    cp = await control_plane(api, looping_route, timeout, dataplane("web-1", "web"))
    body = await get(api, cp, "/meshes/default/meshtimeouts/on-loop/_resources/dataplanes")
    assert body == {"total": 0, "items": []}


# --- _rules, _layout, inbound/outbound/route confs, _hostnames -------------------------

PROXY_PATHS = (
    "_rules",
    "_layout",
    "_inbounds/kri_dp_default___web-1_80/_policies",
    "_outbounds/kri_msvc_default___web_80/_policies",
    "_outbounds/kri_msvc_default___web_80/_routes",
    "_outbounds/kri_msvc_default___web_80/_routes/kri_mhttpr_default___r_/_policies",
)


@pytest.mark.parametrize("path", PROXY_PATHS)
async def test_unknown_proxy_or_mesh_is_a_kuma_not_found(api: Api, path: str) -> None:
    cp = await control_plane(api)
    body = await get(api, cp, f"/meshes/default/dataplanes/nobody/{path}", 404)
    assert body["type"] == "/std-errors" and body["title"], body
    assert body["detail"] == "Not found"
    body = await get(api, cp, f"/meshes/no-mesh/dataplanes/nobody/{path}", 404)
    assert body["title"], body


async def test_unknown_mesh_gateway_rules_are_a_kuma_not_found(api: Api) -> None:
    cp = await control_plane(api)
    body = await get(api, cp, "/meshes/default/meshgateways/nothing/_rules", 404)
    kuma_error(body, 404, "Could not retrieve MeshGateway", "Not found")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("_inbounds/not-a-kri/_policies", 'invalid identifier string: "not-a-kri"'),
        ("_outbounds/kri_nope_default___web_80/_policies", "unknown short name"),
        ("_outbounds/not-a-kri/_routes", "invalid identifier string"),
        ("_outbounds/kri_msvc_default___web_80/_routes/x_y_z_a_b_c_d/_policies", "'kri'"),
    ],
)
async def test_a_bad_kri_is_a_bad_request(api: Api, path: str, reason: str) -> None:
    cp = await control_plane(api, dataplane("web-1", "web"))
    body = await get(api, cp, f"/meshes/default/dataplanes/web-1/{path}", 400)
    assert (body["status"], body["title"]) == (400, "Bad Request")
    assert body["detail"].startswith("bad request: ") and reason in body["detail"]


async def test_proxy_confs_need_mesh_services_exclusive(api: Api) -> None:
    cp = await fresh_control_plane(api)
    await cp.load([Resource("Mesh", "", "default", {}), dataplane("web-1", "web")])
    path = "/meshes/default/dataplanes/web-1"
    body = await get(api, cp, f"{path}/_inbounds/kri_dp_default___web-1_80/_policies", 400)
    assert "without meshService enabled" in body["detail"]
    body = await get(api, cp, f"{path}/_layout", 400)
    assert body["detail"] == "bad request: can't use _layout endpoint without meshService enabled"
    body = await get(api, cp, f"{path}/_rules")
    assert body == {
        "httpMatches": [],
        "resource": {"type": "Dataplane", "mesh": "default", "name": "web-1", "labels": {}},
        "rules": [],
    }


async def test_rules_of_a_mesh_gateway_are_those_of_a_proxy_it_would_serve(api: Api) -> None:
    timeout = policy(
        "MeshTimeout",
        "gw-timeout",
        {
            "targetRef": {"kind": "MeshGateway", "name": "edge"},
            "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "90s"}}],
        },
    )
    cp = await control_plane(api, gateway("edge", "edge-svc", 8080), timeout)
    body = await get(api, cp, "/meshes/default/meshgateways/edge/_rules")
    assert body["resource"]["type"] == "MeshGateway"
    [rule] = body["rules"]
    assert rule["type"] == "MeshTimeout"
    assert rule["toResourceRules"][0]["conf"] == [{"idleTimeout": "1m30s"}]


async def test_hostnames_errors(api: Api) -> None:
    cp = await control_plane(api)
    body = await get(api, cp, "/meshes/default/dataplanes/web-1/_hostnames", 400)
    assert body["title"].startswith('only "meshservices,meshexternalservices,')
    body = await get(api, cp, "/meshes/default/meshservices/nothing/_hostnames", 404)
    kuma_error(body, 404, "could not retrieve service", "Not found")


async def test_a_failing_hostname_template_is_a_kuma_server_error(api: Api) -> None:
    service = Resource("MeshService", "default", "web", {"ports": [{"port": 80}]})
    generator = Resource(
        "HostnameGenerator",
        "",
        "by-label",
        {"template": '{{ label "missing" }}.mesh', "selector": {"meshService": {}}},
    )
    cp = await control_plane(api, service, generator)
    body = await get(api, cp, "/meshes/default/meshservices/web/_hostnames", 500)
    kuma_error(body, 500, "could not generate hostname", "Internal Server Error")


@pytest.mark.parametrize(
    ("written", "as_go_writes_it"),
    [
        ("15s", "15s"),
        ("90s", "1m30s"),
        ("20m", "20m0s"),
        ("1.5h", "1h30m0s"),
        ("1500ms", "1.5s"),
        ("250us", "250µs"),
        ("0", "0s"),
        ("soon", "soon"),
    ],
)
def test_durations_are_written_as_go_does(written: str, as_go_writes_it: str) -> None:
    assert confs.go_duration(written) == as_go_writes_it

"""Kuma v2.14.3 api-server vectors of the legacy inspection (`legacy-inspect/*`:
`/meshes/{m}/{policy}/{name}/dataplanes`, `/meshgateways/{name}/dataplanes`,
`/meshgatewayroutes/{name}/dataplanes`, `/dataplanes/{name}/policies`). Kuma's test builds
their resources with Go builders (`pkg/api-server/inspect_endpoints_test.go`); they are
written out here with the same builders' defaults."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from meshmanager.model.resources.stored import Resource
from meshmanager.store import resources as store_resources
from tests.conformance.api_vectors import Entry, api_entries, fresh_control_plane, normalise
from tests.conftest import Api

ANY_SERVICE = [{"match": {"kuma.io/service": "*"}}]


def mesh(name: str = "default") -> Resource:
    return Resource("Mesh", "", name, {})


def dataplane(
    name: str,
    services: Sequence[str] = (),
    *,
    mesh: str = "default",
    http: bool = False,
    outbounds: Sequence[str | dict[str, Any]] = (),
    gateway: str | None = None,
    address: str = "127.0.0.1",
) -> Resource:
    """Kuma's builders.Dataplane(): inbounds from port 80 (workload port 8080), outbounds
    to a service from port 10001 (or given whole), or a builtin gateway tagged with its
    service."""
    networking: dict[str, Any] = {"address": address}
    protocol = {"kuma.io/protocol": "http"} if http else {}
    if services:
        networking["inbound"] = [
            {"port": 80 + i, "servicePort": 8080 + i, "tags": {"kuma.io/service": s, **protocol}}
            for i, s in enumerate(services)
        ]
    if outbounds:
        networking["outbound"] = [
            o if isinstance(o, dict) else {"port": 10001 + i, "tags": {"kuma.io/service": o}}
            for i, o in enumerate(outbounds)
        ]
    if gateway is not None:
        networking["gateway"] = {"type": "BUILTIN", "tags": {"kuma.io/service": gateway}}
    return Resource("Dataplane", mesh, name, {"networking": networking})


def service(name: str, protocol: str = "") -> dict[str, Any]:
    match = {"kuma.io/service": name} | ({"kuma.io/protocol": protocol} if protocol else {})
    return {"match": match}


def old_policy(type_: str, name: str, mesh: str = "default", **spec: Any) -> Resource:
    return Resource(type_, mesh, name, spec)


def mesh_gateway(name: str, mesh: str = "default", *, selects: str = "") -> Resource:
    spec = {
        "selectors": [service(selects or name)],
        "conf": {"listeners": [{"protocol": "HTTP", "port": 80}]},
    }
    return Resource("MeshGateway", mesh, name, spec)


def gateway_route(name: str, gateway: str, *paths: str, mesh: str = "default") -> Resource:
    rules = [
        {
            "matches": [{"path": {"match": "EXACT", "value": f"/{path}"}}],
            "backends": [{"destination": {"kuma.io/service": path}}],
        }
        for path in paths
    ]
    spec = {"selectors": [service(gateway)], "conf": {"http": {"rules": rules}}}
    return Resource("MeshGatewayRoute", mesh, name, spec)


def connection_policy(
    type_: str,
    name: str,
    destinations: Sequence[dict[str, Any]],
    sources: Sequence[dict[str, Any]] = ANY_SERVICE,
    mesh: str = "mesh-1",
    **conf: Any,
) -> Resource:
    spec = {"sources": sources, "destinations": destinations, **({"conf": conf} if conf else {})}
    return Resource(type_, mesh, name, spec)


# The confs of Kuma's samples (`pkg/test/kds/samples`); no answer shows them.
TIMEOUT_CONF = {
    "connectTimeout": "5s",
    "tcp": {"idleTimeout": "5s"},
    "http": {"requestTimeout": "5s", "idleTimeout": "5s"},
    "grpc": {"streamIdleTimeout": "5s", "maxStreamDuration": "5s"},
}
HEALTH_CHECK_CONF = {
    "interval": "5s",
    "timeout": "7s",
    "healthyThreshold": 9,
    "unhealthyThreshold": 11,
}
REDIS_AND_ELASTIC = [service("redis"), service("elastic")]
# builders.Dataplane() in mesh-1 with a sidecar each, for the service-attached policies.
BACKEND_AND_REDIS = [
    dataplane("backend-1", ["backend"], mesh="mesh-1", outbounds=["redis", "elastic", "web"]),
    dataplane("redis-1", ["redis"], mesh="mesh-1", outbounds=["elastic", "web"]),
]
MESH_TRAFFIC_PERMISSION = Resource(
    "MeshTrafficPermission",
    "default",
    "mtp-1",
    {
        "targetRef": {"kind": "Mesh"},
        "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
    },
)

TRAFFIC_TRACE = old_policy(
    "TrafficTrace", "tt-1", "mesh-1", selectors=ANY_SERVICE, conf={"backend": "zipkin"}
)
SIDECARS_OF_MESH_1 = [
    dataplane("backend-1", ["backend"], mesh="mesh-1", outbounds=["redis", "elastic", "web"]),
    dataplane("redis-1", ["redis"], mesh="mesh-1", outbounds=["redis", "elastic", "web"]),
    dataplane("web-1", ["web"], mesh="mesh-1", outbounds=["elastic", "backend"]),
]
CHANGED_STATE = [
    mesh(),
    old_policy(
        "TrafficPermission",
        "tp-1",
        sources=ANY_SERVICE,
        destinations=[service("backend", "http"), service("redis", "http")],
    ),
    dataplane("redis-1", ["redis"], http=True, outbounds=["redis", "backend", "elastic"]),
]

WEB_TARGET = {"kind": "MeshService", "name": "web"}
# samples.DataplaneWeb()
WEB_01 = dataplane("web-01", ["web"], http=True, outbounds=["backend"], address="192.168.0.2")
MESH_ACCESS_LOG = Resource(
    "MeshAccessLog",
    "default",
    "mal-1",
    {
        "targetRef": WEB_TARGET,
        "to": [
            {
                "targetRef": {"kind": "Mesh"},
                "default": {"backends": [{"type": "File", "file": {"path": "/tmp/access.logs"}}]},
            }
        ],
    },
)
ZIPKIN = {
    "url": "http://jaeger-collector.mesh-observability:9411/api/v2/spans",
    # the Go struct stores its zero values, not the API's defaults
    "traceId128bit": False,
    "apiVersion": "",
    "sharedSpanContext": False,
}
# builders.MeshTrace() names it like a MeshTrafficPermission.
MESH_TRACE = Resource(
    "MeshTrace",
    "default",
    "mtp-1",
    {"targetRef": WEB_TARGET, "default": {"backends": [{"type": "Zipkin", "zipkin": ZIPKIN}]}},
)


def mesh_traffic_permission(name: str, action: str, **client_tags: str) -> Resource:
    """A MeshTrafficPermission of the `web` service for a subset of the `client` one."""
    client = {"kind": "MeshServiceSubset", "name": "client", "tags": client_tags}
    spec = {"targetRef": WEB_TARGET, "from": [{"targetRef": client, "default": {"action": action}}]}
    return Resource("MeshTrafficPermission", "default", name, spec)


def backend_outbound(address: str, port: int, **tags: str) -> dict[str, Any]:
    return {"address": address, "port": port, "tags": {"kuma.io/service": "backend", **tags}}


# Entry id -> the resources Kuma's test creates.
INPUTS: dict[str, list[Resource]] = {
    "inspect_dataplane": [
        mesh(),
        dataplane(
            "backend-1", ["backend"], http=True, outbounds=["redis", "elastic", "postgres", "web"]
        ),
        connection_policy("TrafficPermission", "tp-1", ANY_SERVICE, mesh="default"),
        connection_policy(
            "FaultInjection",
            "fi-1",
            [service("backend", "http")],
            mesh="default",
            delay={"value": "5s", "percentage": 90},
        ),
        connection_policy(
            "FaultInjection",
            "fi-2",
            [service("backend", "http")],
            mesh="default",
            abort={"httpStatus": 500, "percentage": 80},
        ),
        connection_policy("Timeout", "t-1", [service("redis")], mesh="default", **TIMEOUT_CONF),
        connection_policy(
            "HealthCheck",
            "hc-1",
            ANY_SERVICE,
            [service("backend")],
            mesh="default",
            **HEALTH_CHECK_CONF,
        ),
        MESH_TRAFFIC_PERMISSION,
    ],
    "inspect_dataplane_empty-response": [
        mesh(),
        dataplane("backend-1", ["backend"], outbounds=["redis", "elastic", "postgres", "web"]),
    ],
    "inspect_gateway_dataplanes": [
        mesh(),
        dataplane("gateway-1", gateway="gateway"),
        dataplane("othergateway-1", gateway="othergateway"),
        dataplane("redis-1", ["redis"], outbounds=["backend", "elastic"]),
        mesh_gateway("gateway"),
    ],
    "inspect_gatewayroutes_dataplanes": [
        mesh(),
        dataplane("gateway-1", gateway="elastic"),
        dataplane("othergateway-1", gateway="othergateway"),
        dataplane("redis-1", ["redis"], outbounds=["backend", "elastic"]),
        mesh_gateway("elastic"),
        gateway_route("gatewayroute", "elastic", "redis"),
    ],
    "inspect_gateway_dataplane": [
        mesh(),
        dataplane("gateway-1", gateway="elastic"),
        connection_policy("TrafficLog", "tl-1", ANY_SERVICE, mesh="default"),
        connection_policy("TrafficPermission", "tp-1", ANY_SERVICE, mesh="default"),
        mesh_gateway("elastic"),
        gateway_route("route-1", "elastic", "redis", "backend"),
        connection_policy("Timeout", "t-1", [service("redis")], mesh="default", **TIMEOUT_CONF),
        connection_policy(
            "HealthCheck",
            "hc-1",
            [service("backend")],
            [service("elastic")],
            mesh="default",
            **HEALTH_CHECK_CONF,
        ),
    ],
    "inspect_traffic-permission": [
        mesh(),
        old_policy(
            "TrafficPermission",
            "tp-1",
            sources=ANY_SERVICE,
            destinations=[service(s, "http") for s in ("backend", "redis", "elastic")],
        ),
        dataplane("backend-1", ["backend"], http=True, outbounds=["redis", "elastic", "postgres"]),
        dataplane("redis-1", ["redis"], http=True, outbounds=["redis", "elastic", "postgres"]),
        dataplane("elastic-1", ["elastic"], http=True, outbounds=["redis", "elastic", "postgres"]),
        dataplane("web-1", ["web"]),
    ],
    "inspect_fault-injection": [
        mesh("mesh-1"),
        connection_policy(
            "FaultInjection",
            "fi-1",
            [service(s, "http") for s in ("backend", "redis", "elastic")],
            abort={"httpStatus": 404, "percentage": 90},
        ),
        dataplane("backend-redis-1", ["backend", "redis"], mesh="mesh-1", http=True),
        dataplane(
            "elastic-1", ["elastic"], mesh="mesh-1", http=True, outbounds=["backend", "redis"]
        ),
        dataplane("web-1", ["web"], mesh="mesh-1", http=True),
    ],
    "inspect_rate-limit": [
        mesh("mesh-1"),
        connection_policy(
            "RateLimit",
            "rl-1",
            [*(service(s, "http") for s in ("backend", "redis", "elastic")), service("es")],
            http={"requests": 100, "interval": "60s"},
        ),
        dataplane(
            "elastic-1",
            ["elastic"],
            mesh="mesh-1",
            http=True,
            outbounds=["backend", "redis", "es"],
        ),
        dataplane("web-1", ["web"], mesh="mesh-1", http=True),
        Resource(
            "ExternalService",
            "mesh-1",
            "es-1",
            {"networking": {"address": "2.2.2.2:80"}, "tags": {"kuma.io/service": "es"}},
        ),
    ],
    "inspect_traffic-log": [
        mesh("mesh-1"),
        connection_policy("TrafficLog", "tl-1", REDIS_AND_ELASTIC, backend="logging-backend"),
        *BACKEND_AND_REDIS,
    ],
    "inspect_health-check": [
        mesh("mesh-1"),
        connection_policy("HealthCheck", "hc-1", REDIS_AND_ELASTIC, **HEALTH_CHECK_CONF),
        *BACKEND_AND_REDIS,
    ],
    "inspect_circuit-breaker": [
        mesh("mesh-1"),
        connection_policy(
            "CircuitBreaker",
            "cb-1",
            REDIS_AND_ELASTIC,
            interval="99s",
            detectors={"totalErrors": {"consecutive": 3}},
        ),
        *BACKEND_AND_REDIS,
    ],
    "inspect_retry": [
        mesh("mesh-1"),
        mesh_gateway("gateway", "mesh-1", selects="meshgateway"),
        gateway_route("route-1", "meshgateway", "redis", "backend", mesh="mesh-1"),
        connection_policy(
            "Retry",
            "r-1",
            REDIS_AND_ELASTIC,
            http={"numRetries": 5, "retriableStatusCodes": [500, 502]},
        ),
        dataplane("meshgateway-1", mesh="mesh-1", gateway="meshgateway"),
        *BACKEND_AND_REDIS,
    ],
    "inspect_timeout": [
        mesh("mesh-1"),
        connection_policy("Timeout", "t-1", REDIS_AND_ELASTIC, **TIMEOUT_CONF),
        *BACKEND_AND_REDIS,
    ],
    "inspect_traffic-route": [
        mesh("mesh-1"),
        connection_policy(
            "TrafficRoute",
            "t-1",
            ANY_SERVICE,
            split=[{"weight": 10, "destination": {"kuma.io/service": "*"}}],
        ),
        dataplane("backend-1", ["backend"], mesh="mesh-1", outbounds=["redis", "web"]),
        dataplane("redis-1", ["redis"], mesh="mesh-1", outbounds=["elastic", "web"]),
    ],
    "inspect_traffic-trace": [
        mesh("mesh-1"),
        TRAFFIC_TRACE,
        mesh_gateway("meshgateway", "mesh-1"),
        gateway_route("route-1", "meshgateway", "redis", mesh="mesh-1"),
        dataplane("meshgateway-1", mesh="mesh-1", gateway="meshgateway"),
        *SIDECARS_OF_MESH_1,
    ],
    "inspect_proxytemplate": [
        mesh("mesh-1"),
        old_policy(
            "ProxyTemplate",
            "tt-1",
            "mesh-1",
            selectors=ANY_SERVICE,
            conf={"imports": ["default-proxy"]},
        ),
        *SIDECARS_OF_MESH_1,
    ],
    "inspect_traffic-trace_empty-response": [mesh("mesh-1"), TRAFFIC_TRACE],
    "inspect_meshtrafficpermission": [
        mesh("mesh-1"),
        dataplane("backend-1", ["backend"], mesh="mesh-1"),
        Resource(
            "MeshTrafficPermission",
            "mesh-1",
            "mtp-1",
            {
                "targetRef": {"kind": "MeshService", "name": "backend"},
                "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
            },
        ),
    ],
    "inspect_changed_state_before": [
        *CHANGED_STATE,
        dataplane("backend-1", ["backend"], http=True, outbounds=["redis", "elastic"]),
    ],
    # the same store once backend-1 is deleted
    "inspect_changed_state_after": CHANGED_STATE,
    "inspect_dataplane_rules_empty.golden": [mesh(), WEB_01],
    "inspect_dataplane_rules.golden": [
        mesh(),
        WEB_01,
        mesh_traffic_permission("mtp-1", "Deny", **{"kuma.io/zone": "east"}),
        MESH_ACCESS_LOG,
        MESH_TRACE,
    ],
    "inspect_dataplane_rules_subset.golden": [
        mesh(),
        dataplane(
            "dp-1",
            ["web"],
            http=True,
            outbounds=[
                backend_outbound("240.0.0.1", 2300, version="2"),
                backend_outbound("240.0.0.2", 2300, version="1"),
                backend_outbound("10.3.2.3", 2300),
                backend_outbound("240.0.0.0", 80),
            ],
        ),
        mesh_traffic_permission("mtp-1", "Allow", **{"kuma.io/zone": "east", "version": "2"}),
        mesh_traffic_permission("mtp-2", "Deny", **{"kuma.io/zone": "east"}),
        MESH_ACCESS_LOG,
        MESH_TRACE,
    ],
}

# Entry id -> why it is not replayed yet. These are gaps, not deliberate differences.
NOT_IMPLEMENTED: dict[str, str] = {}

_STORE_ORDER = (
    "items follow the order the store lists dataplanes in: Kuma's test store lists them in"
    " creation order, meshmanager's by name; the items themselves are Kuma's"
)
# Entry id -> why meshmanager answers differently on purpose.
DIVERGENCES: dict[str, str] = {
    "inspect_traffic-trace": _STORE_ORDER,
    "inspect_traffic-permission": _STORE_ORDER,
    "inspect_retry": _STORE_ORDER,
}

KUMA_TEST_CLOCK = datetime(2024, 1, 1, tzinfo=UTC)
ALL = api_entries(lambda raw: str(raw["id"]).startswith("legacy-inspect/"))
ENTRIES = [entry for entry in ALL if entry.id.removeprefix("legacy-inspect/") in INPUTS]


def _by_dataplane(body: dict[str, Any]) -> dict[str, Any]:
    return body | {"items": sorted(body["items"], key=lambda item: item["dataplane"]["name"])}


async def _answer(api: Api, entry: Entry, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    cp = await fresh_control_plane(api)
    # Kuma's test stops its clock, so every resource is created at the same time and
    # policies of equal rank fall back to name order.
    with monkeypatch.context() as patched:
        patched.setattr(store_resources, "utcnow", lambda: KUMA_TEST_CLOCK)
        await cp.load(INPUTS[entry.id.removeprefix("legacy-inspect/")])
    [call] = entry.calls
    response = await api.call(call.method, cp.base + call.url)
    assert response.headers["content-type"] == "application/json"
    return normalise(response.json(), cp.address), normalise(call.expected_body, cp.address)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
async def test_vector(api: Api, entry: Entry, monkeypatch: pytest.MonkeyPatch) -> None:
    body, expected = await _answer(api, entry, monkeypatch)
    if DIVERGENCES.get(entry.id.removeprefix("legacy-inspect/")) == _STORE_ORDER:
        assert body != expected, f"{entry.id} now matches Kuma: drop it from DIVERGENCES"
        assert _by_dataplane(body) == _by_dataplane(expected)
    else:
        assert body == expected


def test_every_legacy_vector_is_replayed_or_listed() -> None:
    names = {entry.id.removeprefix("legacy-inspect/") for entry in ALL}
    assert len(names) == 23
    assert set(INPUTS) | set(NOT_IMPLEMENTED) == names
    assert not set(INPUTS) & set(NOT_IMPLEMENTED)
    assert set(DIVERGENCES) <= set(INPUTS)
    assert (len(INPUTS) - len(DIVERGENCES), len(DIVERGENCES), len(NOT_IMPLEMENTED)) == (20, 3, 0)

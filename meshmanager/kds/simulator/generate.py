"""Realistic zone-made resources: dataplanes (sidecars and gateways) with insights,
MeshServices, zone ingresses and egresses with insights.

Labels are the ones a Kuma zone puts on its own resources at creation
(`pkg/core/resources/labels/compute.go`): origin `zone`, the zone, the environment,
the mesh and the proxy type.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.stored import Resource

SERVICES = (
    "web", "frontend", "backend", "orders", "payments", "cart", "catalog", "search",
    "users", "auth", "inventory", "shipping", "reviews", "redis", "postgres", "kafka",
)  # fmt: skip
PROTOCOLS = ("http", "http", "http", "grpc", "tcp")
ENVOY_VERSION = "1.34.1"
INGRESS_PORT = 10001
EGRESS_PORT = 10002


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _ts(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def zone_labels(zone: str, mesh: str | None, proxy_type: str | None = None) -> dict[str, str]:
    labels = {kuma_labels.ORIGIN: "zone", kuma_labels.ZONE: zone, "kuma.io/env": "universal"}
    if mesh:
        labels[kuma_labels.MESH] = mesh
    if proxy_type:
        labels["kuma.io/proxy-type"] = proxy_type
    return labels


@dataclass(frozen=True)
class ProxyState:
    online: bool = True
    mtls_backend: str | None = "ca-1"  # None: the mesh has no mTLS
    kuma_version: str = "2.14.3"


def _subscription(state: ProxyState, rng: random.Random, cp_instance: str) -> dict[str, Any]:
    now = _now()
    connected = now - timedelta(minutes=rng.randint(1, 600))
    sent = rng.randint(3, 40)
    stats = {"responsesSent": str(sent), "responsesAcknowledged": str(sent)}
    subscription: dict[str, Any] = {
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "controlPlaneInstanceId": cp_instance,
        "connectTime": _ts(connected),
        "status": {
            "lastUpdateTime": _ts(now - timedelta(seconds=rng.randint(0, 300))),
            "total": stats,
            "cds": {"responsesSent": "2", "responsesAcknowledged": "2"},
            "eds": stats,
            "lds": {"responsesSent": "2", "responsesAcknowledged": "2"},
            "rds": {"responsesSent": "1", "responsesAcknowledged": "1"},
        },
        "version": {
            "kumaDp": {
                "version": state.kuma_version,
                "gitTag": state.kuma_version,
                "gitCommit": "e1f4a2b",
                "buildDate": "2025-11-03T10:00:00Z",
                "kumaCpCompatible": True,
            },
            "envoy": {"version": ENVOY_VERSION, "build": "hash/1.34.1/RELEASE/BoringSSL"},
        },
        "generation": rng.randint(1, 100),
    }
    if not state.online:
        subscription["disconnectTime"] = _ts(now - timedelta(seconds=rng.randint(5, 3600)))
    return subscription


def proxy_insight_spec(
    state: ProxyState, rng: random.Random, cp_instance: str, with_mtls: bool = True
) -> dict[str, Any]:
    spec: dict[str, Any] = {"subscriptions": [_subscription(state, rng, cp_instance)]}
    if with_mtls and state.mtls_backend:
        issued = _now() - timedelta(hours=rng.randint(1, 20))
        spec["mTLS"] = {
            "certificateExpirationTime": _ts(issued + timedelta(hours=24)),
            "lastCertificateRegeneration": _ts(issued),
            "certificateRegenerations": rng.randint(1, 30),
            "issuedBackend": state.mtls_backend,
            "supportedBackends": [state.mtls_backend],
        }
    return spec


def dataplane(
    zone: str,
    mesh: str,
    index: int,
    rng: random.Random,
    gateway: bool = False,
) -> Resource:
    """A universal dataplane: a sidecar with 1-2 inbounds and 3-5 outbounds, or a
    builtin gateway."""
    service = SERVICES[index % len(SERVICES)]
    address = f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    version = f"v{rng.randint(1, 3)}"
    if gateway:
        name = f"gateway-{index}"
        spec: dict[str, Any] = {
            "networking": {
                "address": address,
                "gateway": {
                    "type": "BUILTIN",
                    "tags": {"kuma.io/service": f"edge-gateway-{index % 3}", "version": version},
                },
            }
        }
        return Resource("Dataplane", mesh, name, spec, zone_labels(zone, mesh, "gateway"))
    name = f"{service}-{index}"
    protocol = PROTOCOLS[index % len(PROTOCOLS)]
    inbounds = [
        {
            "port": 20000 + n,
            "servicePort": 8080 + n,
            "tags": {
                "kuma.io/service": service if n == 0 else f"{service}-admin",
                "kuma.io/protocol": protocol if n == 0 else "http",
                "version": version,
                "team": f"team-{index % 4}",
            },
        }
        for n in range(rng.randint(1, 2))
    ]
    others = [s for s in SERVICES if s != service]
    outbounds = [
        {"port": 10000 + n, "tags": {"kuma.io/service": target}}
        for n, target in enumerate(rng.sample(others, rng.randint(3, 5)))
    ]
    spec = {"networking": {"address": address, "inbound": inbounds, "outbound": outbounds}}
    return Resource("Dataplane", mesh, name, spec, zone_labels(zone, mesh, "sidecar"))


def dataplane_insight(
    dp: Resource, state: ProxyState, rng: random.Random, cp_instance: str
) -> Resource:
    spec = proxy_insight_spec(state, rng, cp_instance)
    return Resource("DataplaneInsight", dp.mesh, dp.name, spec, dict(dp.labels))


def mesh_service(zone: str, mesh: str, service: str, port: int, index: int) -> Resource:
    spec = {
        "selector": {"dataplaneTags": {"kuma.io/service": service}},
        "ports": [{"port": port, "targetPort": port, "appProtocol": "http"}],
        "state": "Available",
    }
    status = {
        "addresses": [
            {
                "hostname": f"{service}.svc.mesh.local",
                "origin": "HostnameGenerator",
                "hostnameGeneratorRef": {"coreName": "local-universal-mesh-service"},
            }
        ],
        "vips": [{"ip": f"241.0.{index // 250}.{index % 250 + 1}"}],
        "dataplaneProxies": {"connected": 1, "healthy": 1, "total": 1},
    }
    return Resource("MeshService", mesh, service, spec, zone_labels(zone, mesh), status)


def zone_ingress(
    zone: str, name: str, services: list[tuple[str, str]], rng: random.Random
) -> Resource:
    address = f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    spec = {
        "zone": zone,
        "networking": {
            "address": address,
            "port": INGRESS_PORT,
            "advertisedAddress": f"203.0.113.{rng.randint(1, 254)}",
            "advertisedPort": INGRESS_PORT,
        },
        "availableServices": [
            {"mesh": mesh, "instances": rng.randint(1, 3), "tags": {"kuma.io/service": service}}
            for mesh, service in services
        ],
    }
    return Resource("ZoneIngress", "", name, spec, zone_labels(zone, None, "zoneingress"))


def zone_egress(zone: str, name: str, rng: random.Random) -> Resource:
    address = f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    spec = {"zone": zone, "networking": {"address": address, "port": EGRESS_PORT}}
    return Resource("ZoneEgress", "", name, spec, zone_labels(zone, None, "zoneegress"))


def zone_proxy_insight(
    proxy: Resource, state: ProxyState, rng: random.Random, cp_instance: str
) -> Resource:
    insight_type = f"{proxy.type}Insight"
    spec = proxy_insight_spec(state, rng, cp_instance, with_mtls=False)
    return Resource(insight_type, "", proxy.name, spec, dict(proxy.labels))

"""Dataplanes and their insights as zones report them, for the console's tests and
benchmark (a global cannot create dataplanes through its API)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meshmanager.model.resources.stored import Resource


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def dataplane(
    mesh: str,
    name: str,
    service: str,
    zone: str = "zone-1",
    online: bool = True,
    backend: str | None = "ca-1",
    expires_in: timedelta = timedelta(days=2),
    version: str = "2.14.3",
) -> list[Resource]:
    """A Dataplane with one inbound, and its DataplaneInsight."""
    labels = {
        "kuma.io/zone": zone,
        "kuma.io/origin": "zone",
        "kuma.io/mesh": mesh,
        "kuma.io/display-name": name,
    }
    spec = {
        "networking": {
            "address": "10.0.0.1",
            "inbound": [
                {
                    "port": 8080,
                    "servicePort": 80,
                    "tags": {
                        "kuma.io/service": service,
                        "kuma.io/protocol": "http",
                        "kuma.io/zone": zone,
                        "app": service,
                    },
                }
            ],
        }
    }
    now = datetime.now(UTC)
    subscription: dict[str, object] = {
        "id": f"sub-{name}",
        "controlPlaneInstanceId": f"{zone}-cp-1",
        "connectTime": _time(now - timedelta(hours=1)),
        "status": {"total": {"responsesSent": "3", "responsesAcknowledged": "3"}},
        "version": {
            "kumaDp": {"version": version, "kumaCpCompatible": True},
            "envoy": {"version": "1.34.1", "kumaDpCompatible": True},
        },
    }
    if not online:
        subscription["disconnectTime"] = _time(now - timedelta(minutes=5))
    insight: dict[str, object] = {"subscriptions": [subscription]}
    if backend is not None:
        insight["mTLS"] = {
            "certificateExpirationTime": _time(now + expires_in),
            "lastCertificateRegeneration": _time(now - timedelta(hours=2)),
            "certificateRegenerations": 2,
            "issuedBackend": backend,
            "supportedBackends": [backend],
        }
    return [
        Resource("Dataplane", mesh, name, spec, labels),
        Resource("DataplaneInsight", mesh, name, insight, labels),
    ]


def fleet(mesh: str, count: int, zones: int = 3, services: int = 20) -> list[Resource]:
    """`count` dataplanes spread over zones and services, every tenth one offline."""
    items: list[Resource] = []
    for i in range(count):
        items += dataplane(
            mesh,
            f"dp-{i:05d}",
            f"svc-{i % services:02d}",
            zone=f"zone-{i % zones + 1}",
            online=i % 10 != 0,
        )
    return items

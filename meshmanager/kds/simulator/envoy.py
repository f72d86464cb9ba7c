"""Plausible Envoy admin answers for the simulated proxies (spec §6.2): a config dump,
stats and clusters, built from the proxy's own resource."""

from __future__ import annotations

import json
import zlib
from typing import Any

from meshmanager.kds.simulator.zone_store import ZoneStore
from meshmanager.model.resources.stored import Resource

PROXY_TYPES = ("Dataplane", "ZoneIngress", "ZoneEgress")


class AdminError(Exception):
    """Goes back to the global as the response's `error`."""


def find_proxy(store: ZoneStore, resource_type: str, name: str, mesh: str) -> Resource:
    if resource_type not in PROXY_TYPES:
        raise AdminError(f"unsupported resource type {resource_type!r}")
    proxy = store.get(resource_type, mesh if resource_type == "Dataplane" else "", name)
    if proxy is None:
        raise AdminError(f'resource not found: type="{resource_type}" name="{name}" mesh="{mesh}"')
    insight = store.get(f"{resource_type}Insight", proxy.mesh, proxy.name)
    subscriptions = (insight.spec or {}).get("subscriptions") if insight is not None else None
    if subscriptions and subscriptions[-1].get("disconnectTime"):
        raise AdminError(
            f"could not reach the Envoy admin of {resource_type} {name!r}: the proxy is offline"
        )
    return proxy


def _clusters(proxy: Resource) -> list[tuple[str, str]]:
    """(cluster name, upstream address) pairs of a proxy."""
    networking = (proxy.spec or {}).get("networking") or {}
    out = [
        (o["tags"]["kuma.io/service"], f"10.96.{i}.{i + 10}:{o.get('port', 80)}")
        for i, o in enumerate(networking.get("outbound") or [])
        if "kuma.io/service" in (o.get("tags") or {})
    ]
    address = networking.get("address", "127.0.0.1")
    for inbound in networking.get("inbound") or []:
        port = inbound.get("servicePort", inbound.get("port"))
        out.append((f"localhost:{port}", f"127.0.0.1:{port}"))
    return out or [("kuma:envoy:admin", f"{address}:9901")]


def _count(*parts: str) -> int:
    return zlib.crc32("/".join(parts).encode()) % 5000


def config_dump(proxy: Resource, include_eds: bool) -> bytes:
    clusters = _clusters(proxy)
    node_id = f"{proxy.mesh}.{proxy.name}" if proxy.mesh else proxy.name
    configs: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
            "bootstrap": {
                "node": {
                    "id": node_id,
                    "cluster": proxy.name,
                    "metadata": {"dataplane.proxyType": proxy.type},
                },
                "admin": {
                    "address": {"socket_address": {"address": "127.0.0.1", "port_value": 9901}}
                },
            },
        },
        {
            "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
            "dynamic_active_clusters": [
                {
                    "version_info": "1",
                    "cluster": {
                        "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
                        "name": name,
                        "type": "EDS",
                    },
                }
                for name, _ in clusters
            ],
        },
        {
            "@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
            "dynamic_listeners": [
                {"name": f"outbound:{name}", "active_state": {"version_info": "1"}}
                for name, _ in clusters
            ],
        },
    ]
    if include_eds:
        configs.append(
            {
                "@type": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
                "dynamic_endpoint_configs": [
                    {
                        "endpoint_config": {
                            "cluster_name": name,
                            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": addr}}]}],
                        }
                    }
                    for name, addr in clusters
                ],
            }
        )
    return json.dumps({"configs": configs}, indent=1).encode()


def stats(proxy: Resource, as_json: bool, used_only: bool) -> bytes:
    values = []
    for name, _ in _clusters(proxy):
        for stat in ("upstream_rq_total", "upstream_cx_active", "upstream_rq_5xx"):
            values.append((f"cluster.{name}.{stat}", _count(proxy.name, name, stat)))
    values.append(("server.live", 1))
    if used_only:
        values = [(n, v) for n, v in values if v]
    if as_json:
        return json.dumps({"stats": [{"name": n, "value": v} for n, v in values]}).encode()
    return "".join(f"{n}: {v}\n" for n, v in values).encode()


def clusters(proxy: Resource, as_json: bool) -> bytes:
    entries = _clusters(proxy)
    if as_json:
        body = {
            "cluster_statuses": [
                {
                    "name": name,
                    "host_statuses": [
                        {
                            "address": {
                                "socket_address": {
                                    "address": addr.rsplit(":", 1)[0],
                                    "port_value": int(addr.rsplit(":", 1)[1]),
                                }
                            },
                            "stats": [{"name": "rq_total", "value": str(_count(proxy.name, name))}],
                            "health_status": {"eds_health_status": "HEALTHY"},
                        }
                    ],
                }
                for name, addr in entries
            ]
        }
        return json.dumps(body).encode()
    lines = []
    for name, addr in entries:
        lines += [
            f"{name}::{addr}::cx_active::{_count(proxy.name, name) % 7}",
            f"{name}::{addr}::rq_total::{_count(proxy.name, name)}",
            f"{name}::{addr}::health_flags::healthy",
        ]
    return ("\n".join(lines) + "\n").encode()

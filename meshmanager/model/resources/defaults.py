"""What a Kuma v2.14.3 global creates on its own: the `default` mesh, the default policies
of each new mesh, and the default HostnameGenerators. Pure: callers store the results.

Specs are written as Kuma's REST API shows them (Go durations as `Duration.String()`, keys
in Go struct order). A new mesh also gets a dataplane-token signing key: see
`signing.new_signing_key_secret`. Sources are listed in docs/kuma-defaults.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshmanager.model.resources import labels
from meshmanager.model.resources.signing import (
    dataplane_signing_key_prefix,
    new_signing_key_secret,
)
from meshmanager.model.resources.stored import Resource

DEFAULT_MESH = "default"
SKIP_ALL = "*"
MESH_TARGET: dict[str, Any] = {"kind": "Mesh"}


def default_mesh() -> Resource:
    """The mesh Kuma creates at startup unless `defaults.skipMeshCreation` is set: an empty
    spec and no labels."""
    return Resource("Mesh", "", DEFAULT_MESH, {})


def _mesh_timeout() -> dict[str, Any]:
    # Inbound (`from`) values are twice the outbound ones, or 0s (disabled).
    return {
        "targetRef": {"kind": "Mesh", "proxyTypes": ["Sidecar"]},
        "to": [
            {
                "targetRef": dict(MESH_TARGET),
                "default": {
                    "connectionTimeout": "5s",
                    "idleTimeout": "1h0m0s",
                    "http": {"requestTimeout": "15s", "streamIdleTimeout": "30m0s"},
                },
            }
        ],
        "from": [
            {
                "targetRef": dict(MESH_TARGET),
                "default": {
                    "connectionTimeout": "10s",
                    "idleTimeout": "2h0m0s",
                    "http": {
                        "requestTimeout": "0s",
                        "streamIdleTimeout": "1h0m0s",
                        "maxStreamDuration": "0s",
                    },
                },
            }
        ],
    }


def _mesh_gateways_timeout() -> dict[str, Any]:
    return {
        "targetRef": {"kind": "Mesh", "proxyTypes": ["Gateway"]},
        "to": [
            {
                "targetRef": dict(MESH_TARGET),
                "default": {"idleTimeout": "1h0m0s", "http": {"streamIdleTimeout": "5s"}},
            }
        ],
        "from": [
            {
                "targetRef": dict(MESH_TARGET),
                "default": {
                    "idleTimeout": "5m0s",
                    "http": {"streamIdleTimeout": "5s", "requestHeadersTimeout": "500ms"},
                },
            }
        ],
    }


def _retry_protocol() -> dict[str, Any]:
    return {
        "numRetries": 5,
        "perTryTimeout": "16s",
        "backOff": {"baseInterval": "25ms", "maxInterval": "250ms"},
    }


def _mesh_retry() -> dict[str, Any]:
    return {
        "targetRef": dict(MESH_TARGET),
        "to": [
            {
                "targetRef": dict(MESH_TARGET),
                "default": {
                    "tcp": {"maxConnectAttempt": 5},
                    "http": _retry_protocol(),
                    "grpc": _retry_protocol(),
                },
            }
        ],
    }


def _mesh_circuit_breaker() -> dict[str, Any]:
    return {
        "targetRef": dict(MESH_TARGET),
        "to": [
            {
                "targetRef": dict(MESH_TARGET),
                "default": {
                    "connectionLimits": {
                        "maxConnections": 1024,
                        "maxPendingRequests": 1024,
                        "maxRetries": 3,
                        "maxRequests": 1024,
                    }
                },
            }
        ],
    }


# (name prefix, type, spec builder); the policy is named `<prefix>-<mesh>`.
DEFAULT_POLICIES: tuple[tuple[str, str, Callable[[], dict[str, Any]]], ...] = (
    ("mesh-circuit-breaker-all", "MeshCircuitBreaker", _mesh_circuit_breaker),
    ("mesh-gateways-timeout-all", "MeshTimeout", _mesh_gateways_timeout),
    ("mesh-retry-all", "MeshRetry", _mesh_retry),
    ("mesh-timeout-all", "MeshTimeout", _mesh_timeout),
)


def skipped_policy_types(mesh: Resource) -> frozenset[str]:
    """The mesh's `skipCreatingInitialPolicies`: type names, or `*` for all."""
    skipped = (mesh.spec or {}).get("skipCreatingInitialPolicies") or []
    if not isinstance(skipped, list):
        return frozenset()
    return frozenset(item for item in skipped if isinstance(item, str))


def default_mesh_policies(mesh: Resource) -> list[Resource]:
    """The policies Kuma's global creates with `mesh`, labelled as a global's API labels
    them (only `kuma.io/mesh`). Kuma's optional `allow-all`/`route-all` legacy policies
    (`defaults.createMeshRoutingResources`, off by default) are not made."""
    skipped = skipped_policy_types(mesh)
    if SKIP_ALL in skipped:
        return []
    return [
        Resource(kind, mesh.name, f"{prefix}-{mesh.name}", build(), {labels.MESH: mesh.name})
        for prefix, kind, build in DEFAULT_POLICIES
        if kind not in skipped
    ]


def _hostname_generator(name: str, selector: str, match: dict[str, str], template: str) -> Resource:
    spec = {"selector": {selector: {"matchLabels": match}}, "template": template}
    return Resource("HostnameGenerator", "", name, spec)


_GLOBAL_ORIGIN = {labels.ORIGIN: "global"}
_HEADLESS = "k8s.kuma.io/is-headless-service"
_ENV = "kuma.io/env"


def default_hostname_generators() -> list[Resource]:
    """The HostnameGenerators a global creates at startup unless
    `defaults.skipHostnameGenerators` is set: hostnames for resources synced from zones.
    A universal global stores them unlabelled."""
    return [
        _hostname_generator(
            "synced-headless-kube-mesh-service",
            "meshService",
            {_HEADLESS: "true", _ENV: "kubernetes", **_GLOBAL_ORIGIN},
            '{{ label "statefulset.kubernetes.io/pod-name" }}.{{ label'
            ' "k8s.kuma.io/service-name" }}.{{ .Namespace }}.svc.{{ .Zone }}.mesh.local',
        ),
        _hostname_generator(
            "synced-kube-mesh-service",
            "meshService",
            {_HEADLESS: "false", _ENV: "kubernetes", **_GLOBAL_ORIGIN},
            "{{ .DisplayName }}.{{ .Namespace }}.svc.{{ .Zone }}.mesh.local",
        ),
        _hostname_generator(
            "synced-mesh-external-service",
            "meshExternalService",
            dict(_GLOBAL_ORIGIN),
            "{{ .DisplayName }}.extsvc.mesh.local",
        ),
        _hostname_generator(
            "synced-mesh-multi-zone-service",
            "meshMultiZoneService",
            dict(_GLOBAL_ORIGIN),
            "{{ .DisplayName }}.mzsvc.mesh.local",
        ),
        _hostname_generator(
            "synced-universal-mesh-service",
            "meshService",
            {_ENV: "universal", **_GLOBAL_ORIGIN},
            "{{ .DisplayName }}.svc.{{ .Zone }}.mesh.local",
        ),
    ]


def created_with_mesh(mesh: Resource) -> list[Resource]:
    """What Kuma creates alongside a new mesh: its default policies and its dataplane
    token signing key. Generating the key takes tens of milliseconds: call this off the
    event loop."""
    key = new_signing_key_secret(dataplane_signing_key_prefix(mesh.name), mesh.name)
    return [*default_mesh_policies(mesh), key]

"""What a Kuma v2.14.3 global creates by itself, checked against Kuma's source:
pkg/defaults/mesh/*.go (policies), pkg/plugins/policies/core/defaults/consts.go (timeout
values), pkg/defaults/hostname_generator.go and pkg/defaults/mesh.go."""

from __future__ import annotations

from typing import Any

import pytest

from meshmanager.model.resources.defaults import (
    default_hostname_generators,
    default_mesh,
    default_mesh_policies,
)
from meshmanager.model.resources.registry import Scope, by_name
from meshmanager.model.resources.signing import parse_go_duration
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation import Context, validate_spec

SECOND = 1_000_000_000
MINUTE, HOUR, MS = 60 * SECOND, 3600 * SECOND, SECOND // 1000
# pkg/plugins/policies/core/defaults/consts.go
CONNECT_TIMEOUT = 5 * SECOND
IDLE_TIMEOUT = HOUR
STREAM_IDLE_TIMEOUT = 30 * MINUTE
REQUEST_TIMEOUT = 15 * SECOND
GATEWAY_IDLE_TIMEOUT = 5 * MINUTE
GATEWAY_STREAM_IDLE_TIMEOUT = 5 * SECOND
GATEWAY_REQUEST_HEADERS_TIMEOUT = 500 * MS

ALL_DEFAULTS = {
    ("MeshCircuitBreaker", "mesh-circuit-breaker-all-default"),
    ("MeshTimeout", "mesh-gateways-timeout-all-default"),
    ("MeshRetry", "mesh-retry-all-default"),
    ("MeshTimeout", "mesh-timeout-all-default"),
}


def _mesh(name: str = "default", skip: Any = None) -> Resource:
    spec = {} if skip is None else {"skipCreatingInitialPolicies": skip}
    return Resource("Mesh", "", name, spec)


def _by_name(mesh: Resource) -> dict[str, Resource]:
    return {policy.name: policy for policy in default_mesh_policies(mesh)}


def _ns(value: str) -> int:
    return parse_go_duration(value)


def test_a_new_mesh_gets_kumas_four_default_policies_labelled_with_the_mesh() -> None:
    policies = default_mesh_policies(_mesh())
    assert {(p.type, p.name) for p in policies} == ALL_DEFAULTS
    for policy in policies:
        assert policy.mesh == "default"
        # A global computes only kuma.io/mesh; origin and zone are added in zone mode.
        assert policy.labels == {"kuma.io/mesh": "default"}


def test_policy_names_follow_the_mesh_name() -> None:
    names = set(_by_name(_mesh("payments")))
    assert names == {
        "mesh-circuit-breaker-all-payments",
        "mesh-gateways-timeout-all-payments",
        "mesh-retry-all-payments",
        "mesh-timeout-all-payments",
    }
    assert all(p.mesh == "payments" for p in default_mesh_policies(_mesh("payments")))


@pytest.mark.parametrize(
    ("skip", "expected"),
    [
        (["*"], set()),
        (["*", "MeshRetry"], set()),
        # The type name skips every default of that type (both MeshTimeouts here).
        (["MeshTimeout", "MeshRetry"], {"mesh-circuit-breaker-all-default"}),
        (
            ["MeshCircuitBreaker"],
            {n for _, n in ALL_DEFAULTS} - {"mesh-circuit-breaker-all-default"},
        ),
        # Legacy names only matter when createMeshRoutingResources is on; unknown ones do nothing.
        (["TrafficPermission", "meshtimeout"], {n for _, n in ALL_DEFAULTS}),
        ([], {n for _, n in ALL_DEFAULTS}),
    ],
)
def test_skip_creating_initial_policies(skip: list[str], expected: set[str]) -> None:
    assert set(_by_name(_mesh(skip=skip))) == expected


def test_mesh_timeout_all_matches_kumas_constants() -> None:
    spec = _by_name(_mesh())["mesh-timeout-all-default"].spec
    assert spec["targetRef"] == {"kind": "Mesh", "proxyTypes": ["Sidecar"]}
    [outbound], [inbound] = spec["to"], spec["from"]
    assert outbound["targetRef"] == inbound["targetRef"] == {"kind": "Mesh"}
    out, into = outbound["default"], inbound["default"]
    assert _ns(out["connectionTimeout"]) == CONNECT_TIMEOUT
    assert _ns(out["idleTimeout"]) == IDLE_TIMEOUT
    assert _ns(out["http"]["requestTimeout"]) == REQUEST_TIMEOUT
    assert _ns(out["http"]["streamIdleTimeout"]) == STREAM_IDLE_TIMEOUT
    assert set(out["http"]) == {"requestTimeout", "streamIdleTimeout"}
    # Inbound: twice the outbound values; request timeout and max stream duration off.
    assert _ns(into["connectionTimeout"]) == 2 * CONNECT_TIMEOUT
    assert _ns(into["idleTimeout"]) == 2 * IDLE_TIMEOUT
    assert _ns(into["http"]["streamIdleTimeout"]) == 2 * STREAM_IDLE_TIMEOUT
    assert into["http"]["requestTimeout"] == into["http"]["maxStreamDuration"] == "0s"
    # Go's Duration.String() forms, as Kuma's API shows them.
    assert (out["idleTimeout"], into["idleTimeout"]) == ("1h0m0s", "2h0m0s")
    assert out["http"]["streamIdleTimeout"] == "30m0s"


def test_mesh_gateways_timeout_all_matches_kumas_constants() -> None:
    spec = _by_name(_mesh())["mesh-gateways-timeout-all-default"].spec
    assert spec["targetRef"] == {"kind": "Mesh", "proxyTypes": ["Gateway"]}
    out, into = spec["to"][0]["default"], spec["from"][0]["default"]
    assert set(out) == {"idleTimeout", "http"} and set(into) == {"idleTimeout", "http"}
    assert _ns(out["idleTimeout"]) == IDLE_TIMEOUT
    assert _ns(out["http"]["streamIdleTimeout"]) == GATEWAY_STREAM_IDLE_TIMEOUT
    assert _ns(into["idleTimeout"]) == GATEWAY_IDLE_TIMEOUT
    assert _ns(into["http"]["streamIdleTimeout"]) == GATEWAY_STREAM_IDLE_TIMEOUT
    assert _ns(into["http"]["requestHeadersTimeout"]) == GATEWAY_REQUEST_HEADERS_TIMEOUT
    assert into["http"]["requestHeadersTimeout"] == "500ms"


def test_mesh_retry_all_matches_kumas_source() -> None:
    spec = _by_name(_mesh())["mesh-retry-all-default"].spec
    assert spec["targetRef"] == {"kind": "Mesh"} and "from" not in spec
    [to] = spec["to"]
    assert to["targetRef"] == {"kind": "Mesh"}
    assert to["default"]["tcp"] == {"maxConnectAttempt": 5}
    for protocol in ("http", "grpc"):
        conf = to["default"][protocol]
        assert conf["numRetries"] == 5
        assert _ns(conf["perTryTimeout"]) == 16 * SECOND
        assert _ns(conf["backOff"]["baseInterval"]) == 25 * MS
        assert _ns(conf["backOff"]["maxInterval"]) == 250 * MS


def test_mesh_circuit_breaker_all_sets_only_connection_limits() -> None:
    spec = _by_name(_mesh())["mesh-circuit-breaker-all-default"].spec
    assert spec["targetRef"] == {"kind": "Mesh"} and "from" not in spec
    [to] = spec["to"]
    assert to["default"] == {
        "connectionLimits": {
            "maxConnections": 1024,
            "maxPendingRequests": 1024,
            "maxRetries": 3,
            "maxRequests": 1024,
        }
    }


def test_default_policies_pass_validation() -> None:
    for policy in default_mesh_policies(_mesh()):
        rt = by_name(policy.type)
        assert rt is not None and rt.is_policy and rt.scope == Scope.MESH
        context = Context(mesh=policy.mesh, name=policy.name)
        assert validate_spec(policy.type, policy.spec, context) == [], policy.name


def test_default_mesh_is_named_default_with_an_empty_spec() -> None:
    mesh = default_mesh()
    assert (mesh.type, mesh.mesh, mesh.name) == ("Mesh", "", "default")
    assert mesh.spec == {} and mesh.labels == {}
    assert {p.name for p in default_mesh_policies(mesh)} == {n for _, n in ALL_DEFAULTS}


def test_default_hostname_generators_are_kumas_global_ones() -> None:
    generators = {g.name: g for g in default_hostname_generators()}
    origin = {"kuma.io/origin": "global"}
    expected = {
        "synced-mesh-multi-zone-service": (
            "meshMultiZoneService",
            origin,
            "{{ .DisplayName }}.mzsvc.mesh.local",
        ),
        "synced-kube-mesh-service": (
            "meshService",
            {**origin, "k8s.kuma.io/is-headless-service": "false", "kuma.io/env": "kubernetes"},
            "{{ .DisplayName }}.{{ .Namespace }}.svc.{{ .Zone }}.mesh.local",
        ),
        "synced-headless-kube-mesh-service": (
            "meshService",
            {**origin, "k8s.kuma.io/is-headless-service": "true", "kuma.io/env": "kubernetes"},
            '{{ label "statefulset.kubernetes.io/pod-name" }}'
            '.{{ label "k8s.kuma.io/service-name" }}'
            ".{{ .Namespace }}.svc.{{ .Zone }}.mesh.local",
        ),
        "synced-universal-mesh-service": (
            "meshService",
            {**origin, "kuma.io/env": "universal"},
            "{{ .DisplayName }}.svc.{{ .Zone }}.mesh.local",
        ),
        "synced-mesh-external-service": (
            "meshExternalService",
            origin,
            "{{ .DisplayName }}.extsvc.mesh.local",
        ),
    }
    assert set(generators) == set(expected)
    for name, (selector, match, template) in expected.items():
        generator = generators[name]
        assert (generator.type, generator.mesh, generator.labels) == ("HostnameGenerator", "", {})
        assert generator.spec == {
            "selector": {selector: {"matchLabels": match}},
            "template": template,
        }, name
        assert validate_spec("HostnameGenerator", generator.spec, Context(name=name)) == []

"""How old-style policies select a dataplane (Kuma v2.14.3's `pkg/core/policy` and the
proxy builder's matching), the builtin gateway route tables and the legacy rule
attachments, on hand-built resources."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from meshmanager.model.resources import legacy_gateway, legacy_matching, legacy_rules
from meshmanager.model.resources.legacy_matching import Attachment
from meshmanager.model.resources.matching import Decoded, Proxy
from meshmanager.model.resources.stored import Resource

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
ANY = {"kuma.io/service": "*"}


def proxy(*inbound_tags: dict[str, str], outbounds: Sequence[Any] = (), **extra: Any) -> Proxy:
    networking: dict[str, Any] = {
        "address": "10.0.0.1",
        "inbound": [
            {"port": 80 + i, "servicePort": 8080 + i, "tags": tags}
            for i, tags in enumerate(inbound_tags)
        ],
        "outbound": [
            o if isinstance(o, dict) else {"port": 10001 + i, "tags": {"kuma.io/service": o}}
            for i, o in enumerate(outbounds)
        ],
        **extra,
    }
    return Proxy.of(Resource("Dataplane", "default", "dp", {"networking": networking}))


def gateway_proxy(service: str) -> Proxy:
    gateway = {"type": "BUILTIN", "tags": {"kuma.io/service": service}}
    spec = {"networking": {"address": "10.0.0.9", "gateway": gateway}}
    return Proxy.of(Resource("Dataplane", "default", "gw-1", spec))


def policy(type_: str, name: str, created: int = 0, **spec: Any) -> Decoded:
    """`created`: seconds after EPOCH."""
    moment = EPOCH + timedelta(seconds=created)
    return Decoded.of(Resource(type_, "default", name, spec, creation_time=moment))


def matches(*selectors: dict[str, str]) -> list[dict[str, Any]]:
    return [{"match": selector} for selector in selectors]


def connection(
    type_: str, name: str, sources: dict[str, str], destinations: dict[str, str], created: int = 0
) -> Decoded:
    return policy(
        type_, name, created, sources=matches(sources), destinations=matches(destinations)
    )


def names(policies: Sequence[Decoded]) -> list[str]:
    return [p.name for p in policies]


# --- ranks ----------------------------------------------------------------------------


def test_a_selector_with_more_tags_outranks_one_with_more_exact_tags() -> None:
    wildcards = legacy_matching.selector_rank({"kuma.io/service": "*", "version": "*"})
    exact = legacy_matching.selector_rank({"kuma.io/service": "web"})
    assert wildcards > exact


def test_ranks_of_equal_size_compare_by_exact_tags() -> None:
    exact = legacy_matching.selector_rank({"kuma.io/service": "web"})
    assert exact > legacy_matching.selector_rank(ANY)


# --- dataplane policies -----------------------------------------------------------------


def test_the_most_specific_dataplane_selector_wins() -> None:
    dataplane = proxy({"kuma.io/service": "web", "app": "web", "version": "1.0", "env": "prod"})
    two_tags = policy("ProxyTemplate", "last", selectors=matches({"app": "web", "version": "1.0"}))
    three_tags = policy(
        "ProxyTemplate",
        "first",
        selectors=matches({"app": "web"}, {"app": "web", "version": "1.0", "env": "prod"}),
    )
    best = legacy_matching.best_dataplane_policy([two_tags, three_tags], dataplane.matches)
    assert best is three_tags


def test_a_dataplane_policy_tie_goes_to_the_newest_then_the_first_by_name() -> None:
    dataplane = proxy({"kuma.io/service": "web"})
    older = policy("TrafficTrace", "a", 0, selectors=matches(ANY))
    newer = policy("TrafficTrace", "b", 5, selectors=matches(ANY))
    same_time = policy("TrafficTrace", "c", 5, selectors=matches(ANY))
    best = legacy_matching.best_dataplane_policy([same_time, older, newer], dataplane.matches)
    assert best is newer


def test_a_policy_without_selectors_matches_only_when_nothing_else_does() -> None:
    dataplane = proxy({"kuma.io/service": "web"})
    everything = policy("TrafficTrace", "everything", 9)
    web = policy("TrafficTrace", "web", 0, selectors=matches({"kuma.io/service": "web"}))
    other = policy("TrafficTrace", "other", 0, selectors=matches({"kuma.io/service": "db"}))
    assert legacy_matching.best_dataplane_policy([everything, web], dataplane.matches) is web
    assert legacy_matching.best_dataplane_policy([other], dataplane.matches) is None
    found = legacy_matching.best_dataplane_policy([everything, other], dataplane.matches)
    assert found is everything


# --- connection policies ----------------------------------------------------------------


def test_an_inbound_gets_its_most_specific_traffic_permission() -> None:
    tags = {"kuma.io/service": "web", "kuma.io/protocol": "http"}
    broad = connection("TrafficPermission", "broad", ANY, ANY, created=9)
    narrow = connection("TrafficPermission", "narrow", ANY, tags)
    assert legacy_matching.best_inbound_policy([broad, narrow], tags) is narrow
    assert legacy_matching.best_inbound_policy([broad, narrow], {"kuma.io/service": "db"}) is broad


def test_an_inbound_gets_every_fault_injection_most_specific_source_first() -> None:
    tags = {"kuma.io/service": "web"}
    any_source = connection("FaultInjection", "a", ANY, ANY)
    web_source = connection("FaultInjection", "b", {"kuma.io/service": "web"}, ANY)
    newer = connection("FaultInjection", "c", ANY, ANY, created=3)
    twice = policy(
        "FaultInjection",
        "d",
        sources=matches(ANY),
        destinations=matches(ANY, {"kuma.io/service": "web"}),
    )
    found = legacy_matching.inbound_policies([any_source, web_source, newer, twice], tags)
    # once per matching destination selector
    assert names(found) == ["b", "c", "a", "d", "d"]


def test_source_and_destination_ranks_add_up_for_an_outbound() -> None:
    dataplane = proxy({"kuma.io/service": "web"}, outbounds=["redis"])
    specific_source = connection("Timeout", "source", {"kuma.io/service": "web"}, ANY)
    specific_destination = connection("Timeout", "destination", ANY, {"kuma.io/service": "redis"})
    both = connection("Timeout", "both", {"kuma.io/service": "web"}, {"kuma.io/service": "redis"})
    chosen = legacy_matching.connection_policies(
        dataplane, ["redis"], [specific_source, specific_destination, both]
    )
    assert chosen["redis"] is both


def test_equal_aggregate_ranks_go_to_the_newest_connection_policy() -> None:
    dataplane = proxy({"kuma.io/service": "web"}, outbounds=["redis"])
    older = connection("Timeout", "a", {"kuma.io/service": "web"}, ANY)
    newer = connection("Timeout", "b", ANY, {"kuma.io/service": "redis"}, created=1)
    chosen = legacy_matching.connection_policies(dataplane, ["redis"], [older, newer])
    assert chosen["redis"] is newer


def test_a_connection_policy_needs_a_source_matching_the_dataplane() -> None:
    dataplane = proxy({"kuma.io/service": "web"}, outbounds=["redis"])
    elsewhere = connection("Timeout", "t", {"kuma.io/service": "db"}, ANY)
    assert legacy_matching.connection_policies(dataplane, ["redis"], [elsewhere]) == {}


# --- attachments -------------------------------------------------------------------------


def test_sidecar_attachments_by_kind() -> None:
    dataplane = proxy({"kuma.io/service": "web"}, outbounds=["redis", "db"])
    policies = {
        "TrafficPermission": [connection("TrafficPermission", "tp", ANY, ANY)],
        "Timeout": [connection("Timeout", "t", ANY, {"kuma.io/service": "redis"})],
        "TrafficLog": [connection("TrafficLog", "tl", ANY, ANY)],
        "TrafficTrace": [policy("TrafficTrace", "tt", selectors=matches(ANY))],
    }
    attached = legacy_matching.sidecar_attachments(dataplane, policies)
    assert [(where, p.name) for where, p in attached] == [
        (Attachment("inbound", "10.0.0.1:80:8080", "web"), "tp"),
        (Attachment("outbound", "127.0.0.1:10001", "redis"), "t"),
        # a TrafficLog also applies to traffic that matches no outbound
        (Attachment("service", "redis", "redis"), "tl"),
        (Attachment("service", "db", "db"), "tl"),
        (Attachment("service", "pass_through", "pass_through"), "tl"),
        (legacy_matching.DATAPLANE, "tt"),
    ]


def test_a_traffic_route_decides_the_services_health_checks_apply_to() -> None:
    dataplane = proxy({"kuma.io/service": "web"}, outbounds=["redis"])
    split = [{"weight": 1, "destination": {"kuma.io/service": "redis-v2"}}]
    route = policy(
        "TrafficRoute", "r", sources=matches(ANY), destinations=matches(ANY), conf={"split": split}
    )
    check = connection("HealthCheck", "hc", ANY, ANY)
    attached = legacy_matching.sidecar_attachments(
        dataplane, {"TrafficRoute": [route], "HealthCheck": [check]}
    )
    assert (Attachment("service", "redis-v2", "redis-v2"), check) in attached
    assert all(where.name != "redis" or where.type != "service" for where, _ in attached)


def test_wildcard_route_destinations_take_the_outbound_service() -> None:
    outbound = legacy_matching.Outbound("127.0.0.1", 10001, {"kuma.io/service": "redis"})
    split = [{"weight": 1, "destination": {"kuma.io/service": "*", "version": "2"}}]
    route = policy("TrafficRoute", "r", conf={"split": split})
    assert legacy_matching.destination_services([outbound], {0: route}) == ["redis"]


def test_backend_ref_outbounds_and_transparent_proxies_have_no_legacy_outbounds() -> None:
    backend_ref = {"port": 10002, "backendRef": {"kind": "MeshService", "name": "db"}}
    plain = proxy({"kuma.io/service": "web"}, outbounds=["redis", backend_ref])
    assert [str(o) for o in legacy_matching.legacy_outbounds(plain)] == ["127.0.0.1:10001"]
    tproxy = {"redirectPortInbound": 15006, "redirectPortOutbound": 15001}
    redirected = proxy({"kuma.io/service": "web"}, outbounds=["redis"], transparentProxying=tproxy)
    assert legacy_matching.legacy_outbounds(redirected) == []


def test_outbound_interfaces_bracket_ipv6_addresses() -> None:
    assert str(legacy_matching.Outbound("::1", 10001, {})) == "[::1]:10001"


def test_attachments_sort_as_kuma_renders_them() -> None:
    found = [
        Attachment("service", "a", "a"),
        Attachment("outbound", "127.0.0.1:10002", "b"),
        Attachment("inbound", "10.0.0.1:80:8080", "web"),
        legacy_matching.DATAPLANE,
    ]
    ordered = sorted(found, key=lambda where: where.sort_key)
    assert [where.type for where in ordered] == ["dataplane", "inbound", "outbound", "service"]


# --- builtin gateways --------------------------------------------------------------------


def test_hostnames_match_exactly_or_by_wildcard_domain() -> None:
    assert legacy_gateway.hostnames_match("foo.example.com", ["*.example.com"])
    assert legacy_gateway.hostnames_match("*.example.com", ["foo.example.com"])
    assert not legacy_gateway.hostnames_match("foo.example.com", ["*.other.com"])
    assert not legacy_gateway.hostnames_match("foo.example.com", ["bar.example.com"])


def mesh_gateway(*listeners: dict[str, Any]) -> Decoded:
    spec = {"selectors": matches({"kuma.io/service": "edge"}), "conf": {"listeners": listeners}}
    return Decoded.of(Resource("MeshGateway", "default", "edge", spec))


def http_route(name: str, rules: list[dict[str, Any]], **http: Any) -> Decoded:
    spec = {
        "selectors": matches({"kuma.io/service": "edge"}),
        "conf": {"http": {"rules": rules, **http}},
    }
    return Decoded.of(Resource("MeshGatewayRoute", "default", name, spec))


def rule(service: str, *paths: dict[str, str]) -> dict[str, Any]:
    return {
        "matches": [{"path": path} for path in paths],
        "backends": [{"destination": {"kuma.io/service": service}}],
    }


def test_a_prefix_route_also_serves_its_exact_path() -> None:
    route = http_route("r", [rule("api", {"match": "PREFIX", "value": "/api/"})])
    gateway = mesh_gateway({"port": 80, "protocol": "HTTP"})
    [listener] = legacy_gateway.gateway_listeners(gateway_proxy("edge"), gateway, [route], {})
    [host] = listener.hosts
    assert (listener.port, listener.protocol, host.hostname) == (80, "HTTP", "*")
    assert [entry.route for entry in host.entries] == ["r", "r"]


def test_routes_naming_hostnames_get_virtual_hosts_of_their_own() -> None:
    named = http_route("named", [rule("a", {"value": "/a"})], hostnames=["foo.example.com"])
    anywhere = http_route("anywhere", [rule("b", {"value": "/b"})])
    gateway = mesh_gateway({"port": 80, "protocol": "HTTP"})
    [listener] = legacy_gateway.gateway_listeners(
        gateway_proxy("edge"), gateway, [named, anywhere], {}
    )
    routes = {host.hostname: [e.route for e in host.entries] for host in listener.hosts}
    assert routes == {"foo.example.com": ["named"], "*": ["anywhere"]}
    assert [host.hostname for host in listener.hosts] == ["foo.example.com", "*"]


def test_route_destinations_get_the_most_specific_connection_policy() -> None:
    route = http_route("r", [rule("redis", {"value": "/redis"})])
    gateway = mesh_gateway({"port": 80, "protocol": "HTTP"})
    broad = connection("Timeout", "broad", ANY, ANY, created=5)
    narrow = connection("Timeout", "narrow", ANY, {"kuma.io/service": "redis"})
    other_gateway = connection("Retry", "retry", {"kuma.io/service": "other"}, ANY)
    policies = {"Timeout": [broad, narrow], "Retry": [other_gateway]}
    [listener] = legacy_gateway.gateway_listeners(gateway_proxy("edge"), gateway, [route], policies)
    [entry] = listener.hosts[0].entries
    [destination] = entry.forwards
    assert dict(destination.policies) == {"Timeout": narrow}


# --- legacy rules ------------------------------------------------------------------------


def test_cluster_names_hash_tags_beyond_the_service() -> None:
    assert legacy_rules.cluster_name({"kuma.io/service": "backend"}) == "backend"
    name = legacy_rules.cluster_name({"kuma.io/service": "backend", "version": "2"})
    assert name == "backend-618c322a4d7e5dd7"


def test_a_subset_contains_the_tags_it_does_not_contradict() -> None:
    east = (("kuma.io/zone", "east", False),)
    not_v2 = (("version", "2", True),)
    assert legacy_rules.contains_element((), {"kuma.io/service": "a"})
    assert legacy_rules.contains_element(east, {"kuma.io/zone": "east", "x": "y"})
    assert not legacy_rules.contains_element(east, {"kuma.io/zone": "west"})
    assert not legacy_rules.contains_element(east, {"x": "y"})
    assert legacy_rules.contains_element(not_v2, {"version": "1"})
    assert legacy_rules.contains_element(not_v2, {"x": "y"})
    assert not legacy_rules.contains_element(not_v2, {"version": "2"})


def test_destination_subsets_list_the_hostnames_of_their_vip_first() -> None:
    outbound = {"address": "241.0.0.1", "port": 80, "tags": {"kuma.io/service": "backend"}}
    web = proxy({"kuma.io/service": "web"}, outbounds=[outbound])
    status = {"vips": [{"ip": "241.0.0.1"}], "addresses": [{"hostname": "backend.mesh.local"}]}
    backend = Resource("MeshService", "default", "backend", {}, status=status)
    file_log = {"backends": [{"type": "File", "file": {"path": "/tmp/log"}}]}
    to_all = {"targetRef": {"kind": "Mesh"}, "default": file_log}
    spec = {"targetRef": {"kind": "Mesh"}, "to": [to_all]}
    log = Resource("MeshAccessLog", "default", "log", spec)
    resources = {"MeshService": [backend], "MeshAccessLog": [log]}
    [item] = legacy_rules.rule_attachments(web, resources)
    assert (item["type"], item["name"]) == ("DestinationSubset", "backend")
    assert item["addresses"] == ["backend.mesh.local:80", "241.0.0.1:80"]

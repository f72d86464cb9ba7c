"""The listeners of a builtin gateway dataplane as Kuma v2.14.3's gateway plugin lays
them out for its legacy inspection (`pkg/plugins/runtime/gateway`): per port, the
virtual hosts, the route table entries the MeshGatewayRoutes of each host make, and the
connection policies (CircuitBreaker, FaultInjection, HealthCheck, RateLimit, Retry,
Timeout) each route destination gets."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from meshmanager.model.resources.legacy_matching import (
    NO_RANK,
    Policies,
    Rank,
    combined,
    selector_rank,
    selectors,
)
from meshmanager.model.resources.matching import (
    CONNECTION_POLICIES,
    WILDCARD,
    Decoded,
    Proxy,
    Tags,
    created_at,
    tags_match,
)

# What a route destination gets; the gateway's TrafficLog, TrafficPermission and
# TrafficRoute work differently.
CONNECTION_POLICY_TYPES = tuple(
    sorted(CONNECTION_POLICIES - {"TrafficLog", "TrafficPermission", "TrafficRoute"})
)
_ROUTE_KINDS = {"http": ("HTTP", "HTTPS"), "tcp": ("TCP", "TLS")}
# Listener protocols whose virtual hosts are told apart by hostname (SNI).
_BY_HOSTNAME = ("HTTPS", "TLS")


@dataclass(frozen=True)
class RouteDestination:
    tags: Tags
    policies: Mapping[str, Decoded]  # the connection policy of each type


@dataclass(frozen=True)
class RouteEntry:
    """One entry of a virtual host's route table: a route rule, once per match."""

    route: str
    forwards: tuple[RouteDestination, ...]
    mirror: RouteDestination | None = None


@dataclass(frozen=True)
class GatewayHost:
    hostname: str
    entries: tuple[RouteEntry, ...]


@dataclass(frozen=True)
class GatewayListener:
    port: int
    protocol: str
    hosts: tuple[GatewayHost, ...]  # by hostname group, then by hostname, descending


RankedPolicies = dict[str, list[tuple[Rank, Decoded]]]


@dataclass(frozen=True)
class _Host:
    """A virtual host as the gateway plugin builds it, before its route table."""

    hostname: str
    routes: list[Decoded]
    policies: RankedPolicies  # the connection policies whose sources select its listener


# --- hostnames ----------------------------------------------------------------------


def _parts(hostname: str) -> tuple[str, list[str]]:
    host, *domain = (hostname or WILDCARD).split(".")
    return host, domain


def _contains(outer: str, inner: str) -> bool:
    """`inner` lies within `outer`: same domain suffix, and the same host or a `*` one."""
    (outer_host, outer_domain), (inner_host, inner_domain) = _parts(outer), _parts(inner)
    if len(outer_domain) > len(inner_domain):
        return False
    if outer_domain and inner_domain[-len(outer_domain) :] != outer_domain:
        return False
    return outer_host in (WILDCARD, inner_host)


def hostnames_match(target: str, names: Iterable[str]) -> bool:
    """Kuma's match.Hostnames: equal, or one a wildcard domain of the other."""
    return any(
        name == target or _contains(target, name) or _contains(name, target) for name in names
    )


def _more_exact(first: str, second: str) -> bool:
    (first_host, first_domain), (second_host, second_domain) = _parts(first), _parts(second)
    first_wild, second_wild = first_host == WILDCARD, second_host == WILDCARD
    if first_wild != second_wild:
        return second_wild
    if first_wild and len(first_domain) != len(second_domain):
        return len(first_domain) > len(second_domain)
    return first < second


def _by_exactness(first: str, second: str) -> int:
    return -1 if _more_exact(first, second) else int(_more_exact(second, first))


# --- routes ---------------------------------------------------------------------------


def _route_kind(route: Decoded) -> str:
    conf = route.spec.get("conf") or {}
    return next((kind for kind in _ROUTE_KINDS if conf.get(kind)), "")


def _route_hostnames(route: Decoded) -> list[str]:
    return list(((route.spec.get("conf") or {}).get("http") or {}).get("hostnames") or [])


def _listener_routes(routes: Sequence[Decoded], tags: Tags, protocol: str) -> list[Decoded]:
    """The MeshGatewayRoutes selecting a listener's tags that its protocol can serve."""
    return [
        route
        for route in routes
        if any(tags_match(s, tags) for s in selectors(route, "selectors"))
        and protocol in _ROUTE_KINDS.get(_route_kind(route), ())
    ]


def _redistributed(hosts: list[_Host]) -> list[_Host]:
    """Kuma's RedistributeWildcardRoutes: routes of the `*` host naming hostnames move to
    the hosts of those names, made from the `*` host where missing."""
    by_name = {host.hostname: host for host in hosts}
    wild = by_name.get(WILDCARD)
    if wild is None:
        return hosts
    for route in wild.routes:
        for name in _route_hostnames(route):
            host = by_name.get(name) or replace(wild, hostname=name, routes=[])
            by_name[name] = replace(host, routes=[*host.routes, route])
            if name.startswith("*."):
                for other, candidate in list(by_name.items()):
                    if other.endswith(name[2:]):
                        by_name[other] = replace(candidate, routes=[*candidate.routes, route])
    by_name[WILDCARD] = replace(wild, routes=[r for r in wild.routes if not _route_hostnames(r)])
    return [replace(host, routes=_unique(host.routes)) for host in by_name.values()]


def _unique(routes: Iterable[Decoded]) -> list[Decoded]:
    return list({(route.mesh, route.name): route for route in routes}.values())


# --- route table entries --------------------------------------------------------------


@dataclass
class _Entry:
    route: str
    forwards: list[Tags]
    mirror: Tags | None
    rewrites_prefix: bool  # a prefix rewrite or redirect, which an exact path needs too


def _last_filter(rule: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The filter of a kind that counts: the last one."""
    found = [f[key] for f in rule.get("filters") or [] if isinstance(f, dict) and f.get(key)]
    return found[-1] if found else None


def _rule_entry(route: Decoded, rule: Mapping[str, Any]) -> _Entry:
    forwards = [backend.get("destination") or {} for backend in rule.get("backends") or []]
    mirror = _last_filter(rule, "mirror")
    mirrored = None if mirror is None else (mirror.get("backend") or {}).get("destination") or {}
    rewrite = _last_filter(rule, "rewrite") or {}
    redirect_path = (_last_filter(rule, "redirect") or {}).get("path") or {}
    rewrites_prefix = "replacePrefixMatch" in rewrite or "replacePrefixMatch" in redirect_path
    return _Entry(route.name, forwards, mirrored, rewrites_prefix)


def _host_accepts(host: _Host, route: Decoded) -> bool:
    names = _route_hostnames(route)
    return host.hostname == WILDCARD or not names or hostnames_match(host.hostname, names)


def _entries(host: _Host) -> list[_Entry]:
    """Kuma's GenerateEnvoyRouteEntries: the route table of a virtual host."""
    entries: list[_Entry] = []
    exact: dict[str, list[_Entry]] = {}
    prefix: dict[str, list[_Entry]] = {}
    for route in (r for r in host.routes if _host_accepts(host, r)):
        conf = route.spec.get("conf") or {}
        for rule in (conf.get("http") or {}).get("rules") or []:
            for match in rule.get("matches") or []:
                path = match.get("path")
                entry = _rule_entry(route, rule)
                if path is None:
                    prefix.setdefault("/", []).append(entry)
                elif path.get("match", "EXACT") == "EXACT" and path.get("value"):
                    exact.setdefault(path["value"], []).append(entry)
                elif path.get("match") == "PREFIX" and path.get("value"):
                    prefix.setdefault(path["value"], []).append(entry)
                else:
                    entries.append(entry)
        entries += [_rule_entry(route, rule) for rule in (conf.get("tcp") or {}).get("rules") or []]
    return _with_prefixes(entries, exact, prefix)


def _with_prefixes(
    entries: list[_Entry], exact: dict[str, list[_Entry]], prefix: dict[str, list[_Entry]]
) -> list[_Entry]:
    """A prefix also matches its exact path, unless some entry has that path already."""
    for path, prefixed in prefix.items():
        exact_path = path.rstrip("/")
        has_exact = exact_path in exact
        for entry in prefixed:
            entries.append(entry)
            if not has_exact and (exact_path or entry.rewrites_prefix):
                exact.setdefault(exact_path, []).append(entry)
    return entries + [entry for same_path in exact.values() for entry in same_path]


# --- connection policies of route destinations ----------------------------------------


def _first_match_rank(tags: Tags, tag_selectors: Iterable[Tags]) -> Rank | None:
    return next((selector_rank(s) for s in tag_selectors if tags_match(s, tags)), None)


def _ranked_by_source(tags: Tags, policies: Policies) -> RankedPolicies:
    """Per connection policy type, the policies whose `sources` select a listener."""
    ranked: RankedPolicies = {}
    for type_ in CONNECTION_POLICY_TYPES:
        for policy in policies.get(type_, ()):
            rank = _first_match_rank(tags, selectors(policy, "sources"))
            if rank is not None:
                ranked.setdefault(type_, []).append((rank, policy))
    return ranked


def _destination_policy(
    candidates: Iterable[tuple[Rank, Decoded]], destination: Tags
) -> Decoded | None:
    """The most specific source and destination match; a tie goes to the newest."""
    best, best_rank = None, NO_RANK
    for source_rank, policy in candidates:
        rank = _first_match_rank(destination, selectors(policy, "destinations"))
        if rank is None:
            continue
        rank = combined(rank, source_rank)
        if best is None or (rank, created_at(policy)) > (best_rank, created_at(best)):
            best, best_rank = policy, rank
    return best


def _destination(host: _Host, tags: Tags) -> RouteDestination:
    policies = {
        type_: found
        for type_, candidates in host.policies.items()
        if (found := _destination_policy(candidates, tags)) is not None
    }
    return RouteDestination(tags, policies)


def _route_entry(host: _Host, entry: _Entry) -> RouteEntry:
    mirror = None if entry.mirror is None else _destination(host, entry.mirror)
    forwards = tuple(_destination(host, tags) for tags in entry.forwards)
    return RouteEntry(entry.route, forwards, mirror)


# --- listeners ------------------------------------------------------------------------


def _listener_tags(proxy: Proxy, gateway: Decoded, listener: Mapping[str, Any]) -> Tags:
    return {
        **proxy.gateway_tags,
        **(gateway.spec.get("tags") or {}),
        **(listener.get("tags") or {}),
    }


def _hosts(
    proxy: Proxy,
    gateway: Decoded,
    listeners: Sequence[Mapping[str, Any]],
    routes: Sequence[Decoded],
    policies: Policies,
) -> list[GatewayHost]:
    """The virtual hosts of listeners sharing a port, grouped as Kuma groups them: one
    group per hostname on HTTPS and TLS, a single one otherwise."""
    protocol = listeners[0].get("protocol", "NONE")
    groups: dict[str, list[_Host]] = {}
    for listener in listeners:
        tags = _listener_tags(proxy, gateway, listener)
        hostname = listener.get("hostname") or WILDCARD
        host = _Host(
            hostname, _listener_routes(routes, tags, protocol), _ranked_by_source(tags, policies)
        )
        key = hostname if listener.get("protocol") in _BY_HOSTNAME else WILDCARD
        groups.setdefault(key, []).append(host)
    hosts = []
    for key in sorted(groups, key=functools.cmp_to_key(_by_exactness)):
        in_group = sorted(_redistributed(groups[key]), key=lambda h: h.hostname, reverse=True)
        hosts += [
            GatewayHost(h.hostname, tuple(_route_entry(h, e) for e in _entries(h)))
            for h in in_group
        ]
    return hosts


def gateway_listeners(
    proxy: Proxy, gateway: Decoded, routes: Sequence[Decoded], policies: Policies
) -> list[GatewayListener]:
    """The listeners, by port, of the builtin gateway dataplane `proxy` serving `gateway`,
    with the MeshGatewayRoutes of the mesh (`routes`) and its old-style `policies`."""
    by_port: dict[int, list[Mapping[str, Any]]] = {}
    for listener in (gateway.spec.get("conf") or {}).get("listeners") or []:
        by_port.setdefault(int(listener.get("port") or 0), []).append(listener)
    return [
        GatewayListener(
            port,
            str(listeners[0].get("protocol", "NONE")),
            tuple(_hosts(proxy, gateway, listeners, routes, policies)),
        )
        for port, listeners in sorted(by_port.items())
    ]

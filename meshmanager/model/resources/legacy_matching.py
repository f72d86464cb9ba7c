"""Which old-style policies Kuma v2.14.3 applies to a dataplane, and where: the
selection its proxy builder makes (`matchPolicies` in `pkg/xds/sync`, built on
`pkg/core/policy`) and the attachments its legacy inspection reads from it
(`pkg/core/xds/inspect/attachments.go`).

Dataplane policies (TrafficTrace, ProxyTemplate) pick the one most specific match for
the whole dataplane. Connection policies match `sources` against the dataplane and
`destinations` against an inbound (TrafficPermission, FaultInjection, RateLimit), an
outbound (Timeout, RateLimit, TrafficRoute) or a destination service (TrafficLog,
HealthCheck, CircuitBreaker, Retry). A selector's rank is its number of tags, then its
number of exact (not `*`) tags; a tie goes to the policy created last, and among equal
creation times to the first by name."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.matching import (
    CONNECTION_POLICIES,
    SERVICE_TAG,
    WILDCARD,
    Decoded,
    Proxy,
    Tags,
    created_at,
    tags_match,
)

LEGACY_POLICY_TYPES = tuple(sorted(CONNECTION_POLICIES | {"ProxyTemplate", "TrafficTrace"}))
Rank = tuple[int, int]  # tags, exact tags: the more tags, the more specific
NO_RANK: Rank = (0, 0)
Policies = Mapping[str, Sequence[Decoded]]  # old-style policies of a mesh, by type
# The destination of traffic that matches no outbound, which a TrafficLog can select.
PASS_THROUGH = "pass_through"
DEFAULT_OUTBOUND_ADDRESS = "127.0.0.1"


def selector_rank(selector: Tags) -> Rank:
    exact = sum(1 for value in selector.values() if value != WILDCARD)
    return (len(selector), exact)


def combined(rank: Rank, other: Rank) -> Rank:
    return (rank[0] + other[0], rank[1] + other[1])


def selectors(policy: Decoded, key: str) -> list[Tags]:
    """The tag maps of `selectors`, `sources` or `destinations`."""
    entries = policy.spec.get(key) or []
    return [entry.get("match") or {} for entry in entries if isinstance(entry, dict)]


def by_name(policies: Iterable[Decoded]) -> list[Decoded]:
    return sorted(policies, key=lambda policy: policy.name)


def _wins(rank: Rank, policy: Decoded, best_rank: Rank, best: Decoded | None) -> bool:
    if best is None or rank > best_rank:
        return True
    return rank == best_rank and created_at(policy) > created_at(best)


# --- selection --------------------------------------------------------------------


def best_dataplane_policy(
    policies: Iterable[Decoded], matches: Callable[[Tags], bool]
) -> Decoded | None:
    """Kuma's SelectDataplanePolicyWithMatcher: the policy whose matching selector is the
    most specific. No selectors, or an empty one, match anything with the lowest rank."""
    best, best_rank = None, NO_RANK
    for policy in by_name(policies):
        for selector in selectors(policy, "selectors") or [{}]:
            rank = selector_rank(selector)
            if (not selector or matches(selector)) and _wins(rank, policy, best_rank, best):
                best, best_rank = policy, rank
    return best


def best_inbound_policy(policies: Iterable[Decoded], tags: Tags) -> Decoded | None:
    """Kuma's SelectInboundConnectionPolicy: the most specific `destinations` match."""
    best, best_rank = None, NO_RANK
    for policy in by_name(policies):
        for selector in selectors(policy, "destinations"):
            rank = selector_rank(selector)
            # an empty selector never wins: Kuma would fail on it
            if (
                rank > NO_RANK
                and tags_match(selector, tags)
                and _wins(rank, policy, best_rank, best)
            ):
                best, best_rank = policy, rank
    return best


def _first_source_rank(policy: Decoded) -> Rank:
    sources = selectors(policy, "sources")
    return selector_rank(sources[0]) if sources else NO_RANK


def inbound_policies(policies: Iterable[Decoded], tags: Tags) -> list[Decoded]:
    """Kuma's SelectInboundConnectionAllPolicies: every policy once per `destinations`
    selector matching the inbound, the most specific first `sources` selector first, then
    the policy created last."""
    found = [
        policy
        for policy in by_name(policies)
        for selector in selectors(policy, "destinations")
        if tags_match(selector, tags)
    ]
    found.sort(key=created_at, reverse=True)
    found.sort(key=_first_source_rank, reverse=True)
    return found


def _best_source_rank(policy: Decoded, proxy: Proxy) -> Rank | None:
    ranks = [selector_rank(s) for s in selectors(policy, "sources") if proxy.matches(s)]
    return max(ranks) if ranks else None


def connection_policies(
    proxy: Proxy, services: Iterable[str], policies: Iterable[Decoded]
) -> dict[str, Decoded]:
    """Kuma's SelectConnectionPolicies: per destination service, the policy whose best
    `sources` match of the proxy and `destinations` match of the service are together the
    most specific."""
    candidates = [
        (policy, rank)
        for policy in by_name(policies)
        if (rank := _best_source_rank(policy, proxy)) is not None
    ]
    chosen: dict[str, Decoded] = {}
    for service in dict.fromkeys(services):
        best, best_rank = None, NO_RANK
        for policy, source_rank in candidates:
            for selector in selectors(policy, "destinations"):
                rank = combined(selector_rank(selector), source_rank)
                if tags_match(selector, {SERVICE_TAG: service}) and _wins(
                    rank, policy, best_rank, best
                ):
                    best, best_rank = policy, rank
        if best is not None:
            chosen[service] = best
    return chosen


# --- the dataplane's interfaces ---------------------------------------------------


@dataclass(frozen=True)
class Outbound:
    """An outbound of the Dataplane that names its destination by tags."""

    address: str
    port: int
    tags: Tags

    @property
    def service(self) -> str:
        return self.tags.get(SERVICE_TAG, "")

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def _transparent_proxying(proxy: Proxy) -> bool:
    tproxy = proxy.networking.get("transparentProxying") or {}
    redirects = tproxy.get("redirectPortInbound") or tproxy.get("redirectPortOutbound")
    if not redirects:
        return False
    if tproxy.get("ipFamilyMode") != "IPv4":
        return True
    try:
        return ipaddress.ip_address(proxy.address).version == 4
    except ValueError:
        return False


def legacy_outbounds(proxy: Proxy) -> list[Outbound]:
    """The outbounds Kuma matches old-style policies against: those without a backendRef.
    Under transparent proxying Kuma replaces them with the mesh's VIP outbounds, which
    only a zone allocates, so a global knows none."""
    if _transparent_proxying(proxy):
        return []
    return [
        Outbound(
            str(outbound.get("address") or DEFAULT_OUTBOUND_ADDRESS),
            int(outbound.get("port") or 0),
            dict(outbound.get("tags") or {}),
        )
        for outbound in proxy.networking.get("outbound") or []
        if isinstance(outbound, dict) and outbound.get("backendRef") is None
    ]


def inbound_interface(proxy: Proxy, inbound: Mapping[str, Any]) -> str:
    """Kuma's InboundInterface: dataplane address and port, then the workload port."""
    listener = proxy.listener(inbound)
    workload_port = inbound.get("servicePort") or listener.port
    return f"{listener}:{workload_port}"


def _resolved(destination: Tags, outbound: Outbound) -> dict[str, str]:
    """A TrafficRoute destination with `*` values taken from the outbound's tags."""
    resolved = {key: value for key, value in destination.items() if value != WILDCARD}
    return resolved | {key: value for key, value in outbound.tags.items() if key not in resolved}


def _split_destinations(route: Decoded) -> list[Tags]:
    conf = route.spec.get("conf") or {}
    if conf.get("destination"):
        return [conf["destination"]]
    return [split.get("destination") or {} for split in conf.get("split") or []]


def destination_services(outbounds: Sequence[Outbound], routes: Mapping[int, Decoded]) -> list[str]:
    """Kuma's DestinationMap: the services the outbounds reach, through the TrafficRoute of
    an outbound (`routes`, by outbound index) or else directly."""
    services: list[str] = []
    for index, outbound in enumerate(outbounds):
        route = routes.get(index)
        if route is None:
            services.append(outbound.service)
            continue
        for destination in _split_destinations(route):
            service = _resolved(destination, outbound).get(SERVICE_TAG)
            if service is not None:
                services.append(service)
    return list(dict.fromkeys(services))


# --- attachments ------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """Where a policy applies on a sidecar: `inbound`, `outbound`, `service` or the
    whole `dataplane`."""

    type: str
    name: str = ""
    service: str = ""

    @property
    def sort_key(self) -> str:
        """Kuma orders attachments by their Go `%s` rendering."""
        return f"{{{self.type} {self.name} {self.service}}}"


DATAPLANE = Attachment("dataplane")
Attached = list[tuple[Attachment, Decoded]]


def _outbound_policies(
    proxy: Proxy, outbounds: Sequence[Outbound], policies: Iterable[Decoded]
) -> dict[int, Decoded]:
    """Kuma's SelectOutboundConnectionPolicies, by outbound index."""
    services = [outbound.service for outbound in outbounds] + [PASS_THROUGH]
    chosen = connection_policies(proxy, services, policies)
    return {i: chosen[o.service] for i, o in enumerate(outbounds) if o.service in chosen}


def _inbound_attached(proxy: Proxy, policies: Policies) -> Attached:
    attached: Attached = []
    for inbound in proxy.inbounds:
        tags = inbound.get("tags") or {}
        where = Attachment("inbound", inbound_interface(proxy, inbound), tags.get(SERVICE_TAG, ""))
        permission = best_inbound_policy(policies.get("TrafficPermission", ()), tags)
        found = [permission] if permission is not None else []
        found += inbound_policies(policies.get("FaultInjection", ()), tags)
        found += inbound_policies(policies.get("RateLimit", ()), tags)
        attached += [(where, policy) for policy in found]
    return attached


def _by_interface(outbounds: Sequence[Outbound], chosen: Mapping[int, Decoded]) -> Attached:
    """One attachment per outbound interface; of outbounds sharing one, the last counts."""
    services = {str(outbound): outbound.service for outbound in outbounds}
    by_interface = {str(outbounds[i]): policy for i, policy in chosen.items()}
    return [
        (Attachment("outbound", name, services[name]), policy)
        for name, policy in by_interface.items()
    ]


def _outbound_attached(proxy: Proxy, outbounds: Sequence[Outbound], policies: Policies) -> Attached:
    attached: Attached = []
    for type_ in ("Timeout", "RateLimit", "TrafficRoute"):
        chosen = _outbound_policies(proxy, outbounds, policies.get(type_, ()))
        attached += _by_interface(outbounds, chosen)
    return attached


def traffic_logs(
    proxy: Proxy, outbounds: Sequence[Outbound], policies: Policies
) -> dict[str, Decoded]:
    """The TrafficLog per outbound service, and for the pass-through destination."""
    services = [outbound.service for outbound in outbounds] + [PASS_THROUGH]
    return connection_policies(proxy, services, policies.get("TrafficLog", ()))


def _service_attached(proxy: Proxy, outbounds: Sequence[Outbound], policies: Policies) -> Attached:
    routes = _outbound_policies(proxy, outbounds, policies.get("TrafficRoute", ()))
    services = destination_services(outbounds, routes)
    by_type = [traffic_logs(proxy, outbounds, policies)] + [
        connection_policies(proxy, services, policies.get(type_, ()))
        for type_ in ("HealthCheck", "CircuitBreaker", "Retry")
    ]
    return [
        (Attachment("service", service, service), policy)
        for chosen in by_type
        for service, policy in chosen.items()
    ]


def dataplane_policies(proxy: Proxy, policies: Policies) -> list[Decoded]:
    """The TrafficTrace and the ProxyTemplate of the whole dataplane."""
    found = (
        best_dataplane_policy(policies.get(type_, ()), proxy.matches)
        for type_ in ("TrafficTrace", "ProxyTemplate")
    )
    return [policy for policy in found if policy is not None]


def sidecar_attachments(proxy: Proxy, policies: Policies) -> Attached:
    """Every old-style policy applied to a sidecar, with where it applies."""
    outbounds = legacy_outbounds(proxy)
    return [
        *_inbound_attached(proxy, policies),
        *_outbound_attached(proxy, outbounds, policies),
        *_service_attached(proxy, outbounds, policies),
        *[(DATAPLANE, policy) for policy in dataplane_policies(proxy, policies)],
    ]

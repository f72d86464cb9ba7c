"""Which dataplanes old-style policies attach to, for Kuma v2.14.3's legacy inspection
(`kumactl inspect <policy> NAME`, `pkg/api-server/inspect_endpoints.go`), for the types
whose attachment needs no proxy build: TrafficTrace and ProxyTemplate attach to the
whole dataplane (the best matching one per dataplane, `SelectDataplanePolicy`), a
TrafficPermission to each inbound it is the best match for
(`SelectInboundConnectionPolicies`); and which builtin gateways a MeshGatewayRoute
attaches to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from meshmanager.model.resources.matching import WILDCARD, Decoded, Proxy, Tags, tags_match

SIDECAR = "SidecarDataplane"
GATEWAY = "MeshGatewayDataplane"
DATAPLANE_POLICIES = frozenset({"ProxyTemplate", "TrafficTrace"})
INBOUND_POLICIES = frozenset({"TrafficPermission"})
# Policies Kuma shows on a builtin gateway as a whole.
GATEWAY_POLICIES = frozenset({"TrafficTrace"})
_ROUTE_PROTOCOLS = {"http": ("HTTP", "HTTPS"), "tcp": ("TCP", "TLS")}

Rank = tuple[int, int]  # exact, wildcard tags of a selector
NO_RANK: Rank = (0, 0)


def _rank(selector: Tags) -> Rank:
    wildcards = sum(1 for value in selector.values() if value == WILDCARD)
    return (len(selector) - wildcards, wildcards)


def _selectors(policy: Decoded, key: str) -> list[Tags]:
    return [s.get("match") or {} for s in policy.spec.get(key) or [] if isinstance(s, dict)]


def _better(rank: Rank, best_rank: Rank, policy: Decoded, best: Decoded | None) -> bool:
    """A higher rank wins; an equal one if created later (the names were sorted first)."""
    if best is None or rank > best_rank:
        return True
    created, best_created = policy.resource.creation_time, best.resource.creation_time
    later = created is not None and best_created is not None and created > best_created
    return rank == best_rank and later


def best_dataplane_policy(policies: Sequence[Decoded], proxy: Proxy) -> Decoded | None:
    """Kuma's SelectDataplanePolicy: the policy with the most specific selector matching
    the proxy; no selectors, or an empty one, match with the lowest rank."""
    best, best_rank = None, NO_RANK
    for policy in sorted(policies, key=lambda p: p.name):
        selectors = _selectors(policy, "selectors") or [{}]
        for selector in selectors:
            if selector and not proxy.matches(selector):
                continue
            rank = _rank(selector)
            if _better(rank, best_rank, policy, best):
                best, best_rank = policy, rank
    return best


def best_inbound_policy(policies: Sequence[Decoded], tags: Tags) -> Decoded | None:
    """Kuma's SelectInboundConnectionPolicy: the most specific `destinations` match."""
    best, best_rank = None, NO_RANK
    for policy in sorted(policies, key=lambda p: p.name):
        for selector in _selectors(policy, "destinations"):
            rank = _rank(selector)
            if (
                tags_match(selector, tags)
                and rank > NO_RANK
                and _better(rank, best_rank, policy, best)
            ):
                best, best_rank = policy, rank
    return best


def _key(resource: Decoded | None) -> dict[str, str]:
    return {"mesh": resource.mesh, "name": resource.name} if resource else {"mesh": "", "name": ""}


def _inbound_attachment(proxy: Proxy, inbound: Mapping[str, Any]) -> dict[str, str]:
    listener = proxy.listener(inbound)
    workload_port = int(inbound.get("servicePort") or listener.port)
    tags = inbound.get("tags") or {}
    return {
        "type": "inbound",
        "name": f"{listener}:{workload_port}",
        "service": tags.get("kuma.io/service", ""),
    }


def attachments(
    policy: Decoded, candidates: Sequence[Decoded], proxy: Proxy
) -> list[dict[str, str]]:
    """Where `policy` (one of `candidates`, the policies of its type) attaches on a sidecar."""
    if policy.resource.type in DATAPLANE_POLICIES:
        best = best_dataplane_policy(candidates, proxy)
        return [{"type": "dataplane"}] if best is not None and best.name == policy.name else []
    return [
        _inbound_attachment(proxy, inbound)
        for inbound in proxy.inbounds
        if (best := best_inbound_policy(candidates, inbound.get("tags") or {})) is not None
        and best.name == policy.name
    ]


def policy_entries(
    policy: Decoded, candidates: Sequence[Decoded], proxy: Proxy, gateway: Decoded | None
) -> list[dict[str, Any]]:
    """The inspect entries of `policy` for one dataplane (`gateway`: the MeshGateway a
    builtin gateway dataplane serves)."""
    key = _key(proxy)
    if proxy.is_builtin_gateway:
        if policy.resource.type not in GATEWAY_POLICIES:
            return []
        best = best_dataplane_policy(candidates, proxy)
        if best is None or best.name != policy.name:
            return []
        return [{"kind": GATEWAY, "dataplane": key, "gateway": _key(gateway)}]
    found = attachments(policy, candidates, proxy)
    return [{"kind": SIDECAR, "dataplane": key, "attachments": found}] if found else []


def route_attached(route: Decoded, gateway: Decoded, proxy: Proxy) -> bool:
    """Whether a MeshGatewayRoute attaches to some listener of the gateway the builtin
    gateway dataplane serves: a route selector matches the listener's tags (the
    dataplane's gateway tags and the listener's own) and its protocol suits the route."""
    conf = route.spec.get("conf") or {}
    protocols = next((_ROUTE_PROTOCOLS[kind] for kind in _ROUTE_PROTOCOLS if conf.get(kind)), ())
    listeners = (gateway.spec.get("conf") or {}).get("listeners") or []
    for listener in listeners:
        if listener.get("protocol") not in protocols:
            continue
        tags = {**proxy.gateway_tags, **(listener.get("tags") or {})}
        if any(tags_match(selector, tags) for selector in _selectors(route, "selectors")):
            return True
    return False

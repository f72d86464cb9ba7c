"""Which policies apply to which dataplane, as Kuma v2.14.3 decides it.

The top-level `targetRef` of a policy selects inbounds, builtin gateway listeners or a
delegated gateway of a Dataplane (`pkg/plugins/policies/core/matchers/dataplane.go`);
the policies that select a dataplane are ordered by `targetRef` specificity, origin,
role and name, which is the order their confs are merged in (`confs.py`, `rules.py`).
Old-style policies select dataplanes through tag selectors (`selectors`, `sources`,
`destinations`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.stored import Resource

Resources = Mapping[str, Sequence[Resource]]
Tags = Mapping[str, str]

SERVICE_TAG = "kuma.io/service"
POLICY_ROLE = "kuma.io/policy-role"
EFFECT = "kuma.io/effect"
WILDCARD = "*"
SYSTEM_ROLE = "system"
PRODUCER_ROLE = "producer"
NAMESPACED_ROLES = ("consumer", "workload-owner")

KIND_ORDER = {
    "Mesh": 1,
    "Dataplane": 2,
    "MeshSubset": 3,
    "MeshGateway": 4,
    "MeshService": 5,
    "MeshExternalService": 6,
    "MeshMultiZoneService": 7,
    "MeshServiceSubset": 8,
    "MeshHTTPRoute": 9,
}
ORIGIN_ORDER = {"global": 1, "": 2, "zone": 3}
# The targetRef policy types in the order of Kuma's policy plugins (`Order` of each
# type's descriptor), which is the order the inspection endpoints list them in.
POLICY_TYPES = (
    "MeshHTTPRoute",
    "MeshTCPRoute",
    "MeshTLS",
    "MeshLoadBalancingStrategy",
    "MeshPassthrough",
    "MeshAccessLog",
    "MeshTrace",
    "MeshFaultInjection",
    "MeshRateLimit",
    "MeshTimeout",
    "MeshTrafficPermission",
    "MeshHealthCheck",
    "MeshCircuitBreaker",
    "MeshRetry",
    "MeshMetric",
    "MeshProxyPatch",
)
ROLE_ORDER = {SYSTEM_ROLE: 1, PRODUCER_ROLE: 2, "consumer": 3, "workload-owner": 4}

# Old-style policies select dataplanes either by `selectors` or by `sources` and
# `destinations` (Kuma's DataplanePolicy and ConnectionPolicy).
SELECTOR_POLICIES = frozenset(
    {"MeshGateway", "MeshGatewayRoute", "ProxyTemplate", "TrafficTrace", "VirtualOutbound"}
)
CONNECTION_POLICIES = frozenset(
    {
        "CircuitBreaker",
        "FaultInjection",
        "HealthCheck",
        "RateLimit",
        "Retry",
        "Timeout",
        "TrafficLog",
        "TrafficPermission",
        "TrafficRoute",
    }
)


class UnresolvedTargetRef(Exception):
    """A top-level targetRef that names nothing Kuma can resolve."""


@dataclass(frozen=True, order=True)
class InboundListener:
    address: str
    port: int

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


@dataclass(frozen=True, order=True)
class ListenerHostname:
    address: str
    port: int
    hostname: str

    def __str__(self) -> str:
        return f"{self.address}:{self.port}:{self.hostname}"


@dataclass(frozen=True)
class Selection:
    """What a policy's top-level targetRef selects on one dataplane."""

    inbounds: tuple[InboundListener, ...] = ()
    gateway_listeners: tuple[ListenerHostname, ...] = ()
    delegated_gateway: bool = False

    @property
    def selects(self) -> bool:
        return bool(self.inbounds or self.gateway_listeners or self.delegated_gateway)


NOTHING = Selection()


@dataclass
class MatchedPolicies:
    """The policies of one type that select a dataplane, in merge order."""

    type: str
    policies: list[Decoded] = field(default_factory=list)
    by_inbound: dict[InboundListener, list[Decoded]] = field(default_factory=dict)
    by_gateway_listener: dict[ListenerHostname, list[Decoded]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --- decoded views -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Decoded:
    """A resource with its spec decoded once (a Resource decodes it on every access)."""

    resource: Resource
    spec: Mapping[str, Any]

    @classmethod
    def of(cls, resource: Resource) -> Self:
        spec = resource.spec
        return cls(resource, spec if isinstance(spec, dict) else {})

    @property
    def labels(self) -> Mapping[str, str]:
        return self.resource.labels

    @property
    def mesh(self) -> str:
        return self.resource.mesh

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def target_ref(self) -> Mapping[str, Any]:
        """The top-level targetRef; a policy without one targets the whole mesh."""
        ref = self.spec.get("targetRef")
        return ref if isinstance(ref, dict) else {"kind": "Mesh"}


@dataclass(frozen=True, eq=False)
class Proxy(Decoded):
    """A Dataplane."""

    @property
    def networking(self) -> Mapping[str, Any]:
        networking = self.spec.get("networking")
        return networking if isinstance(networking, dict) else {}

    @property
    def address(self) -> str:
        return str(self.networking.get("address") or "")

    @property
    def inbounds(self) -> list[Mapping[str, Any]]:
        return list(self.networking.get("inbound") or [])

    @property
    def gateway(self) -> Mapping[str, Any] | None:
        gateway = self.networking.get("gateway")
        return gateway if isinstance(gateway, dict) else None

    @property
    def gateway_tags(self) -> dict[str, str]:
        return dict((self.gateway or {}).get("tags") or {})

    @property
    def is_builtin_gateway(self) -> bool:
        return self.gateway is not None and self.gateway.get("type") == "BUILTIN"

    @property
    def is_delegated_gateway(self) -> bool:
        return self.gateway is not None and self.gateway.get("type", "DELEGATED") == "DELEGATED"

    def listener(self, inbound: Mapping[str, Any]) -> InboundListener:
        return InboundListener(
            inbound.get("address") or self.address, int(inbound.get("port") or 0)
        )

    def matches(self, selector: Tags | None) -> bool:
        """Kuma's Dataplane.Matches: some inbound's tags, or else the gateway's tags."""
        if any(tags_match(selector, inbound.get("tags")) for inbound in self.inbounds):
            return True
        return tags_match(selector, self.gateway_tags)


@dataclass(frozen=True)
class Referenced:
    """The resources a top-level targetRef may point at: MeshGateways and MeshHTTPRoutes."""

    gateways: list[Decoded]
    routes: list[Decoded]

    @classmethod
    def of(cls, resources: Resources) -> Referenced:
        return cls(
            [Decoded.of(r) for r in resources.get("MeshGateway", ())],
            [Decoded.of(r) for r in resources.get("MeshHTTPRoute", ())],
        )


def display_name(resource: Resource | Decoded) -> str:
    return resource.labels.get(kuma_labels.DISPLAY_NAME) or resource.name


def policy_role(resource: Resource | Decoded) -> str:
    return resource.labels.get(POLICY_ROLE) or SYSTEM_ROLE


def origin(resource: Resource | Decoded) -> str:
    return resource.labels.get(kuma_labels.ORIGIN) or ""


def is_referenced(referrer: Decoded, name: str, resource: Decoded) -> bool:
    """Kuma's IsReferenced: a name in `referrer` points at `resource` (same mesh, by
    display name, since synced copies carry a hash suffix)."""
    return referrer.mesh == resource.mesh and name == display_name(resource)


def is_local_zone_resource(labels: Mapping[str, str], zone: str) -> bool:
    if labels.get(kuma_labels.ORIGIN) != "zone":
        return False
    return labels.get(kuma_labels.ZONE, zone) == zone


def section_name(entry: Mapping[str, Any]) -> str:
    """An inbound's or embedded listener's name, else its port."""
    return str(entry.get("name") or int(entry.get("port") or 0))


def tags_match(selector: Tags | None, tags: Tags | None) -> bool:
    """Kuma's TagSelector.Matches: every selector tag present, equal or `*`."""
    if not selector:
        return True
    tags = tags or {}
    return all(key in tags and value in (tags[key], WILDCARD) for key, value in selector.items())


# --- gateway selection --------------------------------------------------------------


def gateways_of_zone(gateways: Iterable[Decoded], proxy: Proxy) -> list[Decoded]:
    """MeshGateways a dataplane can use: global ones, and zone ones of its own zone."""
    zone = proxy.labels.get(kuma_labels.ZONE)

    def usable(gateway: Decoded) -> bool:
        if gateway.labels.get(kuma_labels.ORIGIN, "global") == "global":
            return True
        return zone is None or is_local_zone_resource(gateway.labels, zone)

    return [gateway for gateway in gateways if usable(gateway)]


def created_at(resource: Decoded) -> datetime:
    """When the resource was created; unknown counts as earliest."""
    moment = resource.resource.creation_time
    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _selector_ranks(gateway: Decoded, proxy: Proxy) -> list[tuple[int, int]]:
    """The ranks (tags, exact tags) of the gateway's selectors matching the proxy; an
    empty selector matches with the lowest rank."""
    selectors = gateway.spec.get("selectors") or []
    if not selectors:
        return [(0, 0)]
    ranks = []
    for selector in selectors:
        match = (selector or {}).get("match") or {}
        if not match:
            ranks.append((0, 0))
        elif proxy.matches(match):
            exact = sum(1 for value in match.values() if value != WILDCARD)
            ranks.append((len(match), exact))
    return ranks


def select_gateway(gateways: Iterable[Decoded], proxy: Proxy) -> Decoded | None:
    """The MeshGateway of a proxy (Kuma's SelectDataplanePolicyWithMatcher): the most
    specific matching selector wins, a tie goes to the gateway created last."""
    best: Decoded | None = None
    best_rank = (0, 0)
    for gateway in sorted(gateways, key=lambda g: g.name):
        for rank in _selector_ranks(gateway, proxy):
            later = best is not None and created_at(gateway) > created_at(best)
            if best is None or rank > best_rank or (rank == best_rank and later):
                best, best_rank = gateway, rank
    return best


# --- top-level targetRef selection --------------------------------------------------


def _supports_proxy_type(ref: Mapping[str, Any], proxy: Proxy) -> bool:
    proxy_types = ref.get("proxyTypes") or []
    proxy_type = "Gateway" if proxy.gateway is not None else "Sidecar"
    return not proxy_types or proxy_type in proxy_types


def _selected_by_tags(selector: Tags | None, proxy: Proxy, gateway: Decoded | None) -> Selection:
    """Inbounds, builtin gateway listeners and the delegated gateway matching `selector`."""
    inbounds = [
        proxy.listener(inbound)
        for inbound in proxy.inbounds
        if tags_match(selector, inbound.get("tags"))
    ]
    listeners: list[ListenerHostname] = []
    from_listeners: set[InboundListener] = set()
    if gateway is not None:
        for listener in (gateway.spec.get("conf") or {}).get("listeners") or []:
            listener_tags = {
                **proxy.gateway_tags,
                **(gateway.spec.get("tags") or {}),
                **(listener.get("tags") or {}),
            }
            if not tags_match(selector, listener_tags):
                continue
            port = int(listener.get("port") or 0)
            if InboundListener(proxy.address, port) not in from_listeners:
                from_listeners.add(InboundListener(proxy.address, port))
                inbounds.append(InboundListener(proxy.address, port))
            hostname = listener.get("hostname") or WILDCARD
            listeners.append(ListenerHostname(proxy.address, port, hostname))
    delegated = proxy.is_delegated_gateway and tags_match(selector, proxy.gateway_tags)
    return Selection(tuple(inbounds), tuple(listeners), delegated)


def embedded_listeners(proxy: Proxy, section: str = "") -> list[InboundListener]:
    """Zone proxy listeners embedded in the Dataplane, as inbound listeners."""
    return [
        InboundListener(
            listener.get("address") or proxy.address,
            int(listener.get("port") or 0),
        )
        for listener in proxy.networking.get("listeners") or []
        if not section or section_name(listener) == section
    ]


def _selected_by_zone(policy: Decoded, proxy: Proxy, gateway: Decoded | None) -> bool:
    """A zone-originated policy applies only to proxies of its own zone."""
    if policy_role(policy) == PRODUCER_ROLE:
        return True
    proxy_labels = (gateway or proxy).labels
    if proxy_labels.get(kuma_labels.ORIGIN, "global") == "global":
        return True
    if policy.labels.get(kuma_labels.ORIGIN) != "zone" or kuma_labels.ZONE not in policy.labels:
        return True
    return is_local_zone_resource(proxy_labels, policy.labels[kuma_labels.ZONE])


def _selected_by_namespace(policy: Decoded, proxy: Proxy) -> bool:
    """Consumer and workload-owner policies apply only within their namespace."""
    if policy_role(policy) not in NAMESPACED_ROLES:
        return True
    namespace = policy.labels.get(kuma_labels.NAMESPACE)
    return namespace is not None and namespace == proxy.labels.get(kuma_labels.NAMESPACE, "")


def _selects_by_name(policy: Decoded, ref: Mapping[str, Any], proxy: Proxy) -> bool:
    """The Dataplane's KRI equals the one the targetRef resolves to from the policy."""
    if not ref.get("name"):
        return False
    wanted = (
        policy.mesh,
        policy.labels.get(kuma_labels.ZONE, ""),
        ref.get("namespace") or policy.labels.get(kuma_labels.NAMESPACE, ""),
        ref["name"],
    )
    actual = (
        proxy.mesh,
        proxy.labels.get(kuma_labels.ZONE, ""),
        proxy.labels.get(kuma_labels.NAMESPACE, ""),
        display_name(proxy),
    )
    return wanted == actual


def _selects_by_labels(ref: Mapping[str, Any], proxy: Proxy) -> bool:
    wanted = ref.get("labels")
    if wanted is None:
        return False
    return all(proxy.labels.get(key) == value for key, value in wanted.items())


def _selects_all_dataplanes(ref: Mapping[str, Any]) -> bool:
    return not ref.get("name") and not ref.get("namespace") and ref.get("labels") is None


def _dataplane_kind(
    policy: Decoded, ref: Mapping[str, Any], proxy: Proxy, gateway: Decoded | None
) -> Selection:
    if gateway is not None:
        return NOTHING
    if not (
        _selects_all_dataplanes(ref)
        or _selects_by_name(policy, ref, proxy)
        or _selects_by_labels(ref, proxy)
    ):
        return NOTHING
    section = ref.get("sectionName") or ""
    inbounds = [
        proxy.listener(inbound)
        for inbound in proxy.inbounds
        if not section or section_name(inbound) == section
    ]
    inbounds += embedded_listeners(proxy, section)
    return Selection(tuple(inbounds), (), proxy.is_delegated_gateway)


def _mesh_gateway_kind(
    policy: Decoded, ref: Mapping[str, Any], proxy: Proxy, gateway: Decoded | None
) -> Selection:
    if gateway is None or not proxy.is_builtin_gateway:
        return NOTHING
    if not is_referenced(policy, ref.get("name") or "", gateway):
        return NOTHING
    selected = _selected_by_tags(ref.get("tags"), proxy, gateway)
    return Selection(selected.inbounds, selected.gateway_listeners, False)


def _mesh_kind(ref: Mapping[str, Any], proxy: Proxy, gateway: Decoded | None) -> Selection:
    if not _supports_proxy_type(ref, proxy):
        return NOTHING
    if ref.get("kind") == "MeshSubset":
        return _selected_by_tags(ref.get("tags"), proxy, gateway)
    selected = _selected_by_tags(None, proxy, gateway)
    inbounds = (*selected.inbounds, *embedded_listeners(proxy))
    return Selection(inbounds, selected.gateway_listeners, selected.delegated_gateway)


def _service_kind(ref: Mapping[str, Any], proxy: Proxy, gateway: Decoded | None) -> Selection:
    tags = {SERVICE_TAG: ref.get("name") or ""}
    if ref.get("kind") == "MeshServiceSubset":
        tags.update(ref.get("tags") or {})
    return _selected_by_tags(tags, proxy, gateway)


def _route_of(policy: Decoded, name: str, routes: Sequence[Decoded]) -> Decoded:
    for route in routes:
        if is_referenced(policy, name, route):
            return route
    raise UnresolvedTargetRef(f"couldn't resolve MeshHTTPRoute targetRef with name '{name}'")


def selection(
    policy: Decoded,
    ref: Mapping[str, Any],
    proxy: Proxy,
    gateway: Decoded | None,
    routes: Sequence[Decoded],
) -> Selection:
    """What `ref`, the top-level targetRef of `policy`, selects on `proxy` (Kuma's
    DppSelectedByPolicy). `gateway` is the MeshGateway chosen for the proxy."""
    if not _selected_by_zone(policy, proxy, gateway) or not _selected_by_namespace(policy, proxy):
        return NOTHING
    kind = ref.get("kind")
    if kind in ("Mesh", "MeshSubset"):
        return _mesh_kind(ref, proxy, gateway)
    if kind == "Dataplane":
        return _dataplane_kind(policy, ref, proxy, gateway)
    if kind in ("MeshService", "MeshServiceSubset"):
        return _service_kind(ref, proxy, gateway)
    if kind == "MeshGateway":
        return _mesh_gateway_kind(policy, ref, proxy, gateway)
    if kind == "MeshHTTPRoute":
        route = _route_of(policy, ref.get("name") or "", routes)
        if route.target_ref.get("kind") == "MeshHTTPRoute":
            # Kuma's validation forbids it; Kuma itself would recurse without end.
            raise UnresolvedTargetRef("a MeshHTTPRoute cannot target a MeshHTTPRoute")
        return selection(route, route.target_ref, proxy, gateway, routes)
    raise UnresolvedTargetRef(f"unsupported targetRef kind '{kind}'")


def policy_selects(policy: Decoded, proxy: Proxy, referenced: Referenced) -> bool:
    """Whether a targetRef policy applies to a dataplane (Kuma's PolicyMatches, behind the
    `_resources/dataplanes` inspection). An unresolvable targetRef selects nothing."""
    gateway = None
    if proxy.is_builtin_gateway:
        gateway = select_gateway(gateways_of_zone(referenced.gateways, proxy), proxy)
    try:
        return selection(policy, policy.target_ref, proxy, gateway, referenced.routes).selects
    except UnresolvedTargetRef:
        return False


def old_policy_selects(policy: Decoded, proxy: Proxy) -> bool:
    """Whether an old-style policy's selectors, or its sources or destinations, match
    the proxy's inbound (or gateway) tags."""
    if policy.resource.type in SELECTOR_POLICIES:
        groups = [policy.spec.get("selectors")]
    elif policy.resource.type in CONNECTION_POLICIES:
        groups = [policy.spec.get("sources"), policy.spec.get("destinations")]
    else:
        return False
    return any(
        proxy.matches((selector or {}).get("match")) for group in groups for selector in group or []
    )


def mesh_service_selects(mesh_service: Decoded, proxy: Proxy) -> bool:
    """Kuma's MatchesDataplane: a MeshService's selector against a Dataplane."""
    selector = mesh_service.spec.get("selector") or {}
    if selector.get("dataplaneRef") is not None:
        return bool((selector["dataplaneRef"] or {}).get("name", "") == proxy.name)
    if selector.get("dataplaneTags") is not None:
        return proxy.matches(selector["dataplaneTags"])
    if selector.get("dataplaneLabels") is not None:
        wanted = (selector["dataplaneLabels"] or {}).get("matchLabels") or {}
        return all(proxy.labels.get(key) == value for key, value in wanted.items())
    return False


# --- matched policies and their order -----------------------------------------------


def compare_dataplane_refs(ref1: Mapping[str, Any], ref2: Mapping[str, Any]) -> int:
    """Kuma's CompareDataplaneKind: labels before names, whole proxy before a section."""
    if ref1.get("kind") != "Dataplane" or ref2.get("kind") != "Dataplane":
        return 0
    if ref1.get("name") and ref2.get("labels") is not None:
        return 1
    if ref1.get("labels") is not None and ref2.get("name"):
        return -1
    if ref1.get("sectionName") and not ref2.get("sectionName"):
        return 1
    if not ref1.get("sectionName") and ref2.get("sectionName"):
        return -1
    return 0


def _compare_policies(policy1: Decoded, policy2: Decoded) -> int:
    """Kuma's SortByTargetRef: like the entry order, with MeshGateway policies that
    select fewer listener tags first."""
    ref1, ref2 = policy1.target_ref, policy2.target_ref
    gateway_tags = 0
    if ref1.get("kind") == "MeshGateway":
        gateway_tags = len(ref1.get("tags") or {}) - len(ref2.get("tags") or {})
    differences = (
        KIND_ORDER.get(str(ref1.get("kind")), 0) - KIND_ORDER.get(str(ref2.get("kind")), 0),
        compare_dataplane_refs(ref1, ref2),
        ORIGIN_ORDER.get(origin(policy1), 0) - ORIGIN_ORDER.get(origin(policy2), 0),
        gateway_tags,
        ROLE_ORDER.get(policy_role(policy1), 0) - ROLE_ORDER.get(policy_role(policy2), 0),
        reverse_names(policy1, policy2),
    )
    return next((difference for difference in differences if difference), 0)


def reverse_names(policy1: Decoded, policy2: Decoded) -> int:
    """Names compare in reverse: the one that sorts first comes last and wins the merge."""
    name1, name2 = display_name(policy1), display_name(policy2)
    return (name2 > name1) - (name2 < name1)


def sort_by_target_ref(policies: Iterable[Decoded]) -> list[Decoded]:
    """Least specific first: the order in which Kuma merges policy confs."""
    return sorted(policies, key=functools.cmp_to_key(_compare_policies))


def is_shadowed(policy: Decoded) -> bool:
    return policy.labels.get(EFFECT) == "shadow"


def matched_policies(
    policy_type: str, dataplane: Resource, resources: Resources
) -> MatchedPolicies:
    """The policies of `policy_type` in `resources` (a mesh's resources by type) that
    select `dataplane`, in merge order, with the inbounds and gateway listeners each one
    selects (Kuma's MatchedPolicies, before any rules are built)."""
    policies = [Decoded.of(policy) for policy in resources.get(policy_type, ())]
    return match(policy_type, policies, Proxy.of(dataplane), Referenced.of(resources))


def match(
    policy_type: str, policies: Iterable[Decoded], proxy: Proxy, referenced: Referenced
) -> MatchedPolicies:
    """`matched_policies` on decoded resources. Unlike `policy_selects`, this picks a
    MeshGateway for every proxy, as Kuma's MatchedPolicies does."""
    gateway = select_gateway(gateways_of_zone(referenced.gateways, proxy), proxy)
    result = MatchedPolicies(policy_type)
    for policy in policies:
        if is_shadowed(policy):
            continue
        try:
            selected = selection(policy, policy.target_ref, proxy, gateway, referenced.routes)
        except UnresolvedTargetRef as error:
            result.warnings.append(
                f"unable to resolve TargetRef on policy: mesh:{policy.mesh}"
                f' name:{policy.name} error:"{error}"'
            )
            continue
        if selected.selects:
            _add(result, policy, selected)
    result.policies = sort_by_target_ref(result.policies)
    result.by_inbound = {k: sort_by_target_ref(v) for k, v in result.by_inbound.items()}
    return result


def _add(result: MatchedPolicies, policy: Decoded, selected: Selection) -> None:
    result.policies.append(policy)
    for listener in selected.gateway_listeners:
        result.by_gateway_listener.setdefault(listener, []).append(policy)
    for inbound in selected.inbounds:
        result.by_inbound.setdefault(inbound, []).append(policy)

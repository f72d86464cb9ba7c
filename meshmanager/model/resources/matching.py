"""Which policies apply to which dataplane, and the confs they add up to, as Kuma
v2.14.3 decides it.

The top-level `targetRef` of a policy selects inbounds, builtin gateway listeners or a
delegated gateway of a Dataplane (`pkg/plugins/policies/core/matchers/dataplane.go`);
the policies that select a dataplane are ordered by `targetRef` specificity, origin,
role and name, which is the order their confs are merged in. Old-style policies select
dataplanes through tag selectors (`selectors`, `sources`, `destinations`).

From the matched policies Kuma builds rules (`pkg/plugins/policies/core/rules`): the
proxy-wide conf of `default`-only policies, `from` rules per inbound, `to` rules per
destination tag subset and per real destination resource, the same per builtin gateway
listener, and the rules of a zone egress. Confs merge as JSON merge patches of their Go
types' JSON, which `Shape` reproduces for the types whose JSON differs from the stored
spec (defaults, durations, `append...` lists).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.registry import TYPES
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation.golang.durations import (
    DurationError,
    parse_duration,
)

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


def _created(resource: Decoded) -> datetime:
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
            later = best is not None and _created(gateway) > _created(best)
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


def _embedded_listeners(proxy: Proxy, section: str = "") -> list[InboundListener]:
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
    inbounds += _embedded_listeners(proxy, section)
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
    inbounds = (*selected.inbounds, *_embedded_listeners(proxy))
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


def _compare_dataplane_refs(ref1: Mapping[str, Any], ref2: Mapping[str, Any]) -> int:
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
        _compare_dataplane_refs(ref1, ref2),
        ORIGIN_ORDER.get(origin(policy1), 0) - ORIGIN_ORDER.get(origin(policy2), 0),
        gateway_tags,
        ROLE_ORDER.get(policy_role(policy1), 0) - ROLE_ORDER.get(policy_role(policy2), 0),
        _reverse_names(policy1, policy2),
    )
    return next((difference for difference in differences if difference), 0)


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


# --- confs: their Go shape and how Kuma merges them ---------------------------------

_ABSENT: Any = object()


@dataclass(frozen=True)
class Field:
    """A field of a conf struct: `shape` for a nested struct (a list of them when
    `many`), and `default`, written when the field is missing (a kubebuilder default, or
    the zero value of a field Kuma's Go type serialises even when empty)."""

    shape: Shape | None = None
    many: bool = False
    default: Any = _ABSENT
    duration: bool = False


@dataclass(frozen=True)
class Shape:
    """The JSON a conf struct round-trips to through Kuma's Go types: unknown fields
    dropped, defaults filled in. Fields named `append...` are concatenated on merge."""

    fields: Mapping[str, Field]

    def normalise(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        result: dict[str, Any] = {}
        for key, spec in self.fields.items():
            item = value.get(key)
            if item is None:
                if spec.default is not _ABSENT:
                    result[key] = spec.default
                continue
            result[key] = self._normalise_field(spec, item)
        return result

    @staticmethod
    def _normalise_field(spec: Field, item: Any) -> Any:
        if spec.duration:
            return go_duration(item)
        if spec.shape is None:
            return item
        if spec.many and isinstance(item, list):
            return [spec.shape.normalise(element) for element in item]
        return spec.shape.normalise(item)

    def append(self, merged: dict[str, Any], confs: Sequence[Any]) -> dict[str, Any]:
        """Kuma's appendSlices: `append...` lists collect the items of every conf."""
        for key, spec in self.fields.items():
            if key not in merged:
                continue
            parts = [conf[key] for conf in confs if isinstance(conf, dict) and key in conf]
            if key.startswith("append") and spec.many:
                merged[key] = [item for part in parts if part for item in part]
            elif spec.shape is not None and not spec.many and isinstance(merged[key], dict):
                merged[key] = spec.shape.append(merged[key], parts)
        return merged


def _nanoseconds(text: str) -> int | None:
    """Go's time.ParseDuration, or None for text it would reject."""
    try:
        return parse_duration(text)
    except DurationError:
        return None


def _fraction(value: int, digits: int) -> str:
    whole, rest = divmod(value, 10**digits)
    return f"{whole}.{rest:0{digits}d}".rstrip("0").rstrip(".")


def go_duration(value: Any) -> Any:
    """A duration as Go's time.Duration.String() writes it (`90s` becomes `1m30s`);
    anything Go could not parse is left as it is."""
    nanos = _nanoseconds(value) if isinstance(value, str) else None
    if nanos is None:
        return value
    sign, nanos = ("-" if nanos < 0 else ""), abs(nanos)
    if nanos == 0:
        return "0s"
    if nanos < 1_000:
        return f"{sign}{nanos}ns"
    if nanos < 1_000_000:
        return f"{sign}{_fraction(nanos, 3)}µs"
    if nanos < 1_000_000_000:
        return f"{sign}{_fraction(nanos, 6)}ms"
    text = f"{_fraction(nanos % 60_000_000_000, 9)}s"
    minutes, hours = (nanos // 60_000_000_000) % 60, nanos // 3_600_000_000_000
    if nanos >= 60_000_000_000:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def merge_confs(confs: Sequence[Any], shape: Shape | None) -> Any:
    """Kuma's merge.Confs for confs without `mergeValues` fields: a JSON merge patch of
    the confs in order, then the `append...` lists of all of them."""
    structs = [conf if isinstance(conf, dict) else {} for conf in confs]  # Go structs
    if shape is None:
        return functools.reduce(merge_patch, structs, {})
    normalised = [shape.normalise(conf) for conf in structs]
    merged = shape.normalise(functools.reduce(merge_patch, normalised, {}))
    result: Any = shape.append(merged, normalised)
    return result


_NAME = Field(default="")
_ZIPKIN = Shape(
    {
        "url": _NAME,
        "traceId128bit": Field(default=False),
        "apiVersion": Field(default="httpJson"),
        "sharedSpanContext": Field(default=True),
    }
)
_OTEL_TRACE = Shape({"endpoint": Field(default=""), "backendRef": Field()})
_TRACE_BACKEND = Shape(
    {
        "type": _NAME,
        "zipkin": Field(_ZIPKIN),
        "datadog": Field(Shape({"url": _NAME, "splitService": Field(default=False)})),
        "openTelemetry": Field(_OTEL_TRACE),
    }
)
_TRACE_TAG = Shape(
    {"name": _NAME, "literal": Field(), "header": Field(Shape({"name": _NAME, "default": Field()}))}
)
_METRIC_SELECTOR = Shape({"type": _NAME, "match": _NAME})
_PROFILES = Shape(
    {
        "appendProfiles": Field(Shape({"name": _NAME}), many=True),
        "exclude": Field(_METRIC_SELECTOR, many=True),
        "include": Field(_METRIC_SELECTOR, many=True),
    }
)
_APPLICATION = Shape(
    {
        "name": Field(),
        "path": Field(default="/metrics"),
        "address": Field(),
        "port": Field(default=0),
    }
)
_PROMETHEUS = Shape(
    {
        "clientId": Field(),
        "port": Field(default=5670),
        "path": Field(default="/metrics"),
        "tls": Field(Shape({"mode": Field(default="Disabled")})),
    }
)
_METRIC_BACKEND = Shape(
    {
        "type": _NAME,
        "prometheus": Field(_PROMETHEUS),
        "openTelemetry": Field(
            Shape(
                {"endpoint": Field(default=""), "backendRef": Field(), "refreshInterval": Field()}
            )
        ),
    }
)
_PASSTHROUGH_MATCH = Shape(
    {"type": _NAME, "value": _NAME, "port": Field(), "protocol": Field(default="tcp")}
)


def _modification(match_default: Any = _ABSENT) -> Field:
    return Field(
        Shape(
            {
                "match": Field(default=match_default),
                "operation": _NAME,
                "value": Field(),
                "jsonPatches": Field(),
            }
        )
    )


# The confs of the policies that apply to the proxy as a whole (`spec.default`).
SINGLE_ITEM_SHAPES: dict[str, Shape] = {
    "MeshPassthrough": Shape(
        {"passthroughMode": Field(), "appendMatch": Field(_PASSTHROUGH_MATCH, many=True)}
    ),
    "MeshTrace": Shape(
        {
            "backends": Field(_TRACE_BACKEND, many=True),
            "sampling": Field(),
            "tags": Field(_TRACE_TAG, many=True),
        }
    ),
    "MeshMetric": Shape(
        {
            "sidecar": Field(Shape({"profiles": Field(_PROFILES), "includeUnused": Field()})),
            "applications": Field(_APPLICATION, many=True),
            "backends": Field(_METRIC_BACKEND, many=True),
        }
    ),
    "MeshProxyPatch": Shape(
        {
            "appendModifications": Field(
                Shape(
                    {
                        "cluster": _modification(),
                        "listener": _modification(),
                        "networkFilter": _modification(),
                        "httpFilter": _modification(),
                        "virtualHost": _modification(match_default=None),
                    }
                ),
                many=True,
            )
        }
    ),
}


@dataclass(frozen=True)
class Rule:
    """A conf and the policies it was merged from, in merge order; `subset` lists the
    (key, value, negated) tag conditions under which it applies."""

    conf: Any
    origins: tuple[Decoded, ...]
    subset: tuple[tuple[str, str, bool], ...] = ()


def _unique(policies: Iterable[Decoded]) -> tuple[Decoded, ...]:
    seen: dict[tuple[str, str], Decoded] = {}
    for policy in policies:
        seen.setdefault((policy.mesh, policy.name), policy)
    return tuple(seen.values())


def single_item_rule(matched: MatchedPolicies) -> Rule | None:
    """The proxy-wide conf of a policy type whose policies have only `spec.default`
    (Kuma's SingleItemRules), or None for other types or when nothing matched."""
    shape = SINGLE_ITEM_SHAPES.get(matched.type)
    if shape is None or not matched.policies:
        return None
    confs = [policy.spec.get("default") for policy in matched.policies]
    return Rule(merge_confs(confs, shape), _unique(matched.policies))


# --- rules: confs per group of clients (`from`) or destinations (`to`) -------------

Tag = tuple[str, str, bool]  # key, value, negated
Subset = tuple[Tag, ...]
RULE_MATCHES_HASH = "__rule-matches-hash__"
OLD_KINDS = frozenset(
    {"Mesh", "MeshSubset", "MeshServiceSubset", "MeshService", "MeshGateway", "MeshHTTPRoute"}
)


class UnrepresentableRule(Exception):
    """A `from`/`to` targetRef that Kuma's legacy rules cannot express as tags."""


@dataclass(frozen=True)
class RuleItem:
    """One `from` or `to` entry of a matched policy, with the policy it comes from."""

    target_ref: Mapping[str, Any]
    conf: Any
    policy: Decoded
    index: int = 0


def _sorted_subset(tags: Iterable[Tag]) -> Subset:
    return tuple(sorted(tags, key=lambda tag: (tag[0], tag[1], tag[2])))


def as_subset(ref: Mapping[str, Any]) -> Subset:
    kind = ref.get("kind")
    tags: dict[str, str] = {}
    if kind in ("MeshService", "MeshServiceSubset"):
        tags[SERVICE_TAG] = ref.get("name") or ""
    if kind in ("MeshSubset", "MeshServiceSubset"):
        tags.update(ref.get("tags") or {})
    elif kind not in ("Mesh", "MeshService"):
        raise UnrepresentableRule(f"can't represent {kind} as tags")
    return _sorted_subset((key, value, False) for key, value in tags.items())


def _tag_within(outer: Tag, inner: Tag) -> bool:
    """Whether every point of `inner` lies in `outer` (tags of the same key)."""
    if outer[2] == inner[2]:
        return outer[1] == inner[1]
    return outer[2] and outer[1] != inner[1]


def is_subset(outer: Subset, inner: Subset) -> bool:
    """Kuma's Subset.IsSubset: `inner` lies within `outer`; the empty set is everything."""
    for tag in outer:
        same_key = [other for other in inner if other[0] == tag[0]]
        if not same_key or not all(_tag_within(tag, other) for other in same_key):
            return False
    return True


def intersect(first: Subset, second: Subset) -> bool:
    """Kuma's Subset.Intersect: some proxy could belong to both."""
    if not first or not second:
        return True
    positive = [tag for tag in second if not tag[2]]
    return all(
        other == tag for tag in first if not tag[2] for other in positive if other[0] == tag[0]
    )


def _positive(subset: Subset) -> int:
    return sum(1 for tag in subset if not tag[2])


def _maximal_cliques(edges: dict[int, set[int]]) -> list[list[int]]:
    """Bron-Kerbosch with pivoting: every maximal clique of the graph."""
    cliques: list[list[int]] = []

    def expand(clique: set[int], candidates: set[int], excluded: set[int]) -> None:
        if not candidates and not excluded:
            cliques.append(sorted(clique))
            return
        pivot = max(candidates | excluded, key=lambda node: len(edges[node] & candidates))
        for node in list(candidates - edges[pivot]):
            expand(clique | {node}, candidates & edges[node], excluded & edges[node])
            candidates = candidates - {node}
            excluded = excluded | {node}

    expand(set(), set(edges), set())
    return sorted(cliques, key=lambda c: ":".join(map(str, c)), reverse=True)


def _partition(tags: Sequence[Tag]) -> Iterator[Subset]:
    """Kuma's SubsetIter: per key either one of its values or the negation of all of
    them, in the order Kuma enumerates the combinations."""
    dims: dict[str, list[str]] = {}
    for key, value, _ in tags:
        values = dims.setdefault(key, [])
        if value not in values:
            values.append(value)
    keys = list(dims)
    counters = [0] * len(keys)
    while True:
        position = 0
        while position < len(keys):
            counters[position] += 1
            if counters[position] <= len(dims[keys[position]]):
                break
            counters[position] = 0
            position += 1
        yield _combination(keys, dims, counters)
        if position == len(keys):
            return


def _combination(keys: list[str], dims: dict[str, list[str]], counters: list[int]) -> Subset:
    subset: list[Tag] = []
    for key, counter in zip(keys, counters, strict=True):
        values = dims[key]
        if counter == len(values):
            subset.extend((key, value, True) for value in values)
        else:
            subset.append((key, values[len(values) - counter - 1], False))
    return tuple(subset)


def _rule_for(subset: Subset, items: Sequence[RuleItem], shape: Shape | None) -> Rule | None:
    relevant = [item for item in items if is_subset(as_subset(item.target_ref), subset)]
    if not relevant:
        return None
    conf = merge_confs([item.conf for item in relevant], shape)
    return Rule(conf, _unique(item.policy for item in relevant), subset)


def build_rules(
    items: Sequence[RuleItem], with_negations: bool, shape: Shape | None = None
) -> list[Rule]:
    """Kuma's legacy BuildRules: split the tag space by the entries' targetRefs, merge
    the confs of the entries covering each piece, most specific piece first."""
    items = [item for item in items if item.target_ref.get("kind") in OLD_KINDS]
    subsets = [as_subset(item.target_ref) for item in items]
    if not items:
        return []
    if not with_negations and len({tag[0] for subset in subsets for tag in subset}) <= 1:
        unique = list(dict.fromkeys(subsets))
        rules = [rule for s in unique if (rule := _rule_for(s, items, shape)) is not None]
        return sorted(rules, key=lambda rule: -len(rule.subset))
    edges: dict[int, set[int]] = {}
    for i, first in enumerate(subsets):
        edges[i] = {j for j, second in enumerate(subsets) if i != j and intersect(first, second)}
    rules = []
    for clique in _maximal_cliques(edges):
        tags = sorted({tag for node in clique for tag in subsets[node]}, key=lambda t: t[:2])
        for subset in _partition(tags):
            rule = _rule_for(subset, items, shape)
            if rule is not None:
                rules.append(rule)
    return sorted(rules, key=lambda rule: -_positive(rule.subset))


def _entries(policy: Decoded, key: str) -> list[Mapping[str, Any]]:
    entries = policy.spec.get(key)
    return (
        [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    )


def _items(policies: Iterable[Decoded], key: str) -> list[RuleItem]:
    return [
        RuleItem(entry.get("targetRef") or {}, entry.get("default"), policy, index)
        for policy in policies
        for index, entry in enumerate(_entries(policy, key))
    ]


_FORMAT = Shape(
    {
        "type": _NAME,
        "plain": Field(),
        "json": Field(Shape({"key": _NAME, "value": _NAME}), many=True),
        "omitEmptyValues": Field(default=False),
    }
)
_LOG_BACKEND = Shape(
    {
        "type": _NAME,
        "tcp": Field(Shape({"format": Field(_FORMAT), "address": _NAME})),
        "file": Field(Shape({"format": Field(_FORMAT), "path": _NAME})),
        "openTelemetry": Field(
            Shape(
                {
                    "attributes": Field(Shape({"key": _NAME, "value": _NAME}), many=True),
                    "body": Field(),
                    "endpoint": Field(default=""),
                    "backendRef": Field(),
                }
            )
        ),
    }
)
_TIMEOUT = Field(duration=True)
_BACK_OFF = Field(Shape({"baseInterval": _TIMEOUT, "maxInterval": _TIMEOUT}))
_RATE_LIMITED_BACK_OFF = Field(
    Shape(
        {
            "resetHeaders": Field(Shape({"name": _NAME, "format": _NAME}), many=True),
            "maxInterval": _TIMEOUT,
        }
    )
)
_GRPC_RETRY = Shape(
    {
        "numRetries": Field(),
        "perTryTimeout": _TIMEOUT,
        "backOff": _BACK_OFF,
        "rateLimitedBackOff": _RATE_LIMITED_BACK_OFF,
        "retryOn": Field(),
    }
)
_HTTP_RETRY = Shape(
    {
        **_GRPC_RETRY.fields,
        "retriableResponseHeaders": Field(),
        "retriableRequestHeaders": Field(),
        "hostSelection": Field(
            Shape({"predicate": _NAME, "tags": Field(), "updateFrequency": Field(default=2)}),
            many=True,
        ),
        "hostSelectionMaxAttempts": Field(),
    }
)

# The confs of `from`, `to` and `rules` entries whose Go types need more than a plain
# JSON merge patch (defaults, durations); the others merge as they are.
ENTRY_SHAPES: dict[str, Shape] = {
    "MeshAccessLog": Shape({"backends": Field(_LOG_BACKEND, many=True)}),
    "MeshRetry": Shape(
        {
            "tcp": Field(Shape({"maxConnectAttempt": Field()})),
            "http": Field(_HTTP_RETRY),
            "grpc": Field(_GRPC_RETRY),
        }
    ),
    "MeshTimeout": Shape(
        {
            "connectionTimeout": _TIMEOUT,
            "idleTimeout": _TIMEOUT,
            "http": Field(
                Shape(
                    {
                        "requestTimeout": _TIMEOUT,
                        "streamIdleTimeout": _TIMEOUT,
                        "maxStreamDuration": _TIMEOUT,
                        "maxConnectionDuration": _TIMEOUT,
                        "requestHeadersTimeout": _TIMEOUT,
                    }
                )
            ),
        }
    ),
}
FROM_TYPES = frozenset(
    {
        "MeshAccessLog",
        "MeshCircuitBreaker",
        "MeshFaultInjection",
        "MeshRateLimit",
        "MeshTLS",
        "MeshTimeout",
        "MeshTrafficPermission",
    }
)
FROM_AS_RULES_TYPES = frozenset(
    {"MeshAccessLog", "MeshCircuitBreaker", "MeshRateLimit", "MeshTLS", "MeshTimeout"}
)
TO_TYPES = frozenset(
    {
        "MeshAccessLog",
        "MeshCircuitBreaker",
        "MeshFaultInjection",
        "MeshHTTPRoute",
        "MeshHealthCheck",
        "MeshLoadBalancingStrategy",
        "MeshRateLimit",
        "MeshRetry",
        "MeshTCPRoute",
        "MeshTimeout",
    }
)


@dataclass(frozen=True)
class InboundRule:
    """One `rules` entry (or, for some types, `from` entry) for an inbound, unmerged."""

    conf: Any
    match: Any
    policy: Decoded
    index: int


@dataclass
class FromRules:
    rules: dict[InboundListener, list[Rule]] = field(default_factory=dict)
    inbound_rules: dict[InboundListener, list[InboundRule]] = field(default_factory=dict)


def from_rules(
    policy_type: str, by_inbound: Mapping[InboundListener, Sequence[Decoded]], warnings: list[str]
) -> FromRules:
    """Kuma's BuildFromRules: per inbound, the rules of the `from` entries of the
    policies selecting it, and its inbound rules. Nothing when a `from` targetRef cannot
    be expressed as tags (Kuma then logs a warning)."""
    result = FromRules()
    if policy_type not in FROM_TYPES:
        return result
    shape = ENTRY_SHAPES.get(policy_type)
    try:
        for inbound, policies in by_inbound.items():
            result.rules[inbound] = build_rules(_items(policies, "from"), True, shape)
            result.inbound_rules[inbound] = inbound_rules(policy_type, policies)
    except UnrepresentableRule as error:
        warnings.append(f"couldn't create From rules: {error}")
        return FromRules()
    return result


def inbound_rules(policy_type: str, policies: Sequence[Decoded]) -> list[InboundRule]:
    """Kuma's inbound BuildRules: the `rules` entries (or `from` entries of types that
    read them as rules), one per match, with the SPIFFE ID and SNI matches first."""
    ordered = sorted(policies, key=functools.cmp_to_key(_compare_entry_owners))
    rules = []
    for policy in ordered:
        entries = _entries(policy, "rules")
        if not entries and policy_type in FROM_AS_RULES_TYPES:
            entries = [{"default": entry.get("default")} for entry in _entries(policy, "from")]
        for index, entry in enumerate(entries):
            conf = entry.get("default")
            matches = entry.get("matches") or [None]
            rules += [InboundRule(conf, match, policy, index) for match in matches]
    return sorted(rules, key=lambda rule: _match_rank(rule.match))


def _match_rank(match: Any) -> tuple[int, int]:
    match = match if isinstance(match, dict) else {}
    spiffe = match.get("spiffeID")
    spiffe_rank = 3 if not spiffe else {"Exact": 0, "Prefix": 1}.get(spiffe.get("type"), 2)
    return (spiffe_rank, 0 if match.get("sni") else 1)


def _compare_entry_owners(policy1: Decoded, policy2: Decoded) -> int:
    """Kuma's CompareByPolicyAttributes then CompareByDisplayName (no gateway tags)."""
    return _compare_entry_attributes(policy1, policy2) or _reverse_names(policy1, policy2)


def _compare_entry_attributes(policy1: Decoded, policy2: Decoded) -> int:
    """Kuma's CompareByPolicyAttributes."""
    ref1, ref2 = policy1.target_ref, policy2.target_ref
    differences = (
        KIND_ORDER.get(str(ref1.get("kind")), 0) - KIND_ORDER.get(str(ref2.get("kind")), 0),
        _compare_dataplane_refs(ref1, ref2),
        ORIGIN_ORDER.get(origin(policy1), 0) - ORIGIN_ORDER.get(origin(policy2), 0),
        ROLE_ORDER.get(policy_role(policy1), 0) - ROLE_ORDER.get(policy_role(policy2), 0),
    )
    return next((difference for difference in differences if difference), 0)


def _reverse_names(policy1: Decoded, policy2: Decoded) -> int:
    """Names compare in reverse: the one that sorts first comes last and wins the merge."""
    name1, name2 = display_name(policy1), display_name(policy2)
    return (name2 > name1) - (name2 < name1)


# --- `to` rules ----------------------------------------------------------------------

_PATH_MATCH = ("value", "type")
_MATCH_FIELDS = ("path", "method", "queryParams", "headers")


def _go_ordered(match: Mapping[str, Any]) -> dict[str, Any]:
    """A MeshHTTPRoute match with its keys in Go's field order, as Kuma hashes it."""
    ordered: dict[str, Any] = {}
    for key in _MATCH_FIELDS:
        if match.get(key) is None:
            continue
        value = match[key]
        if key == "path" and isinstance(value, dict):
            value = {k: value.get(k, "") for k in _PATH_MATCH}
        elif key in ("queryParams", "headers") and isinstance(value, list):
            value = [{k: v for k, v in sorted(item.items(), key=_param_order)} for item in value]
        ordered[key] = value
    return ordered


def _param_order(item: tuple[str, Any]) -> int:
    return {"type": 0, "name": 1, "value": 2}.get(item[0], 3)


def hash_matches(matches: Any) -> str:
    """Kuma's HashMatches: base64 of the SHA-256 of the matches' JSON."""
    ordered = [_go_ordered(m) for m in matches or [] if isinstance(m, dict)]
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _route_items(policy: Decoded, routes: Sequence[Decoded]) -> list[Mapping[str, Any]]:
    """The `to` entries of a policy targeting a MeshHTTPRoute, one per route rule."""
    route = None
    for candidate in routes:
        if is_referenced(policy, policy.target_ref.get("name") or "", candidate):
            route = candidate
    if route is None:
        raise UnrepresentableRule("can't resolve MeshHTTPRoute policy")
    entries: list[Mapping[str, Any]] = []
    for route_to in _entries(route, "to"):
        destination = route_to.get("targetRef") or {}
        for rule in route_to.get("rules") or []:
            tags = {RULE_MATCHES_HASH: hash_matches(rule.get("matches"))}
            if destination.get("kind") in ("Mesh", "MeshSubset"):
                ref: dict[str, Any] = {"kind": "MeshSubset", "tags": tags}
            else:
                ref = {"kind": "MeshServiceSubset", "name": destination.get("name"), "tags": tags}
            entries += [
                {"targetRef": ref, "default": to.get("default")} for to in _entries(policy, "to")
            ]
    return entries


def _legacy_to_items(policies: Sequence[Decoded], routes: Sequence[Decoded]) -> list[RuleItem]:
    items = []
    for policy in policies:
        to_entries = _entries(policy, "to")
        if any(
            (entry.get("targetRef") or {}).get("kind") == "MeshHTTPRoute" for entry in to_entries
        ):
            continue
        if policy.target_ref.get("kind") == "MeshHTTPRoute":
            to_entries = _route_items(policy, routes)
        items += [
            RuleItem(entry.get("targetRef") or {}, entry.get("default"), policy, index)
            for index, entry in enumerate(to_entries)
        ]
    return items


@dataclass(frozen=True)
class ResourceRule:
    """The merged confs of the `to` entries that reach one real resource (or section)."""

    resource: Decoded
    section: str
    conf: Any
    origins: tuple[tuple[Decoded, int], ...]


@dataclass
class ToRules:
    rules: list[Rule] = field(default_factory=list)
    resource_rules: dict[str, ResourceRule] = field(default_factory=dict)


def to_rules(
    policy_type: str, policies: Sequence[Decoded], resources: Resources, warnings: list[str]
) -> ToRules:
    """Kuma's BuildToRules: legacy tag rules of the `to` entries, and rules per real
    destination resource (keyed by KRI). Nothing when the legacy rules fail."""
    if policy_type not in TO_TYPES:
        return ToRules()
    shape = ENTRY_SHAPES.get(policy_type)
    routes = [Decoded.of(r) for r in resources.get("MeshHTTPRoute", ())]
    try:
        rules = build_rules(_legacy_to_items(policies, routes), False, shape)
    except UnrepresentableRule as error:
        warnings.append(f"couldn't create To rules: {error}")
        return ToRules()
    direct = [p for p in policies if p.target_ref.get("kind") != "MeshHTTPRoute"]
    return ToRules(rules, resource_rules(direct, resources, shape))


Identity = tuple[str, str, str, str, str]  # type, mesh, zone, namespace, name
_SHORT_NAMES = {t.name: t.kri_short for t in TYPES if t.kri_short}
DESTINATION_TYPES = ("MeshService", "MeshExternalService", "MeshMultiZoneService")


def identity(type_: str, resource: Decoded) -> Identity:
    """The fields of the resource's KRI (Kuma's kri.From), without a section."""
    labels = resource.labels
    return (
        type_,
        resource.mesh,
        labels.get(kuma_labels.ZONE, ""),
        labels.get(kuma_labels.NAMESPACE, ""),
        display_name(resource),
    )


def kri_text(ident: Identity, section: str = "") -> str:
    return "_".join(("kri", _SHORT_NAMES.get(ident[0], ""), *ident[1:], section))


def _referenced_identity(policy: Decoded, ref: Mapping[str, Any]) -> Identity:
    """Kuma's TargetRefToKRI: what a targetRef names, seen from the policy."""
    kind = str(ref.get("kind"))
    if kind == "Mesh":
        return ("Mesh", "", "", "", policy.mesh)
    labels = policy.labels
    namespace = ref.get("namespace") or labels.get(kuma_labels.NAMESPACE, "")
    zone = labels.get(kuma_labels.ZONE, "")
    return (kind, policy.mesh, zone, namespace, ref.get("name") or "")


def _legacy_service(name: str) -> tuple[str, str, int] | None:
    """`<name>_<namespace>_svc[_<port>]`: a kuma.io/service value naming a MeshService."""
    parts = name.split("_")
    if len(parts) == 4 and parts[3].lstrip("-").isdigit():
        return parts[0], parts[1], int(parts[3])
    if len(parts) == 3:
        return parts[0], parts[1], 0
    return None


def _ports(resource: Decoded) -> list[tuple[str, int]]:
    """(name, port) of a destination's ports."""
    if resource.resource.type == "MeshExternalService":
        port = int((resource.spec.get("match") or {}).get("port") or 0)
        return [(str(port), port)]
    ports = [p for p in resource.spec.get("ports") or [] if isinstance(p, dict)]
    return [
        (str(p["name"]) if "name" in p else str(p.get("port")), int(p.get("port") or 0))
        for p in ports
    ]


def resolve_target(
    ref: Mapping[str, Any], policy: Decoded, resources: Mapping[str, Sequence[Decoded]]
) -> list[tuple[Decoded, str]]:
    """Kuma's resolve.TargetRef: the real resources (and sections) a `to` targetRef
    names, by KRI or by labels."""
    kind = str(ref.get("kind"))
    if kind in ("MeshSubset", "MeshServiceSubset"):
        return []
    candidates = resources.get(kind, ())
    section, port = ref.get("sectionName") or "", 0
    wanted_labels = ref.get("labels") or {}
    legacy = _legacy_service(ref.get("name") or "") if kind == "MeshService" else None
    if legacy is not None and not section:
        wanted_labels = {kuma_labels.NAMESPACE: legacy[1], kuma_labels.DISPLAY_NAME: legacy[0]}
        port = legacy[2]
    if wanted_labels:
        found = [
            r for r in candidates if all(r.labels.get(k) == v for k, v in wanted_labels.items())
        ]
    else:
        wanted = _referenced_identity(policy, ref)
        found = [r for r in candidates if identity(kind, r) == wanted][:1]
    if not port and not section:
        return [(r, "") for r in found]
    sections = []
    for resource in found:
        if resource.resource.type not in DESTINATION_TYPES:
            sections.append((resource, ""))
            continue
        names = [n for n, value in _ports(resource) if (value == port if port else n == section)]
        sections += [(resource, names[0])] if names else []
    return sections


def _relevant(resolved: tuple[Decoded, str], other: Decoded, other_section: str) -> bool:
    resource, section = resolved
    kind, other_kind = resource.resource.type, other.resource.type
    if kind == "Mesh":
        return resource.name == (other.name if other_kind == "Mesh" else other.mesh)
    if kind != other_kind:
        return False
    same = identity(kind, resource) == identity(kind, other)
    if kind in ("MeshService", "MeshMultiZoneService"):
        return same and (section == other_section or (not section and bool(other_section)))
    return same and kind in ("MeshExternalService", "MeshHTTPRoute")


def _compare_to_entries(item1: RuleItem, item2: RuleItem) -> int:
    """Kuma's outbound Sort: policy attributes, then the `to` targetRef kind (a whole
    MeshService before one of its sections), then display name."""
    ref1, ref2 = item1.target_ref, item2.target_ref
    sections = 0
    if ref1.get("kind") == "MeshService":
        sections = bool(ref1.get("sectionName")) - bool(ref2.get("sectionName"))
    differences = (
        _compare_entry_attributes(item1.policy, item2.policy),
        KIND_ORDER.get(str(ref1.get("kind")), 0) - KIND_ORDER.get(str(ref2.get("kind")), 0),
        sections,
        _reverse_names(item1.policy, item2.policy),
    )
    return next((difference for difference in differences if difference), 0)


def resource_rules(
    policies: Sequence[Decoded], resources: Resources, shape: Shape | None
) -> dict[str, ResourceRule]:
    """Kuma's outbound BuildRules: for every real resource a `to` entry names, the merged
    confs of the entries relevant to it, keyed by the resource's KRI."""
    items = sorted(_items(policies, "to"), key=functools.cmp_to_key(_compare_to_entries))
    decoded = {t: [Decoded.of(r) for r in rs] for t, rs in resources.items()}
    resolved = [
        (item, r) for item in items for r in resolve_target(item.target_ref, item.policy, decoded)
    ]
    targets: dict[str, tuple[Decoded, str]] = {}
    for _, (resource, section) in resolved:
        targets[kri_text(identity(resource.resource.type, resource), section)] = (resource, section)
    rules = {}
    for key, (resource, section) in targets.items():
        relevant = [item for item, r in resolved if _relevant(r, resource, section)]
        if relevant:
            conf = merge_confs([item.conf for item in relevant], shape)
            origins = dict.fromkeys(
                (item.policy.mesh, item.policy.name, item.index) for item in relevant
            )
            by_key = {(i.policy.mesh, i.policy.name, i.index): i for i in relevant}
            ordered = tuple((by_key[k].policy, k[2]) for k in origins)
            rules[key] = ResourceRule(resource, section, conf, ordered)
    return rules


# --- builtin gateways ----------------------------------------------------------------


@dataclass
class GatewayRules:
    to_by_listener: dict[InboundListener, ToRules] = field(default_factory=dict)
    to_by_hostname: dict[ListenerHostname, ToRules] = field(default_factory=dict)
    from_rules: FromRules = field(default_factory=FromRules)


def gateway_rules(matched: MatchedPolicies, resources: Resources) -> GatewayRules:
    """Kuma's BuildGatewayRules: `to` rules per listener (and per listener hostname), and
    the `from` rules of the listeners."""
    warnings = matched.warnings
    return GatewayRules(
        {k: to_rules(matched.type, v, resources, warnings) for k, v in matched.by_inbound.items()},
        {
            k: to_rules(matched.type, v, resources, warnings)
            for k, v in matched.by_gateway_listener.items()
        },
        from_rules(matched.type, matched.by_inbound, warnings),
    )


# --- zone egress ---------------------------------------------------------------------

EGRESS_LISTENER = InboundListener("", 0)  # a zone egress has a single listener


def _selects_service(ref: Mapping[str, Any], tags: Tags) -> bool:
    """Kuma's serviceSelectedByTargetRef, for the tags of an ExternalService."""
    kind = ref.get("kind")
    if kind == "Mesh":
        return True
    if kind == "MeshSubset":
        return tags_match(ref.get("tags"), tags)
    if kind in ("MeshService", "MeshServiceSubset"):
        named = (ref.get("name") or "") == tags.get(SERVICE_TAG, "")
        return named and (kind == "MeshService" or tags_match(ref.get("tags"), tags))
    return False


def egress_rules(
    policy_type: str, tags: Tags, resources: Resources
) -> tuple[FromRules, ToRules, list[str]]:
    """Kuma's EgressMatchedPolicies: the rules a zone egress applies for traffic to an
    ExternalService with `tags`. `to` policies are turned into `from` rules keyed by the
    top-level targetRef, since the egress sees the clients, not the outbounds."""
    policies = [
        Decoded.of(p) for p in resources.get(policy_type, ()) if not is_shadowed(Decoded.of(p))
    ]
    warnings: list[str] = []
    if not policies or policy_type not in FROM_TYPES | TO_TYPES:
        return FromRules(), ToRules(), warnings
    to_rules_ = ToRules()
    if policy_type in TO_TYPES:
        shape = ENTRY_SHAPES.get(policy_type)
        to_rules_ = ToRules(resource_rules=resource_rules(policies, resources, shape))
    if policy_type in FROM_TYPES:
        selected = sort_by_target_ref(p for p in policies if _selects_service(p.target_ref, tags))
        return from_rules(policy_type, {EGRESS_LISTENER: selected}, warnings), to_rules_, warnings
    try:
        return _egress_to_as_from(policy_type, policies, tags), to_rules_, warnings
    except UnrepresentableRule as error:
        return FromRules(), to_rules_, [f"couldn't create egress rules: {error}"]


def _egress_to_as_from(policy_type: str, policies: Sequence[Decoded], tags: Tags) -> FromRules:
    selected = [
        policy
        for policy in policies
        for entry in _entries(policy, "to")
        if _selects_service(entry.get("targetRef") or {}, tags)
    ]
    items = [
        RuleItem(policy.target_ref, entry.get("default"), policy)
        for policy in sort_by_target_ref(selected)
        for entry in _entries(policy, "to")
        if _selects_service(entry.get("targetRef") or {}, tags)
    ]
    rules = build_rules(items, False, ENTRY_SHAPES.get(policy_type))
    return FromRules({EGRESS_LISTENER: rules})

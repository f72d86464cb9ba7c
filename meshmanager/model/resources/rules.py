"""The rules Kuma v2.14.3 builds from the policies matched to a dataplane
(`pkg/plugins/policies/core/rules`): the proxy-wide conf of `default`-only policies,
`from` rules per inbound, `to` rules per destination tag subset and per real
destination resource, the same per builtin gateway listener, and the rules of a zone
egress."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.confs import SINGLE_ITEM_SHAPES, merge_confs, merge_entries
from meshmanager.model.resources.matching import (
    KIND_ORDER,
    ORIGIN_ORDER,
    ROLE_ORDER,
    SERVICE_TAG,
    Decoded,
    InboundListener,
    ListenerHostname,
    MatchedPolicies,
    Resources,
    Tags,
    compare_dataplane_refs,
    display_name,
    is_referenced,
    is_shadowed,
    origin,
    policy_role,
    reverse_names,
    sort_by_target_ref,
    tags_match,
)
from meshmanager.model.resources.registry import TYPES


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


def _rules_for(subset: Subset, items: Sequence[RuleItem], policy_type: str) -> list[Rule]:
    relevant = [item for item in items if is_subset(as_subset(item.target_ref), subset)]
    if not relevant:
        return []
    origins = _unique(item.policy for item in relevant)
    confs = merge_entries(policy_type, [item.conf for item in relevant])
    return [Rule(conf, origins, subset) for conf in confs]


def build_rules(items: Sequence[RuleItem], with_negations: bool, policy_type: str) -> list[Rule]:
    """Kuma's legacy BuildRules: split the tag space by the entries' targetRefs, merge
    the confs of the entries covering each piece, most specific piece first."""
    items = [item for item in items if item.target_ref.get("kind") in OLD_KINDS]
    subsets = [as_subset(item.target_ref) for item in items]
    if not items:
        return []
    if not with_negations and len({tag[0] for subset in subsets for tag in subset}) <= 1:
        unique = list(dict.fromkeys(subsets))
        rules = [rule for s in unique for rule in _rules_for(s, items, policy_type)]
        return sorted(rules, key=lambda rule: -len(rule.subset))
    edges: dict[int, set[int]] = {}
    for i, first in enumerate(subsets):
        edges[i] = {j for j, second in enumerate(subsets) if i != j and intersect(first, second)}
    rules = []
    for clique in _maximal_cliques(edges):
        tags = sorted({tag for node in clique for tag in subsets[node]}, key=lambda t: t[:2])
        for subset in _partition(tags):
            rules += _rules_for(subset, items, policy_type)
    return sorted(rules, key=lambda rule: -_positive(rule.subset))


def _entries(policy: Decoded, key: str) -> list[Mapping[str, Any]]:
    entries = policy.spec.get(key)
    return (
        [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    )


def entry_default(policy_type: str, entry: Mapping[str, Any]) -> Any:
    """Kuma's GetDefault of a `from`/`to` entry: its `default`, but for the route types
    their rules (a MeshHTTPRoute's reversed, to merge; a MeshTCPRoute's first, or else
    its destination as the only backend)."""
    rules = [rule for rule in entry.get("rules") or [] if isinstance(rule, dict)]
    if policy_type == "MeshHTTPRoute":
        return {"rules": rules[::-1], "hostnames": entry.get("hostnames")}
    if policy_type != "MeshTCPRoute":
        return entry.get("default")
    if rules:
        return rules[0]
    return {"default": {"backendRefs": [{**(entry.get("targetRef") or {}), "weight": 1}]}}


def _items(policies: Iterable[Decoded], key: str, policy_type: str) -> list[RuleItem]:
    return [
        RuleItem(entry.get("targetRef") or {}, entry_default(policy_type, entry), policy, index)
        for policy in policies
        for index, entry in enumerate(_entries(policy, key))
    ]


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
    try:
        for inbound, policies in by_inbound.items():
            items = _items(policies, "from", policy_type)
            result.rules[inbound] = build_rules(items, True, policy_type)
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
            conf = merge_entries(policy_type, [entry.get("default")])[0]  # as Go types
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
    return _compare_entry_attributes(policy1, policy2) or reverse_names(policy1, policy2)


def _compare_entry_attributes(policy1: Decoded, policy2: Decoded) -> int:
    """Kuma's CompareByPolicyAttributes."""
    ref1, ref2 = policy1.target_ref, policy2.target_ref
    differences = (
        KIND_ORDER.get(str(ref1.get("kind")), 0) - KIND_ORDER.get(str(ref2.get("kind")), 0),
        compare_dataplane_refs(ref1, ref2),
        ORIGIN_ORDER.get(origin(policy1), 0) - ORIGIN_ORDER.get(origin(policy2), 0),
        ROLE_ORDER.get(policy_role(policy1), 0) - ROLE_ORDER.get(policy_role(policy2), 0),
    )
    return next((difference for difference in differences if difference), 0)


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


def _legacy_to_items(
    policy_type: str, policies: Sequence[Decoded], routes: Sequence[Decoded]
) -> list[RuleItem]:
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
            RuleItem(entry.get("targetRef") or {}, entry_default(policy_type, entry), policy, i)
            for i, entry in enumerate(to_entries)
        ]
    return items


@dataclass(frozen=True)
class ResourceRule:
    """The merged confs of the `to` entries that reach one real resource (or section);
    for MeshHTTPRoutes, the policy that last contributed each set of matches (by hash)."""

    resource: Decoded
    section: str
    confs: list[Any]
    origins: tuple[tuple[Decoded, int], ...]
    origin_by_matches: dict[str, Decoded] = field(default_factory=dict)


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
    routes = [Decoded.of(r) for r in resources.get("MeshHTTPRoute", ())]
    try:
        rules = build_rules(_legacy_to_items(policy_type, policies, routes), False, policy_type)
    except UnrepresentableRule as error:
        warnings.append(f"couldn't create To rules: {error}")
        return ToRules()
    direct = [p for p in policies if p.target_ref.get("kind") != "MeshHTTPRoute"]
    return ToRules(rules, resource_rules(policy_type, direct, resources))


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


def referenced_identity(policy: Decoded, ref: Mapping[str, Any]) -> Identity:
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
        wanted = referenced_identity(policy, ref)
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
        reverse_names(item1.policy, item2.policy),
    )
    return next((difference for difference in differences if difference), 0)


def resource_rules(
    policy_type: str, policies: Sequence[Decoded], resources: Resources
) -> dict[str, ResourceRule]:
    """Kuma's outbound BuildRules: for every real resource a `to` entry names, the merged
    confs of the entries relevant to it, keyed by the resource's KRI."""
    items = _items(policies, "to", policy_type)
    items.sort(key=functools.cmp_to_key(_compare_to_entries))
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
            confs = merge_entries(policy_type, [item.conf for item in relevant])
            origins = _origins(relevant)
            by_matches = _origin_by_matches(policy_type, relevant)
            rules[key] = ResourceRule(resource, section, confs, origins, by_matches)
    return rules


def _origins(items: Sequence[RuleItem]) -> tuple[tuple[Decoded, int], ...]:
    """Kuma's Origins with rule indexes: each (policy, `to` index) once, first seen first."""
    seen: dict[tuple[str, str, int], tuple[Decoded, int]] = {}
    for item in items:
        seen.setdefault((item.policy.mesh, item.policy.name, item.index), (item.policy, item.index))
    return tuple(seen.values())


def _origin_by_matches(policy_type: str, items: Sequence[RuleItem]) -> dict[str, Decoded]:
    if policy_type != "MeshHTTPRoute":
        return {}
    return {
        hash_matches(rule.get("matches")): item.policy
        for item in items
        for rule in item.conf.get("rules") or []
    }


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
        to_rules_ = ToRules(resource_rules=resource_rules(policy_type, policies, resources))
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
    rules = build_rules(items, False, policy_type)
    return FromRules({EGRESS_LISTENER: rules})

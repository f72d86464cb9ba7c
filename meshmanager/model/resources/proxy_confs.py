"""The confs Kuma v2.14.3 shows for one inbound, outbound or route of a dataplane
(`matchedPoliciesTo...` in `pkg/api-server/resource_endpoints.go`), each policy named
by its KRI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from meshmanager.model.resources.matching import (
    Decoded,
    InboundListener,
    Proxy,
    Referenced,
    Resources,
    embedded_listeners,
    match,
    section_name,
)
from meshmanager.model.resources.naming import Kri
from meshmanager.model.resources.rules import (
    FromRules,
    ResourceRule,
    ToRules,
    from_rules,
    hash_matches,
    identity,
    kri_text,
    to_rules,
)

ROUTE_TYPES = ("MeshHTTPRoute", "MeshTCPRoute")
# The destinations whose rules fall back to the whole resource, then to the mesh.
_FALLING_BACK = ("MeshService", "MeshExternalService", "MeshMultiZoneService", "MeshHTTPRoute")


@dataclass(frozen=True)
class TypeRules:
    type: str
    from_rules: FromRules
    to_rules: ToRules


def type_rules(proxy: Proxy, resources: Resources, types: Iterable[str]) -> list[TypeRules]:
    """The `from` and `to` rules of each policy type (in plugin order) for the proxy."""
    referenced = Referenced.of(resources)
    found = []
    for policy_type in types:
        policies = [Decoded.of(policy) for policy in resources.get(policy_type, ())]
        matched = match(policy_type, policies, proxy, referenced)
        warnings = matched.warnings
        found.append(
            TypeRules(
                policy_type,
                from_rules(policy_type, matched.by_inbound, warnings),
                to_rules(policy_type, matched.policies, resources, warnings),
            )
        )
    return found


def origin_kri(policy_type: str, policy: Decoded) -> dict[str, str]:
    return {"kri": kri_text(identity(policy_type, policy))}


def _origins(policy_type: str, policies: Iterable[Decoded]) -> list[dict[str, str]]:
    return [origin_kri(policy_type, policy) for policy in policies]


def inbound_listener(proxy: Proxy, section: str) -> InboundListener | None:
    """The inbound (or embedded zone proxy listener) a KRI's section names."""
    for inbound in proxy.inbounds:
        if not section or section_name(inbound) == section:
            return proxy.listener(inbound)
    listeners = embedded_listeners(proxy, section)
    return listeners[0] if listeners else None


def inbound_policies(
    all_rules: Iterable[TypeRules], listener: InboundListener
) -> list[dict[str, Any]]:
    """Per policy type, the inbound rules of the listener, unmerged."""
    policies = []
    for each in all_rules:
        rules = each.from_rules.inbound_rules.get(listener) or []
        if not rules:
            continue
        owners: dict[tuple[str, str], Decoded] = {}
        for rule in rules:
            owners.setdefault((rule.policy.mesh, rule.policy.name), rule.policy)
        policies.append(
            {
                "kind": each.type,
                "origins": _origins(each.type, owners.values()),
                "rules": [
                    {"conf": rule.conf, **origin_kri(each.type, rule.policy)} for rule in rules
                ],
            }
        )
    return policies


def without_section(identifier: Kri) -> Kri:
    return replace(identifier, section="")


def context_rule(
    rules: dict[str, ResourceRule], mesh: Decoded, ids: Sequence[Kri]
) -> ResourceRule | None:
    """Kuma's ResourceContext.ResourceRule: the rule of the most specific of `ids`, else
    of the mesh."""
    for key in [*map(str, ids), kri_text(identity("Mesh", mesh))]:
        if key in rules:
            return rules[key]
    return None


def computed_rule(
    rules: dict[str, ResourceRule], identifier: Kri, mesh: Decoded
) -> ResourceRule | None:
    """Kuma's ResourceRules.Compute: the KRI's own rule, else for destinations and routes
    the rule of the whole resource, then of the mesh."""
    found = rules.get(str(identifier))
    if found is not None:
        return found
    rt = identifier.resource_type
    if rt is None or rt.name not in _FALLING_BACK:
        return None
    if identifier.section:
        return computed_rule(rules, without_section(identifier), mesh)
    if mesh.name != identifier.mesh:
        return None
    return rules.get(kri_text(identity("Mesh", mesh)))


def policy_conf(policy_type: str, rule: ResourceRule) -> dict[str, Any]:
    return {
        "conf": rule.confs,
        "kind": policy_type,
        "origins": _origins(policy_type, (policy for policy, _ in rule.origins)),
    }


def route_conf(policy_type: str, rule: ResourceRule) -> dict[str, Any]:
    """The rules of a MeshHTTPRoute or MeshTCPRoute reaching an outbound."""
    if policy_type == "MeshHTTPRoute":
        rules = [
            _http_route_rule(rule, route_rule)
            for conf in rule.confs
            for route_rule in conf.get("rules") or []
        ]
    else:
        rules = [{"conf": conf["default"], "kri": "", "matches": None} for conf in rule.confs]
    origins = _origins(policy_type, (policy for policy, _ in rule.origins))
    return {"kind": policy_type, "origins": origins, "rules": rules}


def _http_route_rule(rule: ResourceRule, route_rule: dict[str, Any]) -> dict[str, Any]:
    """A merged MeshHTTPRoute rule, named by the route that last set its matches."""
    origin = rule.origin_by_matches[hash_matches(route_rule["matches"])]
    return {
        "conf": route_rule["default"],
        "kri": kri_text(identity("MeshHTTPRoute", origin)),
        "matches": route_rule["matches"],
    }

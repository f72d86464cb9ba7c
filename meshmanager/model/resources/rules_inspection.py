"""The `_rules` inspection of a dataplane or builtin gateway, as Kuma v2.14.3's API
server writes it (`rulesForResource` in `pkg/api-server/resource_endpoints.go`): per
policy type, in plugin order, the rules built from the policies that match the proxy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from meshmanager.model.resources.matching import (
    POLICY_TYPES,
    Decoded,
    InboundListener,
    MatchedPolicies,
    Proxy,
    Referenced,
    Resources,
    match,
)
from meshmanager.model.resources.rules import (
    FromRules,
    InboundRule,
    ResourceRule,
    Rule,
    ToRules,
    from_rules,
    hash_matches,
    single_item_rule,
    to_rules,
)
from meshmanager.model.resources.stored import Resource

Meta = dict[str, Any]


def meta(type_: str, resource: Resource | Decoded) -> Meta:
    """Kuma's ResourceMetaToMeta: the given type with the resource's mesh, name, labels."""
    return {
        "type": type_,
        "mesh": resource.mesh,
        "name": resource.name,
        "labels": dict(resource.labels),
    }


def gateway_proxy(gateway: Resource) -> Proxy | None:
    """The builtin gateway dataplane Kuma imagines for a MeshGateway: tagged with its first
    selector; None when it has no selector."""
    selectors = (gateway.spec or {}).get("selectors") or []
    if not selectors:
        return None
    tags = dict((selectors[0] or {}).get("match") or {})
    spec = {"networking": {"gateway": {"type": "BUILTIN", "tags": tags}}}
    return Proxy(gateway, spec)


def rules_document(
    subject: Resource, proxy: Proxy, resources: Resources, exclusive: bool
) -> dict[str, Any]:
    """`subject` is the Dataplane (or MeshGateway) asked about; `resources` the mesh's
    resources by type; `exclusive` whether the mesh's MeshServices mode is Exclusive,
    which leaves out the legacy `to` rules."""
    referenced = Referenced.of(resources)
    http_matches: dict[str, Any] = {}
    rules = []
    for policy_type in POLICY_TYPES:
        policies = [Decoded.of(policy) for policy in resources.get(policy_type, ())]
        matched = match(policy_type, policies, proxy, referenced)
        inspected = _InspectedType(matched, proxy, resources)
        if policy_type == "MeshHTTPRoute":
            http_matches |= inspected.http_matches()
        entry = inspected.document(exclusive)
        if entry is not None:
            rules.append(entry)
    return {
        "httpMatches": [{"hash": h, "match": m} for h, m in sorted(http_matches.items())],
        "resource": meta(subject.type, subject),
        "rules": rules,
    }


class _InspectedType:
    """The rules of one policy type for the proxy."""

    def __init__(self, matched: MatchedPolicies, proxy: Proxy, resources: Resources) -> None:
        self.type = matched.type
        self.proxy = proxy
        self.warnings = list(matched.warnings)
        self.from_rules: FromRules = from_rules(self.type, matched.by_inbound, self.warnings)
        self.to_rules: ToRules = to_rules(self.type, matched.policies, resources, self.warnings)
        self.single: Rule | None = single_item_rule(matched)

    def http_matches(self) -> dict[str, Any]:
        confs = [rule.conf for rule in self.to_rules.rules]
        confs += [conf for rule in self.to_rules.resource_rules.values() for conf in rule.confs]
        return {
            hash_matches(rule.get("matches")): rule.get("matches")
            for conf in confs
            for rule in conf.get("rules") or []
        }

    def document(self, exclusive: bool) -> dict[str, Any] | None:
        to, single = self.to_rules, self.single
        if not (to.rules or to.resource_rules or self.from_rules.rules or single):
            return None
        parts = {
            "toRules": [] if exclusive else [self._rule(rule) for rule in to.rules],
            "fromRules": self._from_rules(),
            "inboundRules": self._inbound_rules(),
            "toResourceRules": self._resource_rules(),
        }
        if single is None and not any(parts.values()):
            return None
        document: dict[str, Any] = {"type": self.type, **parts, "warnings": self.warnings}
        if single is not None:
            document["proxyRule"] = {"conf": single.conf, "origin": self._metas(single)}
        return document

    def _metas(self, rule: Rule) -> list[Meta]:
        return [meta(self.type, policy) for policy in rule.origins]

    def _rule(self, rule: Rule) -> dict[str, Any]:
        matchers = [{"key": key, "value": value, "not": no} for key, value, no in rule.subset]
        return {"conf": rule.conf, "matchers": matchers, "origin": self._metas(rule)}

    def _inbound(self, listener: InboundListener) -> dict[str, Any]:
        inbound = next((i for i in self.proxy.inbounds if i.get("port") == listener.port), None)
        tags: dict[str, str] | None = None
        if self.proxy.gateway is not None:
            tags = self.proxy.gateway_tags
        elif inbound is not None:
            tags = dict(inbound.get("tags") or {})
        found: dict[str, Any] = {"port": listener.port, "tags": tags}
        if inbound is not None and inbound.get("name"):
            found["name"] = inbound["name"]
        return found

    def _from_rules(self) -> list[dict[str, Any]]:
        return _by_port(
            {"inbound": self._inbound(listener), "rules": [self._rule(rule) for rule in rules]}
            for listener, rules in self.from_rules.rules.items()
            if rules
        )

    def _inbound_rules(self) -> list[dict[str, Any]]:
        return _by_port(
            {
                "inbound": self._inbound(listener),
                "rules": [self._inbound_rule(rule) for rule in rules],
            }
            for listener, rules in self.from_rules.inbound_rules.items()
            if rules
        )

    def _inbound_rule(self, rule: InboundRule) -> dict[str, Any]:
        document: dict[str, Any] = {
            "conf": [rule.conf],
            "origin": [self._origin(rule.policy, rule.index)],
        }
        if rule.match is not None:
            document["match"] = rule.match
        return document

    def _origin(self, policy: Decoded, index: int) -> dict[str, Any]:
        return {"resourceMeta": meta(self.type, policy), "ruleIndex": index}

    def _resource_rules(self) -> list[dict[str, Any]]:
        rules = [self._resource_rule(rule) for rule in self.to_rules.resource_rules.values()]
        return sorted(rules, key=lambda rule: str(rule["resourceMeta"]["name"]))

    def _resource_rule(self, rule: ResourceRule) -> dict[str, Any]:
        return {
            "conf": rule.confs,
            "origin": [self._origin(policy, index) for policy, index in rule.origins],
            "resourceMeta": meta(rule.resource.resource.type, rule.resource),
            "resourceSectionName": rule.section,
        }


def _by_port(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda entry: int(entry["inbound"]["port"]))

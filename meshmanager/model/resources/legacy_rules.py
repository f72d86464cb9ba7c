"""A dataplane's rules in the old format of Kuma v2.14.3's `/dataplanes/{name}/rules`
(`inspect.BuildRulesAttachments` in `pkg/core/xds/inspect/rules.go`): per targetRef
policy type, the `from` rules of each inbound (`ClientSubset`), the `to` rule that applies
to each outbound (`DestinationSubset`) and the proxy-wide rule (`SingleItem`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshmanager.model.resources.legacy_matching import Outbound, legacy_outbounds
from meshmanager.model.resources.matching import (
    POLICY_TYPES,
    SERVICE_TAG,
    Decoded,
    MatchedPolicies,
    Proxy,
    Referenced,
    Resources,
    Tags,
    match,
)
from meshmanager.model.resources.rules import (
    Rule,
    Subset,
    from_rules,
    single_item_rule,
    to_rules,
)

DESTINATION_TYPES = ("MeshService", "MeshExternalService", "MeshMultiZoneService")
RESOURCE_TYPES = (*POLICY_TYPES, "MeshGateway", *DESTINATION_TYPES)
CLIENT_SUBSET = "ClientSubset"
DESTINATION_SUBSET = "DestinationSubset"
SINGLE_ITEM = "SingleItem"


@dataclass
class RuleAttachment:
    type: str
    policy_type: str
    rule: Rule
    name: str = ""
    service: str = ""
    tags: Tags = field(default_factory=dict)
    addresses: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "type": self.type,
            "name": self.name,
            "addresses": self.addresses,
            "service": self.service,
            "tags": dict(self.tags),
        }
        return {key: value for key, value in found.items() if value} | {
            "policyType": self.policy_type,
            "subset": {
                key: ("!" if negated else "") + value for key, value, negated in self.rule.subset
            },
            "conf": self.rule.conf,
            "origins": [{"mesh": p.mesh, "name": p.name} for p in self.rule.origins],
        }


def cluster_name(tags: Tags) -> str:
    """Kuma's DestinationClusterName: the service, with a hash of all the tags when there
    are others."""
    service = tags[SERVICE_TAG]
    if len(tags) == 1:
        return service
    digest = hashlib.sha256("".join(key + tags[key] for key in sorted(tags)).encode())
    return f"{service}-{digest.hexdigest()[:16]}"


def contains_element(subset: Subset, tags: Tags) -> bool:
    """Kuma's Subset.ContainsElement: the tags of one proxy lie in the subset."""
    if not subset:
        return True
    if not tags:
        return False
    overlaps = False
    for key, value, negated in subset:
        if key in tags:
            overlaps = True
            if (tags[key] == value) == negated:
                return False
        elif not negated:
            return False
    return overlaps or all(negated for _, _, negated in subset)


def _inbound_attachments(proxy: Proxy, matched: MatchedPolicies) -> list[RuleAttachment]:
    tags_by_listener = {proxy.listener(i): dict(i.get("tags") or {}) for i in proxy.inbounds}
    attachments = []
    for listener, rules in from_rules(matched.type, matched.by_inbound, []).rules.items():
        tags = tags_by_listener.get(listener)
        if tags is None or SERVICE_TAG not in tags:
            continue  # a builtin gateway listener, which Kuma fails to name
        attachments += [
            RuleAttachment(
                CLIENT_SUBSET,
                matched.type,
                rule,
                name=cluster_name(tags),
                service=tags[SERVICE_TAG],
                tags=tags,
                addresses=[str(listener)],
            )
            for rule in rules
        ]
    return attachments


def _outbound_attachments(
    outbounds: Sequence[Outbound],
    rules: Sequence[Rule],
    policy_type: str,
    domains: Mapping[str, Sequence[str]],
) -> list[RuleAttachment]:
    by_name: dict[str, RuleAttachment] = {}
    for outbound in (o for o in outbounds if SERVICE_TAG in o.tags):
        name = cluster_name(outbound.tags)
        if name not in by_name:
            rule = next((r for r in rules if contains_element(r.subset, outbound.tags)), None)
            if rule is None:
                continue
            by_name[name] = RuleAttachment(
                DESTINATION_SUBSET,
                policy_type,
                rule,
                name=name,
                service=outbound.service,
                tags=outbound.tags,
            )
        addresses = by_name[name].addresses
        for address in [*domains.get(outbound.address, ()), outbound.address]:
            if f"{address}:{outbound.port}" not in addresses:
                addresses.append(f"{address}:{outbound.port}")
    return list(by_name.values())


def _status_domains(resource: Decoded) -> tuple[str, list[str]] | None:
    """A destination's VIP and the hostnames it answers to."""
    status = resource.resource.status or {}
    vips = [status.get("vip") or {}] if "vip" in status else status.get("vips") or []
    address = (vips[0] or {}).get("ip") if vips else None
    if not address:
        return None
    return address, [a.get("hostname", "") for a in status.get("addresses") or []]


def domains_by_address(resources: Resources) -> dict[str, list[str]]:
    """Kuma's VIPDomains: the hostnames of the MeshServices, MeshExternalServices and
    MeshMultiZoneServices by VIP. (Kuma adds the VIPs a zone allocates, which a global
    has none of.)"""
    domains: dict[str, list[str]] = {}
    for type_ in DESTINATION_TYPES:
        for resource in resources.get(type_, ()):
            found = _status_domains(Decoded.of(resource))
            if found is not None:
                domains.setdefault(found[0], []).extend(found[1])
    return domains


def _of_type(
    proxy: Proxy,
    matched: MatchedPolicies,
    resources: Resources,
    domains: Mapping[str, Sequence[str]],
) -> list[RuleAttachment]:
    rules = to_rules(matched.type, matched.policies, resources, []).rules
    attachments = _inbound_attachments(proxy, matched)
    attachments += _outbound_attachments(legacy_outbounds(proxy), rules, matched.type, domains)
    single = single_item_rule(matched)
    if single is not None:
        attachments.append(RuleAttachment(SINGLE_ITEM, matched.type, single))
    return attachments


def rule_attachments(proxy: Proxy, resources: Resources) -> list[dict[str, Any]]:
    """The rule attachments of the dataplane `proxy`, by name, then kind (`resources`: the
    mesh's resources of RESOURCE_TYPES, by type)."""
    referenced = Referenced.of(resources)
    domains = domains_by_address(resources)
    attachments: list[RuleAttachment] = []
    for policy_type in POLICY_TYPES:
        policies: Iterable[Decoded] = map(Decoded.of, resources.get(policy_type, ()))
        matched = match(policy_type, policies, proxy, referenced)
        attachments += _of_type(proxy, matched, resources, domains)
    attachments.sort(key=lambda attachment: (attachment.name, attachment.type))
    return [attachment.document() for attachment in attachments]

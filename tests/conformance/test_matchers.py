"""Kuma v2.14.3 policy matching vectors (../shared/vectors/kuma-v2.14.3/matchers):
a dataplane and the policies of its mesh, and which policies select it, in merge order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshmanager.api.kuma.codec import kri
from meshmanager.model.resources import matching
from meshmanager.model.resources import rules as kuma_rules
from meshmanager.model.resources.registry import BY_NAME
from meshmanager.model.resources.stored import Resource
from tests.conformance.api_vectors import resource_of
from tests.conformance.vectors import VECTORS

TESTDATA = VECTORS / "matchers" / "testdata"
MATCHED = TESTDATA / "matchedpolicies"


def load(path: Path) -> list[Resource]:
    return [resource_of(doc) for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_type(resources: list[Resource]) -> dict[str, list[Resource]]:
    grouped: dict[str, list[Resource]] = {}
    for resource in resources:
        grouped.setdefault(resource.type, []).append(resource)
    return grouped


def policy_type(grouped: dict[str, list[Resource]]) -> str:
    """The one type of the policies file; a MeshHTTPRoute mixed in is only referenced."""
    types = [t for t in grouped if t != "MeshHTTPRoute"] or ["MeshHTTPRoute"]
    assert len(types) == 1, types
    return types[0]


def listed(resources: list[Resource]) -> list[tuple[str, str, str, dict[str, str], str | None]]:
    return [(r.type, r.mesh, r.name, r.labels, kri(BY_NAME[r.type], r)) for r in resources]


def golden_items(path: Path) -> list[tuple[str, str, str, dict[str, str], str | None]]:
    items = yaml.safe_load(path.read_text())["items"]
    return [(i["type"], i["mesh"], i["name"], i.get("labels") or {}, i.get("kri")) for i in items]


# --- the matched policies of a dataplane (dataplanepolicies/) ------------------------


def cases(folder: Path) -> list[str]:
    return sorted({path.name.split(".")[0] for path in folder.glob("*.golden.yaml")})


DATAPLANE_POLICIES = MATCHED / "dataplanepolicies"


@pytest.mark.parametrize("case", cases(DATAPLANE_POLICIES))
def test_dataplane_policies(case: str) -> None:
    dataplane = load(DATAPLANE_POLICIES / f"{case}.dataplane.yaml")[0]
    grouped = by_type(load(DATAPLANE_POLICIES / f"{case}.policies.yaml"))
    matched = matching.matched_policies(policy_type(grouped), dataplane, grouped)
    assert listed([p.resource for p in matched.policies]) == golden_items(
        DATAPLANE_POLICIES / f"{case}.golden.yaml"
    )


# --- targetRef kind Dataplane on both sides of a sync (dataplane-kind/) --------------

BuildMeta = Callable[[Resource], Resource]
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAME_LIMIT = 236


def hashed_name(mesh: str, name: str, *values: str) -> str:
    """KDS's hash-suffixed name (see ../naming/README.md)."""
    digest = 0xCBF29CE484222325
    for byte in "".join((mesh, name, *values)).encode():
        digest = ((digest ^ byte) * 0x100000001B3) % (1 << 64)
    suffix = "".join(ALPHABET[ord(c) % len(ALPHABET)] for c in f"{digest:016x}")
    return f"{name[:NAME_LIMIT]}-{suffix}"


def _meta(base: dict[str, str], k8s: bool) -> BuildMeta:
    def build(r: Resource) -> Resource:
        labels = {**base, "kuma.io/display-name": r.name}
        if k8s:
            labels.update({"k8s.kuma.io/namespace": "ns-k8s", "kuma.io/mesh": r.mesh})
        labels.update(r.labels)
        return r.with_changes(name=f"{r.name}.ns-k8s" if k8s else r.name, labels=labels)

    return build


GLOBAL_UNI = _meta({"kuma.io/origin": "global"}, k8s=False)
GLOBAL_K8S = _meta({"kuma.io/origin": "global"}, k8s=True)
ZONE_UNI = _meta({"kuma.io/origin": "zone", "kuma.io/zone": "zone-uni"}, k8s=False)
ZONE_K8S = _meta({"kuma.io/origin": "zone", "kuma.io/zone": "zone-k8s"}, k8s=True)


def with_labels(build: BuildMeta, **labels: str) -> BuildMeta:
    def wrapped(r: Resource) -> Resource:
        built = build(r)
        return built.with_changes(labels={**built.labels, **labels})

    return wrapped


def system_policy(build: BuildMeta) -> BuildMeta:
    role = with_labels(build, **{"kuma.io/policy-role": "system"})
    return with_labels(role, **{"k8s.kuma.io/namespace": "kuma-system"})


def producer_policy(build: BuildMeta) -> BuildMeta:
    return with_labels(build, **{"kuma.io/policy-role": "producer"})


def synced(build: BuildMeta, to_k8s: bool) -> BuildMeta:
    def wrapped(r: Resource) -> Resource:
        built = build(r)
        keys = ("kuma.io/zone", "k8s.kuma.io/namespace")
        values = [built.labels[key] for key in keys if key in built.labels]
        name = hashed_name(built.mesh, matching.display_name(built), *values)
        return built.with_changes(name=f"{name}.kuma-system" if to_k8s else name)

    return wrapped


def sync_to_uni(build: BuildMeta) -> BuildMeta:
    return synced(build, to_k8s=False)


def sync_to_k8s(build: BuildMeta) -> BuildMeta:
    return synced(build, to_k8s=True)


VARIANTS: dict[str, tuple[BuildMeta, BuildMeta]] = {
    "uni-zone": (ZONE_UNI, ZONE_UNI),
    "k8s-zone": (ZONE_K8S, ZONE_K8S),
    "policy-from-global-uni-zone-uni-on-global": (
        sync_to_uni(ZONE_UNI),
        system_policy(GLOBAL_UNI),
    ),
    "policy-from-global-uni-zone-uni-on-zone": (
        ZONE_UNI,
        system_policy(sync_to_uni(GLOBAL_UNI)),
    ),
    "policy-from-global-uni-zone-k8s-on-zone": (
        ZONE_K8S,
        system_policy(sync_to_k8s(GLOBAL_UNI)),
    ),
    "policy-from-global-uni-zone-k8s-on-global": (
        sync_to_uni(ZONE_K8S),
        system_policy(GLOBAL_UNI),
    ),
    "policy-from-global-k8s-zone-uni-on-zone": (
        ZONE_UNI,
        system_policy(sync_to_uni(GLOBAL_K8S)),
    ),
    "policy-from-global-k8s-zone-uni-on-global": (
        sync_to_k8s(ZONE_UNI),
        system_policy(GLOBAL_K8S),
    ),
    "policy-from-global-k8s-zone-k8s-on-zone": (
        ZONE_K8S,
        system_policy(sync_to_k8s(GLOBAL_K8S)),
    ),
    "policy-from-global-k8s-zone-k8s-on-global": (
        sync_to_k8s(ZONE_K8S),
        system_policy(GLOBAL_K8S),
    ),
    "policy-global-uni-dpp-k8s-on-zone": (ZONE_UNI, system_policy(sync_to_uni(GLOBAL_UNI))),
    "policy-global-uni-dpp-k8s-on-global": (sync_to_uni(ZONE_UNI), system_policy(GLOBAL_UNI)),
    "policy-from-k8s-to-uni": (ZONE_UNI, producer_policy(sync_to_uni(ZONE_K8S))),
    "policy-from-k8s-to-k8s": (ZONE_K8S, producer_policy(sync_to_k8s(ZONE_K8S))),
}
DATAPLANE_KIND = MATCHED / "dataplane-kind"


@dataclass(frozen=True)
class KindCase:
    scenario: str
    variant: str

    @property
    def id(self) -> str:
        return f"{self.scenario}/{self.variant}"


def kind_cases() -> Iterator[KindCase]:
    for path in sorted(DATAPLANE_KIND.glob("*.dataplane.yaml")):
        for variant in VARIANTS:
            yield KindCase(path.name.split(".")[0], variant)


KIND_CASES = list(kind_cases())


@pytest.mark.parametrize("case", KIND_CASES, ids=[c.id for c in KIND_CASES])
def test_dataplane_kind(case: KindCase) -> None:
    dataplane_meta, policy_meta = VARIANTS[case.variant]
    dataplane = dataplane_meta(load(DATAPLANE_KIND / f"{case.scenario}.dataplane.yaml")[0])
    grouped = by_type(load(DATAPLANE_KIND / f"{case.scenario}.policies.yaml"))
    kind = policy_type(grouped)
    grouped[kind] = [policy_meta(policy) for policy in grouped[kind]]
    matched = matching.matched_policies(kind, dataplane, grouped)
    golden = DATAPLANE_KIND / case.scenario / f"{case.variant}.golden.yaml"
    assert listed([p.resource for p in matched.policies]) == golden_items(golden)


# --- rules (fromrules/, torules/, meshexternalservice/, meshgateways/, egress) --------

Listed = list[Any]


def rules_view(rules: list[kuma_rules.Rule]) -> Listed:
    return [
        ([list(tag) for tag in rule.subset], rule.conf, [origin_of(o) for o in rule.origins], {})
        for rule in rules
    ]


def origin_of(policy: matching.Decoded) -> tuple[str, str | None]:
    return policy.name, kri(BY_NAME[policy.resource.type], policy.resource)


def golden_rules_view(rules: list[dict[str, Any]] | None) -> Listed:
    return [
        (
            [[t["Key"], t["Value"], t["Not"]] for t in rule["Subset"]],
            rule["Conf"],
            [(o["name"], o["kri"]) for o in rule["Origin"]],
            rule["OriginByMatches"],
        )
        for rule in rules or []
    ]


def inbound_view(rules: list[kuma_rules.InboundRule]) -> Listed:
    return [(r.conf, r.match, origin_of(r.policy), r.index) for r in rules]


def golden_inbound_view(rules: list[dict[str, Any]] | None) -> Listed:
    return [
        (
            r["conf"],
            r["match"],
            (r["origin"]["Resource"]["name"], r["origin"]["Resource"]["kri"]),
            r["origin"]["RuleIndex"],
        )
        for r in rules or []
    ]


def from_view(rules: kuma_rules.FromRules) -> dict[str, Any]:
    return {
        "Rules": {str(k): rules_view(v) for k, v in rules.rules.items()},
        "InboundRules": {str(k): inbound_view(v) for k, v in rules.inbound_rules.items()},
    }


def golden_from_view(golden: dict[str, Any]) -> dict[str, Any]:
    return {
        "Rules": {k: golden_rules_view(v) for k, v in (golden.get("Rules") or {}).items()},
        "InboundRules": {
            k: golden_inbound_view(v) for k, v in (golden.get("InboundRules") or {}).items()
        },
    }


def to_view(rules: kuma_rules.ToRules) -> dict[str, Any]:
    resource_rules = {
        key: (
            rule.resource.name,
            rule.section,
            rule.confs,
            [(origin_of(policy), index) for policy, index in rule.origins],
        )
        for key, rule in rules.resource_rules.items()
    }
    return {"Rules": rules_view(rules.rules), "ResourceRules": resource_rules}


def golden_to_view(golden: dict[str, Any]) -> dict[str, Any]:
    resource_rules = {
        key: (
            rule["Resource"]["name"],
            rule["ResourceSectionName"],
            rule["Conf"],
            [
                ((o["Resource"]["name"], o["Resource"]["kri"]), o["RuleIndex"])
                for o in rule["Origin"]
            ],
        )
        for key, rule in (golden.get("ResourceRules") or {}).items()
    }
    return {"Rules": golden_rules_view(golden.get("Rules")), "ResourceRules": resource_rules}


@dataclass(frozen=True)
class RulesCase:
    folder: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.folder}/{self.name}"

    def path(self, kind: str) -> Path:
        return TESTDATA / self.folder / f"{self.name}.{kind}.yaml"


RULE_FOLDERS = (
    "matchedpolicies/fromrules",
    "matchedpolicies/torules",
    "matchedpolicies/meshexternalservice",
    "matchedpolicies/meshgateways",
    "egressmatchedpolicies/fromrules",
    "egressmatchedpolicies/fromtorules",
    "egressmatchedpolicies/torules",
)
RULE_CASES = [
    RulesCase(folder, name) for folder in RULE_FOLDERS for name in cases(TESTDATA / folder)
]
EGRESS_TYPES = {
    "egressmatchedpolicies/fromrules": "MeshTrafficPermission",
    "egressmatchedpolicies/fromtorules": "MeshTimeout",
    "egressmatchedpolicies/torules": "MeshLoadBalancingStrategy",
}

# Case id -> why meshmanager's rules differ from Kuma's.
RULE_DIVERGENCES: dict[str, str] = {}


def computed_and_golden(case: RulesCase) -> tuple[Any, Any]:
    golden = yaml.safe_load(case.path("golden").read_text())
    grouped = by_type(load(case.path("policies")))
    if case.folder in EGRESS_TYPES:
        external_service = load(case.path("es"))[0]
        tags = external_service.spec.get("tags") or {}
        rules, _, _ = kuma_rules.egress_rules(EGRESS_TYPES[case.folder], tags, grouped)
        return from_view(rules), golden_from_view(golden)
    dataplane = load(case.path("dataplane"))[0]
    if case.folder.endswith("meshexternalservice"):
        grouped["MeshExternalService"] = load(case.path("mes"))
    if case.folder.endswith("fromrules"):
        matched = matching.matched_policies("MeshTrafficPermission", dataplane, grouped)
        return from_view(
            kuma_rules.from_rules(matched.type, matched.by_inbound, [])
        ), golden_from_view(golden)
    if case.folder.endswith("meshgateways"):
        matched = matching.matched_policies("MeshAccessLog", dataplane, grouped)
        return gateway_view(kuma_rules.gateway_rules(matched, grouped)), golden_gateway_view(golden)
    kind = policy_type({t: v for t, v in grouped.items() if t != "MeshExternalService"})
    matched = matching.matched_policies(kind, dataplane, grouped)
    rules = kuma_rules.to_rules(kind, matched.policies, grouped, [])
    return to_view(rules), golden_to_view(golden)


def gateway_view(rules: kuma_rules.GatewayRules) -> dict[str, Any]:
    from_rules = from_view(rules.from_rules)
    return {
        "FromRules": from_rules["Rules"],
        "InboundRules": from_rules["InboundRules"],
        "ByListener": {str(k): to_view(v) for k, v in rules.to_by_listener.items()},
        "ByListenerAndHostname": {str(k): to_view(v) for k, v in rules.to_by_hostname.items()},
    }


def golden_gateway_view(golden: dict[str, Any]) -> dict[str, Any]:
    from_rules = golden_from_view(
        {"Rules": golden["FromRules"], "InboundRules": golden["InboundRules"]}
    )
    to_rules = golden["ToRules"]
    return {
        "FromRules": from_rules["Rules"],
        "InboundRules": from_rules["InboundRules"],
        "ByListener": {k: golden_to_view(v) for k, v in (to_rules["ByListener"] or {}).items()},
        "ByListenerAndHostname": {
            k: golden_to_view(v) for k, v in (to_rules["ByListenerAndHostname"] or {}).items()
        },
    }


@pytest.mark.parametrize("case", RULE_CASES, ids=[c.id for c in RULE_CASES])
def test_rules(case: RulesCase) -> None:
    computed, golden = computed_and_golden(case)
    if case.id in RULE_DIVERGENCES:
        assert computed != golden, f"{case.id} now matches Kuma: drop it from RULE_DIVERGENCES"
    else:
        assert computed == golden


def test_every_golden_file_is_checked() -> None:
    checked = {DATAPLANE_POLICIES / f"{case}.golden.yaml" for case in cases(DATAPLANE_POLICIES)}
    checked |= {DATAPLANE_KIND / c.scenario / f"{c.variant}.golden.yaml" for c in KIND_CASES}
    checked |= {case.path("golden") for case in RULE_CASES}
    assert checked == set(TESTDATA.rglob("*.golden.yaml"))
    assert len(checked) == 10 + 8 * 14 + 24

"""MeshLoadBalancingStrategy: load balancer type, hashing and locality awareness."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies import values as check
from meshmanager.model.resources.validation.policies.policy import (
    Spec,
    each,
    items,
    obj,
    targeted,
    top_kind,
    validate_policy,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import (
    TargetRefRules,
    validate_target_ref,
)
from meshmanager.model.resources.validation.schema import (
    UINT32,
    Arr,
    Bool,
    GoDuration,
    Int,
    IntOrStr,
    Obj,
    Str,
)

_NAMED = Obj({"name": Str(min_length=1)}, required=["name"])
_HASH_POLICIES = Arr(
    Obj(
        {
            "type": Str(
                enum=("Header", "Cookie", "Connection", "SourceIP", "QueryParameter", "FilterState")
            ),
            "terminal": Bool(),
            "header": _NAMED,
            "cookie": Obj(
                {"name": Str(min_length=1), "ttl": GoDuration(), "path": Str()}, required=["name"]
            ),
            "connection": Obj({"sourceIP": Bool()}),
            "queryParameter": _NAMED,
            "filterState": Obj({"key": Str(min_length=1)}, required=["key"]),
        },
        required=["type"],
    )
)
_RING_SIZE = Int(minimum=1, maximum=8000000)
_LOAD_BALANCER = Obj(
    {
        "type": Str(enum=("RoundRobin", "LeastRequest", "RingHash", "Random", "Maglev")),
        "roundRobin": Obj(),
        "leastRequest": Obj({"choiceCount": Int(minimum=2), "activeRequestBias": IntOrStr()}),
        "ringHash": Obj(
            {
                "hashFunction": Str(enum=("XXHash", "MurmurHash2")),
                "minRingSize": _RING_SIZE,
                "maxRingSize": _RING_SIZE,
                "hashPolicies": _HASH_POLICIES,
            }
        ),
        "random": Obj(),
        "maglev": Obj(
            {"tableSize": Int(minimum=1, maximum=5000011), "hashPolicies": _HASH_POLICIES}
        ),
    },
    required=["type"],
)
# Zone lists and the failover target type are checked by Validate(), with its messages.
_LOCALITY_AWARENESS = Obj(
    {
        "disabled": Bool(),
        "localZone": Obj(
            {"affinityTags": Arr(Obj({"key": Str(), "weight": UINT32}))},
        ),
        "crossZone": Obj(
            {
                "failover": Arr(
                    Obj(
                        {
                            "from": Obj({"zones": Arr(Str())}),
                            "to": Obj({"type": Str(), "zones": Arr(Str())}),
                        }
                    )
                ),
                "failoverThreshold": Obj({"percentage": IntOrStr()}),
            }
        ),
    }
)
_CONF = Obj(
    {
        "localityAwareness": _LOCALITY_AWARENESS,
        "loadBalancer": _LOAD_BALANCER,
        "hashPolicies": _HASH_POLICIES,
    }
)
SCHEMA = Obj({"targetRef": ref.TARGET_REF, "to": targeted(_CONF)})

_HASH_POLICY_FIELDS = {
    "Header": "header",
    "Cookie": "cookie",
    "QueryParameter": "queryParameter",
    "FilterState": "filterState",
    "Connection": "connection",
    "SourceIP": "connection",
}


def _absolute(path: str | None) -> bool:
    return path is None or path.startswith("/")


def _validate_hash_policies(
    out: Violations, path: Path, policies: Sequence[Mapping[str, Any]]
) -> None:
    for index, policy in enumerate(policies):
        field = _HASH_POLICY_FIELDS[policy["type"]]
        conf, conf_path = policy.get(field), path.index(index).field(field)
        if conf is None:
            out.add(conf_path, msg.MUST_BE_DEFINED)
        elif field == "cookie" and not _absolute(conf.get("path")):
            out.add(conf_path.field("path"), "must be an absolute path")


def _validate_load_balancer(out: Violations, path: Path, balancer: Mapping[str, Any]) -> None:
    balancer_type = balancer.get("type")
    if balancer_type in ("RingHash", "Maglev"):
        field = "ringHash" if balancer_type == "RingHash" else "maglev"
        hashing = obj(balancer, field)
        hash_path = path.field(field).field("hashPolicies")
        _validate_hash_policies(out, hash_path, items(hashing, "hashPolicies"))
    elif balancer_type == "LeastRequest":
        bias = obj(balancer, "leastRequest").get("activeRequestBias")
        bias_path = path.field("leastRequest").field("activeRequestBias")
        check.int_or_string_at_least(out, bias_path, bias, 0)


def _validate_local_zone(out: Violations, path: Path, local_zone: Mapping[str, Any]) -> None:
    weighted = 0
    for tag_path, tag in each(local_zone, "affinityTags", path):
        if not tag.get("key"):
            out.add(tag_path.field("key"), msg.MUST_NOT_BE_EMPTY)
        if tag.get("weight") is not None:
            check.integer_greater_than(out, tag_path.field("weight"), tag["weight"], 0)
            weighted += 1
    if weighted and weighted != len(items(local_zone, "affinityTags")):
        out.add(path.field("affinityTags"), "all or none affinity tags should have weight")


def _validate_cross_zone(
    out: Violations, path: Path, cross_zone: Mapping[str, Any], target: Mapping[str, Any]
) -> None:
    if target.get("kind") == ref.MESH_SERVICE and (
        target.get("sectionName") or target.get("labels")
    ):
        out.add(path, f"{msg.MUST_NOT_BE_SET}: MeshService traffic is local")
    for failover_path, failover in each(cross_zone, "failover", path):
        source = failover.get("from")
        if source is not None:
            zones_path = failover_path.field("from").field("zones")
            if not items(source, "zones"):
                out.add(zones_path, msg.MUST_NOT_BE_EMPTY)
            for zone_path, zone in each(source, "zones", failover_path.field("from")):
                if zone == "":
                    out.add(zone_path, msg.MUST_NOT_BE_EMPTY)
        destination = obj(failover, "to")
        to_type, to_zones = destination.get("type") or "", items(destination, "zones")
        to_zones_path = failover_path.field("to").field("zones")
        if to_type in ("Any", "None"):
            if to_zones:
                out.add(to_zones_path, f"must be empty when type is {to_type}")
        elif to_type in ("AnyExcept", "Only"):
            if not to_zones:
                out.add(to_zones_path, f"must not be empty when type is {to_type}")
        else:
            out.add(failover_path.field("to").field("type"), "unrecognized type")
    threshold = cross_zone.get("failoverThreshold")
    if threshold is not None:
        threshold_path = path.field("failoverThreshold").field("percentage")
        percentage = threshold.get("percentage")
        check.percentage_or_nil(out, threshold_path, 0 if percentage is None else percentage, False)


def _validate_conf(
    out: Violations, path: Path, conf: Mapping[str, Any], target: Mapping[str, Any]
) -> None:
    hash_policies = conf.get("hashPolicies")
    balancer, locality = conf.get("loadBalancer"), conf.get("localityAwareness")
    if target.get("kind") == ref.MESH_HTTP_ROUTE:
        _validate_hash_policies(out, path.field("hashPolicies"), hash_policies or [])
        only_hashing = (
            "field is not allowed when targetRef.kind is MeshHTTPRoute, only hashPolicies is"
            " supported"
        )
        for field, value in (("loadBalancer", balancer), ("localityAwareness", locality)):
            if value is not None:
                out.add(path.field(field), only_hashing)
        return
    if balancer is not None:
        _validate_load_balancer(out, path.field("loadBalancer"), balancer)
    if locality is not None:
        locality_path = path.field("localityAwareness")
        if locality.get("localZone") is not None:
            _validate_local_zone(out, locality_path.field("localZone"), locality["localZone"])
        if locality.get("crossZone") is not None:
            cross_path = locality_path.field("crossZone")
            _validate_cross_zone(out, cross_path, locality["crossZone"], target)
    _validate_hash_policies(out, path.field("hashPolicies"), hash_policies or [])
    if hash_policies is not None and balancer is not None:
        for field in ("ringHash", "maglev"):
            if obj(balancer, field).get("hashPolicies") is not None:
                out.add(
                    path.field("loadBalancer").field(field).field("hashPolicies"),
                    "hashPolicies already specified in the root level",
                )


_TOP_KINDS = (*ref.PROXY_KINDS, ref.MESH_GATEWAY)
_TO_KINDS = (ref.MESH, ref.MESH_SERVICE, ref.MESH_MULTI_ZONE_SERVICE, ref.MESH_HTTP_ROUTE)
_GATEWAY_TO_KINDS = (ref.MESH, ref.MESH_SERVICE, ref.MESH_MULTI_ZONE_SERVICE)


def _to_rules(top: str, conf: Mapping[str, Any]) -> TargetRefRules:
    if top != ref.MESH_GATEWAY:
        return TargetRefRules(_TO_KINDS)
    if conf.get("loadBalancer") is None:
        return TargetRefRules(_GATEWAY_TO_KINDS)
    # A gateway's load balancer is per cluster, shared by all its routes.
    error = f"value '{top}' is not supported, only {ref.MESH} is allowed if loadBalancer is set"
    return TargetRefRules((ref.MESH,), kinds_error=error)


def _rules(spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, TargetRefRules(_TOP_KINDS, gateway_listener_tags=True))
    top = top_kind(spec)
    for item_path, item in each(spec, "to"):
        target, conf = obj(item, "targetRef"), obj(item, "default")
        validate_target_ref(out, item_path.field("targetRef"), target, _to_rules(top, conf))
        if target.get("kind") == ref.MESH_EXTERNAL_SERVICE and top != ref.MESH:
            out.add(
                item_path.field("targetRef").field("kind"),
                "kind MeshExternalService is only allowed with targetRef.kind: Mesh as it is"
                " configured on the Zone Egress and shared by all clients in the mesh",
            )
        _validate_conf(out, item_path.field("default"), conf, target)


@validator("MeshLoadBalancingStrategy")
def validate_mesh_load_balancing_strategy(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, _rules)

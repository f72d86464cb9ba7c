"""MeshTrafficPermission: which clients may reach a proxy's inbounds."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies.matches import MATCH, validate_matches
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    affects_inbounds,
    check_item_target_ref,
    each,
    items,
    obj,
    targeted,
    validate_policy,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import TargetRefRules
from meshmanager.model.resources.validation.schema import Arr, Obj, Str

_ACTIONS = ("Allow", "Deny", "AllowWithShadowDeny")
_MATCH_LISTS = ("allow", "allowWithShadowDeny", "deny")
SCHEMA = Obj(
    {
        "targetRef": ref.TARGET_REF,
        "from": targeted(Obj({"action": Str(enum=_ACTIONS)})),
        "rules": Arr(Obj({"default": Obj({name: Arr(MATCH) for name in _MATCH_LISTS})})),
    }
)

_TOP_KINDS = (ref.MESH, ref.MESH_SUBSET, ref.MESH_SERVICE, ref.MESH_SERVICE_SUBSET, ref.DATAPLANE)
_FROM_KINDS = (ref.MESH, ref.MESH_SUBSET, ref.MESH_SERVICE, ref.MESH_SERVICE_SUBSET)


def _rules(spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, TargetRefRules(_TOP_KINDS, inbound=affects_inbounds(spec)))
    rules, from_ = items(spec, "rules"), items(spec, "from")
    if from_ and rules:
        out.add(SPEC, msg.FROM_WITH_RULES)
    if not from_ and not rules:
        out.add(SPEC, "at least one of 'from' or 'rules' has to be defined")
    for rule_path, rule in each(spec, "rules"):
        default = obj(rule, "default")
        if not any(items(default, name) for name in ("deny", "allow", "allowWithShadowDeny")):
            out.add(
                rule_path,
                "at least one of 'allow', 'allowWithShadowDeny', 'deny' has to be defined",
            )
        for name in _MATCH_LISTS:
            # Kuma's path skips `default`: rules[0].allow[0].
            validate_matches(out, rule_path.field(name), items(default, name))
    for item_path, item in each(spec, "from"):
        check_item_target_ref(out, item_path, item, _FROM_KINDS)
        if not obj(item, "default").get("action"):
            out.add(item_path.field("default").field("action"), msg.MUST_BE_DEFINED)


@validator("MeshTrafficPermission")
def validate_mesh_traffic_permission(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, _rules)

"""MeshTCPRoute: TCP routing to weighted backends."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Violations, validator
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies.policy import (
    Spec,
    check_item_target_ref,
    each,
    items,
    obj,
    role_target_ref_rules,
    top_kind,
    validate_policy,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import (
    BACKEND_REF,
    TargetRefRules,
    validate_backend_ref,
)
from meshmanager.model.resources.validation.schema import Arr, Obj

# The CRD requires `rules`; Kuma's Validate() does not, and its tests route without them.
_RULE = Obj({"default": Obj({"backendRefs": Arr(BACKEND_REF)})}, required=["default"])
SCHEMA = Obj(
    {
        "targetRef": ref.TARGET_REF,
        "to": Arr(
            Obj(
                {"targetRef": ref.TARGET_REF, "rules": Arr(_RULE, max_items=1)},
                required=["targetRef"],
            ),
            min_items=1,
        ),
    }
)

_BACKEND_RULES = TargetRefRules((*ref.DESTINATION_KINDS, ref.MESH_SERVICE_SUBSET))


def _rules(ctx: Context, spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, role_target_ref_rules(ctx, (ref.MESH_GATEWAY,)))
    to_kinds = (ref.MESH,) if top_kind(spec) == ref.MESH_GATEWAY else ref.DESTINATION_KINDS
    for item_path, item in each(spec, "to"):
        check_item_target_ref(out, item_path, item, to_kinds)
        for rule_path, rule in each(item, "rules", item_path):
            default, default_path = obj(rule, "default"), rule_path.field("default")
            if not items(default, "backendRefs"):
                out.add(default_path.field("backendRefs"), msg.MUST_BE_DEFINED)
            for backend_path, backend in each(default, "backendRefs", default_path):
                validate_backend_ref(out, backend_path, backend, _BACKEND_RULES)


@validator("MeshTCPRoute")
def validate_mesh_tcp_route(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, lambda checked, out: _rules(ctx, checked, out))

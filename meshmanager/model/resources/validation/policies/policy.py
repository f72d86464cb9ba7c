"""The frame every policy validator shares: schema first, then Kuma's rules on a spec that
has the right shape, plus the few facts about a policy those rules look at."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations
from meshmanager.model.resources.validation.policies.matches import MATCH
from meshmanager.model.resources.validation.policies.nodes import WithoutNullListItems
from meshmanager.model.resources.validation.policies.targetref import (
    MESH,
    MESH_GATEWAY,
    MESH_HTTP_ROUTE,
    MESH_SUBSET,
    PROXY_KINDS,
    TARGET_REF,
    TargetRefRules,
    validate_target_ref,
)
from meshmanager.model.resources.validation.schema import (
    Arr,
    Node,
    Obj,
    as_dict,
    as_list,
    validate_with_schema,
)

Spec = Mapping[str, Any]
SPEC = Path("spec")
SYSTEM_ROLE = "System"
POLICY_ROLE_LABEL = "kuma.io/policy-role"


def targeted(default: Node) -> Arr:
    """The schema of a `to` or `from` list: items with a targetRef and a `default`."""
    return Arr(Obj({"targetRef": TARGET_REF, "default": default}, required=["targetRef"]))


def inbound_rules(default: Node, matches: bool = True) -> Arr:
    """The schema of a `rules` list: items with `matches` (when the policy has them)
    and a `default`."""
    fields = {"matches": Arr(MATCH), "default": default} if matches else {"default": default}
    return Arr(Obj(fields))


def to_from_rules_schema(conf: Node, rule_matches: bool = True) -> Obj:
    """The schema of a policy that sets `conf` for outbound traffic (`to`) and for inbound
    traffic (`from`, or the newer `rules`)."""
    return Obj(
        {
            "targetRef": TARGET_REF,
            "to": targeted(conf),
            "from": targeted(conf),
            "rules": inbound_rules(conf, rule_matches),
        }
    )


def validate_policy(
    schema: Node, spec: Any, rules: Callable[[Spec, Violations], None]
) -> Violations:
    """The schema's violations if any, else those of Kuma's rules. A missing spec is an
    empty one, in which the schema finds the fields it requires missing."""
    return validate_with_schema(
        WithoutNullListItems(schema), {} if spec is None else spec, SPEC, rules
    )


def policy_role(ctx: Context) -> str:
    """The policy's role: the `kuma.io/policy-role` label when the caller passes the
    resource labels in `ctx.extra["labels"]`, else System (as Kuma does without it)."""
    labels = ctx.extra.get("labels")
    role = labels.get(POLICY_ROLE_LABEL) if isinstance(labels, Mapping) else None
    return str(role or SYSTEM_ROLE)


def role_target_ref_rules(
    ctx: Context,
    system_kinds: tuple[str, ...],
    gateway_listener_tags: bool = True,
    inbound: bool = False,
) -> TargetRefRules:
    """The top-level targetRef rules of a policy whose System-role (operator) instances may
    also select `system_kinds` (gateways, routes) besides the kinds that select proxies."""
    if policy_role(ctx) == SYSTEM_ROLE:
        kinds = (*PROXY_KINDS, *system_kinds)
        return TargetRefRules(kinds, gateway_listener_tags=gateway_listener_tags, inbound=inbound)
    return TargetRefRules(PROXY_KINDS, inbound=inbound)


def items(parent: Mapping[str, Any], key: str) -> list[Any]:
    """A list field; unset is empty."""
    return as_list(parent.get(key))


def obj(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An object field; unset is Go's zero struct (empty)."""
    return as_dict(parent.get(key))


def each(parent: Mapping[str, Any], key: str, path: Path = SPEC) -> Iterator[tuple[Path, Any]]:
    """The items of the list field `key` with their paths (`spec.to[0]`, ...)."""
    for index, item in enumerate(items(parent, key)):
        yield path.field(key).index(index), item


def check_item_target_ref(
    out: Violations, item_path: Path, item: Mapping[str, Any], kinds: tuple[str, ...]
) -> None:
    """The targetRef of a `to` or `from` item, which may be of `kinds`."""
    target = obj(item, "targetRef")
    validate_target_ref(out, item_path.field("targetRef"), target, TargetRefRules(kinds))


DefaultRules = Callable[[Violations, Path, Mapping[str, Any]], None]


def validate_targeted(
    out: Violations, spec: Spec, key: str, kinds: tuple[str, ...], validate_default: DefaultRules
) -> None:
    """The items of the `to` or `from` list `key`: the targetRef of each, which may be of
    `kinds`, and its `default`."""
    for item_path, item in each(spec, key):
        check_item_target_ref(out, item_path, item, kinds)
        validate_default(out, item_path.field("default"), obj(item, "default"))


def affects_inbounds(spec: Spec) -> bool:
    """Whether the policy configures inbound traffic (it has `rules` or `from`)."""
    return bool(items(spec, "rules")) or bool(items(spec, "from"))


def top_target_ref(spec: Spec) -> Mapping[str, Any]:
    """The top-level targetRef; an unset one selects the whole mesh."""
    ref = spec.get("targetRef")
    return ref if ref is not None else {"kind": MESH}


def top_kind(spec: Spec) -> str:
    return str(top_target_ref(spec).get("kind") or "")


def includes_gateways(ref: Mapping[str, Any]) -> bool:
    """Whether a top-level targetRef can select gateways (builtin MeshGateway proxies)."""
    kind = ref.get("kind")
    proxy_types = ref.get("proxyTypes") or []
    mesh_wide = kind in (MESH, MESH_SUBSET) and (not proxy_types or "Gateway" in proxy_types)
    return kind in (MESH_GATEWAY, MESH_HTTP_ROUTE) or mesh_wide


def validate_top_target_ref(out: Violations, spec: Spec, rules: TargetRefRules) -> None:
    """The top-level targetRef, when set."""
    ref = spec.get("targetRef")
    if ref is not None:
        validate_target_ref(out, SPEC.field("targetRef"), ref, rules)


def rules_exclude_to_from(out: Violations, spec: Spec) -> None:
    if items(spec, "rules") and (items(spec, "to") or items(spec, "from")):
        out.add(SPEC, msg.TO_FROM_WITH_RULES)


def require_to_from_or_rules(out: Violations, spec: Spec) -> None:
    if not (items(spec, "rules") or items(spec, "to") or items(spec, "from")):
        out.add(SPEC, msg.NO_FROM_TO_RULES)

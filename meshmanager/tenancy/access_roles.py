"""Kong Mesh RBAC inside a control plane: AccessRoles granted by AccessRoleBindings.

Every control plane starts with Kong Mesh's defaults, an `admin` role with every access
bound to all authenticated subjects; operators narrow it by editing those resources.
Organization admins are never locked out: the checks here do not apply to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.access import ACCESS
from meshmanager.model.resources.stored import Resource

ADMIN_ROLE = "admin"
DEFAULT_BINDING = "default"
AUTHENTICATED = "mesh-system:authenticated"
UNAUTHENTICATED = "mesh-system:unauthenticated"
ALL_ACCESS = ACCESS


def default_access_resources() -> list[Resource]:
    role = Resource("AccessRole", "", ADMIN_ROLE, {"rules": [{"access": list(ALL_ACCESS)}]})
    binding = Resource(
        "AccessRoleBinding",
        "",
        DEFAULT_BINDING,
        {
            "subjects": [
                {"type": "Group", "name": AUTHENTICATED},
                {"type": "Group", "name": UNAUTHENTICATED},
            ],
            "roles": [ADMIN_ROLE],
        },
    )
    return [role, binding]


@dataclass(frozen=True)
class Subject:
    user: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Target:
    """What an action is about: a resource, or nothing for token generation."""

    type: str | None = None
    mesh: str = ""
    name: str = ""
    spec: Any = None


def bound_role_names(bindings: Iterable[Resource], subject: Subject) -> set[str]:
    names: set[str] = set()
    for binding in bindings:
        for entry in binding.spec.get("subjects") or []:
            kind, name = entry.get("type"), entry.get("name")
            if (kind == "User" and name == subject.user) or (
                kind == "Group" and name in subject.groups
            ):
                names.update(binding.spec.get("roles") or [])
                break
    return names


def is_allowed(
    roles: Iterable[Resource],
    bindings: Iterable[Resource],
    subject: Subject,
    access: str,
    target: Target,
) -> bool:
    granted = bound_role_names(bindings, subject)
    return any(
        _rule_allows(rule, access, target)
        for role in roles
        if role.name in granted
        for rule in role.spec.get("rules") or []
    )


def _rule_allows(rule: dict[str, Any], access: str, target: Target) -> bool:
    if access not in (rule.get("access") or []):
        return False
    types = rule.get("types") or []
    if types and target.type not in types:
        return False
    names = rule.get("names") or []
    if names and target.name not in names:
        return False
    mesh = rule.get("mesh")
    if mesh and target.mesh != mesh:
        return False
    return _qualifiers_allow(rule.get("when") or [], target)


def _qualifiers_allow(when: list[dict[str, Any]], target: Target) -> bool:
    """With `when`, the rule covers only policies whose top-level targetRef one of the
    qualifiers names (Kong Mesh 3 keeps the Mesh and Dataplane kinds)."""
    if not when:
        return True
    target_ref = (target.spec or {}).get("targetRef") if isinstance(target.spec, dict) else None
    if not isinstance(target_ref, dict):
        return False
    for qualifier in when:
        wanted = qualifier.get("targetRef") or {}
        if wanted and all(target_ref.get(k) == v for k, v in wanted.items()):
            return True
    return False

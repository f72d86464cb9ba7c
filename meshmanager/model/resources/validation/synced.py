"""Validation of a whole resource received over KDS (meta and spec), as the receiving
side of a sync checks it: one readable line per violation, for a NACK's error_detail."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.registry import BY_NAME
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation.base import Context, validate_spec
from meshmanager.model.resources.validation.mesh_core.meta import validate_meta


def synced_resource_problems(resource: Resource) -> list[str]:
    return synced_problems(
        resource.type, resource.mesh, resource.name, resource.labels, resource.spec
    )


def synced_problems(
    type_name: str,
    mesh: str,
    name: str,
    labels: dict[str, str],
    spec: Any,
    from_protobuf: bool = False,
) -> list[str]:
    """One line per violation of a resource whose spec is already decoded; a spec
    `from_protobuf` has its message's shape, so only Kuma's rules are checked."""
    rt = BY_NAME.get(type_name)
    if rt is None:
        return []  # a type only its sender knows: nothing to check it against
    problems = [f"{v.field}: {v.message}" for v in validate_meta(name, mesh, rt.is_mesh_scoped)]
    context = Context(
        mesh=mesh or None, name=name, extra={"labels": labels}, shape_checked=from_protobuf
    )
    problems += [
        f"{v.field}: {v.message}" if v.field else v.message
        for v in validate_spec(rt.name, spec, context)
    ]
    return problems

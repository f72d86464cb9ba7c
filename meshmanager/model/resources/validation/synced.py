"""Validation of a whole resource received over KDS (meta and spec), as the receiving
side of a sync checks it: one readable line per violation, for a NACK's error_detail."""

from __future__ import annotations

from meshmanager.model.resources.registry import BY_NAME
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation.base import Context, validate_spec
from meshmanager.model.resources.validation.mesh_core.meta import validate_meta


def synced_resource_problems(resource: Resource) -> list[str]:
    rt = BY_NAME.get(resource.type)
    if rt is None:
        return []  # a type only its sender knows: nothing to check it against
    problems = [
        f"{v.field}: {v.message}"
        for v in validate_meta(resource.name, resource.mesh, rt.is_mesh_scoped)
    ]
    context = Context(
        mesh=resource.mesh or None, name=resource.name, extra={"labels": resource.labels}
    )
    problems += [
        f"{v.field}: {v.message}" if v.field else v.message
        for v in validate_spec(rt.name, resource.spec, context)
    ]
    return problems

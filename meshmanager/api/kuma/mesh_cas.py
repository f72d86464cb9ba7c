"""The CA step of writing a Mesh through the Kuma API, as Kuma's mesh manager takes it:
validate the mTLS backends against the mesh's secrets, then make the missing builtin CAs
(`model/resources/mesh_ca.py`). Errors are answered as Kuma answers its manager's:
400 `Failed to create a resource` / `Failed to update a resource`."""

from __future__ import annotations

import asyncio

from meshmanager.api.kuma.context import KumaCall
from meshmanager.api.kuma.errors import invalid
from meshmanager.model.resources import mesh_ca
from meshmanager.model.resources.builtin_ca import builtin_ca_secrets
from meshmanager.model.resources.signing import InvalidSigningKey, secret_data
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation.base import Violation

CREATE_TITLE = "Failed to create a resource"
UPDATE_TITLE = "Failed to update a resource"


async def mesh_ca_secrets(
    call: KumaCall, mesh: Resource, previous: Resource | None
) -> list[Resource]:
    """Checks the mTLS backends of `mesh` (being created if `previous` is None, else
    replacing it) and returns the CA secrets to store with it; raises KumaError."""
    title = CREATE_TITLE if previous is None else UPDATE_TITLE
    found: list[Violation] = []
    if previous is not None:
        found += mesh_ca.validate_backend_change(previous.spec, mesh.spec)
    secrets = {
        name: await _secret_data(call, mesh.name, name)
        for name in sorted(mesh_ca.secrets_used(mesh.spec))
    }
    found += mesh_ca.validate_mtls_backends(mesh.name, mesh.spec, secrets)
    if found:
        raise invalid(title, found)
    existing = set()
    for name in mesh_ca.builtin_names(mesh.name, mesh.spec):
        if await call.store.resources.get(call.scope, "Secret", mesh.name, name) is not None:
            existing.add(name)
    planned, found = mesh_ca.plan_builtin_cas(mesh.name, mesh.spec, existing)
    if found:
        raise invalid(title, found)
    if not planned:
        return []
    return await asyncio.to_thread(_generate, mesh.name, planned)


def _generate(mesh: str, planned: list[mesh_ca.PlannedCa]) -> list[Resource]:
    out: list[Resource] = []
    for ca in planned:
        out += builtin_ca_secrets(mesh, ca.backend, ca.config, ca.missing)
    return out


async def _secret_data(call: KumaCall, mesh: str, name: str) -> bytes | None:
    secret = await call.store.resources.get(call.scope, "Secret", mesh, name)
    if secret is None:
        return None
    try:
        return secret_data(secret)
    except InvalidSigningKey:
        return b""  # a Secret without data reads as empty bytes

"""Kuma's checks of a resource's name and mesh (ValidateMeta)."""

from __future__ import annotations

import re

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.golang.kubernetes import DNS1123_SUBDOMAIN
from meshmanager.model.resources.validation.mesh_core.checks import (
    RFC1123_MESSAGE,
    validate_identifier,
)

# Meshes created before Kuma tightened its naming rules may contain '_', and resources
# in them must stay valid, hence the looser pattern for the mesh.
_LEGACY_MESH_NAME = re.compile(r"[0-9a-z_.\-]*")
_LEGACY_MESH_MESSAGE = (
    "invalid characters. Valid characters are numbers, lowercase latin letters and "
    "'-', '_', '.' symbols."
)


def validate_meta(name: str, mesh: str | None, scope_is_mesh: bool) -> Violations:
    """The violations of a resource's `name`, and of its `mesh` when the type is
    mesh-scoped."""
    out = Violations()
    validate_identifier(Path("name"), name, out, DNS1123_SUBDOMAIN, RFC1123_MESSAGE)
    if scope_is_mesh:
        validate_identifier(Path("mesh"), mesh or "", out, _LEGACY_MESH_NAME, _LEGACY_MESH_MESSAGE)
    return out

"""What Kuma v2.14.3's mesh manager does with a mesh's mTLS backends when the mesh is
created or updated (`pkg/core/managers/apis/mesh/mesh_manager.go`, `mesh_validator.go`,
`mesh_helpers.go` `EnsureCAs`), once the spec itself is valid:

1. `ValidateMTLSBackends`: every backend's type needs a CA plugin, and unless
   `mtls.skipValidation` is set the plugin checks the backend (builtin: the secret names it
   will make; provided: the CA the user supplies). On update, first
   `validateMTLSBackendChange`: the enabled backend may not change while mTLS stays on.
2. `EnsureCAs`: each builtin backend whose CA secrets are missing gets a new CA
   (`builtin_ca`). Existing ones are never replaced; removing a backend removes nothing.

Pure: the caller looks up the secrets, generates the CAs off the event loop and stores them.
Violations carry Kuma's paths (`mtls.backends[<i>].conf...`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources import builtin_ca, provided_ca
from meshmanager.model.resources.validation.base import Violation
from meshmanager.model.resources.validation.golang.govalidator import is_dns_name
from meshmanager.model.resources.validation.golang.strconv import go_quote

BUILTIN = "builtin"
PROVIDED = "provided"
# Kong Mesh's CA plugins: their checks are not public, so their backends are accepted as
# they are (and nothing is created for them). Any other type has no plugin, as in Kuma.
KONG_MESH_TYPES = frozenset({"vault", "acmpca", "certmanager"})
NO_PLUGIN = "could not find installed plugin for this type"
CA_CHANGE = (
    "Changing CA when mTLS is enabled is forbidden. Disable mTLS first and then change the CA"
)


@dataclass(frozen=True)
class Backend:
    index: int
    name: str
    type: str
    conf: Mapping[str, Any]

    @property
    def conf_path(self) -> str:
        return f"mtls.backends[{self.index}].conf"


def _mtls(spec: Any) -> Mapping[str, Any]:
    mtls = spec.get("mtls") if isinstance(spec, Mapping) else None
    return mtls if isinstance(mtls, Mapping) else {}


def mtls_backends(spec: Any) -> list[Backend]:
    backends = _mtls(spec).get("backends")
    if not isinstance(backends, list):
        return []
    out = []
    for i, backend in enumerate(backends):
        if not isinstance(backend, Mapping):
            continue
        conf = backend.get("conf")
        out.append(
            Backend(
                i,
                str(backend.get("name") or ""),
                str(backend.get("type") or ""),
                conf if isinstance(conf, Mapping) else {},
            )
        )
    return out


def _skip_validation(spec: Any) -> bool:
    return _mtls(spec).get("skipValidation") is True


def secrets_used(spec: Any) -> set[str]:
    """Names of the mesh's Secrets that validating `spec` reads (provided CAs' sources)."""
    if _skip_validation(spec):
        return set()
    names = set()
    for backend in mtls_backends(spec):
        if backend.type == PROVIDED:
            for field in ("cert", "key"):
                name = provided_ca.secret_reference(backend.conf.get(field))
                if name:
                    names.add(name)
    return names


def _at(base: str, field: str) -> str:
    """Kuma's PathBuilder concat: `base` then `field`, joined by a dot unless an index."""
    if not field:
        return base
    return base + field if field.startswith("[") else f"{base}.{field}"


def validate_backend_change(previous: Any, new: Any) -> list[Violation]:
    """On update: the enabled backend cannot change while mTLS stays enabled."""
    before = str(_mtls(previous).get("enabledBackend") or "")
    after = str(_mtls(new).get("enabledBackend") or "")
    if before and after and before != after:
        return [Violation("mtls.enabledBackend", CA_CHANGE)]
    return []


def validate_mtls_backends(
    mesh: str, spec: Any, secrets: Mapping[str, bytes | None]
) -> list[Violation]:
    """`ValidateMTLSBackends` for mesh `mesh`. `secrets` maps the names `secrets_used`
    returned to the Secret's data, or None when the mesh has no such Secret."""
    out: list[Violation] = []
    check = not _skip_validation(spec)
    for backend in mtls_backends(spec):
        if backend.type not in (BUILTIN, PROVIDED) and backend.type not in KONG_MESH_TYPES:
            out.append(Violation(f"mtls.backends[{backend.index}].type", NO_PLUGIN))
            return out  # Kuma stops at the first backend without a plugin
        if not check:
            continue
        if backend.type == BUILTIN:
            found = _validate_builtin(mesh, backend)
        elif backend.type == PROVIDED:
            found = provided_ca.validate_provided_backend(backend.conf, mesh, secrets.get)
        else:
            found = []
        out.extend(Violation(_at(backend.conf_path, v.field), v.message) for v in found)
    return out


def _validate_builtin(mesh: str, backend: Backend) -> list[Violation]:
    """`builtinCaManager.ValidateBackend`: the cert secret's name must be a short, lower-case
    DNS name. Kuma reports these at `mtls.backends.name` inside the backend's conf path."""
    out = []
    name = builtin_ca.cert_secret_name(mesh, backend.name)
    if len(name) > builtin_ca.MAX_SECRET_NAME_LENGTH:
        out.append(
            Violation(
                "mtls.backends.name",
                f"Backend name is too long. Max length: {builtin_ca.MAX_SECRET_NAME_LENGTH}",
            )
        )
    if not is_dns_name(name) or name != name.lower():
        out.append(
            Violation("mtls.backends.name", f"{go_quote(backend.name)} name must be valid dns name")
        )
    return out


@dataclass(frozen=True)
class PlannedCa:
    """A builtin backend whose CA secrets are (partly) missing and will be made."""

    backend: str
    config: builtin_ca.BuiltinCaConfig
    missing: tuple[bool, bool]  # (certificate secret, key secret)


def plan_builtin_cas(
    mesh: str, spec: Any, existing: set[str]
) -> tuple[list[PlannedCa], list[Violation]]:
    """The builtin CAs `EnsureCAs` would create, given the names of the mesh's existing
    Secrets, and the violations of the configs Kuma would fail to make one from."""
    planned: list[PlannedCa] = []
    out: list[Violation] = []
    for backend in mtls_backends(spec):
        if backend.type != BUILTIN:
            continue
        missing = (
            builtin_ca.cert_secret_name(mesh, backend.name) not in existing,
            builtin_ca.key_secret_name(mesh, backend.name) not in existing,
        )
        if not any(missing) or any(p.backend == backend.name for p in planned):
            continue
        try:
            config = builtin_ca.builtin_ca_config(backend.conf)
        except builtin_ca.BuiltinCaConfigError as error:
            out.append(Violation(_at(backend.conf_path, error.field), error.message))
            continue
        planned.append(PlannedCa(backend.name, config, missing))
    return planned, out


def builtin_names(mesh: str, spec: Any) -> set[str]:
    """The secret names the builtin backends of `spec` use."""
    names = set()
    for backend in mtls_backends(spec):
        if backend.type == BUILTIN:
            names.add(builtin_ca.cert_secret_name(mesh, backend.name))
            names.add(builtin_ca.key_secret_name(mesh, backend.name))
    return names

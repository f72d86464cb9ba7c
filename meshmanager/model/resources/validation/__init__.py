"""Validation of Kuma resource specs, with Kuma's field paths and messages.

Each type's validator is registered with `@validator("TypeName")` in a module of this
package; `validate_spec` runs the one for a type. Messages and paths are Kuma's
(v2.14.3), so that clients see the errors a real Kuma global would give.

The validators live in `policies`, `mesh_core`, `legacy_policies` and `core_types`. What
they share is here: the schema nodes (`schema`), Go's library behaviour (`golang`), Go
templates (`gotemplate`), Kuma's message texts (`messages`), tag rules (`tags`) and TLS
versions (`tls`).
"""

from meshmanager.model.resources.validation.base import (
    Context,
    Path,
    Violation,
    Violations,
    validate_spec,
    validator,
)

__all__ = ["Context", "Path", "Violation", "Violations", "validate_spec", "validator"]

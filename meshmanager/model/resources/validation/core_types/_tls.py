"""The common TLS version block (Kuma's api/common/v1alpha1/tls)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.core_types._common import one_of_quoted
from meshmanager.model.resources.validation.schema import Obj, Str

TLS_VERSIONS = ("TLSAuto", "TLS10", "TLS11", "TLS12", "TLS13")
TLS_VERSION = Obj({"min": Str(), "max": Str()})


def check_tls_version(version: dict[str, Any], path: Path, out: Violations) -> None:
    specific: dict[str, int] = {}
    for bound in ("min", "max"):
        value = version.get(bound)
        if value is None:
            continue
        if value not in TLS_VERSIONS:
            out.add(path.field(bound), one_of_quoted(bound, TLS_VERSIONS))
        elif value != "TLSAuto":
            specific[bound] = TLS_VERSIONS.index(value)
    if len(specific) == 2 and specific["min"] > specific["max"]:
        out.add(path.field("min"), "min version must be lower than max")

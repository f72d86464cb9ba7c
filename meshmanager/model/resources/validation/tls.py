"""The TLS version block Kuma's types share (api/common/v1alpha1/tls)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.schema import Obj, Str

TLS_VERSIONS = ("TLSAuto", "TLS10", "TLS11", "TLS12", "TLS13")
TLS_VERSION = Obj({"min": Str(), "max": Str()})


def check_tls_version(version: Mapping[str, Any], path: Path, out: Violations) -> None:
    """Each bound is a known version, and an explicit min is not above an explicit max."""
    specific: dict[str, int] = {}
    for bound in ("min", "max"):
        value = version.get(bound)
        if value is None:
            continue
        if value not in TLS_VERSIONS:
            out.add(path.field(bound), msg.must_be_one_of(bound, TLS_VERSIONS))
        elif value != "TLSAuto":
            specific[bound] = TLS_VERSIONS.index(value)
    if len(specific) == 2 and specific["min"] > specific["max"]:
        out.add(path.field("min"), "min version must be lower than max")

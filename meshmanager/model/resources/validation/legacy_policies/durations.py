"""Duration and counter rules shared by the old-style policies (decoded durations are ns)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations

HAS_TO_BE_DEFINED = "has to be defined"
GREATER_THAN_0 = "has to be greater than 0"
GREATER_THAN_0_WHEN_DEFINED = "has to be greater than 0 when defined"


def greater_than_0(path: Path, nanoseconds: int) -> Violations:
    out = Violations()
    if nanoseconds == 0:
        out.add(path, GREATER_THAN_0)
    return out


def greater_than_0_when_defined(path: Path, container: Mapping[str, Any], name: str) -> Violations:
    """For a Duration or a UInt32Value: set to zero is an error, unset is fine."""
    out = Violations()
    if container.get(name) == 0:
        out.add(path, GREATER_THAN_0_WHEN_DEFINED)
    return out


def positive_duration(path: Path, nanoseconds: int | None) -> Violations:
    """Kuma's `ValidateDuration`: set and not zero (Go durations always fit a proto one)."""
    out = Violations()
    if not nanoseconds:
        out.add(path, "must have a positive value")
    return out

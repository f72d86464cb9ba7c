"""Which KDS types a Kuma zone of a given version knows (spec §10)."""

from __future__ import annotations

import re

from meshmanager.kds import envelope
from meshmanager.model.resources.registry import BY_NAME, Sync

DEFAULT_KUMA_VERSION = "2.14.3"

# Types a zone of that minor version lacks in its registry (spec §10, "Version differences").
_MISSING = {
    (2, 12): frozenset({"Workload", "MeshOpenTelemetryBackend", "MeshZoneAddress"}),
    (2, 13): frozenset({"MeshOpenTelemetryBackend", "MeshZoneAddress"}),
    (2, 14): frozenset(),
}

# Kuma types with ProvidedByZoneFlag: a zone may own local resources of these, so the
# full state from the global replaces only resources labelled with a non-zone origin
# (spec §4.2, §19 trap 3).
PROVIDED_BY_ZONE = frozenset(
    {t.name for t in BY_NAME.values() if t.sync & Sync.ZONE_TO_GLOBAL}
    | {"Secret", "GlobalSecret", envelope.CONFIG}
)


def minor_version(version: str) -> tuple[int, int]:
    match = re.match(r"^v?(\d+)\.(\d+)", version)
    if match is None:
        raise ValueError(f"not a Kuma version: {version!r}")
    found = (int(match.group(1)), int(match.group(2)))
    if found not in _MISSING:
        known = ", ".join(f"{a}.{b}" for a, b in sorted(_MISSING))
        raise ValueError(f"Kuma {version} is not simulated; choose one of {known}")
    return found


def missing_types(version: str) -> frozenset[str]:
    return _MISSING[minor_version(version)]


def types_from_global(version: str) -> tuple[str, ...]:
    """The types the zone subscribes to on GlobalToZoneSync: Kuma's
    SentFromGlobalToZone (GlobalToZones or SyncedAcrossZones) in its own registry."""
    names = {
        t.name for t in BY_NAME.values() if t.sync & (Sync.GLOBAL_TO_ZONES | Sync.ACROSS_ZONES)
    } | {envelope.CONFIG}
    return tuple(sorted(names - missing_types(version)))


def types_to_global(version: str) -> tuple[str, ...]:
    """The types the zone provides on ZoneToGlobalSync (ZoneToGlobalFlag)."""
    names = {t.name for t in BY_NAME.values() if t.sync & Sync.ZONE_TO_GLOBAL}
    return tuple(sorted(names - missing_types(version)))

"""A simulated Kuma zone control plane that speaks KDS to a global (docs/kds.md,
"Zone simulator"): for end-to-end tests, conformance replays, benchmarks and demos."""

from meshmanager.kds.simulator.client import (
    ConnectionBroken,
    GlobalAddress,
    Observed,
    ZoneCrashed,
    ZoneOptions,
    ZoneSimulator,
)
from meshmanager.kds.simulator.fleet import ZoneFleet
from meshmanager.kds.simulator.zone_store import ZoneStore

__all__ = [
    "ConnectionBroken",
    "GlobalAddress",
    "Observed",
    "ZoneCrashed",
    "ZoneFleet",
    "ZoneOptions",
    "ZoneSimulator",
    "ZoneStore",
]

"""Many simulated zones in one process (benchmarks: 100-1000 zones). Each zone has
its own channel and TCP connection, as separate kuma-cp processes would."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable

from meshmanager.kds.simulator.client import ZoneOptions, ZoneSimulator


class ZoneFleet:
    def __init__(self, zones: Iterable[ZoneSimulator]) -> None:
        self.zones = list(zones)
        self._seen = {zone.zone: 0 for zone in self.zones}  # progress(): causes reported

    @classmethod
    def build(
        cls,
        addresses: dict[str, str],
        options: ZoneOptions | None = None,
        dataplanes: int = 0,
        mesh: str = "default",
    ) -> ZoneFleet:
        """One zone per (zone name -> global address with its credential)."""
        zones = []
        for n, (name, address) in enumerate(sorted(addresses.items())):
            zone_options = options or ZoneOptions()
            zone = ZoneSimulator(address, name, options=zone_options)
            zone.rng.seed(n)
            if dataplanes:
                zone.add_dataplanes(dataplanes, mesh)
            zones.append(zone)
        return cls(zones)

    def encode_ahead(self) -> None:
        for zone in self.zones:
            zone.encode_ahead()

    def start(self) -> None:
        for zone in self.zones:
            zone.start()

    async def start_gradually(self, per_second: float) -> None:
        """Starts the zones at this rate, as zones joining over time do (all at once is
        the reconnect storm)."""
        for zone in self.zones:
            zone.start()
            await asyncio.sleep(1 / per_second)

    async def stop(self) -> None:
        await asyncio.gather(*(zone.stop() for zone in self.zones))

    async def wait_connected(self, within: float = 60.0) -> None:
        await asyncio.wait_for(
            asyncio.gather(*(zone.connected.wait() for zone in self.zones)), within
        )

    async def wait_synced(self, within: float = 60.0) -> None:
        await asyncio.gather(*(zone.wait_synced(within) for zone in self.zones))

    def progress(self) -> str:
        """Zones connected so far, and what ended their connections (the first RPC to
        fail, with its status) since the last call."""
        connected = sum(zone.connected.is_set() for zone in self.zones)
        causes = Counter(
            cause[:100]
            for zone in self.zones
            for cause in zone.observed.ended_by[self._seen[zone.zone] :]
        )
        self._seen = {zone.zone: len(zone.observed.ended_by) for zone in self.zones}
        return f"zones connected {connected}/{len(self.zones)}; connections ended by {dict(causes)}"

    def crashed(self) -> list[ZoneSimulator]:
        return [zone for zone in self.zones if zone.observed.crashed]

"""When the server's heap is scanned for garbage cycles.

Python scans its whole heap once the objects promoted into its oldest generation since
the last scan number a quarter of that generation, even if most of them have been freed
since. An idle server keeps replacing zone insights, so at 10,000 zones it scanned its
millions of objects every few minutes, holding the event loop 4-6 s each time
(bench/README.md, "Idle"). Here, once a minute, the objects born since the last look
are collected and what survives is frozen out of the automatic collections, so those
only ever scan young objects. The whole heap is scanned only when Python's heap has
grown by a quarter since its last scan (as zones connect), or once in
`MAX_AGE_SECONDS`: cycles among frozen objects wait for that scan.

The heap's size is read as Python's count of allocated memory blocks, which takes
milliseconds. `gc.get_freeze_count()` walks every frozen object: 0.8 s of the event
loop a minute at 10,000 zones.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from collections.abc import Callable

from meshmanager.observability import log_fields

log = logging.getLogger(__name__)

CHECK_SECONDS = 60.0
GROWTH_SHARE = 0.25
MAX_AGE_SECONDS = 3600.0


class HeapCollector:
    def __init__(
        self,
        growth_share: float = GROWTH_SHARE,
        max_age_seconds: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.growth_share = growth_share
        self.max_age_seconds = max_age_seconds
        self.clock = clock
        self._last_scan: float | None = None
        self._blocks_after_scan = 0

    def scan_due(self) -> bool:
        """Whether the whole heap, frozen objects included, should be scanned now."""
        if self._last_scan is None or self.clock() - self._last_scan >= self.max_age_seconds:
            return True
        return sys.getallocatedblocks() > (1 + self.growth_share) * self._blocks_after_scan

    def scan(self) -> int:
        """Collects every object, frozen ones included, then freezes what is left.
        Returns the number of unreachable objects found."""
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        self._last_scan = self.clock()
        self._blocks_after_scan = sys.getallocatedblocks()
        return found

    def freeze_young(self) -> int:
        """Collects the objects born since the last look and freezes what survives."""
        found = gc.collect()  # frozen objects are not looked at
        gc.freeze()
        return found

    def tick(self) -> None:
        if not self.scan_due():
            self.freeze_young()
            return
        started = time.perf_counter()
        found = self.scan()
        log.info(
            "heap scanned",
            extra=log_fields(
                unreachable=found,
                blocks=self._blocks_after_scan,
                ms=round((time.perf_counter() - started) * 1000, 1),
            ),
        )

    async def run_forever(self, check_seconds: float = CHECK_SECONDS) -> None:
        try:
            while True:
                self.tick()
                await asyncio.sleep(check_seconds)
        finally:
            gc.unfreeze()  # what this process keeps running after us collects as usual

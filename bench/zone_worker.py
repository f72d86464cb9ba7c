"""A process of simulated zones for `bench.kds idle`: 10,000 zones do not fit one
Python process's event loop, so the benchmark spreads them over several of these.

    python -m bench.zone_worker ADDRESSES.json CA.pem ZONES_PER_SECOND

It connects every zone of the JSON object (zone name -> global address), prints
`ready` once all are connected and in sync, and stops them when its stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from meshmanager.kds.simulator import ZoneFleet, ZoneOptions

WITHIN_SECONDS = 1800


async def serve(addresses: dict[str, str], ca: bytes, per_second: float) -> None:
    fleet = ZoneFleet.build(addresses, ZoneOptions(ca_pem=ca))
    progress = asyncio.create_task(_report_progress(fleet))
    await fleet.start_gradually(per_second)
    await fleet.wait_connected(WITHIN_SECONDS)
    await fleet.wait_synced(WITHIN_SECONDS)
    progress.cancel()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await fleet.stop()


async def _report_progress(fleet: ZoneFleet) -> None:
    """On stderr every 30 s: zones connected, and the errors that restarted zones."""
    while True:
        await asyncio.sleep(30)
        print(fleet.progress(), file=sys.stderr)


def main() -> None:
    addresses = json.loads(Path(sys.argv[1]).read_text())
    asyncio.run(serve(addresses, Path(sys.argv[2]).read_bytes(), float(sys.argv[3])))


if __name__ == "__main__":
    main()

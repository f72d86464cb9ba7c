"""`meshmanager zone-sim`: run a simulated Kuma zone against a KDS server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

import click

DEFAULT_KUMA_VERSION = "2.14.3"  # meshmanager.kds.simulator.versions, not imported eagerly


@click.command("zone-sim")
@click.option(
    "--global-address",
    required=True,
    help="grpcs://HOST:5685/CREDENTIAL (or grpc:// for a plaintext server), as a Kuma zone's"
    " multizone.zone.globalAddress.",
)
@click.option("--zone", "zone_name", required=True, help="The zone's name (multizone.zone.name).")
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM CA that signed the server's certificate (multizone.zone.kds.rootCaFile).",
)
@click.option("--token", default=None, help="Send 'authorization: Bearer TOKEN' (Kong Mesh style).")
@click.option("--dataplanes", type=click.IntRange(0), default=0, show_default=True)
@click.option("--mesh", default="default", show_default=True)
@click.option("--offline-every", type=click.IntRange(0), default=0, show_default=True,
              help="Make every N-th dataplane offline (0: all online).")  # fmt: skip
@click.option("--ingresses", type=click.IntRange(0), default=0, show_default=True)
@click.option("--egresses", type=click.IntRange(0), default=0, show_default=True)
@click.option("--kuma-version", default=DEFAULT_KUMA_VERSION, show_default=True,
              help="2.12.x, 2.13.x or 2.14.x: decides the types the zone knows.")  # fmt: skip
@click.option("--print", "print_events", is_flag=True,
              help="Print every event (connections, received resources, NACKs) as JSON lines,"
              " and what the zone holds when it stops.")  # fmt: skip
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
def zone_sim(
    global_address: str,
    zone_name: str,
    ca_file: Path | None,
    token: str | None,
    dataplanes: int,
    mesh: str,
    offline_every: int,
    ingresses: int,
    egresses: int,
    kuma_version: str,
    print_events: bool,
    duration: float | None,
) -> None:
    """Run a simulated Kuma zone control plane that syncs with a KDS server.

    It speaks KDS as an unmodified Kuma zone does (headers, node metadata, ACK/NACK,
    store semantics, naming and labels), registers DATAPLANES dataplanes with
    insights and MeshServices, and answers the global's envoy-admin requests.
    """

    from meshmanager.kds.simulator import ZoneOptions, ZoneSimulator

    def show(kind: str, details: dict[str, Any]) -> None:
        if print_events or kind in ("connected", "disconnected", "crashed"):
            click.echo(json.dumps({"event": kind, **details}, default=str), err=not print_events)

    try:
        options = ZoneOptions(
            kuma_version=kuma_version,
            ca_pem=ca_file.read_bytes() if ca_file else None,
            authorization=token,
            on_event=show,
        )
        zone = ZoneSimulator(global_address, zone_name, options=options)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if dataplanes:
        zone.add_dataplanes(dataplanes, mesh, offline_every=offline_every)
    if ingresses or egresses:
        zone.add_zone_proxies(ingresses, egresses)

    async def run() -> None:
        task = zone.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not main thread
                loop.add_signal_handler(sig, stop.set)
        waiters = {asyncio.ensure_future(stop.wait()), task}
        await asyncio.wait(waiters, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
        await zone.stop()
        if print_events:
            click.echo(json.dumps({"event": "store", "resources": zone.dump()}, default=str))
        if zone.observed.crashed:
            click.echo(f"the zone crashed: {zone.observed.crashed}", err=True)
            sys.exit(2)

    asyncio.run(run())

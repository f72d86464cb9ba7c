"""KDS under load: a real `meshmanager run` (SQLite, TLS with its own CA) and simulated
zones (meshmanager.kds.simulator) in this process, over loopback.

    .venv/bin/python -m bench.kds propagation [--zones 100] [--puts 20]
    .venv/bin/python -m bench.kds syncup [--zones 100] [--dataplanes 1000]
    .venv/bin/python -m bench.kds storm [--zones 1000]
    .venv/bin/python -m bench.kds idle [--control-planes 1000] [--zones 10] [--seconds 30]
        [--processes 4]   # idle: the zones run in these many processes of bench.zone_worker
        [--join-rate 25]  # idle: zones joining per second, over all zone processes

Targets (issue 4, on 2 cores): a policy PUT is received and ACKed by all 100 zones with
p50 <= 50 ms and p99 <= 200 ms; 100 zones x 1,000 dataplanes with insights reach the
global in <= 30 s with the server's RSS <= 1 GB; 1,000 zones reconnecting after a
restart are all online and in sync in <= 60 s; 1,000 control planes x 10 idle zones
cost <= 5 % of one core. The simulated zones share the machine with the server, so the
figures are upper bounds of what the server alone would take.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from bench.kuma_api import TOKEN, free_port, rss_mb
from bench.machine import describe
from meshmanager.kds.simulator import ZoneFleet, ZoneOptions

TIMEOUT = httpx.Timeout(120.0)
GRPC_THREADS = {"event_engine", "grpc_global_tim", "lifeguard"}


class Server:
    """`meshmanager run` in a child process, restartable on the same data dir."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.http, self.metrics, self.kds = free_port(), free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable, "-m", "meshmanager", "run",
            "--data-dir", str(self.workdir),
            "--http-address", f"127.0.0.1:{self.http}",
            "--metrics-address", f"127.0.0.1:{self.metrics}",
            "--kds-address", f"127.0.0.1:{self.kds}",
            "--admin-token", TOKEN, "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.metrics}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not become ready")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        return _cpu_seconds(Path(f"/proc/{self.pid}"))

    @property
    def ca(self) -> bytes:
        return (self.workdir / "kds-tls" / "ca.pem").read_bytes()

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.http}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=TIMEOUT,
        )


class CpuSnapshot(NamedTuple):
    process: float  # CPU seconds of the whole process, ended threads included
    threads: dict[str, tuple[str, float]]  # live thread id -> (kind, CPU seconds)


def cpu_snapshot(pid: int) -> CpuSnapshot:
    """CPU seconds so far of process `pid` and of each of its live threads, by kind: its
    main thread (the event loop), gRPC core's named threads, and the rest. Python 3.11
    does not name its threads, so "other" holds the SQLite and executor threads and,
    with gRPC's older I/O manager, its poller."""
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that just ended
            name = (task / "comm").read_text().strip()
            kind = "event loop" if task.name == str(pid) else "other"
            if name in GRPC_THREADS:
                kind = "gRPC core"
            threads[task.name] = (kind, _cpu_seconds(task))
    return CpuSnapshot(_cpu_seconds(Path(f"/proc/{pid}")), threads)


def cpu_used(before: CpuSnapshot, after: CpuSnapshot) -> tuple[float, dict[str, float]]:
    """The process's CPU seconds between two snapshots, and their split by thread kind;
    what threads that ended in between used is under "threads that ended"."""
    split = dict.fromkeys(("event loop", "gRPC core", "other"), 0.0)
    for tid, (kind, seconds) in after.threads.items():
        split[kind] += seconds - before.threads.get(tid, (kind, 0.0))[1]
    total = after.process - before.process
    split["threads that ended"] = total - sum(split.values())
    return total, split


def _cpu_seconds(proc: Path) -> float:
    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _control_plane(client: httpx.AsyncClient, name: str) -> str:
    features = [{"type": "MeshCreation", "meshCreation": {"enabled": True}}]
    created = await client.post(
        "/v1/mesh/control-planes", json={"name": name, "features": features}
    )
    assert created.status_code == 201, created.text
    cp_id: str = created.json()["id"]
    return cp_id


async def _zones(client: httpx.AsyncClient, cp_id: str, count: int, prefix: str) -> dict[str, str]:
    """zone name -> the global address with its credential."""
    addresses = {}
    for i in range(count):
        name = f"{prefix}{i}"
        created = await client.post(f"/v1/mesh/control-planes/{cp_id}/zones", json={"name": name})
        assert created.status_code == 201, created.text
        addresses[name] = created.json()["deploy"]["global_address"]
    return addresses


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def propagation(server: Server, args: argparse.Namespace) -> None:
    arrivals: dict[str, dict[str, float]] = {}
    all_arrived = asyncio.Event()

    def seen(kind: str, details: dict[str, Any]) -> None:
        if kind == "received" and details["type"] == "MeshTimeout" and details["created"]:
            arrivals.setdefault(details["zone"], {}).setdefault("t", time.perf_counter())
            if len(arrivals) >= args.zones:
                all_arrived.set()

    async with server.client() as client:
        cp_id = await _control_plane(client, "propagation")
        addresses = await _zones(client, cp_id, args.zones, "zone-")
        fleet = ZoneFleet.build(addresses, ZoneOptions(ca_pem=server.ca, on_event=seen))
        fleet.start()
        await fleet.wait_connected(120)
        await fleet.wait_synced(120)
        latencies: list[float] = []
        for i in range(args.puts):
            arrivals.clear()
            all_arrived.clear()
            body = {
                "type": "MeshTimeout", "name": f"bench-{i}", "mesh": "default",
                "spec": {"targetRef": {"kind": "Mesh"}, "to": [
                    {"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": f"{i + 1}s"}}]},
            }  # fmt: skip
            url = f"/v1/mesh/control-planes/{cp_id}/api/meshes/default/meshtimeouts/bench-{i}"
            started = time.perf_counter()
            response = await client.put(url, json=body)
            assert response.status_code == 201, response.text
            await all_arrived.wait()
            latencies += [(t["t"] - started) * 1000 for t in arrivals.values()]
            await asyncio.sleep(0.1)
        await fleet.stop()
    print(f"propagation: {args.puts} policy PUTs x {args.zones} zones = {len(latencies)} receipts")
    print(
        f"  p50 {_percentile(latencies, 0.5):.1f} ms  p99 {_percentile(latencies, 0.99):.1f} ms"
        f"  max {max(latencies):.1f} ms  (targets: p50 <= 50 ms, p99 <= 200 ms)"
    )


async def _count(client: httpx.AsyncClient, url: str) -> int:
    response = await client.get(url, params={"size": 1})
    total: int = response.json()["total"] if response.status_code == 200 else -1
    return total


async def syncup(server: Server, args: argparse.Namespace) -> None:
    expected = args.zones * args.dataplanes
    async with server.client() as client:
        cp_id = await _control_plane(client, "syncup")
        addresses = await _zones(client, cp_id, args.zones, "zone-")
        fleet = ZoneFleet.build(
            addresses, ZoneOptions(ca_pem=server.ca), dataplanes=args.dataplanes
        )
        base = f"/v1/mesh/control-planes/{cp_id}/api/meshes/default"
        fleet.encode_ahead()  # the zones' own encoding is not the global's time
        started = time.perf_counter()
        server_cpu, zones_cpu = server.cpu_seconds(), time.process_time()
        fleet.start()
        dataplanes = insights = 0
        while time.perf_counter() - started < 600:
            try:
                dataplanes = await _count(client, f"{base}/dataplanes")
            except httpx.HTTPError as error:
                print("poll failed:", repr(error), "server alive:", server.alive)
                await asyncio.sleep(1)
                continue
            overview = await client.get(
                f"{base}/dataplanes/_overview", params={"size": 1, "offset": expected - 1}
            )
            items = overview.json().get("items", []) if overview.status_code == 200 else []
            insights = 1 if items and items[0].get("dataplaneInsight") else 0
            if dataplanes == expected and insights:
                break
            await asyncio.sleep(0.25)
        elapsed = time.perf_counter() - started
        server_cpu, zones_cpu = server.cpu_seconds() - server_cpu, time.process_time() - zones_cpu
        rss = rss_mb(server.pid)
        await fleet.stop()
    print(
        f"sync-up: {args.zones} zones x {args.dataplanes} dataplanes (+ insights):"
        f" {dataplanes} dataplanes on the global after {elapsed:.1f} s (target <= 30 s);"
        f" server RSS {rss:.0f} MB (target <= 1024 MB); CPU meanwhile: server"
        f" {server_cpu:.1f} s, simulated zones and polling {zones_cpu:.1f} s"
    )


async def storm(server: Server, args: argparse.Namespace) -> None:
    async with server.client() as client:
        cp_id = await _control_plane(client, "storm")
        addresses = await _zones(client, cp_id, args.zones, "zone-")
    options = ZoneOptions(ca_pem=server.ca, base_backoff=1.0, max_backoff=5.0)
    fleet = ZoneFleet.build(addresses, options)
    first = time.perf_counter()
    fleet.start()
    reporting = asyncio.create_task(_report_progress(fleet, server))
    await fleet.wait_connected(900)
    await fleet.wait_synced(900)
    print(f"  first connection of {args.zones} zones: {time.perf_counter() - first:.1f} s")
    server.stop()
    await asyncio.sleep(1)
    started = time.perf_counter()
    await asyncio.to_thread(server.start)  # the zones keep retrying meanwhile
    restarted = time.perf_counter() - started
    for zone in fleet.zones:
        zone.reconnect_now()
    await fleet.wait_connected(900)
    await fleet.wait_synced(900)
    online = await _online(server, cp_id, args.zones)
    elapsed = time.perf_counter() - started
    reporting.cancel()
    await fleet.stop()
    print(
        f"reconnect storm: {args.zones} zones back online and in sync {elapsed:.1f} s after the"
        f" restart began (server ready after {restarted:.1f} s; {online} online in the zone"
        " API; target <= 60 s)"
    )


async def _report_progress(fleet: ZoneFleet, server: Server) -> None:
    """Every 10 s: zones connected, what restarted zones, and the CPU shares of the
    server and of this process (the simulated zones) meanwhile."""
    before = (server.pid, server.cpu_seconds(), time.process_time(), time.perf_counter())
    while True:
        await asyncio.sleep(10)
        try:
            now = (server.pid, server.cpu_seconds(), time.process_time(), time.perf_counter())
        except FileNotFoundError:  # the server is restarting
            continue
        elapsed = now[3] - before[3]
        served = now[1] - before[1] if now[0] == before[0] else now[1]  # restarted: from 0
        print(
            f"  {fleet.progress()}; CPU server {served / elapsed:.0%},"
            f" zones {(now[2] - before[2]) / elapsed:.0%}",
            file=sys.stderr,
        )
        before = now


async def _online(server: Server, cp_id: str, expected: int) -> int:
    """Zones the zone API reports online, once all are (or after a minute)."""
    online, deadline = 0, time.perf_counter() + 60
    async with server.client() as client:
        while time.perf_counter() < deadline:
            online = 0
            for number in range(1, expected // 100 + 2):
                page = await client.get(
                    f"/v1/mesh/control-planes/{cp_id}/zones",
                    params={"page[size]": 100, "page[number]": number},
                )
                online += sum(1 for zone in page.json()["data"] if zone["online"])
            if online >= expected:
                return online
            await asyncio.sleep(0.5)
    return online


async def idle(server: Server, args: argparse.Namespace) -> None:
    addresses: dict[str, str] = {}
    async with server.client() as client:
        for c in range(args.control_planes):
            cp_id = await _control_plane(client, f"idle-{c}")
            zones = await _zones(client, cp_id, args.zones, f"cp{c}-zone-")
            addresses.update(zones)
    print(f"  {len(addresses)} zones created; connecting them from {args.processes} processes")
    connecting = time.perf_counter()
    workers = await _zone_workers(server, addresses, args.processes, args.join_rate)
    print(f"  all connected and in sync after {time.perf_counter() - connecting:.0f} s")
    await asyncio.sleep(args.settle)
    before, started = cpu_snapshot(server.pid), time.perf_counter()
    await asyncio.sleep(args.seconds)
    total, used = cpu_used(before, cpu_snapshot(server.pid))
    elapsed = time.perf_counter() - started
    share = total / elapsed * 100
    split = ", ".join(f"{kind} {seconds / elapsed:.2%}" for kind, seconds in used.items())
    rss = rss_mb(server.pid)
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.close()
    await asyncio.gather(*(worker.wait() for worker in workers))
    print(
        f"idle: {args.control_planes} control planes x {args.zones} zones ="
        f" {len(addresses)} connected zones; server CPU {share:.2f} % of one core over"
        f" {args.seconds} s (target <= 5 %): {split}; RSS {rss:.0f} MB"
    )


async def _zone_workers(
    server: Server, addresses: dict[str, str], processes: int, join_rate: float
) -> list[asyncio.subprocess.Process]:
    """Processes of simulated zones (bench.zone_worker), each with a share of the zones,
    once all of them print that their zones are connected and in sync."""
    names = sorted(addresses)
    workers = []
    for n in range(processes):
        share = {name: addresses[name] for name in names[n::processes]}
        path = server.workdir / f"zones-{n}.json"
        path.write_text(json.dumps(share))
        workers.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.zone_worker",
                str(path),
                str(server.workdir / "kds-tls" / "ca.pem"),
                str(join_rate / processes),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
        )
    for worker in workers:
        assert worker.stdout is not None
        line = await worker.stdout.readline()
        if line.strip() != b"ready":
            raise RuntimeError(f"a zone worker failed: {line!r}")
    return workers


SCENARIOS: dict[str, Callable[[Server, argparse.Namespace], Any]] = {
    "propagation": propagation,
    "syncup": syncup,
    "storm": storm,
    "idle": idle,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--zones", type=int, default=None)
    parser.add_argument("--puts", type=int, default=20)
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--control-planes", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--settle", type=float, default=10)
    parser.add_argument("--processes", type=int, default=4, help="idle: zone processes")
    parser.add_argument("--join-rate", type=float, default=25, help="idle: zones joining per s")
    args = parser.parse_args()
    defaults = {"propagation": 100, "syncup": 100, "storm": 1000, "idle": 10}
    args.zones = args.zones or defaults[args.scenario]
    workdir = Path(tempfile.mkdtemp(prefix="mm-bench-kds-"))
    server = Server(workdir)
    server.start()
    print(f"machine: {describe()}")
    try:
        asyncio.run(SCENARIOS[args.scenario](server, args))
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Kuma API throughput with one control plane holding 100,000 dataplanes over 100 zones.

    .venv/bin/python -m bench.kuma_api [--dataplanes 100000] [--store URL] [--duration 10]

Loads the store directly, starts `meshmanager run` in a child process, drives it with
wrk (Debian package `wrk`) from the same machine, and prints requests per second, p99
latency and the server's resident memory. Targets (issue 3, on 2 cores): overview list
>= 2,000 req/s with p99 < 50 ms at offsets 0 and 50,000; single GET >= 4,000 req/s;
policy PUT >= 500 req/s; RSS <= 600 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx

from bench.machine import describe
from meshmanager.model.controlplane import ControlPlaneFields, default_features
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import open_store
from meshmanager.tenancy.access_roles import default_access_resources
from meshmanager.tenancy.bootstrap import bootstrap

TOKEN = "kpat_" + "BenchmarkToken0123456789" * 2
ZONES = 100
MTP_BODY = (
    '{"type":"MeshTrafficPermission","name":"bench","mesh":"default","spec":{"targetRef":'
    '{"kind":"Mesh"},"from":[{"targetRef":{"kind":"Mesh"},"default":{"action":"Allow"}}]}}'
)


def dataplane(i: int) -> tuple[Resource, Resource]:
    zone = f"zone-{i % ZONES}"
    name = f"dp-{i:06d}-{zone}"
    service = f"svc-{i % 500}"
    labels = {
        "kuma.io/origin": "zone",
        "kuma.io/zone": zone,
        "kuma.io/display-name": f"dp-{i:06d}",
        "kuma.io/mesh": "default",
        "kuma.io/proxy-type": "sidecar",
        "kuma.io/env": "universal",
    }
    spec = {
        "networking": {
            "address": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
            "inbound": [
                {
                    "port": 8080,
                    "servicePort": 80,
                    "tags": {"kuma.io/service": service, "kuma.io/zone": zone, "version": "v1"},
                }
            ],
            "admin": {"port": 9901},
        }
    }
    insight = {
        "subscriptions": [
            {
                "id": f"stream-{i}",
                "controlPlaneInstanceId": f"{zone}-cp",
                "connectTime": "2026-11-01T00:00:00Z",
                "status": {
                    "lastUpdateTime": "2026-11-01T00:00:05Z",
                    "total": {"responsesSent": "12", "responsesAcknowledged": "12"},
                },
                "version": {"kumaDp": {"version": "2.14.3"}, "envoy": {"version": "1.36.0"}},
            }
        ],
        "mTLS": {
            "certificateExpirationTime": "2026-12-01T00:00:00Z",
            "issuedBackend": "ca-1",
            "supportedBackends": ["ca-1"],
        },
    }
    return (
        Resource("Dataplane", "default", name, spec, labels),
        Resource("DataplaneInsight", "default", name, insight, labels),
    )


async def load(store_url: str, count: int) -> UUID:
    store = await open_store(store_url)
    created = await bootstrap(store, "bench", "bench@bench.example", TOKEN)
    assert created is not None, "the benchmark needs an empty store"
    admin = await store.identity.bootstrap_admin()
    assert admin is not None
    org_id = admin[0]
    fields = ControlPlaneFields(
        name="bench", description="", labels={}, features=default_features()
    )
    cp = await store.control_planes.create_owned(org_id, fields, initial=default_access_resources())
    scope = CpScope(org_id, cp.item.id)
    await store.resources.bulk_create(scope, [Resource("Mesh", "", "default", {})])
    batch: list[Resource] = []
    for i in range(count):
        batch.extend(dataplane(i))
        if len(batch) >= 20_000:
            await store.resources.bulk_create(scope, batch)
            batch = []
    if batch:
        await store.resources.bulk_create(scope, batch)
    await store.close()
    return cp.item.id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WrkResult:
    requests_per_second: float
    p99_ms: float
    errors: str


def wrk(url: str, duration: int, connections: int, script: Path | None = None) -> WrkResult:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {TOKEN}",
    ]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    assert p99 is not None, output
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(rps, float(p99.group(1)) * scale, errors.group(1) if errors else "0")


POLICIES = "meshes/default/meshtrafficpermissions"


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=100_000)
    parser.add_argument("--store", default=None, help="default: SQLite in a temporary dir")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--list-path",
        default="/meshes/default/dataplanes/_overview",
        help="the list endpoint to drive (relative to the control plane's API)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="mm-bench-"))
    store_url = args.store or f"sqlite:///{workdir}/bench.db"
    started = time.perf_counter()
    cp_id = asyncio.run(load(store_url, args.dataplanes))
    print(
        f"loaded {args.dataplanes} dataplanes + insights in {time.perf_counter() - started:.1f} s"
    )
    port, metrics = free_port(), free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "meshmanager",
            "run",
            "--store",
            store_url,
            "--data-dir",
            str(workdir),
            "--http-address",
            f"127.0.0.1:{port}",
            "--metrics-address",
            f"127.0.0.1:{metrics}",
            "--kds-address",
            f"127.0.0.1:{free_port()}",
            "--log-level",
            "warning",
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        run_load(server.pid, port, metrics, cp_id, args)
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


def run_load(pid: int, port: int, metrics: int, cp_id: UUID, args: argparse.Namespace) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{metrics}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    base = f"http://127.0.0.1:{port}/v1/mesh/control-planes/{cp_id}/api"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    offset_url = f"{base}{args.list_path}?size=100&offset={args.dataplanes // 2}"
    for url in (
        f"{base}{args.list_path}?size=100",
        offset_url,
        f"{base}/meshes/default/dataplanes/dp-000001-zone-1",
    ):
        response = httpx.get(url, headers=headers, timeout=60)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    # Each request creates a new policy: concurrent updates of one object would
    # rightly answer 409 to all but one writer.
    script.write_text(
        'wrk.method = "PUT"\nwrk.headers["Content-Type"] = "application/json"\n'
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        '  local name = "bench-" .. math.random(1, 1000000000) .. "-" .. counter\n'
        f"  local body = string.gsub('{MTP_BODY}', '\"bench\"', '\"' .. name .. '\"')\n"
        f'  return wrk.format(nil, "{path_of(base)}/{POLICIES}/" .. name, nil, body)\n'
        "end\n"
    )
    rows = [
        (
            "overview size=100 offset=0",
            wrk(f"{base}{args.list_path}?size=100", args.duration, args.connections),
        ),
        ("overview size=100 offset=50%", wrk(offset_url, args.duration, args.connections)),
        (
            "single dataplane GET",
            wrk(
                f"{base}/meshes/default/dataplanes/dp-000001-zone-1",
                args.duration,
                args.connections,
            ),
        ),
        (
            "policy PUT (create)",
            wrk(f"{base}/{POLICIES}/bench", args.duration, args.connections, script),
        ),
    ]
    print(f"machine: {describe()}")
    print(
        f"dataplanes: {args.dataplanes} (+ insights) over {ZONES} zones; list path {args.list_path}"
    )
    print(f"{'endpoint':32} {'req/s':>10} {'p99 ms':>8} {'non-2xx':>8}")
    for label, result in rows:
        print(
            f"{label:32} {result.requests_per_second:10.0f} {result.p99_ms:8.1f} {result.errors:>8}"
        )
    print(f"server RSS after the runs: {rss_mb(pid):.0f} MB")


if __name__ == "__main__":
    main()

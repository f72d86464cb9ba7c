"""The floor under `bench.kds idle`: what a bare grpc.aio TLS server, with no meshmanager
code at all, costs with clients shaped like idle Kuma zones (5 idle bidi streams on one
channel, an HTTP/2 PING every 15 s), under gRPC core's default I/O manager (EventEngine)
and under the older one meshmanager picks (see meshmanager/__init__.py).

    .venv/bin/python -m bench.grpc_floor [--clients 10000] [--seconds 100]

The clients run in 2 processes of this module on the same cores; the figure is the
server's CPU only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

from bench.kds import cpu_snapshot, cpu_used
from bench.kuma_api import free_port
from bench.machine import describe
from meshmanager import GRPC_EXPERIMENTS
from meshmanager.kds.server import SERVER_OPTIONS
from meshmanager.kds.tls import load_or_create

STREAMS_PER_CLIENT = 5
CLIENT_OPTIONS = [  # as a Kuma zone's KDS client (spec §2.3)
    ("grpc.keepalive_time_ms", 15_000),
    ("grpc.keepalive_timeout_ms", 15_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.use_local_subchannel_pool", 1),  # a connection per channel, as per zone
]
MANAGERS = {"EventEngine (gRPC's default)": "", "older I/O manager (meshmanager's)": None}


async def _drain(requests: Any, _context: Any) -> None:
    async for _ in requests:
        pass


async def serve(port: int, tls_dir: Path) -> None:
    tls = load_or_create(tls_dir, ["localhost"])
    server = grpc.aio.server(options=SERVER_OPTIONS)
    handler = grpc.stream_stream_rpc_method_handler(_drain)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("x.S", {"B": handler})])
    credentials = grpc.ssl_server_credentials([(tls.key_pem, tls.cert_pem)])
    server.add_secure_port(f"127.0.0.1:{port}", credentials)
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


async def connect(port: int, tls_dir: Path, clients: int) -> None:
    tls = load_or_create(tls_dir, ["localhost"])
    credentials = grpc.ssl_channel_credentials(tls.ca_pem)
    calls = []
    for n in range(clients):
        channel = grpc.aio.secure_channel(f"localhost:{port}", credentials, CLIENT_OPTIONS)
        for _ in range(STREAMS_PER_CLIENT):
            call = channel.stream_stream("/x.S/B")()
            await call.write(b"")
            calls.append(call)
        if n % 100 == 99:
            await asyncio.sleep(0.2)  # a gentle join, as the idle benchmark's
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def _child(role: str, port: int, tls_dir: Path, experiments: str | None, *extra: str) -> Any:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["GRPC_EXPERIMENTS"] = GRPC_EXPERIMENTS if experiments is None else experiments
    command = [sys.executable, "-m", "bench.grpc_floor", role, str(port), str(tls_dir), *extra]
    process = subprocess.Popen(
        command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    if process.stdout is None or process.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the {role} process failed")
    return process


def measure(label: str, experiments: str | None, clients: int, seconds: float) -> None:
    tls_dir, port = Path(tempfile.mkdtemp(prefix="mm-bench-grpc-")), free_port()
    server = _child("serve", port, tls_dir, experiments)
    halves = (clients // 2, clients - clients // 2)
    workers = [_child("connect", port, tls_dir, experiments, str(half)) for half in halves]
    try:
        time.sleep(20)  # the joins' TLS handshakes are over
        before, started = cpu_snapshot(server.pid), time.perf_counter()
        time.sleep(seconds)
        total, used = cpu_used(before, cpu_snapshot(server.pid))
        elapsed = time.perf_counter() - started
    finally:
        for process in [*workers, server]:
            process.kill()
            process.wait()
    split = ", ".join(f"{kind} {spent / elapsed:.2%}" for kind, spent in used.items())
    print(
        f"{label}: {clients} idle clients cost the server {total / elapsed:.2%}"
        f" of one core over {seconds:.0f} s ({split})"
    )


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        asyncio.run(serve(int(sys.argv[2]), Path(sys.argv[3])))
        return
    if sys.argv[1:2] == ["connect"]:
        asyncio.run(connect(int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=100)
    args = parser.parse_args()
    print(f"machine: {describe()}")
    for label, experiments in MANAGERS.items():
        measure(label, experiments, args.clients, args.seconds)


if __name__ == "__main__":
    main()

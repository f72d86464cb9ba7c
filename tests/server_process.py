"""A real `meshmanager run` in a child process, on free loopback ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

TOKEN = re.compile(r"kpat_[A-Za-z0-9]{43,}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    data_dir: Path
    store: str
    env: dict[str, str] = field(default_factory=dict)
    http_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    kds_port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    stdout: str = ""
    stderr: str = ""
    _readers: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "meshmanager",
            "run",
            "--data-dir",
            str(self.data_dir),
            "--store",
            self.store,
            "--http-address",
            f"127.0.0.1:{self.http_port}",
            "--metrics-address",
            f"127.0.0.1:{self.metrics_port}",
            "--kds-address",
            f"127.0.0.1:{self.kds_port}",
        ]

    def start(self, timeout: float = 30) -> ServerProcess:
        env = {**os.environ, **self.env}
        self.process = subprocess.Popen(
            self.command(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self._readers = [
            threading.Thread(target=self._pump, args=(self.process.stdout, "stdout"), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, "stderr"), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.collect()
                raise RuntimeError(f"server exited early:\n{self.stdout}\n{self.stderr}")
            try:
                if httpx.get(f"{self.metrics_url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server not ready in {timeout}s:\n{self.stdout}\n{self.stderr}")

    def signal(self, sig: signal.Signals) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        self.collect()
        return code

    def kill(self) -> int:
        return self.signal(signal.SIGKILL)

    def terminate(self) -> int:
        return self.signal(signal.SIGTERM)

    def _pump(self, stream: IO[str], name: str) -> None:
        for line in stream:
            setattr(self, name, getattr(self, name) + line)

    def collect(self) -> None:
        assert self.process is not None
        self.process.wait(timeout=60)
        for reader in self._readers:
            reader.join(timeout=30)

    def printed_tokens(self) -> list[str]:
        return TOKEN.findall(self.stdout)

"""Listen addresses as given on the command line: `host:port`, `:port` or `[v6]:port`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> HostPort:
        host, sep, port = text.strip().rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"{text!r} is not an address of the form host:port or :port")
        host = host.strip("[]") or "0.0.0.0"
        return cls(host, int(port))

    @property
    def grpc_target(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return self.grpc_target

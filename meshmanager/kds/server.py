"""The KDS gRPC server. Today it serves the standard gRPC health service; the KDS
services that zones sync through are registered here as they land."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from meshmanager.addresses import HostPort

SHUTDOWN_GRACE_SECONDS = 10.0


class KdsServer:
    def __init__(self, address: HostPort) -> None:
        self.address = address
        self.server = grpc.aio.server()
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port = self.server.add_insecure_port(address.grpc_target)
        if self.port == 0:
            raise OSError(f"cannot listen for KDS on {address}")

    async def start(self) -> None:
        await self.server.start()
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)

    async def stop(self) -> None:
        """New calls are refused; calls still running after the grace period are cancelled,
        which clients see as a retryable status."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(SHUTDOWN_GRACE_SECONDS)

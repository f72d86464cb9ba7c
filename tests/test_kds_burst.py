"""A burst of zone RPCs larger than gRPC core's default pending-call limits (1,000 soft,
3,000 hard) while the event loop is busy: a reconnect storm of 1,000 zones opens 6,000.
Each call gets its own answer, none is cancelled by the server's core."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future

import grpc

from meshmanager.kds.generated.kuma.mesh.v1alpha1 import kds_pb2
from meshmanager.kds.simulator.client import HEALTH_METHOD
from meshmanager.store import Store
from tests.kds_harness import kds_context

BURST = 3_500
METADATA = (("client-id", "zone-1"), ("authorization", "Bearer mzc_unknown-credential"))


def _fire(port: int, sent: threading.Event) -> list[Future[grpc.StatusCode]]:
    """BURST concurrent HealthChecks from a blocking client thread."""
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    call = channel.unary_unary(
        HEALTH_METHOD,
        request_serializer=kds_pb2.ZoneHealthCheckRequest.SerializeToString,
        response_deserializer=kds_pb2.ZoneHealthCheckResponse.FromString,
    )
    request = kds_pb2.ZoneHealthCheckRequest()
    futures = [call.future(request, metadata=METADATA) for _ in range(BURST)]
    sent.set()
    return futures


def _hold_the_event_loop_until(sent: threading.Event) -> None:
    """The event loop accepts calls one at a time; while it is held, they queue in gRPC
    core as pending calls, as they do when a storm saturates the loop."""
    deadline = time.monotonic() + 60
    while not sent.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the last ones in flight reach the server


def _code(future: Future[grpc.StatusCode]) -> grpc.StatusCode:
    try:
        future.result(timeout=120)
    except grpc.RpcError as error:
        code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
        return code
    return grpc.StatusCode.OK


async def test_a_burst_of_calls_is_answered_not_cancelled(store: Store) -> None:
    async with kds_context(store, None) as kds:
        sent = threading.Event()
        firing = asyncio.get_running_loop().run_in_executor(None, _fire, kds.port, sent)
        _hold_the_event_loop_until(sent)
        futures = await firing
        codes = await asyncio.gather(*(asyncio.to_thread(_code, f) for f in futures))
    counts = {code.name: codes.count(code) for code in set(codes)}
    assert counts == {"UNAUTHENTICATED": BURST}

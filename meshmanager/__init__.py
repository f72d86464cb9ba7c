"""meshmanager: a self-hostable, multi-tenant global control plane manager for Kuma."""

import os

__version__ = "0.1.0"

# gRPC core's older I/O manager polls sockets on one thread; its event engine hands every
# read to a thread pool. Idle Kuma zones ping every 15 s, so 10,000 of them send 667 pings
# a second, and each hand-off wakes threads: a bare grpc.aio server costs 5.1 % of a core
# there with the event engine and 3.2 % without (bench/README.md, "Idle"). gRPC reads
# this once, when it loads, so it is set before any module imports grpc. An empty
# GRPC_EXPERIMENTS in the environment keeps gRPC's default.
GRPC_EXPERIMENTS = ",".join(
    f"-{experiment}"
    for experiment in (
        "event_engine_listener",
        "event_engine_for_all_other_endpoints",
        "event_engine_callback_cq",
        "event_engine_client",
    )
)
os.environ.setdefault("GRPC_EXPERIMENTS", GRPC_EXPERIMENTS)

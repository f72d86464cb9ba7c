"""KDS: the gRPC endpoint that zone control planes connect to."""

import os

# Before grpc is first imported: gRPC core's EventEngine hands every read to a worker
# thread, and an idle fleet is mostly reads of the zones' HTTP/2 pings (every 15 s per
# zone). The older I/O manager reads on its polling thread: an idle zone costs about a
# third of the CPU (bench/README.md, "Idle"). An operator's own setting wins.
os.environ.setdefault(
    "GRPC_EXPERIMENTS",
    "-event_engine_listener,-event_engine_for_all_other_endpoints,"
    "-event_engine_callback_cq,-event_engine_client",
)

"""A simulated Kuma zone control plane: the client side of KDS as a v2.12-v2.14 zone
speaks it (spec §1.3, §2, §3, §4, §5, §6).

One `ZoneSimulator` dials the global with one gRPC channel (its own TCP connection),
opens the six RPCs with a zone's metadata, subscribes to the types its Kuma version
knows, stores what the global sends with the zone's semantics and ACKs or NACKs it,
serves its own resources on ZoneToGlobalSync as the xDS server, answers the envoy-admin
streams and health-checks. The first RPC failing tears the connection down; it is
re-established with Kuma's backoff (5 s doubling to 1 min).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import orjson
from envoy.config.core.v3 import base_pb2
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import struct_pb2
from google.rpc import status_pb2

from meshmanager.kds import envelope
from meshmanager.kds.generated.kuma.mesh.v1alpha1 import kds_pb2
from meshmanager.kds.simulator import envoy, generate
from meshmanager.kds.simulator.versions import (
    DEFAULT_KUMA_VERSION,
    types_from_global,
    types_to_global,
)
from meshmanager.kds.simulator.zone_store import (
    ZoneStore,
    apply_from_global,
    provided_by_this_zone,
    to_global,
)
from meshmanager.kds.waiting import abandon, next_or_wakeup
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation.synced import synced_resource_problems

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # multizone.zone.kds.maxMsgSize
KEEPALIVE_MS = 15_000
BASE_BACKOFF_SECONDS = 5.0  # general.resilientComponentBaseBackoff
MAX_BACKOFF_SECONDS = 60.0  # general.resilientComponentMaxBackoff
HEALTH_CHECK_PERIOD_SECONDS = 300.0  # until the global returns an interval
FIRST_ANSWER_WAIT_SECONDS = 1.0
NODE_FEATURES = ["zone-token", "hash-suffix", "hg-mz-selector", "producer-policy-flow",
                 "optional-top-level-target-ref"]  # fmt: skip
GIT_COMMIT = "9a3c5d1e7f20b46c8d9e0f1a2b3c4d5e6f708192"

SYNC_SERVICE = "/kuma.mesh.v1alpha1.KDSSyncService/"
GLOBAL_SERVICE = "/kuma.mesh.v1alpha1.GlobalKDSService/"
G2Z_METHOD = SYNC_SERVICE + "GlobalToZoneSync"
Z2G_METHOD = SYNC_SERVICE + "ZoneToGlobalSync"
HEALTH_METHOD = GLOBAL_SERVICE + "HealthCheck"
# kind -> (method, what the zone sends, what the global sends)
ADMIN_METHODS: dict[str, tuple[str, Any, Any]] = {
    "xds": ("StreamXDSConfigs", kds_pb2.XDSConfigResponse, kds_pb2.XDSConfigRequest),
    "stats": ("StreamStats", kds_pb2.StatsResponse, kds_pb2.StatsRequest),
    "clusters": ("StreamClusters", kds_pb2.ClustersResponse, kds_pb2.ClustersRequest),
}


class ConnectionBroken(Exception):
    """Ends the whole KDS connection; the zone reconnects after its backoff."""


class ZoneCrashed(Exception):
    """What crashes a real kuma-cp zone process (a nil-pointer panic): the simulator
    stops for good and records why (spec §4 step 9, §5 step 3)."""


@dataclass(frozen=True)
class GlobalAddress:
    scheme: str
    host: str
    port: int
    raw: str

    @classmethod
    def parse(cls, address: str) -> GlobalAddress:
        """As the zone does: only `grpc` and `grpcs`; only host:port is dialled."""
        parts = urlsplit(address)
        if parts.scheme not in ("grpc", "grpcs"):
            raise ValueError(f"global address {address!r}: the scheme must be grpc or grpcs")
        if not parts.hostname:
            raise ValueError(f"global address {address!r} has no host")
        return cls(parts.scheme, parts.hostname, parts.port or 5685, address)

    @property
    def target(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass
class ReceivedResponse:
    """One GlobalToZoneSync response as the zone saw it."""

    type_url: str
    nonce: str
    names: list[str]
    removed: list[str]
    initial: bool
    nack: str | None = None


@dataclass
class Observed:
    """What the zone saw, for tests, benchmarks and `--print`."""

    connects: int = 0
    responses: list[ReceivedResponse] = field(default_factory=list)
    acks: Counter[str] = field(default_factory=Counter)
    nacks_sent: list[tuple[str, str]] = field(default_factory=list)  # (type, message)
    nacks_received: list[tuple[str, str]] = field(default_factory=list)  # from the global
    acks_received: Counter[str] = field(default_factory=Counter)  # Z->G ACKs per type
    z2g_requests: list[discovery_pb2.DeltaDiscoveryRequest] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (rpc, code, details)
    ended_by: list[str] = field(default_factory=list)  # what ended each connection, first
    health_checks: int = 0
    health_interval: float | None = None
    admin_requests: list[tuple[str, str, str, str]] = field(default_factory=list)
    crashed: str | None = None

    def last_error(self) -> tuple[str, str, str] | None:
        return self.errors[-1] if self.errors else None


@dataclass
class ZoneOptions:
    kuma_version: str = DEFAULT_KUMA_VERSION
    ca_pem: bytes | None = None
    authorization: str | None = None  # Kong Mesh style: sent as `Bearer <value>`
    environment: str = "universal"
    base_backoff: float = BASE_BACKOFF_SECONDS
    max_backoff: float = MAX_BACKOFF_SECONDS
    validate: bool = True
    seed: int | None = None
    # Called with (event, details) for `--print`: "connected", "received", "nack", ...
    on_event: Callable[[str, dict[str, Any]], None] | None = None


def _rpc_error(rpc: str, error: grpc.aio.AioRpcError) -> tuple[str, str, str]:
    return (rpc, error.code().name, error.details() or "")


async def _final_status(call: Any, error: grpc.aio.AioRpcError) -> grpc.aio.AioRpcError:
    """The status the server ended the call with. A write that fails because the server
    already ended the stream raises a local INTERNAL error first; the zone logs the
    server's status (grpc-go returns it from the next Recv)."""
    if error.code() != grpc.StatusCode.INTERNAL:
        return error
    try:
        code = await asyncio.wait_for(call.code(), 5)
        details = await call.details()
    except (TimeoutError, grpc.aio.AioRpcError):
        return error
    if code in (grpc.StatusCode.OK, grpc.StatusCode.INTERNAL) and not details:
        return error
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


class ZoneSimulator:
    def __init__(
        self,
        global_address: str,
        zone: str,
        store: ZoneStore | None = None,
        options: ZoneOptions | None = None,
    ) -> None:
        self.address = GlobalAddress.parse(global_address)
        self.zone = zone
        self.store = store if store is not None else ZoneStore()
        self.options = options or ZoneOptions()
        self.version = self.options.kuma_version
        self.g2z_types = types_from_global(self.version)
        self.z2g_types = types_to_global(self.version)
        self.instance_id = f"{socket.gethostname()}-{random.getrandbits(16):04x}"
        self.observed = Observed()
        self.rng = random.Random(self.options.seed)
        self.connected = asyncio.Event()  # set while a GlobalToZoneSync stream is up
        self.synced_types: set[str] = set()  # types whose full state arrived (this stream)
        self._synced = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._wake_backoff = asyncio.Event()

    # --- configuration the zone sends ----------------------------------------------

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        md = [
            ("version", self.version),
            ("client-id", self.zone),
            ("kds-version", "v3"),
            ("features", "zone-ping-health"),
            ("features", "hash-suffix"),
        ]
        if self.options.authorization:
            md.append(("authorization", f"Bearer {self.options.authorization}"))
        return tuple(md)

    def config(self) -> dict[str, Any]:
        """The zone's kuma-cp config as it puts it in node metadata (abridged: the parts
        a global reads, in Kuma's key layout)."""
        return {
            "mode": "zone",
            "environment": self.options.environment,
            "store": {"type": "memory"},
            "multizone": {
                "zone": {
                    "name": self.zone,
                    "globalAddress": self.address.raw,
                    "kds": {
                        "refreshInterval": "1s",
                        "maxMsgSize": MAX_MESSAGE_BYTES,
                        "rootCaFile": "/etc/kds/ca.pem" if self.options.ca_pem else "",
                        "tlsSkipVerify": False,
                        "responseBackoff": "0s",
                    },
                }
            },
            "general": {"workDir": "/tmp/kuma"},
        }

    @property
    def user_agent(self) -> str:
        return f"kds/{self.version} (linux; amd64; Kuma/{GIT_COMMIT[:7]})"

    def node(self, initial: bool) -> base_pb2.Node:
        node = base_pb2.Node(id=self.zone)
        if initial:
            metadata = struct_pb2.Struct()
            metadata.update(
                {
                    "version": {
                        "kumaCp": {
                            "version": self.version,
                            "gitTag": self.version,
                            "gitCommit": GIT_COMMIT,
                            "buildDate": "2025-11-03T10:00:00Z",
                        }
                    },
                    "config": json.dumps(self.config()),
                    "control-plane-id": self.instance_id,
                    "features": NODE_FEATURES,
                }
            )
            node.metadata.CopyFrom(metadata)
        return node

    def channel(self) -> grpc.aio.Channel:
        options = [
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.keepalive_time_ms", KEEPALIVE_MS),
            ("grpc.keepalive_timeout_ms", KEEPALIVE_MS),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
            ("grpc.primary_user_agent", self.user_agent),
            # Every simulated zone has its own TCP connection, as separate processes have:
            # the global binds a connection's RPCs to the zone that authenticated it.
            ("grpc.use_local_subchannel_pool", 1),
        ]  # fmt: skip
        if self.address.scheme == "grpc":
            return grpc.aio.insecure_channel(
                self.address.target, options=options, compression=grpc.Compression.Gzip
            )
        credentials = grpc.ssl_channel_credentials(root_certificates=self.options.ca_pem)
        return grpc.aio.secure_channel(
            self.address.target, credentials, options=options, compression=grpc.Compression.Gzip
        )

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name=f"zone-sim {self.zone}")
        return self._task

    async def stop(self) -> None:
        self._stopping.set()
        self._wake_backoff.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.connected.clear()

    def reconnect_now(self) -> None:
        """Skips the current backoff wait (tests)."""
        self._wake_backoff.set()

    async def run(self) -> None:
        backoff = self.options.base_backoff
        while not self._stopping.is_set():
            began = time.monotonic()
            try:
                await self._connect_once()
            except ZoneCrashed as crash:
                self.observed.crashed = str(crash)
                self._event("crashed", {"reason": str(crash)})
                log.error("zone %s crashed: %s", self.zone, crash)
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not self.observed.errors or time.monotonic() - began > 0:
                    self._event("disconnected", {"error": repr(error)})
                log.info("zone %s: KDS connection ended: %s", self.zone, error)
            finally:
                self.connected.clear()
            if time.monotonic() - began > self.options.max_backoff:
                backoff = self.options.base_backoff
            self._wake_backoff.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_backoff.wait(), backoff)
            backoff = min(backoff * 2, self.options.max_backoff)

    async def wait_synced(self, within: float = 10.0, types: Iterable[str] | None = None) -> None:
        """Until the full state of `types` (default: all subscribed) arrived on the
        current stream."""
        wanted = set(types) if types is not None else set(self.g2z_types)

        async def until() -> None:
            while not wanted <= self.synced_types:
                self._synced.clear()
                await self._synced.wait()

        await asyncio.wait_for(until(), within)

    def _event(self, kind: str, details: dict[str, Any]) -> None:
        if self.options.on_event is not None:
            self.options.on_event(kind, {"zone": self.zone, **details})

    async def _connect_once(self) -> None:
        self.synced_types = set()
        async with self.channel() as channel:
            # The first RPC to fail, and how: it ends the connection.
            failed: asyncio.Future[tuple[str, BaseException]] = (
                asyncio.get_running_loop().create_future()
            )

            def guard(name: str, work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
                async def run() -> None:
                    try:
                        await work()
                    except asyncio.CancelledError:
                        raise
                    except BaseException as error:
                        if isinstance(error, grpc.aio.AioRpcError):
                            self.observed.errors.append(_rpc_error(name, error))
                        if not failed.done():
                            failed.set_result((name, error))

                return asyncio.create_task(run(), name=f"zone-sim {self.zone} {name}")

            tasks = [
                guard("HealthCheck", lambda: self._health_check(channel)),
                guard("GlobalToZoneSync", lambda: self._global_to_zone(channel)),
                guard("ZoneToGlobalSync", lambda: self._zone_to_global(channel)),
                *(
                    guard(kind, lambda kind=kind: self._envoy_admin(channel, kind))  # type: ignore[misc]
                    for kind in ADMIN_METHODS
                ),
            ]
            stop: asyncio.Future[Any] = asyncio.ensure_future(self._stopping.wait())
            either: set[asyncio.Future[Any]] = {failed, stop}
            try:
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            if failed.done():
                rpc, error = failed.result()
                if isinstance(error, grpc.aio.AioRpcError):
                    self.observed.ended_by.append(f"{rpc} {error.code().name} {error.details()}")
                else:
                    self.observed.ended_by.append(f"{rpc} {error!r}")
                raise error

    # --- HealthCheck -----------------------------------------------------------------

    async def _health_check(self, channel: grpc.aio.Channel) -> None:
        call = channel.unary_unary(
            HEALTH_METHOD,
            request_serializer=kds_pb2.ZoneHealthCheckRequest.SerializeToString,
            response_deserializer=kds_pb2.ZoneHealthCheckResponse.FromString,
        )
        period = HEALTH_CHECK_PERIOD_SECONDS
        while True:
            try:
                response = await call(kds_pb2.ZoneHealthCheckRequest(), metadata=self.metadata)
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                    log.info("zone %s: the global does not implement HealthCheck", self.zone)
                    return
                raise
            self.observed.health_checks += 1
            interval = response.interval.seconds + response.interval.nanos / 1e9
            if interval > 0:
                period = interval
            self.observed.health_interval = interval
            await asyncio.sleep(period)

    # --- GlobalToZoneSync: the zone is the xDS client ----------------------------------

    async def _global_to_zone(self, channel: grpc.aio.Channel) -> None:
        call = channel.stream_stream(
            G2Z_METHOD,
            request_serializer=discovery_pb2.DeltaDiscoveryRequest.SerializeToString,
            response_deserializer=discovery_pb2.DeltaDiscoveryResponse.FromString,
        )(metadata=self.metadata)
        types = list(self.g2z_types)
        self.rng.shuffle(types)  # Go map order
        requests = [
            discovery_pb2.DeltaDiscoveryRequest(
                type_url=type_name, resource_names_subscribe=["*"], node=self.node(True)
            )
            for type_name in types
        ]
        reading: asyncio.Future[Any] = asyncio.ensure_future(call.read())
        first_read: asyncio.Future[Any] | None = reading
        try:
            # The first request authenticates the connection. Waiting briefly for its
            # answer before sending the rest keeps a refusal's status readable: grpcio
            # reports a write to a stream the server already ended as a local INTERNAL
            # error and loses the server's status (grpc-go zones see it on Recv).
            await call.write(requests[0])
            await asyncio.wait({reading}, timeout=FIRST_ANSWER_WAIT_SECONDS)
            if reading.done() and reading.exception() is not None:
                reading.result()
            for request in requests[1:]:
                await call.write(request)
            self.observed.connects += 1
            self.connected.set()
            self._event("connected", {"types": len(types)})
            initial = set(types)  # IsInitialRequest until the first ACK/NACK of the type
            while True:
                if first_read is not None:
                    response, first_read = await first_read, None
                else:
                    response = await call.read()
                if response is grpc.aio.EOF:
                    raise ConnectionBroken("GlobalToZoneSync ended by the global (io.EOF)")
                reply = self.receive(response, response.type_url in initial)
                initial.discard(response.type_url)
                await call.write(reply)
        except grpc.aio.AioRpcError as error:
            raise await _final_status(call, error) from None
        finally:
            if first_read is not None:
                abandon(first_read)  # the call's end is raised above or by another RPC

    def receive(
        self, response: discovery_pb2.DeltaDiscoveryResponse, initial: bool
    ) -> discovery_pb2.DeltaDiscoveryRequest:
        """Stores one response as the zone does and returns its ACK or NACK. Raises
        ConnectionBroken for what makes the zone's Receive fail, ZoneCrashed for what
        crashes it."""
        type_name = response.type_url
        if type_name not in self.g2z_types:
            raise ConnectionBroken(f"unknown type {type_name!r} in a GlobalToZoneSync response")
        valid: list[Resource] = []
        skipped: set[tuple[str, str]] = set()
        errors: list[str] = []
        for item in response.resources:
            resource = self._decode(type_name, item)
            problems = synced_resource_problems(resource) if self.options.validate else []
            if problems:
                skipped.add((resource.mesh, resource.name))
                errors.append(f"{type_name} {resource.name!r}: {'; '.join(problems)}")
            else:
                valid.append(resource)
        applied = apply_from_global(
            self.store, type_name, valid, skipped, response.removed_resources, initial
        )
        errors += applied.errors
        message = "; ".join(errors) if errors else None
        self.observed.responses.append(
            ReceivedResponse(
                type_name,
                response.nonce,
                [r.name for r in response.resources],
                list(response.removed_resources),
                initial,
                message,
            )
        )
        self._event(
            "received",
            {
                "type": type_name,
                "nonce": response.nonce,
                "initial": initial,
                "created": applied.created,
                "updated": applied.updated,
                "deleted": applied.deleted,
                "nack": message,
            },
        )
        if initial:
            self.synced_types.add(type_name)
            self._synced.set()
        reply = discovery_pb2.DeltaDiscoveryRequest(
            type_url=type_name, response_nonce=response.nonce, node=self.node(False)
        )
        if message is not None:
            reply.resource_names_subscribe.append("*")
            reply.error_detail.CopyFrom(status_pb2.Status(message=message))
            self.observed.nacks_sent.append((type_name, message))
        else:
            self.observed.acks[type_name] += 1
        return reply

    def _decode(self, type_name: str, item: discovery_pb2.Resource) -> Resource:
        if envelope.is_json_type(type_name) and item.resource.type_url.endswith(
            "/kuma.mesh.v1alpha1.KumaResource"
        ):
            with contextlib.suppress(Exception):
                wrapped = kds_pb2.KumaResource.FromString(item.resource.value)
                if not wrapped.HasField("spec"):
                    raise ZoneCrashed(
                        f"{type_name} {item.name!r} has no spec: nil pointer dereference"
                        " in FromAny (pkg/core/resources/model/utils.go)"
                    )
        try:
            resource = envelope.from_xds(type_name, item)
        except envelope.EnvelopeError as error:
            raise ConnectionBroken(f"cannot decode {type_name} response: {error}") from None
        if envelope.is_json_type(type_name) and not isinstance(resource.spec, dict | None):
            raise ConnectionBroken(
                f"cannot decode {type_name} {item.name!r}: json: cannot unmarshal into a struct"
            )
        return resource

    # --- ZoneToGlobalSync: the zone is the xDS server ----------------------------------

    async def _zone_to_global(self, channel: grpc.aio.Channel) -> None:
        call = channel.stream_stream(
            Z2G_METHOD,
            request_serializer=discovery_pb2.DeltaDiscoveryResponse.SerializeToString,
            response_deserializer=discovery_pb2.DeltaDiscoveryRequest.FromString,
        )(metadata=self.metadata)
        server = _ZoneXdsServer(self, call)
        try:
            await server.run()
        except grpc.aio.AioRpcError as error:
            raise await _final_status(call, error) from None

    # --- envoy admin -----------------------------------------------------------------

    async def _envoy_admin(self, channel: grpc.aio.Channel, kind: str) -> None:
        name, outgoing, incoming = ADMIN_METHODS[kind]
        method = GLOBAL_SERVICE + name
        call = channel.stream_stream(
            method,
            request_serializer=outgoing.SerializeToString,
            response_deserializer=incoming.FromString,
        )(metadata=self.metadata)
        writing = asyncio.Lock()
        pending: set[asyncio.Task[None]] = set()

        async def answer(request: Any) -> None:
            response = self._admin_answer(kind, request)
            async with writing:
                await call.write(response)

        try:
            while True:
                request = await call.read()
                if request is grpc.aio.EOF:
                    raise ConnectionBroken(f"{method} ended by the global (io.EOF)")
                self.observed.admin_requests.append(
                    (kind, request.resource_type, request.resource_mesh, request.resource_name)
                )
                task = asyncio.create_task(answer(request))
                pending.add(task)
                task.add_done_callback(pending.discard)
        except grpc.aio.AioRpcError as raised:
            error = await _final_status(call, raised)
            code = error.code()
            if code == grpc.StatusCode.UNIMPLEMENTED:
                log.info("zone %s: %s unimplemented; upgrade remote CP", self.zone, method)
                return
            if code == grpc.StatusCode.CANCELLED and self._abandons_on_cancel():
                self.observed.errors.append(_rpc_error(kind, error))
                return
            raise error from None
        finally:
            for task in pending:
                task.cancel()

    def _abandons_on_cancel(self) -> bool:
        """v2.13.5+ and v2.14 abandon an envoy-admin stream the global CANCELLED (§1.3)."""
        parts = [int(p) for p in self.version.split("-")[0].split(".")[:3]]
        major, minor, patch = [*parts, 0, 0, 0][:3]
        return (major, minor) >= (2, 14) or ((major, minor) == (2, 13) and patch >= 5)

    def _admin_answer(self, kind: str, request: Any) -> Any:
        outgoing = ADMIN_METHODS[kind][1]
        try:
            proxy = envoy.find_proxy(
                self.store, request.resource_type, request.resource_name, request.resource_mesh
            )
            as_json = getattr(request, "format", 0) == kds_pb2.AdminOutputFormat.JSON
            if kind == "xds":
                return outgoing(
                    request_id=request.request_id,
                    config=envoy.config_dump(proxy, request.include_eds),
                )
            if kind == "stats":
                used_only = bool(getattr(request, "used_only", False))
                return outgoing(
                    request_id=request.request_id, stats=envoy.stats(proxy, as_json, used_only)
                )
            return outgoing(request_id=request.request_id, clusters=envoy.clusters(proxy, as_json))
        except envoy.AdminError as error:
            return outgoing(request_id=request.request_id, error=str(error))  # fmt: skip

    # --- the zone's own resources ------------------------------------------------------

    def add(self, *resources: Resource) -> None:
        self.store.put(*resources)

    def remove(self, type_name: str, mesh: str, name: str) -> None:
        self.store.delete(type_name, mesh, name)

    def add_dataplanes(
        self,
        count: int,
        mesh: str = "default",
        *,
        offline_every: int = 0,
        gateways_every: int = 10,
        mesh_services: bool = True,
        start: int = 0,
    ) -> list[Resource]:
        """`count` dataplanes with their insights (every `offline_every`-th offline,
        every `gateways_every`-th a builtin gateway) and a MeshService per service."""
        made: list[Resource] = []
        services: dict[str, int] = {}
        for index in range(start, start + count):
            gateway = gateways_every > 0 and index % gateways_every == gateways_every - 1
            dp = generate.dataplane(self.zone, mesh, index, self.rng, gateway=gateway)
            online = not (offline_every > 0 and index % offline_every == offline_every - 1)
            state = generate.ProxyState(online=online, kuma_version=self.version)
            insight = generate.dataplane_insight(dp, state, self.rng, self.instance_id)
            made += [dp, insight]
            for inbound in (dp.spec.get("networking") or {}).get("inbound") or []:
                services.setdefault(inbound["tags"]["kuma.io/service"], inbound["servicePort"])
        if mesh_services and "MeshService" in self.z2g_types:
            for n, (service, port) in enumerate(sorted(services.items())):
                if self.store.get("MeshService", mesh, service) is None:
                    made.append(generate.mesh_service(self.zone, mesh, service, port, n))
        return self._put_generated(made)

    def set_dataplane_online(self, mesh: str, name: str, online: bool) -> None:
        state = generate.ProxyState(online=online, kuma_version=self.version)
        dp = self.store.get("Dataplane", mesh, name)
        if dp is None:
            raise KeyError(f"no dataplane {name!r} in mesh {mesh!r}")
        self.store.put(generate.dataplane_insight(dp, state, self.rng, self.instance_id))

    def add_zone_proxies(self, ingresses: int = 1, egresses: int = 1) -> list[Resource]:
        services = sorted(
            {
                (dp.mesh, t["tags"]["kuma.io/service"])
                for dp in self.store.of_type("Dataplane")
                for t in (dp.spec.get("networking") or {}).get("inbound") or []
            }
        )
        made: list[Resource] = []
        state = generate.ProxyState(kuma_version=self.version, mtls_backend=None)
        for n in range(ingresses):
            proxy = generate.zone_ingress(self.zone, f"zone-ingress-{n}", services, self.rng)
            made += [proxy, generate.zone_proxy_insight(proxy, state, self.rng, self.instance_id)]
        for n in range(egresses):
            proxy = generate.zone_egress(self.zone, f"zone-egress-{n}", self.rng)
            made += [proxy, generate.zone_proxy_insight(proxy, state, self.rng, self.instance_id)]
        return self._put_generated(made)

    def wire_form(self, resource: Resource) -> discovery_pb2.Resource:
        """What this zone sends of one of its resources, encoded once per version (a
        Resource is immutable): deltas compare every resource's version."""
        key = f"kds-to-global:{self.zone}"
        item: discovery_pb2.Resource | None = resource.memo.get(key)
        if item is None:
            item = envelope.to_xds(to_global(resource, self.zone), include_status=True)
            resource.memo[key] = item
        return item

    def encode_ahead(self) -> None:
        """Encodes what the zone will send now, so that a benchmark measures the global
        and not this simulator's Python encoding (a Kuma zone does it in Go)."""
        for resource in self.store:
            if resource.type in self.z2g_types and provided_by_this_zone(resource):
                self.wire_form(resource)

    def _put_generated(self, made: list[Resource]) -> list[Resource]:
        """Stores generated resources labelled with this zone's environment (`kuma.io/env`)."""
        environment = self.options.environment
        if environment != "universal":
            made = [
                r.with_changes(labels={**r.labels, "kuma.io/env": environment})
                if "kuma.io/env" in r.labels
                else r
                for r in made
            ]
        self.store.put(*made)
        return made

    def received(self, type_name: str | None = None) -> list[Resource]:
        """What the zone holds from the global (origin `global`)."""
        return sorted(
            (
                r
                for r in self.store
                if (type_name is None or r.type == type_name)
                and r.labels.get("kuma.io/origin") == "global"
            ),
            key=lambda r: r.key,
        )

    def dump(self) -> list[dict[str, Any]]:
        return [
            {
                "type": r.type,
                "mesh": r.mesh,
                "name": r.name,
                "labels": r.labels,
                "spec": r.spec,
                **({"status": r.status} if r.status is not None else {}),
            }
            for r in sorted(self.store, key=lambda r: r.key)
        ]


@dataclass
class _TypeState:
    sent: dict[str, str] = field(default_factory=dict)  # key -> version
    in_flight: str | None = None
    node_id: str = ""
    stalled: bool = False  # subscribed under another node id: never answered again
    answered: bool = False  # the full state went out


class _ZoneXdsServer:
    """go-control-plane's delta server as the zone runs it over ZoneToGlobalSync."""

    def __init__(self, zone: ZoneSimulator, call: Any) -> None:
        self.zone = zone
        self.call = call
        self.types: dict[str, _TypeState] = {}
        self.nonce = 0
        self.first_node_id: str | None = None
        self.snapshot_ready = False

    async def run(self) -> None:
        queue: asyncio.Queue[discovery_pb2.DeltaDiscoveryRequest | None] = asyncio.Queue()
        changed = self.zone.store.watch()
        reader = asyncio.create_task(self._read(queue))
        try:
            while True:
                got, request = await next_or_wakeup(queue, changed)
                if got:
                    if request is None:
                        await reader  # re-raises what ended the stream
                        return  # io.EOF: "ZoneToGlobalSync finished gracefully"
                    await self.on_request(request)
                if changed.is_set():
                    changed.clear()
                    await self.push_changes()
        finally:
            abandon(reader)  # the stream's end, which the caller already handles
            self.zone.store.unwatch(changed)

    async def _read(self, queue: asyncio.Queue[Any]) -> None:
        try:
            while True:
                request = await self.call.read()
                if request is grpc.aio.EOF:
                    log.info("zone %s: ZoneToGlobalSync finished gracefully", self.zone.zone)
                    return
                await queue.put(request)
        finally:
            await queue.put(None)

    async def on_request(self, request: discovery_pb2.DeltaDiscoveryRequest) -> None:
        self.zone.observed.z2g_requests.append(request)
        if not request.HasField("node"):
            raise ZoneCrashed(
                "a ZoneToGlobalSync request without node: nil pointer dereference in the"
                " tenancy callback (pkg/kds/v2/server/tenant_callback.go)"
            )
        if not request.type_url:
            raise ConnectionBroken("INVALID_ARGUMENT: type URL is required for ADS")
        if self.first_node_id is None:
            self.first_node_id = request.node.id
            self._record_zone_insight(request)
        type_name = request.type_url
        if not request.response_nonce:
            fresh = self.types[type_name] = _TypeState(node_id=request.node.id)
            fresh.stalled = request.node.id != self.first_node_id
            await self._send(type_name)
            return
        found = self.types.get(type_name)
        if found is None or found.in_flight != request.response_nonce:
            return
        state = found
        state.in_flight = None
        if request.node.id != state.node_id:
            state.stalled = True  # the watch opens under another snapshot key
        if request.HasField("error_detail"):
            self.zone.observed.nacks_received.append((type_name, request.error_detail.message))
            self.zone._event("nacked", {"type": type_name, "error": request.error_detail.message})
        else:
            self.zone.observed.acks_received[type_name] += 1
        await self._send(type_name)

    async def push_changes(self) -> None:
        for type_name, state in self.types.items():
            if state.in_flight is None:
                await self._send(type_name)

    def _record_zone_insight(self, request: discovery_pb2.DeltaDiscoveryRequest) -> None:
        """The zone's status tracker names its local ZoneInsight after node.id."""
        if request.node.id != self.zone.zone:
            return
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        global_id = request.node.metadata.fields.get("control-plane-id")
        spec = {
            "subscriptions": [
                {
                    "id": str(uuid.uuid4()),
                    "globalInstanceId": global_id.string_value if global_id else "",
                    "connectTime": now,
                }
            ]
        }
        self.zone.store.put(Resource("ZoneInsight", "", self.zone.zone, spec))

    def _current(self, type_name: str) -> dict[str, discovery_pb2.Resource]:
        if type_name not in self.zone.z2g_types:
            return {}
        out = {}
        for resource in self.zone.store.of_type(type_name):
            if provided_by_this_zone(resource):
                item = self.zone.wire_form(resource)
                out[item.name] = item
        return out

    def _any_provided(self) -> bool:
        provided = set(self.zone.z2g_types)
        return any(r.type in provided and provided_by_this_zone(r) for r in self.zone.store)

    async def _send(self, type_name: str) -> None:
        """The full state if this type was not answered yet on this subscription, else
        what changed since the last response (if anything did)."""
        state = self.types[type_name]
        if state.stalled or state.in_flight is not None:
            return
        if not self.snapshot_ready:
            # The zone answers nothing until its first snapshot, which needs at least one
            # non-empty provided type (spec §5 step 3).
            if not self._any_provided():
                return
            self.snapshot_ready = True
            for other in self.types:
                if other != type_name:
                    await self._send(other)
        current = self._current(type_name)
        if not state.answered:
            changed = list(current.values())
            removed: list[str] = []
        else:
            changed = [r for k, r in current.items() if state.sent.get(k) != r.version]
            removed = [k for k in state.sent if k not in current]
            if not changed and not removed:
                return
        state.answered = True
        state.sent = {k: r.version for k, r in current.items()}
        self.nonce += 1
        state.in_flight = str(self.nonce)
        await self.call.write(
            discovery_pb2.DeltaDiscoveryResponse(
                type_url=type_name,
                resources=changed,
                removed_resources=removed,
                nonce=state.in_flight,
                control_plane=base_pb2.ControlPlane(identifier=self.zone.zone),
            )
        )


def load_ca(path: str | Path | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()

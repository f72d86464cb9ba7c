"""The KDS gRPC server: the two Kuma services with their six RPCs (spec §1), on a
grpc.aio server tuned for long-lived, often idle zone connections (spec §2), plus the
standard gRPC health service.

Every RPC is bound to exactly one control plane and zone (kds/auth.py) or refused, and
always ends with a non-OK status: an OK end makes some zone versions stop syncing
silently (spec §1.3).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from meshmanager.addresses import HostPort
from meshmanager.kds import admin
from meshmanager.kds.auth import (
    BIND_WAIT_SECONDS,
    Refused,
    ZoneIdentity,
    bearer_credential,
    client_id,
    metadata_values,
    zone_config,
)
from meshmanager.kds.connections import refuse_on_error, until_ended
from meshmanager.kds.generated.kuma.mesh.v1alpha1 import kds_pb2
from meshmanager.kds.global_to_zone import GlobalToZoneStream, node_features
from meshmanager.kds.services import KdsServices
from meshmanager.kds.status import Subscription
from meshmanager.kds.tls import TlsMaterial
from meshmanager.kds.zone_to_global import ZoneToGlobalStream
from meshmanager.observability import log_fields
from meshmanager.store.base import Store

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0
MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # Kuma's multizone.*.kds.maxMsgSize default
HEALTH_CHECK_INTERVAL_SECONDS = 0  # Kuma's default: zones keep their 5-minute period
SAFETY_NET_SECONDS = 300.0
UNACCEPTED_CALL_SECONDS = 300
CLOSED = Refused(grpc.StatusCode.UNAVAILABLE, "the stream ended; reconnect")

# Zones ping every 15 s; the server's own pings only find zones that vanished without
# closing their connection (within 60 + 15 s). Each ping costs about 0.1 ms of core
# time: pinging every 15 s as Kuma does would cost 10,000 idle zones ~7 % of a core.
SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 15_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.max_ping_strikes", 0),
    ("grpc.http2.max_pings_without_data", 0),
    # Calls wait in gRPC core until the event loop accepts them, one at a time. By default
    # core cancels those beyond 1,000 waiting 30 s and all beyond 3,000: a reconnect storm
    # of 1,000 zones opens 6,000 at once, and the cancelled zones come back to retry.
    ("grpc.server.max_pending_requests", 100_000),
    ("grpc.server.max_pending_requests_hard_limit", 100_000),
    # And core cancels a call not accepted within 30 s. Behind a busy event loop (zones
    # joining, a whole-heap collection) every zone whose call it cancels reconnects and
    # opens six more: at 10,000 zones joining, that fed on itself.
    ("grpc.server_max_unrequested_time_in_server", UNACCEPTED_CALL_SECONDS),
]

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


class KdsHandlers:
    def __init__(self, services: KdsServices) -> None:
        self.services = services

    async def _connected(
        self, context: Context, identity: ZoneIdentity, work: Callable[[], Awaitable[None]]
    ) -> None:
        connection = self.services.connections.open(identity, context.peer())
        try:
            await until_ended(connection, work())
        finally:
            self.services.connections.close(connection)
        raise CLOSED

    async def global_to_zone(self, requests: AsyncIterator[Any], context: Context) -> None:
        async def handle() -> None:
            zone = client_id(context)
            try:
                first = await asyncio.wait_for(anext(aiter(requests)), BIND_WAIT_SECONDS)
            except StopAsyncIteration:
                raise CLOSED from None
            except TimeoutError:
                raise Refused(
                    grpc.StatusCode.UNAUTHENTICATED,
                    f"no subscription within {BIND_WAIT_SECONDS:.0f}s: nothing to authenticate",
                ) from None
            try:
                identity = await self.services.auth.authenticate_sync(context, zone, first.node)
                await self._sync_down(context, identity, first, requests)
            finally:
                self.services.auth.unbind(context, zone)

        await refuse_on_error(context, handle)

    async def _sync_down(
        self, context: Context, identity: ZoneIdentity, first: Any, requests: AsyncIterator[Any]
    ) -> None:
        metadata = first.node.metadata
        subscription = Subscription(
            identity,
            _string(metadata.fields.get("control-plane-id")),
            _struct(metadata.fields.get("version")),
            zone_config(first.node),
        )
        subscription.message.auth_token_provided = bearer_credential(context) is not None
        features = node_features(first.node)
        await self.services.signing_keys.ensure_zone_token_key(identity.scope)
        stream = GlobalToZoneStream(self.services, identity, features, subscription, context.write)
        await self.services.status.opened(subscription)
        fields = log_fields(zone=identity.zone, cp=str(identity.cp_id), peer=context.peer())
        log.info("zone connected", extra=fields)
        try:
            await self._connected(context, identity, lambda: stream.run(first, requests))
        finally:
            log.info("zone disconnected", extra=fields)  # first: the shield below may raise
            await asyncio.shield(self.services.status.closed(subscription))

    async def zone_to_global(self, responses: AsyncIterator[Any], context: Context) -> None:
        async def handle() -> None:
            zone = client_id(context)
            identity = await self.services.auth.authenticate_other(context, zone)
            hash_suffix = "hash-suffix" in metadata_values(context, "features")
            stream = ZoneToGlobalStream(self.services, identity, context.write, hash_suffix)
            await self._connected(context, identity, lambda: stream.run(responses))

        await refuse_on_error(context, handle)

    async def health_check(self, request: Any, context: Context) -> kds_pb2.ZoneHealthCheckResponse:
        async def handle() -> None:
            identity = await self.services.auth.authenticate_other(context, client_id(context))
            self.services.status.health_checked(identity)

        await refuse_on_error(context, handle)
        response = kds_pb2.ZoneHealthCheckResponse()
        response.interval.seconds = HEALTH_CHECK_INTERVAL_SECONDS
        return response

    def envoy_admin(self, kind: str) -> Callable[[AsyncIterator[Any], Context], Awaitable[None]]:
        async def stream(responses: AsyncIterator[Any], context: Context) -> None:
            async def handle() -> None:
                identity = await self.services.auth.authenticate_other(context, client_id(context))
                await self._connected(
                    context,
                    identity,
                    lambda: self.services.admin.serve(
                        kind, identity.cp_id, identity.zone, responses, context.write
                    ),
                )

            await refuse_on_error(context, handle)

        return stream


def _string(value: Any) -> str:
    return value.string_value if value is not None and value.HasField("string_value") else ""


def _struct(value: Any) -> Any:
    return (
        json_format.MessageToDict(value.struct_value)
        if value is not None and value.HasField("struct_value")
        else None
    )


def _generic_handlers(handlers: KdsHandlers) -> list[grpc.GenericRpcHandler]:
    req, resp = discovery_pb2.DeltaDiscoveryRequest, discovery_pb2.DeltaDiscoveryResponse
    sync = {
        "GlobalToZoneSync": grpc.stream_stream_rpc_method_handler(
            handlers.global_to_zone, req.FromString, resp.SerializeToString
        ),
        "ZoneToGlobalSync": grpc.stream_stream_rpc_method_handler(
            handlers.zone_to_global, resp.FromString, req.SerializeToString
        ),
    }
    pairs: dict[str, tuple[str, Any, Any]] = {
        "StreamXDSConfigs": (admin.XDS, kds_pb2.XDSConfigResponse, kds_pb2.XDSConfigRequest),
        "StreamStats": (admin.STATS, kds_pb2.StatsResponse, kds_pb2.StatsRequest),
        "StreamClusters": (admin.CLUSTERS, kds_pb2.ClustersResponse, kds_pb2.ClustersRequest),
    }
    global_service: dict[str, grpc.RpcMethodHandler] = {
        name: grpc.stream_stream_rpc_method_handler(
            handlers.envoy_admin(kind), incoming.FromString, outgoing.SerializeToString
        )
        for name, (kind, incoming, outgoing) in pairs.items()
    }
    global_service["HealthCheck"] = grpc.unary_unary_rpc_method_handler(
        handlers.health_check,
        kds_pb2.ZoneHealthCheckRequest.FromString,
        kds_pb2.ZoneHealthCheckResponse.SerializeToString,
    )
    return [
        grpc.method_handlers_generic_handler("kuma.mesh.v1alpha1.KDSSyncService", sync),
        grpc.method_handlers_generic_handler("kuma.mesh.v1alpha1.GlobalKDSService", global_service),
    ]


class KdsServer:
    def __init__(self, address: HostPort, store: Store, tls: TlsMaterial | None) -> None:
        self.address = address
        self.services = KdsServices.for_store(store)
        self.server = grpc.aio.server(
            options=SERVER_OPTIONS, compression=grpc.Compression.NoCompression
        )
        self.server.add_generic_rpc_handlers(_generic_handlers(KdsHandlers(self.services)))
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        if tls is None:
            self.port = self.server.add_insecure_port(address.grpc_target)
        else:
            credentials = grpc.ssl_server_credentials([(tls.key_pem, tls.cert_pem)])
            self.port = self.server.add_secure_port(address.grpc_target, credentials)
        if self.port == 0:
            raise OSError(f"cannot listen for KDS on {address}")
        self._safety_net: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Before zones can connect: what a crash left recorded as connected is not.
        await self.services.status.finalize_abandoned(starting=True)
        await self.server.start()
        self.services.status.start()
        self._safety_net = asyncio.create_task(self._reconcile_forever())
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)

    async def _reconcile_forever(self) -> None:
        """A safety net only: changes are pushed as they commit."""
        while True:
            await asyncio.sleep(SAFETY_NET_SECONDS)
            self.services.feed.poke_all()

    async def stop(self) -> None:
        """New calls are refused; live zone streams end UNAVAILABLE so zones reconnect
        (to another replica, or to this one once it is back)."""
        await self.health.enter_graceful_shutdown()
        if self._safety_net is not None:
            self._safety_net.cancel()
        self.services.connections.end_all(
            Refused(grpc.StatusCode.UNAVAILABLE, "the server is shutting down; reconnect")
        )
        await self.server.stop(SHUTDOWN_GRACE_SECONDS)
        await self.services.status.stop()

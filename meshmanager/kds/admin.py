"""Envoy admin forwarding (spec §6.2): the global asks a zone for a proxy's config dump,
stats or clusters over the zone's StreamXDSConfigs / StreamStats / StreamClusters, and
matches the answers to the questions by request id."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from meshmanager.api.kuma.envoy_admin import ForwardingFailed
from meshmanager.kds.generated.kuma.mesh.v1alpha1 import kds_pb2
from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.stored import Resource

TIMEOUT_SECONDS = 15.0  # the zone itself gives Envoy 10 s

XDS, STATS, CLUSTERS = "xds", "stats", "clusters"


class AdminUnavailable(ForwardingFailed):
    """The zone cannot answer: offline, no stream, timed out, or it reported an error."""


@dataclass
class _Stream:
    write: Callable[[Any], Awaitable[None]]
    pending: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)  # one write at a time


def zone_local_name(resource: Resource) -> str:
    """The name the zone knows the proxy by: its display name, plus `.<namespace>` on
    Kubernetes zones."""
    name = resource.labels.get(kuma_labels.DISPLAY_NAME) or resource.name
    namespace = resource.labels.get(kuma_labels.NAMESPACE)
    return f"{name}.{namespace}" if namespace else name


def _request(kind: str, request_id: str, resource: Resource, json_format: bool) -> Any:
    common: dict[str, Any] = {
        "request_id": request_id,
        "resource_type": resource.type,
        "resource_name": zone_local_name(resource),
        "resource_mesh": resource.mesh,
    }
    output = kds_pb2.AdminOutputFormat.JSON if json_format else kds_pb2.AdminOutputFormat.TEXT
    if kind == XDS:
        return kds_pb2.XDSConfigRequest(**common, include_eds=False)
    if kind == STATS:
        return kds_pb2.StatsRequest(**common, format=output)
    return kds_pb2.ClustersRequest(**common, format=output)


def _payload(kind: str, response: Any) -> bytes:
    if response.WhichOneof("result") == "error":
        raise AdminUnavailable(f"the zone could not reach the proxy's Envoy: {response.error}")
    value = {XDS: "config", STATS: "stats", CLUSTERS: "clusters"}[kind]
    data: bytes = getattr(response, value)
    return data


class EnvoyAdminStreams:
    def __init__(self) -> None:
        self._streams: dict[tuple[UUID, str, str], _Stream] = {}

    async def serve(
        self,
        kind: str,
        cp_id: UUID,
        zone: str,
        responses: AsyncIterator[Any],
        write: Callable[[Any], Awaitable[None]],
    ) -> None:
        """Holds a zone's stream of one kind open, answering callers of `forward`."""
        key = (cp_id, zone, kind)
        stream = self._streams[key] = _Stream(write)
        try:
            async for response in responses:
                waiter = stream.pending.pop(response.request_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(response)
        finally:
            if self._streams.get(key) is stream:
                del self._streams[key]
            for waiter in stream.pending.values():
                if not waiter.done():
                    waiter.set_exception(AdminUnavailable("the zone disconnected"))

    def connected(self, cp_id: UUID, zone: str, kind: str) -> bool:
        return (cp_id, zone, kind) in self._streams

    async def forward(
        self, cp_id: UUID, zone: str, kind: str, resource: Resource, json_format: bool = False
    ) -> bytes:
        stream = self._streams.get((cp_id, zone, kind))
        if stream is None:
            raise AdminUnavailable(f"zone {zone!r} is not connected to this control plane")
        request_id = str(uuid.uuid4())
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        stream.pending[request_id] = waiter
        try:
            async with stream.writing:
                await stream.write(_request(kind, request_id, resource, json_format))
            response = await asyncio.wait_for(waiter, TIMEOUT_SECONDS)
        except TimeoutError:
            raise AdminUnavailable(
                f"zone {zone!r} did not answer within {TIMEOUT_SECONDS:.0f}s"
            ) from None
        finally:
            stream.pending.pop(request_id, None)
        return _payload(kind, response)

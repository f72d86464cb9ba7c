"""Resources in their KDS wire form: `kuma.mesh.v1alpha1.KumaResource` envelopes inside
delta-xDS `Resource`s (spec §3, §10, §11).

Old-style types carry their spec as a packed protobuf `Any`; new-style types carry JSON
bytes with an empty type URL. Envelopes are keyed `<name>.<mesh>` (trailing dot for
global-scoped resources).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from envoy.service.discovery.v3 import discovery_pb2
from google.protobuf import any_pb2, json_format
from google.protobuf.message import DecodeError, Message

from meshmanager.kds.generated.kuma.mesh.v1alpha1 import (
    circuit_breaker_pb2,
    dataplane_insight_pb2,
    dataplane_pb2,
    externalservice_pb2,
    fault_injection_pb2,
    gateway_pb2,
    gateway_route_pb2,
    health_check_pb2,
    kds_pb2,
    mesh_pb2,
    proxy_template_pb2,
    rate_limit_pb2,
    retry_pb2,
    service_insight_pb2,
    timeout_pb2,
    traffic_log_pb2,
    traffic_permission_pb2,
    traffic_route_pb2,
    traffic_trace_pb2,
    virtual_outbound_pb2,
    zone_ingress_insight_pb2,
    zone_ingress_pb2,
    zoneegress_pb2,
    zoneegressinsight_pb2,
)
from meshmanager.kds.generated.kuma.system.v1alpha1 import config_pb2, secret_pb2
from meshmanager.kds.protojson import message_to_dict
from meshmanager.model.resources.registry import BY_NAME, Style
from meshmanager.model.resources.stored import Resource

TYPE_URL_PREFIX = "type.googleapis.com/"
KUMA_RESOURCE_TYPE_URL = TYPE_URL_PREFIX + "kuma.mesh.v1alpha1.KumaResource"
SHARED_LABEL_VALUES = frozenset(
    {"kuma.io/origin", "kuma.io/zone", "kuma.io/mesh", "kuma.io/env", "kuma.io/proxy-type"}
)
CONFIG = "Config"  # not REST-visible, so not in the registry; only `kuma-cluster-id` syncs

SPEC_MESSAGES: dict[str, type[Message]] = {
    "CircuitBreaker": circuit_breaker_pb2.CircuitBreaker,
    CONFIG: config_pb2.Config,
    "Dataplane": dataplane_pb2.Dataplane,
    "DataplaneInsight": dataplane_insight_pb2.DataplaneInsight,
    "ExternalService": externalservice_pb2.ExternalService,
    "FaultInjection": fault_injection_pb2.FaultInjection,
    "GlobalSecret": secret_pb2.Secret,
    "HealthCheck": health_check_pb2.HealthCheck,
    "Mesh": mesh_pb2.Mesh,
    "MeshGateway": gateway_pb2.MeshGateway,
    "MeshGatewayRoute": gateway_route_pb2.MeshGatewayRoute,
    "ProxyTemplate": proxy_template_pb2.ProxyTemplate,
    "RateLimit": rate_limit_pb2.RateLimit,
    "Retry": retry_pb2.Retry,
    "Secret": secret_pb2.Secret,
    "ServiceInsight": service_insight_pb2.ServiceInsight,
    "Timeout": timeout_pb2.Timeout,
    "TrafficLog": traffic_log_pb2.TrafficLog,
    "TrafficPermission": traffic_permission_pb2.TrafficPermission,
    "TrafficRoute": traffic_route_pb2.TrafficRoute,
    "TrafficTrace": traffic_trace_pb2.TrafficTrace,
    "VirtualOutbound": virtual_outbound_pb2.VirtualOutbound,
    "ZoneEgress": zoneegress_pb2.ZoneEgress,
    "ZoneEgressInsight": zoneegressinsight_pb2.ZoneEgressInsight,
    "ZoneIngress": zone_ingress_pb2.ZoneIngress,
    "ZoneIngressInsight": zone_ingress_insight_pb2.ZoneIngressInsight,
}

# Types that travel over KDS, by Kuma type name: every REST type with a sync direction,
# and Config.
KDS_TYPES = frozenset({t.name for t in BY_NAME.values() if t.sync} | {CONFIG})


class EnvelopeError(ValueError):
    """A resource that cannot be encoded or decoded; the message says why."""


def is_json_type(type_name: str) -> bool:
    return type_name not in SPEC_MESSAGES and BY_NAME[type_name].style == Style.NEW


def is_packed_type(type_name: str) -> bool:
    """Its spec travels as a packed protobuf message (not JSON)."""
    return type_name in SPEC_MESSAGES


def has_status(type_name: str) -> bool:
    rt = BY_NAME.get(type_name)
    return rt is not None and rt.has_status


def key(name: str, mesh: str) -> str:
    return f"{name}.{mesh}"


def split_key(text: str) -> tuple[str, str]:
    """(name, mesh) of a removed-resource key: the mesh follows the last dot."""
    name, dot, mesh = text.rpartition(".")
    return (name, mesh) if dot else (text, "")


def _pack_spec(type_name: str, spec: Any) -> any_pb2.Any:
    message_class = SPEC_MESSAGES.get(type_name)
    if message_class is None:
        return any_pb2.Any(value=orjson.dumps(spec if spec is not None else {}))
    message = message_class()
    try:
        json_format.ParseDict(spec or {}, message)
    except json_format.ParseError as error:
        raise EnvelopeError(
            f"{type_name} spec does not fit its protobuf message: {error}"
        ) from None
    return any_pb2.Any(
        type_url=TYPE_URL_PREFIX + message.DESCRIPTOR.full_name,
        value=message.SerializeToString(deterministic=True),
    )


def encode(resource: Resource, include_status: bool) -> kds_pb2.KumaResource:
    envelope = kds_pb2.KumaResource(
        meta=kds_pb2.KumaResource.Meta(
            name=resource.name, mesh=resource.mesh, labels=resource.labels
        ),
        spec=_pack_spec(resource.type, resource.spec),
    )
    if include_status and has_status(resource.type):
        envelope.status.value = resource.status_json or b"{}"
    return envelope


def to_xds(resource: Resource, include_status: bool) -> discovery_pb2.Resource:
    envelope = encode(resource, include_status)
    payload = envelope.SerializeToString(deterministic=True)
    return discovery_pb2.Resource(
        name=key(resource.name, resource.mesh),
        version=hashlib.sha256(payload).hexdigest(),
        resource=any_pb2.Any(type_url=KUMA_RESOURCE_TYPE_URL, value=payload),
    )


def _unpack_spec(type_name: str, spec: any_pb2.Any) -> Any:
    message_class = SPEC_MESSAGES.get(type_name)
    if message_class is None:
        if not spec.value:
            raise EnvelopeError(f"{type_name}: the JSON spec is empty")
        return _json(spec.value, f"{type_name} spec")
    expected = TYPE_URL_PREFIX + message_class.DESCRIPTOR.full_name
    if spec.type_url != expected:
        raise EnvelopeError(f"{type_name}: spec type URL {spec.type_url!r}, expected {expected!r}")
    message = message_class()
    try:
        message.ParseFromString(spec.value)
    except DecodeError as error:
        raise EnvelopeError(f"{type_name}: spec is not a valid protobuf: {error}") from None
    return message_to_dict(message)


def _json(data: bytes, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise EnvelopeError(f"{what} is not valid JSON: {error}") from None


@dataclass(frozen=True)
class Decoded:
    """One resource of a response, decoded but not yet a `Resource`: its spec and status
    are still the dicts a receiver checks and adjusts before storing them."""

    type: str
    mesh: str
    name: str
    labels: dict[str, str]
    spec: Any
    status: Any

    def resource(self) -> Resource:
        return Resource(self.type, self.mesh, self.name, self.spec, self.labels, self.status)


def decode(type_name: str, item: discovery_pb2.Resource) -> Decoded:
    """Decodes one resource of a response; raises EnvelopeError with the reason."""
    packed = item.resource
    if not packed.type_url.endswith("/kuma.mesh.v1alpha1.KumaResource"):
        raise EnvelopeError(
            f"{item.name}: resource type URL {packed.type_url!r} is not a KumaResource"
        )
    envelope = kds_pb2.KumaResource()
    try:
        envelope.ParseFromString(packed.value)
    except DecodeError as error:
        raise EnvelopeError(f"{item.name}: not a KumaResource: {error}") from None
    if not envelope.HasField("spec"):
        raise EnvelopeError(f"{item.name}: the resource has no spec")
    meta = envelope.meta
    if not meta.name:
        raise EnvelopeError(f"{item.name}: the resource has no name")
    status = None
    if has_status(type_name) and envelope.HasField("status") and envelope.status.value:
        status = _json(envelope.status.value, f"{type_name} status")
    spec = _unpack_spec(type_name, envelope.spec)
    return Decoded(type_name, meta.mesh, meta.name, _labels(meta.labels), spec, status)


def _labels(given: Mapping[str, str]) -> dict[str, str]:
    """Label keys, and the values of labels most resources share, as one string object
    each: a control plane keeps hundreds of thousands of these."""
    return {
        sys.intern(key): sys.intern(value) if key in SHARED_LABEL_VALUES else value
        for key, value in given.items()
    }


def from_xds(type_name: str, item: discovery_pb2.Resource) -> Resource:
    return decode(type_name, item).resource()

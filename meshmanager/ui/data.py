"""What the console's pages show, computed from the store and the resource cache:
control plane statistics, dataplane rows with certificate info, zones, YAML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import yaml
from sqlalchemy import RowMapping

from meshmanager.api.kuma.codec import render
from meshmanager.api.kuma.context import KumaCall
from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.insights import (
    SERVICE_TAG,
    DataplaneOverview,
    Status,
    is_online,
)
from meshmanager.model.resources.registry import BY_NAME, ResourceType, kuma_types
from meshmanager.model.resources.stored import Resource
from meshmanager.model.zone_deploy import KUMA_VERSION as GLOBAL_KUMA_VERSION
from meshmanager.store.resources import ResourceQuery
from meshmanager.store.zones import is_online as zone_record_online

CERT_EXPIRING_SOON = timedelta(days=1)
HEALTH_CHECK_RECENT = timedelta(minutes=1)
ROW_MEMO = "console-row"


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


# --- YAML ------------------------------------------------------------------------


def to_yaml(rt: ResourceType, resource: Resource) -> str:
    """The resource as kumactl shows it: its REST form, in YAML."""
    body = orjson.loads(render(rt, resource))
    for key in ("creationTime", "modificationTime", "kri"):
        body.pop(key, None)
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def plain_yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100)


def line_of_path(text: str, path: str) -> int | None:
    """The 1-based line of `path` (Kuma's field path, e.g. `spec.from[0].default.action`)
    in a YAML document, or of its deepest existing parent; None if the YAML is broken."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key, index in _path_steps(path):
        if not isinstance(node, yaml.MappingNode):
            break
        found = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        if found is None:
            key_node = None
            break
        key_node = next(k for k, v in node.value if getattr(k, "value", None) == key)
        line = key_node.start_mark.line + 1
        node = found
        for i in index:
            if isinstance(node, yaml.SequenceNode) and 0 <= i < len(node.value):
                node = node.value[i]
                line = node.start_mark.line + 1
            else:
                break
    return line


def _path_steps(path: str) -> list[tuple[str, list[int]]]:
    steps: list[tuple[str, list[int]]] = []
    for part in path.replace('["', ".").replace('"]', "").split("."):
        if not part:
            continue
        name, _, rest = part.partition("[")
        indexes = []
        if rest:
            for chunk in ("[" + rest).split("["):
                chunk = chunk.rstrip("]")
                if chunk.isdigit():
                    indexes.append(int(chunk))
        steps.append((name, indexes))
    return steps


def yaml_error(error: yaml.YAMLError) -> tuple[str, int | None]:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(error, "problem", None) or str(error)
    return f"not valid YAML: {problem}", line


# --- dataplanes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    expires: datetime | None
    generated: datetime | None
    generations: int
    issuer: str
    supported: tuple[str, ...]


@dataclass(frozen=True)
class DataplaneRow:
    """One dataplane as the console lists it. Computed once per (dataplane, insight)
    pair and remembered on the dataplane while its insight stays the same object."""

    name: str
    mesh: str
    zone: str
    kind: str  # sidecar, builtin gateway, delegated gateway
    services: tuple[str, ...]
    status: Status
    kuma_dp_version: str
    envoy_version: str
    version_compatible: bool
    certificate: Certificate | None
    address: str
    tags: Mapping[str, str]

    @property
    def online(self) -> bool:
        return self.status is Status.ONLINE

    @property
    def status_class(self) -> str:
        return {
            Status.ONLINE: "online",
            Status.OFFLINE: "offline",
            Status.PARTIALLY_DEGRADED: "degraded",
        }[self.status]

    def spiffe_id(self) -> str | None:
        if self.certificate is None or not self.services:
            return None
        return f"spiffe://{self.mesh}/{self.services[0]}"

    def warnings(self, at: datetime) -> list[str]:
        found = []
        cert = self.certificate
        if cert is not None and cert.expires is not None:
            if cert.expires <= at:
                found.append("Certificate expired")
            elif cert.expires - at <= CERT_EXPIRING_SOON:
                found.append("Certificate expires soon")
        if not self.version_compatible:
            found.append("Version mismatch")
        return found


def dataplane_row(dataplane: Resource, insight: Resource | None) -> DataplaneRow:
    cached = dataplane.memo.get(ROW_MEMO)
    if cached is not None and cached[0] is insight:
        row: DataplaneRow = cached[1]
        return row
    row = _dataplane_row(dataplane, insight)
    dataplane.memo[ROW_MEMO] = (insight, row)
    return row


def _dataplane_row(dataplane: Resource, insight: Resource | None) -> DataplaneRow:
    overview = DataplaneOverview(dataplane, insight)
    networking = overview.networking
    gateway = networking.get("gateway")
    services: list[str] = []
    tags: dict[str, str] = {}
    if gateway is not None:
        kind = "builtin gateway" if overview.gateway_type == "BUILTIN" else "delegated gateway"
        tags.update(gateway.get("tags") or {})
        if tags.get(SERVICE_TAG):
            services.append(tags[SERVICE_TAG])
    else:
        kind = "sidecar"
        for inbound in networking.get("inbound") or []:
            inbound_tags = inbound.get("tags") or {}
            tags.update(inbound_tags)
            service = inbound_tags.get(SERVICE_TAG)
            if service and service not in services:
                services.append(service)
    kuma_dp, envoy = overview.versions()
    subscriptions = overview.insight_spec.get("subscriptions") or []
    version = (subscriptions[-1].get("version") or {}) if subscriptions else {}
    compatible = (version.get("kumaDp") or {}).get("kumaCpCompatible", True) is not False
    compatible = (
        compatible and (version.get("envoy") or {}).get("kumaDpCompatible", True) is not False
    )
    mtls = overview.insight_spec.get("mTLS")
    certificate = None
    if isinstance(mtls, dict) and mtls:
        certificate = Certificate(
            expires=parse_time(mtls.get("certificateExpirationTime")),
            generated=parse_time(mtls.get("lastCertificateRegeneration")),
            generations=int(mtls.get("certificateRegenerations") or 0),
            issuer=str(mtls.get("issuedBackend") or ""),
            supported=tuple(mtls.get("supportedBackends") or ()),
        )
    return DataplaneRow(
        name=dataplane.name,
        mesh=dataplane.mesh,
        zone=dataplane.labels.get(kuma_labels.ZONE, ""),
        kind=kind,
        services=tuple(services),
        status=overview.status,
        kuma_dp_version=kuma_dp,
        envoy_version=envoy,
        version_compatible=compatible,
        certificate=certificate,
        address=str(networking.get("address") or ""),
        tags=tags,
    )


@dataclass(frozen=True)
class DataplaneFilter:
    name: str = ""
    zone: str = ""
    service: str = ""
    status: str = ""  # online, offline, degraded

    @property
    def active(self) -> bool:
        return bool(self.name or self.zone or self.service or self.status)

    def matches(self, row: DataplaneRow) -> bool:
        if self.name and self.name not in row.name:
            return False
        if self.zone and row.zone != self.zone:
            return False
        if self.service and self.service not in row.services:
            return False
        return not self.status or row.status_class == self.status


@dataclass
class DataplanePage:
    rows: list[DataplaneRow]
    total: int  # matching the filter
    all_total: int
    zones: list[str]
    services: list[str]


async def dataplane_page(
    call: KumaCall, mesh: str, wanted: DataplaneFilter, offset: int, size: int
) -> DataplanePage:
    cp = await call.store.resources.loaded(call.scope)
    zones: set[str] = set()
    services: set[str] = set()
    matching: list[DataplaneRow] = []
    total = 0
    for dataplane in cp.of_type("Dataplane", mesh):
        total += 1
        row = dataplane_row(dataplane, cp.get(("DataplaneInsight", mesh, dataplane.name)))
        if row.zone:
            zones.add(row.zone)
        services.update(row.services)
        if wanted.matches(row):
            matching.append(row)
    return DataplanePage(
        matching[offset : offset + size], len(matching), total, sorted(zones), sorted(services)
    )


# --- meshes and control planes -------------------------------------------------------


@dataclass(frozen=True)
class MeshStats:
    name: str
    mtls_backend: str | None  # the enabled backend, None when mTLS is off
    mtls_type: str | None
    services: int
    dataplanes_total: int
    dataplanes_online: int
    policies: int


def mtls_of(mesh: Resource) -> tuple[str | None, str | None]:
    mtls = (mesh.spec or {}).get("mtls") or {}
    enabled = mtls.get("enabledBackend") or None
    kind = None
    for backend in mtls.get("backends") or []:
        if backend.get("name") == enabled:
            kind = backend.get("type")
    return enabled, kind


async def mesh_stats(call: KumaCall, meshes: Sequence[Resource]) -> list[MeshStats]:
    """Counters of each mesh from its dataplanes' memoized rows: only the dataplanes
    that changed since the last look are looked at again."""
    cp = await call.store.resources.loaded(call.scope)
    counts = await call.store.resources.count_by_type(call.scope)
    policy_names = {t.name for t in kuma_types() if t.is_policy}
    result = []
    for mesh in meshes:
        total = online = 0
        services: set[str] = set()
        for dataplane in cp.of_type("Dataplane", mesh.name):
            row = dataplane_row(dataplane, cp.get(("DataplaneInsight", mesh.name, dataplane.name)))
            total += 1
            online += row.online
            services.update(row.services)
        external = sum(1 for _ in cp.of_type("ExternalService", mesh.name))
        mesh_services = counts.get(("MeshService", mesh.name), 0)
        policies = sum(n for (t, m), n in counts.items() if m == mesh.name and t in policy_names)
        backend, kind = mtls_of(mesh)
        result.append(
            MeshStats(
                name=mesh.name,
                mtls_backend=backend,
                mtls_type=kind,
                services=len(services) + external + mesh_services,
                dataplanes_total=total,
                dataplanes_online=online,
                policies=policies,
            )
        )
    return result


@dataclass(frozen=True)
class ZoneRow:
    name: str
    online: bool
    environment: str  # kubernetes, universal, or "" when unknown
    version: str
    compatible: bool
    last_connected: datetime | None
    last_disconnected: datetime | None
    health_check: datetime | None
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] | None = None
    enabled: bool = True
    record: RowMapping | None = None  # the `zones` row of a zone created here

    def warnings(self, at: datetime) -> list[str]:
        found = []
        if not self.online:
            found.append("Offline")
        if self.version and (not self.compatible or self.version != GLOBAL_KUMA_VERSION):
            found.append("Version mismatch")
        if self.online and (
            self.health_check is None or at - self.health_check > HEALTH_CHECK_RECENT
        ):
            found.append("No recent health check")
        if self.config and (self.config.get("store") or {}).get("type") == "memory":
            found.append("Uses memory store")
        return found


def zone_row(
    name: str,
    zone: Resource | None,
    insight: Resource | None,
    record: RowMapping | None = None,
    at: datetime | None = None,
) -> ZoneRow:
    """A zone from its resources and, for a zone created here, its `zones` row: the
    row's connection state (kept by the KDS server) decides whether it is online."""
    spec = (insight.spec if insight is not None else None) or {}
    subscriptions = list(spec.get("subscriptions") or [])
    last = subscriptions[-1] if subscriptions else {}
    kuma_cp = (last.get("version") or {}).get("kumaCp") or {}
    config: dict[str, Any] | None = None
    raw = last.get("config")
    if isinstance(raw, str) and raw:
        try:
            loaded = orjson.loads(raw)
            config = loaded if isinstance(loaded, dict) else None
        except orjson.JSONDecodeError:
            config = None
    environment = str((config or {}).get("environment") or "")
    online = is_online(spec)
    connected_at = None
    if record is not None:
        connected_at = record["connected_at"]
        environment = environment or str(record.get("environment") or "")
        online = zone_record_online(record, at or now())
    return ZoneRow(
        name=name,
        online=online,
        environment=environment,
        version=str(kuma_cp.get("version") or ""),
        compatible=kuma_cp.get("kumaCpGlobalCompatible", True) is not False,
        last_connected=parse_time(last.get("connectTime")) or connected_at,
        last_disconnected=parse_time(last.get("disconnectTime")),
        health_check=parse_time((spec.get("healthCheck") or {}).get("time")),
        subscriptions=subscriptions,
        config=config,
        enabled=(zone.spec or {}).get("enabled", True) is not False if zone else True,
        record=record,
    )


async def zone_rows(
    call: KumaCall, records: Mapping[str, RowMapping] | None = None
) -> list[ZoneRow]:
    """Zones known as Zone resources, or only by an insight, or (`records`, the
    `zones` rows by name) created here and not yet connected."""
    cp = await call.store.resources.loaded(call.scope)
    records = records or {}
    names = {z.name for z in cp.of_type("Zone", "")}
    names |= {i.name for i in cp.of_type("ZoneInsight", "")}
    names |= set(records)
    at = now()
    return [
        zone_row(
            name,
            cp.get(("Zone", "", name)),
            cp.get(("ZoneInsight", "", name)),
            records.get(name),
            at,
        )
        for name in sorted(names)
    ]


@dataclass(frozen=True)
class CpStats:
    zones_total: int
    zones_online: int
    meshes: int
    services: int
    dataplanes_total: int
    dataplanes_online: int
    policies: int


async def cp_stats(call: KumaCall, zones: Sequence[ZoneRow]) -> tuple[CpStats, list[MeshStats]]:
    meshes, _ = await call.store.resources.find(call.scope, ResourceQuery("Mesh", ""))
    per_mesh = await mesh_stats(call, meshes)
    stats = CpStats(
        zones_total=len(zones),
        zones_online=sum(1 for z in zones if z.online),
        meshes=len(meshes),
        services=sum(m.services for m in per_mesh),
        dataplanes_total=sum(m.dataplanes_total for m in per_mesh),
        dataplanes_online=sum(m.dataplanes_online for m in per_mesh),
        policies=sum(m.policies for m in per_mesh),
    )
    return stats, per_mesh


# --- policies ------------------------------------------------------------------------


def policy_types() -> list[ResourceType]:
    """Every policy type, targetRef ones first, each group by name."""
    types = [t for t in kuma_types() if t.is_policy and t.writable_on_global]
    return sorted(types, key=lambda t: (not t.policy.is_target_ref, t.name))


def resource_type_named(name: str) -> ResourceType | None:
    return BY_NAME.get(name)


def policy_direction(rt: ResourceType) -> list[str]:
    flags = []
    if rt.policy.has_from or rt.policy.has_rules:
        flags.append("Inbound")
    if rt.policy.has_to:
        flags.append("Outbound")
    return flags

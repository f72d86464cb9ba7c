"""Insights the global computes from stored resources, as Kuma's insights resyncer and
global insight service do (`pkg/insights/resyncer.go`,
`pkg/insights/globalinsight/global_insight_service.go`): dataplane status, MeshInsight,
ServiceInsight and the global summaries.

Specs are built in Kuma's protojson form: zero counters and empty maps are left out,
so an all-zero statistic is `{}`, never missing where kumactl dereferences it.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from meshmanager.model.resources.registry import Scope, kuma_types
from meshmanager.model.resources.stored import Resource

SERVICE_TAG = "kuma.io/service"
ZONE_TAG = "kuma.io/zone"
UNKNOWN_VERSION = "unknown"
DNS_DOMAIN = "mesh"
SERVICE_VIP_PORT = 80
SERVICE_TYPES = ("internal", "external", "gateway_delegated", "gateway_builtin")
# Types the global insight counts itself rather than through the mesh insights.
_GLOBAL_TYPES_COUNTED_ELSEWHERE = frozenset({"Mesh", "Zone", "ZoneIngress", "ZoneEgress"})


class Status(enum.Enum):
    ONLINE = "Online"
    OFFLINE = "Offline"
    PARTIALLY_DEGRADED = "Partially degraded"


def is_online(insight_spec: Any) -> bool:
    """Kuma's `IsOnline` of every insight: a subscription connected and not disconnected."""
    subscriptions = (insight_spec or {}).get("subscriptions") or []
    return any(s.get("connectTime") and not s.get("disconnectTime") for s in subscriptions)


@dataclass(frozen=True)
class DataplaneOverview:
    """A dataplane and its insight (None when the zone has not reported one). Specs are
    decoded once: an insight computation reads them several times per dataplane."""

    dataplane: Resource
    insight: Resource | None = None

    @cached_property
    def networking(self) -> dict[str, Any]:
        networking: dict[str, Any] = (self.dataplane.spec or {}).get("networking") or {}
        return networking

    @cached_property
    def insight_spec(self) -> dict[str, Any]:
        return {} if self.insight is None else (self.insight.spec or {})

    @cached_property
    def gateway_type(self) -> str | None:
        """BUILTIN or DELEGATED (the protobuf default) for a gateway, else None."""
        gateway = self.networking.get("gateway")
        if gateway is None:
            return None
        return "BUILTIN" if gateway.get("type") == "BUILTIN" else "DELEGATED"

    @cached_property
    def status(self) -> Status:
        """`DataplaneOverviewResource.Status`: a gateway follows its connection; a sidecar
        is online only while connected with every inbound and listener ready."""
        online = is_online(self.insight_spec)
        if self.gateway_type is not None:
            return Status.ONLINE if online else Status.OFFLINE
        inbounds = self.networking.get("inbound") or []
        listeners = self.networking.get("listeners") or []
        ready = sum(1 for i in inbounds if _inbound_ready(i))
        ready += sum(1 for listener in listeners if listener.get("state", "Ready") == "Ready")
        if not online or ready == 0:
            return Status.OFFLINE
        if ready < len(inbounds) + len(listeners):
            return Status.PARTIALLY_DEGRADED
        return Status.ONLINE

    def versions(self) -> tuple[str, str]:
        """(kuma-dp, envoy) versions of the last subscription, "unknown" when not reported."""
        subscriptions = self.insight_spec.get("subscriptions") or []
        version = (subscriptions[-1].get("version") or {}) if subscriptions else {}
        kuma_dp = (version.get("kumaDp") or {}).get("version") or UNKNOWN_VERSION
        envoy = (version.get("envoy") or {}).get("version") or UNKNOWN_VERSION
        return kuma_dp, envoy


def _inbound_ready(inbound: dict[str, Any]) -> bool:
    health = inbound.get("health")
    if health is not None and not health.get("ready"):
        return False
    return inbound.get("state") != "NotReady"


def _active_inbounds(overview: DataplaneOverview) -> Iterable[dict[str, Any]]:
    return (i for i in overview.networking.get("inbound") or [] if i.get("state") != "Ignored")


@dataclass
class Counts:
    """MeshInsight's DataplaneStat."""

    total: int = 0
    online: int = 0
    offline: int = 0
    partially_degraded: int = 0

    def add(self, status: Status, n: int = 1) -> None:
        self.total += n
        self.count(status, n)

    def count(self, status: Status, n: int = 1) -> None:
        if status is Status.ONLINE:
            self.online += n
        elif status is Status.OFFLINE:
            self.offline += n
        else:
            self.partially_degraded += n

    def to_json(self) -> dict[str, int]:
        values = {
            "total": self.total,
            "online": self.online,
            "offline": self.offline,
            "partiallyDegraded": self.partially_degraded,
        }
        return {key: value for key, value in values.items() if value}

    def full(self) -> dict[str, int]:
        """The global insight's FullStatus: every counter, zero or not."""
        return {
            "offline": self.offline,
            "online": self.online,
            "partiallyDegraded": self.partially_degraded,
            "total": self.total,
        }


@dataclass(frozen=True)
class MeshInputs:
    """What a mesh's insights are computed from."""

    mesh: Resource
    dataplanes: Sequence[DataplaneOverview] = ()
    external_services: Sequence[Resource] = ()
    resource_counts: Mapping[str, int] = field(default_factory=dict)  # type -> count

    @property
    def exclusive_mesh_services(self) -> bool:
        """In Exclusive mode MeshService replaces services built from kuma.io/service tags."""
        mesh_services = (self.mesh.spec or {}).get("meshServices") or {}
        return bool(mesh_services.get("mode") == "Exclusive")


@dataclass
class _VersionStats:
    by_version: dict[str, Counts] = field(default_factory=dict)

    def add(self, version: str, status: Status, n: int) -> None:
        counts = self.by_version.setdefault(version, Counts())
        counts.count(status, n)
        # Kuma's updateTotal: online + offline, partially degraded proxies left out.
        counts.total = counts.online + counts.offline

    def to_json(self) -> dict[str, Any]:
        return {version: self.by_version[version].to_json() for version in sorted(self.by_version)}


@dataclass
class _MtlsStats:
    issued: dict[str, Counts] = field(default_factory=dict)
    supported: dict[str, Counts] = field(default_factory=dict)

    def add(self, backends: _Backends, status: Status, n: int) -> None:
        issued, supported = backends
        self.issued.setdefault(issued, Counts()).add(status, n)
        for backend in supported:
            self.supported.setdefault(backend, Counts()).add(status, n)

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.issued:
            result["issuedBackends"] = {k: self.issued[k].to_json() for k in sorted(self.issued)}
        if self.supported:
            result["supportedBackends"] = {
                k: self.supported[k].to_json() for k in sorted(self.supported)
            }
        return result


def _counted_mesh_types() -> list[tuple[str, bool]]:
    """(type, is policy) of what MeshInsight counts: mesh-scoped types but insights."""
    return sorted(
        (t.name, t.is_policy)
        for t in kuma_types()
        if t.scope == Scope.MESH and not t.name.endswith("Insight")
    )


def _internal_services(overview: DataplaneOverview) -> set[str]:
    gateway = overview.networking.get("gateway") or {}
    names = {(gateway.get("tags") or {}).get(SERVICE_TAG) or ""}
    names.update((i.get("tags") or {}).get(SERVICE_TAG) or "" for i in _active_inbounds(overview))
    names.discard("")
    return names


_STAT_BY_GATEWAY = {None: "standard", "BUILTIN": "gatewayBuiltin", "DELEGATED": "gatewayDelegated"}


_Backends = tuple[str, tuple[str, ...]]  # (issued, supported) mTLS backends
# What a dataplane's counters depend on: status, gateway type, versions, mTLS backends.
_Group = tuple[Status, str | None, str, str, _Backends | None]


@dataclass
class _DataplaneTally:
    """What MeshInsight counts over the dataplanes of a mesh. Dataplanes are grouped by
    what the counters depend on before counting: 100,000 proxies make few groups."""

    groups: Counter[_Group] = field(default_factory=Counter)
    internal_services: set[str] = field(default_factory=set)

    def add(self, overview: DataplaneOverview, with_services: bool) -> None:
        mtls = overview.insight_spec.get("mTLS")
        backends = None
        if mtls is not None:
            backends = (mtls.get("issuedBackend") or "", tuple(mtls.get("supportedBackends") or ()))
        kuma_dp, envoy = overview.versions()
        self.groups[(overview.status, overview.gateway_type, kuma_dp, envoy, backends)] += 1
        if with_services:
            self.internal_services |= _internal_services(overview)

    def dataplanes_json(self) -> dict[str, int]:
        counts = Counts()
        for (status, *_), n in self.groups.items():
            counts.add(status, n)
        return counts.to_json()

    def by_type_json(self) -> dict[str, Any]:
        by_type = {kind: Counts() for kind in _STAT_BY_GATEWAY.values()}
        for (status, gateway, *_), n in self.groups.items():
            by_type[_STAT_BY_GATEWAY[gateway]].add(status, n)
        builtin, delegated = by_type["gatewayBuiltin"], by_type["gatewayDelegated"]
        return {
            "standard": by_type["standard"].to_json(),
            "gateway": _sum(builtin, delegated).to_json(),
            "gatewayBuiltin": builtin.to_json(),
            "gatewayDelegated": delegated.to_json(),
        }

    def versions_json(self) -> dict[str, Any]:
        kuma_dp, envoy = _VersionStats(), _VersionStats()
        for (status, _, kuma_dp_version, envoy_version, _), n in self.groups.items():
            kuma_dp.add(kuma_dp_version, status, n)
            envoy.add(envoy_version, status, n)
        return _drop_empty({"kumaDp": kuma_dp.to_json(), "envoy": envoy.to_json()})

    def mtls_json(self) -> dict[str, Any]:
        mtls = _MtlsStats()
        for (status, *_, backends), n in self.groups.items():
            if backends is not None:
                mtls.add(backends, status, n)
        return mtls.to_json()


def mesh_insight_spec(inputs: MeshInputs) -> dict[str, Any]:
    """The MeshInsight of one mesh, in the JSON form kumactl's `inspect meshes` decodes."""
    with_services = not inputs.exclusive_mesh_services
    tally = _DataplaneTally()
    for overview in inputs.dataplanes:
        tally.add(overview, with_services)
    counted = [
        (name, is_policy, inputs.resource_counts.get(name, 0))
        for name, is_policy in _counted_mesh_types()
    ]
    spec: dict[str, Any] = {"dataplanes": tally.dataplanes_json()}
    policies = {name: {"total": n} for name, is_policy, n in counted if n and is_policy}
    if policies:
        spec["policies"] = policies
    spec["dpVersions"] = tally.versions_json()
    spec["mTLS"] = tally.mtls_json()
    if with_services:
        internal, external = len(tally.internal_services), len(inputs.external_services)
        spec["services"] = _drop_empty(
            {"total": internal + external, "internal": internal, "external": external}
        )
    spec["dataplanesByType"] = tally.by_type_json()
    resources = {name: {"total": n} for name, _, n in counted if n}
    if resources:
        spec["resources"] = resources
    return spec


def _sum(a: Counts, b: Counts) -> Counts:
    return Counts(
        a.total + b.total,
        a.online + b.online,
        a.offline + b.offline,
        a.partially_degraded + b.partially_degraded,
    )


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value}


@dataclass
class _Service:
    service_type: str
    address_port: str = ""
    online: int = 0
    offline: int = 0
    issued_backends: dict[str, int] = field(default_factory=dict)
    zones: set[str] = field(default_factory=set)

    def count(self, status: Status | None, backend: str) -> None:
        if backend:
            self.issued_backends[backend] = self.issued_backends.get(backend, 0) + 1
        if status is Status.ONLINE:
            self.online += 1
        elif status is not None:
            self.offline += 1  # partially degraded proxies count as offline here

    def status(self) -> str:
        if self.service_type == "external":
            return "not_available"
        if self.online == 0:
            return "offline"
        if self.offline == 0:
            return "online"
        return "partially_degraded"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status(),
            "dataplanes": _drop_empty({"online": self.online, "offline": self.offline}),
        }
        if self.issued_backends:
            body["issuedBackends"] = dict(sorted(self.issued_backends.items()))
        if self.service_type != "internal":
            body["serviceType"] = self.service_type
        if self.address_port:
            body["addressPort"] = self.address_port
        if self.zones:
            body["zones"] = sorted(self.zones)
        return body


class _Services:
    def __init__(self) -> None:
        self.by_name: dict[str, _Service] = {}

    def add(
        self,
        service_type: str,
        tags: dict[str, Any],
        status: Status | None,
        backend: str = "",
        address_port: str = "",
    ) -> None:
        name = tags.get(SERVICE_TAG) or ""
        if not name:
            return  # inbounds without a kuma.io/service tag are no service
        service = self.by_name.setdefault(name, _Service(service_type, address_port))
        service.count(status, backend)
        if tags.get(ZONE_TAG):
            service.zones.add(tags[ZONE_TAG])

    def add_dataplane(self, overview: DataplaneOverview, exclusive: bool) -> None:
        status = overview.status
        backend = (overview.insight_spec.get("mTLS") or {}).get("issuedBackend") or ""
        gateway = overview.gateway_type
        if gateway is None:
            if not exclusive:  # MeshServices replace inbound services in Exclusive mode
                for inbound in _active_inbounds(overview):
                    self.add("internal", inbound.get("tags") or {}, status, backend)
        elif not exclusive or gateway == "DELEGATED":
            # Delegated gateways never become MeshServices, so Exclusive mode keeps them.
            tags = (overview.networking.get("gateway") or {}).get("tags") or {}
            self.add(f"gateway_{gateway.lower()}", tags, status, backend)

    def add_external(self, external: Resource) -> None:
        spec = external.spec or {}
        address = (spec.get("networking") or {}).get("address") or ""
        self.add("external", spec.get("tags") or {}, None, address_port=address)


def service_insight_spec(inputs: MeshInputs) -> dict[str, Any]:
    """The ServiceInsight of a mesh (Kuma stores one per mesh, `all-services-<mesh>`):
    one entry per kuma.io/service of its dataplanes, gateways and ExternalServices."""
    exclusive = inputs.exclusive_mesh_services
    services = _Services()
    for overview in inputs.dataplanes:
        services.add_dataplane(overview, exclusive)
    if not exclusive:  # MeshExternalServices replace them in Exclusive mode
        for external in inputs.external_services:
            services.add_external(external)
    found = services.by_name
    return {"services": {name: found[name].to_json() for name in sorted(found)}} if found else {}


def service_type_of(service: Mapping[str, Any]) -> str:
    return str(service.get("serviceType") or "internal")


_ENUM_DEFAULTS = {"status": "none", "serviceType": "internal"}


def service_overview(name: str, service: Mapping[str, Any]) -> dict[str, Any]:
    """One service of a ServiceInsight as the API shows it: `dataplanes.total` filled in
    and, for an internal service, its `<name>.mesh:80` address. Enum defaults (status
    `none`, type `internal`) are left out, as protojson does."""
    stats = service.get("dataplanes") or {}
    online, offline = int(stats.get("online") or 0), int(stats.get("offline") or 0)
    body: dict[str, Any] = {}
    for key, value in service.items():
        if key == "dataplanes":
            value = _drop_empty({"total": online + offline, "online": online, "offline": offline})
        if _ENUM_DEFAULTS.get(key) != value:
            body[key] = value
    body.setdefault("dataplanes", {})
    if service_type_of(service) == "internal":
        body["addressPort"] = f"{name}.{DNS_DOMAIN}:{SERVICE_VIP_PORT}"
    return body


@dataclass(frozen=True)
class GlobalInputs:
    mesh_insights: Sequence[Mapping[str, Any]]  # MeshInsight specs
    services: Sequence[Mapping[str, Any]]  # every service of every ServiceInsight
    zone_insights: Sequence[Any]  # ZoneInsight specs
    zone_ingress_insights: Sequence[Any]
    zone_egress_insights: Sequence[Any]
    global_counts: Mapping[str, int]  # global-scoped type -> count


def global_insight(inputs: GlobalInputs) -> dict[str, Any]:
    """`GET /global-insight` without `createdAt`; every counter is present."""
    return {
        "dataplanes": _dataplanes_by_type(inputs.mesh_insights),
        "meshes": {"total": len(inputs.mesh_insights)},
        "policies": {"total": _policy_total(inputs.mesh_insights)},
        "resources": _resource_totals(inputs.mesh_insights, inputs.global_counts),
        "services": _services_by_type(inputs.services),
        "zones": {
            "controlPlanes": _online_total(inputs.zone_insights),
            "zoneEgresses": _online_total(inputs.zone_egress_insights),
            "zoneIngresses": _online_total(inputs.zone_ingress_insights),
        },
    }


def _dataplanes_by_type(mesh_insights: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    totals = {"gatewayBuiltin": Counts(), "gatewayDelegated": Counts(), "standard": Counts()}
    for insight in mesh_insights:
        by_type = insight.get("dataplanesByType") or {}
        for kind, counts in totals.items():
            stat = by_type.get(kind) or {}
            counts.total += stat.get("total", 0)
            counts.online += stat.get("online", 0)
            counts.offline += stat.get("offline", 0)
            counts.partially_degraded += stat.get("partiallyDegraded", 0)
    return {kind: counts.full() for kind, counts in totals.items()}


def _policy_total(mesh_insights: Sequence[Mapping[str, Any]]) -> int:
    return sum(
        stat.get("total", 0)
        for insight in mesh_insights
        for stat in (insight.get("policies") or {}).values()
    )


def _resource_totals(
    mesh_insights: Sequence[Mapping[str, Any]], global_counts: Mapping[str, int]
) -> dict[str, Any]:
    totals: dict[str, int] = {}
    for insight in mesh_insights:
        for name, stat in (insight.get("resources") or {}).items():
            totals[name] = totals.get(name, 0) + stat.get("total", 0)
    for rt in kuma_types():
        if rt.scope != Scope.GLOBAL or rt.admin_only or rt.name.endswith("Insight"):
            continue
        if rt.name not in _GLOBAL_TYPES_COUNTED_ELSEWHERE and global_counts.get(rt.name):
            totals[rt.name] = global_counts[rt.name]
    return {name: {"total": totals[name]} for name in sorted(totals)}


_SERVICE_STATUS = {
    "online": Status.ONLINE,
    "offline": Status.OFFLINE,
    "partially_degraded": Status.PARTIALLY_DEGRADED,
}


def _services_by_type(services: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    by_type = {"gateway_builtin": Counts(), "gateway_delegated": Counts(), "internal": Counts()}
    external = 0
    for service in services:
        service_type = service_type_of(service)
        if service_type == "external":
            external += 1
            continue
        counts = by_type[service_type]
        counts.total += 1
        status = _SERVICE_STATUS.get(str(service.get("status")))
        if status is not None:
            counts.count(status)
    return {
        "external": {"total": external},
        "gatewayBuiltin": by_type["gateway_builtin"].full(),
        "gatewayDelegated": by_type["gateway_delegated"].full(),
        "internal": by_type["internal"].full(),
    }


def _online_total(insights: Sequence[Any]) -> dict[str, int]:
    return {"online": sum(1 for i in insights if is_online(i)), "total": len(insights)}


def global_insights_resources(counts: Mapping[str, int]) -> dict[str, Any]:
    """`GET /global-insights` (the older summary): every global-scoped type but insights."""
    return {
        rt.name: {"total": counts.get(rt.name, 0)}
        for rt in sorted(kuma_types(), key=lambda t: t.name)
        if rt.scope == Scope.GLOBAL and not rt.name.endswith("Insight")
    }

"""The resource type registry: one descriptor per Kuma type drives the API, storage
and KDS sync, as `pkg/core/resources/registry` does in Kuma.

The table below is wire facts of Kuma v2.14.3 (and Kong Mesh for the access types):
REST paths, kumactl arguments, scope, JSON style, KDS sync directions, KRI short
names and policy flags.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field


class Scope(enum.StrEnum):
    MESH = "Mesh"
    GLOBAL = "Global"


class Style(enum.StrEnum):
    OLD = "old"  # protobuf spec, serialized flat next to the meta fields
    NEW = "new"  # plugin type with `spec` (and maybe `status`)


class Sync(enum.Flag):
    NONE = 0
    GLOBAL_TO_ZONES = enum.auto()
    ZONE_TO_GLOBAL = enum.auto()
    ACROSS_ZONES = enum.auto()


@dataclass(frozen=True)
class PolicyFlags:
    is_target_ref: bool = False
    has_to: bool = False
    has_from: bool = False
    has_rules: bool = False
    is_from_as_rules: bool = False


@dataclass(frozen=True)
class ResourceType:
    name: str
    path: str
    scope: Scope
    style: Style
    sync: Sync
    kumactl_arg: str | None
    kri_short: str | None = None
    alt_paths: tuple[str, ...] = ()
    read_only: bool = False  # never written through the API (insights, computed types)
    is_policy: bool = False
    allow_inspect: bool = False
    has_status: bool = False
    is_destination: bool = False
    admin_only: bool = False
    insight: str | None = None  # the insight type of a type with an `_overview`
    policy: PolicyFlags = field(default_factory=PolicyFlags)
    writable_by_global: bool = True  # Kuma's ProvidedByGlobal

    @property
    def is_mesh_scoped(self) -> bool:
        return self.scope == Scope.MESH

    @property
    def writable_on_global(self) -> bool:
        return not self.read_only and self.writable_by_global

    @property
    def include_in_federation(self) -> bool:
        return bool(self.sync & Sync.GLOBAL_TO_ZONES) and not self.read_only

    @property
    def kumactl_list_arg(self) -> str | None:
        return None if self.kumactl_arg is None else plural(self.kumactl_arg)

    @property
    def singular_display_name(self) -> str:
        return display_name(self.name)

    @property
    def plural_display_name(self) -> str:
        return plural(self.singular_display_name)

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path, *self.alt_paths)


def display_name(type_name: str) -> str:
    words = re.findall(r"OpenTelemetry|[A-Z]+(?=[A-Z][a-z]|$)|[A-Z][a-z]*", type_name)
    return " ".join(words)


def plural(word: str) -> str:
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(s|sh|ch|x|TLS|tls)$", word):
        return word + "es"
    return word + "s"


G2Z, Z2G, Z2Z = Sync.GLOBAL_TO_ZONES, Sync.ZONE_TO_GLOBAL, Sync.ACROSS_ZONES
MESH, GLOBAL = Scope.MESH, Scope.GLOBAL
OLD, NEW = Style.OLD, Style.NEW

TARGET_REF_POLICY = G2Z | Z2G | Z2Z


def _old_policy(name: str, path: str, arg: str, inspect: bool = True) -> ResourceType:
    return ResourceType(name, path, MESH, OLD, G2Z, arg, is_policy=True, allow_inspect=inspect)


def _policy(name: str, short: str, flags: str = "", **extra: object) -> ResourceType:
    """A targetRef policy; `flags` lists which of to/from/rules/fromAsRules it has."""
    words = set(flags.split())
    return ResourceType(
        name,
        plural(name).lower(),
        MESH,
        NEW,
        TARGET_REF_POLICY,
        name.lower(),
        kri_short=short,
        is_policy=True,
        allow_inspect=True,
        policy=PolicyFlags(
            is_target_ref=True,
            has_to="to" in words,
            has_from="from" in words,
            has_rules="rules" in words,
            is_from_as_rules="fromAsRules" in words,
        ),
        **extra,  # type: ignore[arg-type]
    )


TYPES: tuple[ResourceType, ...] = (
    # Old-style (protobuf) policies with sources/destinations selectors.
    _old_policy("CircuitBreaker", "circuit-breakers", "circuit-breaker"),
    _old_policy("FaultInjection", "fault-injections", "fault-injection"),
    _old_policy("HealthCheck", "health-checks", "healthcheck"),
    _old_policy("ProxyTemplate", "proxytemplates", "proxytemplate"),
    _old_policy("RateLimit", "rate-limits", "rate-limit"),
    _old_policy("Retry", "retries", "retry"),
    _old_policy("Timeout", "timeouts", "timeout"),
    _old_policy("TrafficLog", "traffic-logs", "traffic-log"),
    _old_policy("TrafficPermission", "traffic-permissions", "traffic-permission"),
    _old_policy("TrafficRoute", "traffic-routes", "traffic-route"),
    _old_policy("TrafficTrace", "traffic-traces", "traffic-trace"),
    _old_policy("VirtualOutbound", "virtual-outbounds", "virtual-outbound", inspect=False),
    _old_policy("MeshGatewayRoute", "meshgatewayroutes", "meshgatewayroute", inspect=False),
    # New-style targetRef policies.
    _policy("MeshAccessLog", "mal", "to from rules fromAsRules", has_status=True),
    _policy("MeshCircuitBreaker", "mcb", "to from rules fromAsRules"),
    _policy("MeshFaultInjection", "mfi", "to from rules"),
    _policy("MeshHTTPRoute", "mhttpr", "to"),
    _policy("MeshHealthCheck", "mhc", "to"),
    _policy("MeshLoadBalancingStrategy", "mlbs", "to"),
    _policy("MeshMetric", "mm", has_status=True),
    _policy("MeshPassthrough", "mp"),
    _policy("MeshProxyPatch", "mpp"),
    _policy("MeshRateLimit", "mrl", "to from rules fromAsRules"),
    _policy("MeshRetry", "mr", "to"),
    _policy("MeshTCPRoute", "mtcpr", "to"),
    _policy("MeshTLS", "mtls", "from rules fromAsRules"),
    _policy("MeshTimeout", "mt", "to from rules fromAsRules"),
    _policy("MeshTrace", "mtr", has_status=True),
    _policy("MeshTrafficPermission", "mtp", "from rules"),
    # Meshes, secrets and other resources owned by the global.
    ResourceType("Mesh", "meshes", GLOBAL, OLD, G2Z, "mesh", kri_short="m"),
    ResourceType("Secret", "secrets", MESH, OLD, G2Z, "secret", admin_only=True),
    ResourceType(
        "GlobalSecret",
        "globalsecrets",
        GLOBAL,
        OLD,
        G2Z,
        "globalsecret",
        alt_paths=("global-secrets",),
        admin_only=True,
    ),
    ResourceType("ExternalService", "external-services", MESH, OLD, G2Z, "external-service"),
    ResourceType("MeshGateway", "meshgateways", MESH, OLD, G2Z | Z2G, "meshgateway", "mgw"),
    ResourceType(
        "HostnameGenerator", "hostnamegenerators", GLOBAL, NEW, G2Z | Z2G, "hostnamegenerator", "hg"
    ),
    ResourceType(
        "MeshExternalService",
        "meshexternalservices",
        MESH,
        NEW,
        G2Z | Z2G,
        "meshexternalservice",
        "extsvc",
        has_status=True,
        is_destination=True,
    ),
    ResourceType(
        "MeshMultiZoneService",
        "meshmultizoneservices",
        MESH,
        NEW,
        G2Z,
        "meshmultizoneservice",
        "mzsvc",
        has_status=True,
        is_destination=True,
    ),
    ResourceType(
        "MeshIdentity",
        "meshidentities",
        MESH,
        NEW,
        G2Z | Z2G,
        "meshidentity",
        "mid",
        has_status=True,
    ),
    ResourceType(
        "MeshTrust", "meshtrusts", MESH, NEW, G2Z | Z2G, "meshtrust", "mtrust", has_status=True
    ),
    ResourceType(
        "MeshOpenTelemetryBackend",
        "meshopentelemetrybackends",
        MESH,
        NEW,
        G2Z | Z2G,
        "meshopentelemetrybackend",
        "motb",
        has_status=True,
    ),
    # Written by zones and synced up: read-only here.
    ResourceType(
        "Dataplane",
        "dataplanes",
        MESH,
        OLD,
        Z2G,
        "dataplane",
        "dp",
        insight="DataplaneInsight",
        writable_by_global=False,
    ),
    ResourceType(
        "MeshService",
        "meshservices",
        MESH,
        NEW,
        Z2G | Z2Z,
        "meshservice",
        "msvc",
        has_status=True,
        is_destination=True,
        writable_by_global=False,
    ),
    ResourceType(
        "MeshZoneAddress",
        "meshzoneaddresses",
        MESH,
        NEW,
        Z2G | Z2Z,
        "meshzoneaddress",
        "mza",
        writable_by_global=False,
    ),
    ResourceType(
        "Workload",
        "workloads",
        MESH,
        NEW,
        Z2G,
        "workload",
        "wl",
        has_status=True,
        writable_by_global=False,
    ),
    ResourceType(
        "ZoneIngress",
        "zoneingresses",
        GLOBAL,
        OLD,
        Z2G | Z2Z,
        "zoneingress",
        "zi",
        alt_paths=("zone-ingresses",),
        insight="ZoneIngressInsight",
        writable_by_global=False,
    ),
    ResourceType(
        "ZoneEgress",
        "zoneegresses",
        GLOBAL,
        OLD,
        Z2G,
        "zoneegress",
        "ze",
        insight="ZoneEgressInsight",
        writable_by_global=False,
    ),
    ResourceType("DataplaneInsight", "dataplane-insights", MESH, OLD, Z2G, None, read_only=True),
    ResourceType(
        "ZoneIngressInsight", "zone-ingress-insights", GLOBAL, OLD, Z2G, None, read_only=True
    ),
    ResourceType("ZoneEgressInsight", "zoneegressinsights", GLOBAL, OLD, Z2G, None, read_only=True),
    # Computed by the global.
    ResourceType("Zone", "zones", GLOBAL, OLD, Sync.NONE, "zone", "z", insight="ZoneInsight"),
    ResourceType("ZoneInsight", "zone-insights", GLOBAL, OLD, Sync.NONE, None, read_only=True),
    ResourceType("MeshInsight", "mesh-insights", GLOBAL, OLD, Sync.NONE, None, read_only=True),
    ResourceType("ServiceInsight", "service-insights", MESH, OLD, G2Z, None, read_only=True),
    # Kong Mesh access control, kept on the global only.
    ResourceType("AccessRole", "access-roles", GLOBAL, OLD, Sync.NONE, "accessrole"),
    ResourceType(
        "AccessRoleBinding", "access-role-bindings", GLOBAL, OLD, Sync.NONE, "accessrolebinding"
    ),
    ResourceType("AccessAudit", "accessaudits", GLOBAL, OLD, Sync.NONE, "accessaudit"),
)

KONG_MESH_TYPES = frozenset({"AccessRole", "AccessRoleBinding", "AccessAudit"})

BY_NAME: dict[str, ResourceType] = {t.name: t for t in TYPES}
BY_PATH: dict[str, ResourceType] = {p: t for t in TYPES for p in t.paths}


def by_name(name: str) -> ResourceType | None:
    return BY_NAME.get(name)


def by_path(path: str) -> ResourceType | None:
    return BY_PATH.get(path)


def kuma_types() -> Iterable[ResourceType]:
    """The 53 types Kuma's own API serves (without the Kong Mesh additions)."""
    return (t for t in TYPES if t.name not in KONG_MESH_TYPES)

"""Names Kuma derives when resources move between control planes.

* `hashed_name`: the `<display name>-<16 characters>` name KDS gives a synced copy.
* `kri` / `parse_kri`: Kuma Resource Identifiers, `kri_<short>_<mesh>_<zone>_<ns>_<name>_<section>`.
* `core_name_for_kri`: the name under which the resource a KRI points to is stored on a
  given control plane (what `/_kri/{kri}` looks up).
* `global_to_zone_name`: the name the global->zone KDS mapper gives one resource.

Facts from Kuma v2.14.3 (`pkg/kds/hash`, `pkg/core/kri`, `pkg/api-server/kri_endpoint.go`,
`pkg/kds/context/context.go`); see ../shared/vectors/kuma-v2.14.3/naming/README.md.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from meshmanager.model.resources import registry
from meshmanager.model.resources.validation.golang.strconv import go_quote

# Kubernetes' "safe encode" alphabet (k8s.io/apimachinery/pkg/util/rand): no vowels, so a
# hash can never spell a word.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FNV64_OFFSET = 0xCBF29CE484222325
_FNV64_PRIME = 0x100000001B3
_HASH_PART_LENGTH = 1 + 16  # "-" and the 8-byte digest in hex
_K8S_NAME_LIMIT = 253
MAX_DISPLAY_NAME_BYTES = _K8S_NAME_LIMIT - _HASH_PART_LENGTH  # 236

ZONE_LABEL = "kuma.io/zone"
NAMESPACE_LABEL = "k8s.kuma.io/namespace"
DISPLAY_NAME_LABEL = "kuma.io/display-name"
HASH_SUFFIX_FEATURE = "hash-suffix"

# Types whose Kubernetes objects are cluster-scoped (no `.<namespace>` in their names).
K8S_CLUSTER_SCOPED_TYPES = frozenset(
    {
        "CircuitBreaker",
        "ExternalService",
        "FaultInjection",
        "HealthCheck",
        "Mesh",
        "MeshGateway",
        "MeshGatewayRoute",
        "MeshInsight",
        "ProxyTemplate",
        "RateLimit",
        "Retry",
        "ServiceInsight",
        "Timeout",
        "TrafficLog",
        "TrafficPermission",
        "TrafficRoute",
        "TrafficTrace",
        "VirtualOutbound",
        "Zone",
        "ZoneInsight",
    }
)
# Types that keep their names when the global sends them to zones (Kuma's SkipKDSHash).
KEEP_NAME_ON_SYNC_TYPES = frozenset({"Mesh", "Secret", "GlobalSecret", "Config"})


def fnv1a_64(data: bytes) -> int:
    value = _FNV64_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value


def hash_suffix(values: Iterable[str]) -> str:
    """FNV-1a 64 of the values joined with no separator, as 16 safe-alphabet characters."""
    digest = fnv1a_64("".join(values).encode())
    return "".join(SAFE_ALPHABET[ord(c) % len(SAFE_ALPHABET)] for c in f"{digest:016x}")


def _shorten(name: str, limit: int) -> str:
    encoded = name.encode()
    if len(encoded) <= limit:
        return name
    # Go cuts bytes; dropping a split multi-byte character keeps the result valid text.
    return encoded[:limit].decode(errors="ignore")


def hashed_name(mesh: str, name: str, zone: str | None, namespace: str | None) -> str:
    """Kuma's hash-suffixed name for `name` (a display name). `zone` and `namespace` are
    the values of the `kuma.io/zone` and `k8s.kuma.io/namespace` labels; None means the
    label is absent (it then adds nothing to the hash, as an empty mesh adds nothing)."""
    values = [mesh, name] + [v for v in (zone, namespace) if v is not None]
    return f"{_shorten(name, MAX_DISPLAY_NAME_BYTES)}-{hash_suffix(values)}"


@dataclass(frozen=True)
class Kri:
    short_name: str
    mesh: str
    zone: str
    namespace: str
    name: str
    section: str = ""

    def __str__(self) -> str:
        return kri(self.short_name, self.mesh, self.zone, self.namespace, self.name, self.section)

    @property
    def resource_type(self) -> registry.ResourceType | None:
        return type_for_short_name(self.short_name)


class KriError(ValueError):
    pass


def kri(short_name: str, mesh: str, zone: str, namespace: str, name: str, section: str) -> str:
    return f"kri_{short_name}_{mesh}_{zone}_{namespace}_{name}_{section}"


def type_for_short_name(short_name: str) -> registry.ResourceType | None:
    if not short_name:
        return None
    return next((t for t in registry.TYPES if t.kri_short == short_name), None)


def parse_kri(text: str) -> Kri:
    """Parse a KRI as Kuma does: seven or more `_`-separated parts; everything after the
    name is the section name, its parts joined with nothing."""
    parts = text.split("_")
    if len(parts) < 7:
        raise KriError(f"invalid identifier string: {go_quote(text)}")
    if parts[0] != "kri":
        raise KriError(f"identifier must start with 'kri': {go_quote(text)}")
    if type_for_short_name(parts[1]) is None:
        raise KriError(f"unknown short name of resource type: {go_quote(parts[1])}")
    return Kri(parts[1], parts[2], parts[3], parts[4], parts[5], "".join(parts[6:]))


class CpMode(enum.StrEnum):
    GLOBAL = "global"
    ZONE = "zone"


class Environment(enum.StrEnum):
    KUBERNETES = "kubernetes"
    UNIVERSAL = "universal"


def is_locally_originated(identifier: Kri, cp_mode: CpMode | str, cp_zone: str) -> bool:
    if CpMode(cp_mode) == CpMode.GLOBAL:
        return identifier.zone == ""
    return identifier.zone == cp_zone


def core_name_for_kri(
    identifier: Kri | str,
    *,
    cp_mode: CpMode | str,
    cp_zone: str,
    environment: Environment | str,
    system_namespace: str,
) -> str:
    """The name under which the resource `identifier` points to is stored on this CP."""
    ident = parse_kri(identifier) if isinstance(identifier, str) else identifier
    resource_type = ident.resource_type
    plain_names = Environment(environment) == Environment.UNIVERSAL or (
        resource_type is not None and resource_type.name in K8S_CLUSTER_SCOPED_TYPES
    )
    if is_locally_originated(ident, cp_mode, cp_zone):
        if plain_names:
            return ident.name
        return f"{ident.name}.{ident.namespace or system_namespace}"
    name = hashed_name(ident.mesh, ident.name, ident.zone or None, ident.namespace or None)
    return name if plain_names else f"{name}.{system_namespace}"


def global_to_zone_name(
    resource_type: str,
    name: str,
    *,
    mesh: str,
    labels: Mapping[str, str],
    zone_features: Iterable[str],
    kubernetes_system_namespace: str | None = None,
) -> str:
    """The name the global gives a resource it sends to a zone: without the
    `.<system namespace>` suffix of a Kubernetes store, then hash-suffixed if the zone
    announced the `hash-suffix` feature and the type is not one that keeps its name."""
    if kubernetes_system_namespace is not None:
        name = name.removesuffix(f".{kubernetes_system_namespace}")
    if resource_type in KEEP_NAME_ON_SYNC_TYPES or HASH_SUFFIX_FEATURE not in set(zone_features):
        return name
    display_name = labels.get(DISPLAY_NAME_LABEL) or name
    return hashed_name(mesh, display_name, labels.get(ZONE_LABEL), labels.get(NAMESPACE_LABEL))

"""Which resources go to which zone, and how they look on the way (spec §8, §9).

Global → zone: `sendable` is Kuma's GlobalProvidedFilter (plus the hostname-generator
feature check); `to_zone` is its mapper chain: origin label, zone-token signing keys
replaced by their public halves, status dropped, hash-suffixed names.

Zone → global: `from_zone` trusts the connection, not the payload: it forces the origin
and zone labels and pins every in-spec zone reference to the zone that sent it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from meshmanager.kds.envelope import Decoded
from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources import naming, signing
from meshmanager.model.resources.registry import BY_NAME, Sync
from meshmanager.model.resources.stored import Resource

KDS_SYNC_LABEL = "kuma.io/kds-sync"
POLICY_ROLE_LABEL = "kuma.io/policy-role"
PRODUCER = "producer"
GLOBAL_ORIGIN = "global"
ZONE_ORIGIN = "zone"
CLUSTER_ID_CONFIG = "kuma-cluster-id"
DELETION_GRACE_LABEL = "kuma.io/deletion-grace-period-started-at"

FEATURE_PRODUCER_POLICY_FLOW = "producer-policy-flow"
FEATURE_HG_MZ_SELECTOR = "hg-mz-selector"

# Per-CP internals a zone makes for itself (spec §9 rule 3).
_PRIVATE_GLOBAL_SECRETS = frozenset(
    {"envoy-admin-ca", "admin-user-token", "inter-cp-ca", "user-token-revocations"}
)
_PRIVATE_GLOBAL_SECRET_PREFIX = "user-token-signing-key"


@dataclass(frozen=True)
class ZonePeer:
    """What the global knows of the zone at the other end of a stream."""

    name: str
    features: frozenset[str]  # node-metadata features of its initial requests
    disabled_zones: frozenset[str] = frozenset()  # zones whose Zone has enabled: false


def _origin(labels: Mapping[str, str]) -> str | None:
    return labels.get(kuma_labels.ORIGIN)


def _zone_of(resource: Resource) -> str:
    return resource.labels.get(kuma_labels.ZONE) or resource.name.split(".")[0]


def _kds_disabled(resource: Resource) -> bool:
    return resource.labels.get(KDS_SYNC_LABEL) == "disabled"


def _private(resource: Resource) -> bool:
    if resource.type == "Config":
        return resource.name != CLUSTER_ID_CONFIG
    if resource.type == "GlobalSecret":
        name = resource.name
        return name in _PRIVATE_GLOBAL_SECRETS or name.startswith(_PRIVATE_GLOBAL_SECRET_PREFIX)
    return False


def _computed_role(spec: Any, namespace: str | None) -> str:
    """Kuma's ComputePolicyRole. On Universal (no namespace) every policy is `system`."""
    if not namespace:
        return "system"
    to = spec.get("to") or []
    from_ = spec.get("from") or []
    if to and from_:
        return "invalid"
    if from_ or not to:
        return "workload-owner"

    def producer_item(item: Any) -> bool:
        ref = item.get("targetRef") or {}
        same_ns = ref.get("namespace", "") in ("", namespace)
        return (
            ref.get("kind") in ("MeshService", "MeshHTTPRoute")
            and bool(ref.get("name"))
            and same_ns
        )

    producers = sum(1 for item in to if producer_item(item))
    if producers == len(to):
        return PRODUCER
    return "consumer" if producers == 0 else "invalid"


def _producer_policy_for(resource: Resource, zone: ZonePeer) -> bool:
    if FEATURE_PRODUCER_POLICY_FLOW not in zone.features:
        return False
    if resource.labels.get(POLICY_ROLE_LABEL) != PRODUCER:
        return False
    spec = resource.spec or {}
    if _computed_role(spec, resource.labels.get(kuma_labels.NAMESPACE)) != PRODUCER:
        return False
    target = spec.get("targetRef") or {}
    if target.get("kind") == "MeshSubset":
        target_zone = (target.get("tags") or {}).get(kuma_labels.ZONE)
        return target_zone is None or target_zone == zone.name
    return True


def _needs_hg_mz_selector(resource: Resource) -> bool:
    selector = (resource.spec or {}).get("selector") or {}
    return resource.type == "HostnameGenerator" and "meshMultiZoneService" in selector


def sendable(resource: Resource, zone: ZonePeer) -> bool:
    """Kuma's GlobalProvidedFilter for one resource and one zone."""
    if _kds_disabled(resource) or _private(resource):
        return False
    if _needs_hg_mz_selector(resource) and FEATURE_HG_MZ_SELECTOR not in zone.features:
        return False
    rt = BY_NAME.get(resource.type)
    sync = rt.sync if rt is not None else Sync.GLOBAL_TO_ZONES  # Config
    origin = _origin(resource.labels)
    if origin in (None, GLOBAL_ORIGIN):
        return bool(sync & Sync.GLOBAL_TO_ZONES)
    if not sync & Sync.ACROSS_ZONES:
        return False
    if rt is not None and rt.is_policy and not _producer_policy_for(resource, zone):
        return False
    origin_zone = _zone_of(resource)
    return origin_zone != zone.name and origin_zone not in zone.disabled_zones


def to_zone(resource: Resource, zone: ZonePeer) -> Resource:
    """Kuma's global→zone mappers, applied to a resource that passed `sendable`."""
    if resource.type == "GlobalSecret" and resource.name.startswith(
        signing.ZONE_TOKEN_SIGNING_KEY_PREFIX
    ):
        resource = signing.zone_public_key_secret(resource)
    labels = {**resource.labels, kuma_labels.ORIGIN: GLOBAL_ORIGIN}
    name = naming.global_to_zone_name(
        resource.type,
        resource.name,
        mesh=resource.mesh,
        labels=labels,
        zone_features=zone.features,
    )
    if name != resource.name and not labels.get(kuma_labels.DISPLAY_NAME):
        labels[kuma_labels.DISPLAY_NAME] = resource.name
    return resource.with_changes(name=name, labels=labels, status=None)


def from_zone(decoded: Decoded, zone: str) -> Decoded:
    """What the global stores of a resource a zone sent: attributed to the connection's
    zone whatever the payload claims (Kuma's GlobalSyncCallback and pinZone)."""
    labels = {k: v for k, v in decoded.labels.items() if k != DELETION_GRACE_LABEL} | {
        kuma_labels.ORIGIN: ZONE_ORIGIN,
        kuma_labels.ZONE: zone,
    }
    return replace(decoded, labels=labels, spec=_pin_zone(decoded.type, decoded.spec, zone))


def _pin_tag(tags: Any, zone: str) -> None:
    if isinstance(tags, dict) and kuma_labels.ZONE in tags:
        tags[kuma_labels.ZONE] = zone


def _pin_zone(type_name: str, spec: Any, zone: str) -> Any:
    if not isinstance(spec, dict):
        return spec
    if type_name in ("ZoneIngress", "ZoneEgress"):
        spec["zone"] = zone
        for service in spec.get("availableServices") or []:
            _pin_tag(service.get("tags") if isinstance(service, dict) else None, zone)
    elif type_name == "Dataplane":
        networking = spec.get("networking") or {}
        for inbound in networking.get("inbound") or []:
            _pin_tag(inbound.get("tags") if isinstance(inbound, dict) else None, zone)
        gateway = networking.get("gateway")
        if isinstance(gateway, dict):
            _pin_tag(gateway.get("tags"), zone)
    return spec


def owned_by_zone(resource: Resource, zone: str) -> bool:
    """The scope an initial zone→global response replaces (spec §8.3 step 5)."""
    return resource.labels.get(kuma_labels.ZONE) == zone or resource.name.startswith(zone + ".")


def cluster_id_config(cp_id: str) -> Resource:
    return Resource("Config", "", CLUSTER_ID_CONFIG, {"config": cp_id})

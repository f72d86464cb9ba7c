"""The simulated zone's own store, and the zone side of Kuma's KDS rules.

* `ZoneStore`: every resource the zone holds, in memory, with change notification.
* `apply_from_global`: Kuma's ZoneSyncCallback (spec §3.7, §4.2): the first response
  of a type is the full state for the resources in scope, later ones are deltas;
  status from the global is ignored on update.
* `to_global`: Kuma's ZoneProvidedFilter and zone mappers (spec §8.2): origin and zone
  labels, zeroed subscription generations, hash-suffixed names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from meshmanager.kds import envelope
from meshmanager.kds.simulator.versions import PROVIDED_BY_ZONE
from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources import naming
from meshmanager.model.resources.stored import Resource

Key = tuple[str, str, str]  # (type, mesh, name)

KDS_SYNC_LABEL = "kuma.io/kds-sync"
DELETION_GRACE_LABEL = "kuma.io/deletion-grace-period-started-at"
INSIGHT_TYPES = frozenset({"DataplaneInsight", "ZoneIngressInsight", "ZoneEgressInsight"})
# Types Kuma never hash-suffixes (SkipKDSHash): a name clash with a local resource is
# skipped with a `user error` NACK (spec §4 step 9).
SKIP_KDS_HASH = naming.KEEP_NAME_ON_SYNC_TYPES


class ZoneStore:
    """An in-memory resource store; watchers are woken on every change."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self._items: dict[Key, Resource] = {r.key: r for r in resources}
        self._watchers: set[asyncio.Event] = set()
        self.revision = 0

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Resource]:
        return iter(list(self._items.values()))

    def get(self, type_name: str, mesh: str, name: str) -> Resource | None:
        return self._items.get((type_name, mesh, name))

    def of_type(self, type_name: str) -> list[Resource]:
        return [r for r in self._items.values() if r.type == type_name]

    def put(self, *resources: Resource) -> None:
        for resource in resources:
            self._items[resource.key] = resource
        self._changed()

    def delete(self, type_name: str, mesh: str, name: str) -> Resource | None:
        removed = self._items.pop((type_name, mesh, name), None)
        if removed is not None:
            self._changed()
        return removed

    def watch(self) -> asyncio.Event:
        event = asyncio.Event()
        self._watchers.add(event)
        return event

    def unwatch(self, event: asyncio.Event) -> None:
        self._watchers.discard(event)

    def _changed(self) -> None:
        self.revision += 1
        for event in self._watchers:
            event.set()


# --- global -> zone ------------------------------------------------------------------


def in_sync_scope(resource: Resource) -> bool:
    """Kuma's scope predicate of the zone's sync: for types zones may also provide, only
    resources that came from the global (origin label present and not `zone`)."""
    if resource.type not in PROVIDED_BY_ZONE:
        return True
    origin = resource.labels.get(kuma_labels.ORIGIN)
    return bool(origin) and origin != "zone"


@dataclass
class Applied:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def apply_from_global(
    store: ZoneStore,
    type_name: str,
    valid: list[Resource],
    skipped: set[tuple[str, str]],
    removed: Iterable[str],
    initial: bool,
) -> Applied:
    """Stores one GlobalToZoneSync response. `skipped` are the (mesh, name) of invalid
    items, which are neither created, updated nor deleted."""
    result = Applied()
    incoming = {(r.mesh, r.name) for r in valid}
    if initial:
        for existing in store.of_type(type_name):
            at = (existing.mesh, existing.name)
            if in_sync_scope(existing) and at not in incoming and at not in skipped:
                store.delete(*existing.key)
                result.deleted.append(envelope.key(existing.name, existing.mesh))
    for resource in valid:
        current = store.get(*resource.key)
        shown = envelope.key(resource.name, resource.mesh)
        if current is None:
            store.put(resource)
            result.created.append(shown)
        elif not in_sync_scope(current):
            result.errors.append(
                f"user error: {type_name} {shown!r} already exists in the zone and was"
                " not created by the global"
            )
        elif current.labels != resource.labels or current.spec != resource.spec:
            store.put(resource.with_changes(status=current.status))  # IgnoreStatusChange
            result.updated.append(shown)
    if not initial:
        for text in removed:
            name, mesh = envelope.split_key(text)
            current = store.get(type_name, mesh, name)
            if current is not None and in_sync_scope(current):
                store.delete(*current.key)
                result.deleted.append(text)
    return result


# --- zone -> global ------------------------------------------------------------------


def provided_by_this_zone(resource: Resource) -> bool:
    """Kuma's ZoneProvidedFilter: locally originated and not kds-sync disabled."""
    origin = resource.labels.get(kuma_labels.ORIGIN)
    if origin not in (None, "", "zone"):
        return False
    return resource.labels.get(KDS_SYNC_LABEL) != "disabled"


def _zero_generations(spec: Any) -> Any:
    if not isinstance(spec, dict):
        return spec
    subscriptions = spec.get("subscriptions")
    if isinstance(subscriptions, list):
        spec["subscriptions"] = [
            {**s, "generation": 0} if isinstance(s, dict) else s for s in subscriptions
        ]
    return spec


def to_global(resource: Resource, zone: str) -> Resource:
    """The resource as the zone sends it up (apply only to `provided_by_this_zone`)."""
    labels = {k: v for k, v in resource.labels.items() if k != DELETION_GRACE_LABEL}
    labels[kuma_labels.ORIGIN] = "zone"
    labels[kuma_labels.ZONE] = zone
    spec = resource.spec
    if resource.type in INSIGHT_TYPES:
        spec = _zero_generations(spec)
    display = labels.get(kuma_labels.DISPLAY_NAME) or resource.name
    if not labels.get(kuma_labels.DISPLAY_NAME):
        labels[kuma_labels.DISPLAY_NAME] = resource.name
    name = naming.hashed_name(resource.mesh, display, zone, labels.get(kuma_labels.NAMESPACE))
    return resource.with_changes(name=name, labels=labels, spec=spec)


def zone_name_of(global_name: str, resource: Resource | None) -> str:
    """The zone-local name of a resource the global names `global_name`."""
    if resource is not None:
        return resource.labels.get(kuma_labels.DISPLAY_NAME) or global_name
    return global_name

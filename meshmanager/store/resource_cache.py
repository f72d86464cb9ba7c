"""The Kuma resources of each control plane, held in memory and kept current.

Reads of Kuma resources never touch the database once a control plane is loaded.
Every write bumps the control plane's `resource_revision` and stamps the rows (or
tombstones) it wrote with it; a cache catches up by reading what is newer than the
revision it has seen. Writers to one control plane serialise on its row, so revisions
commit in order and the highest one seen is a safe watermark.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from sys import intern
from uuid import UUID

from sqlalchemy import Text, cast, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store.schema import resource_tombstones, resources

Key = tuple[str, str, str]  # (type, mesh, name)
NOTHING_SEEN = -1
ZONE_LABEL = "kuma.io/zone"
STREAM_BATCH = 2000


def to_resource(row: RowMapping) -> Resource:
    """From a row whose spec and status were selected as JSON text (`AS_TEXT`)."""
    status = row["status"]
    return Resource(
        intern(row["type"]),
        intern(row["mesh"]),
        row["name"],
        labels={intern(k): intern(v) for k, v in row["labels"].items()},
        creation_time=row["created_at"],
        modification_time=row["updated_at"],
        version=row["version"],
        spec_json=_canonical(row["spec"]),
        status_json=None if status is None or status == "null" else _canonical(status),
    )


def _canonical(text: str) -> bytes:
    """The stored JSON text as bytes. It was written compact (the engines encode JSON
    with orjson); re-encoding it would also return an over-allocated buffer."""
    return text.encode()


AS_TEXT = [
    *(c for c in resources.c if c.name not in ("spec", "status")),
    cast(resources.c.spec, Text).label("spec"),
    cast(resources.c.status, Text).label("status"),
]


@dataclass
class CpResources:
    """One control plane's resources: by key, and per type sorted by (mesh, name)."""

    revision: int = NOTHING_SEEN
    entries: dict[Key, tuple[int, Resource]] = field(default_factory=dict)
    sorted_keys: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # (type, zone) -> keys of what that zone synced up: a zone's sync replaces its own.
    by_zone: dict[tuple[str, str], set[Key]] = field(default_factory=dict)
    # Keys added since the last read, per type: sorted in on the next read, so a zone
    # syncing thousands of resources does not pay an ordered insert for each.
    unsorted: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # A counter of puts and removes, and its value at each type's last one: what changed
    # since a reader last looked, without comparing every resource.
    changes: int = 0
    type_changed_at: dict[str, int] = field(default_factory=dict)

    def types_changed_since(self, changes: int) -> set[str]:
        return {type_ for type_, at in self.type_changed_at.items() if at > changes}

    def _changed(self, type_: str) -> None:
        self.changes += 1
        self.type_changed_at[type_] = self.changes

    def get(self, key: Key) -> Resource | None:
        found = self.entries.get(key)
        return None if found is None else found[1]

    def put(self, revision: int, resource: Resource) -> None:
        key = resource.key
        previous = self.entries.get(key)
        if previous is None:
            self.unsorted.setdefault(resource.type, []).append(key[1:])
        else:
            self._unindex(previous[1])
        self.entries[key] = (revision, resource)
        self._changed(resource.type)
        zone = resource.labels.get(ZONE_LABEL)
        if zone:
            self.by_zone.setdefault((resource.type, zone), set()).add(key)

    def remove(self, key: Key) -> None:
        found = self.entries.pop(key, None)
        if found is None:
            return
        self._unindex(found[1])
        self._changed(key[0])
        keys = self._sorted(key[0])
        del keys[bisect.bisect_left(keys, key[1:])]

    def _unindex(self, resource: Resource) -> None:
        zone = resource.labels.get(ZONE_LABEL)
        if zone:
            self.by_zone.get((resource.type, zone), set()).discard(resource.key)

    def all_of_zone(self, zone: str) -> list[Resource]:
        """Everything labelled with `zone`, of every type."""
        return [
            self.entries[k][1] for (_, z), keys in self.by_zone.items() if z == zone for k in keys
        ]

    def of_zone(self, type_: str, zone: str) -> list[Resource]:
        """The resources of a type labelled with `zone` (kuma.io/zone)."""
        return [self.entries[key][1] for key in self.by_zone.get((type_, zone), ())]

    def _sorted(self, type_: str) -> list[tuple[str, str]]:
        keys = self.sorted_keys.setdefault(type_, [])
        added = self.unsorted.pop(type_, None)
        if added:
            keys.extend(added)
            keys.sort()
        return keys

    def _span(self, type_: str, mesh: str | None) -> tuple[list[tuple[str, str]], int, int]:
        keys = self._sorted(type_)
        if mesh is None:
            return keys, 0, len(keys)
        return keys, bisect.bisect_left(keys, (mesh, "")), bisect.bisect_left(keys, (mesh + "\0",))

    def of_type(self, type_: str, mesh: str | None) -> Iterator[Resource]:
        keys, start, end = self._span(type_, mesh)
        for mesh_name in keys[start:end]:
            yield self.entries[(type_, *mesh_name)][1]

    def page_of_type(
        self, type_: str, mesh: str | None, offset: int, size: int | None
    ) -> tuple[list[Resource], int]:
        """A page without filters, found by position rather than by scanning."""
        keys, start, end = self._span(type_, mesh)
        stop = end if size is None else min(end, start + offset + size)
        page = keys[start + offset : stop]
        return [self.entries[(type_, *k)][1] for k in page], end - start


class ResourceCache:
    def __init__(self) -> None:
        self.control_planes: dict[UUID, CpResources] = {}

    def slot(self, cp_id: UUID) -> CpResources:
        cp = self.control_planes.get(cp_id)
        if cp is None:
            cp = self.control_planes[cp_id] = CpResources()
        return cp

    def forget(self, cp_id: UUID) -> None:
        self.control_planes.pop(cp_id, None)

    @staticmethod
    async def catch_up(conn: AsyncConnection, scope: CpScope, cp: CpResources) -> None:
        """Applies what was written after `cp.revision`: deletions first, then rows, so a
        resource deleted and created again ends up present. Both are read before either
        is applied, so readers never see half of a catch-up."""
        since = cp.revision
        t = resource_tombstones
        tombstones = list(
            await conn.execute(
                select(t.c.type, t.c.mesh, t.c.name, t.c.revision).where(
                    t.c.cp_id == scope.cp_id, t.c.revision > since
                )
            )
        )
        # Streamed and converted as they come: a first load reads every row, and holding
        # them all as rows at once would double the memory the cache needs.
        result = await conn.stream(
            select(*AS_TEXT)
            .where(
                resources.c.org_id == scope.org_id,
                resources.c.cp_id == scope.cp_id,
                resources.c.revision > since,
            )
            .execution_options(yield_per=STREAM_BATCH)
        )
        loaded = [(row["revision"], to_resource(row)) async for row in result.mappings()]
        newest = since
        for type_, mesh, name, revision in tombstones:
            newest = max(newest, revision)
            current = cp.entries.get((type_, mesh, name))
            if current is not None and current[0] <= revision:
                cp.remove((type_, mesh, name))
        for revision, resource in loaded:
            newest = max(newest, revision)
            cp.put(revision, resource)
        cp.revision = max(newest, 0)

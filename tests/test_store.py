"""The store on both backends: migrations, versions, scoping and the bootstrap."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, insert, select

from meshmanager.model.controlplane import ControlPlaneFields, default_features
from meshmanager.model.errors import Conflict, NotFound
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import Store, open_store
from meshmanager.store.base import Store as StoreClass
from meshmanager.store.base import head_revision
from meshmanager.store.dialects import dialect_for
from meshmanager.store.events import Event, ResourcesChanged, ZoneAccessRevoked
from meshmanager.store.resource_cache import CpResources
from meshmanager.store.resources import (
    Create,
    Delete,
    DeleteMeshContents,
    ResourceQuery,
    Update,
)
from meshmanager.store.schema import control_planes, metadata, organizations, zones
from meshmanager.store.types import utcnow
from meshmanager.store.zones import ZoneSettings
from meshmanager.tenancy.bootstrap import bootstrap


def _fields(name: str) -> ControlPlaneFields:
    return ControlPlaneFields(name=name, description="", labels={}, features=default_features())


async def _org(store: Store) -> uuid.UUID:
    created = await bootstrap(store, "acme", "admin@acme.example", None)
    assert created is not None
    org = await store.identity.bootstrap_admin()
    assert org is not None
    return org[0]


async def test_migrations_produce_exactly_the_declared_schema(store: Store) -> None:
    def diff(sync_conn: object) -> list[object]:
        context = MigrationContext.configure(sync_conn)  # type: ignore[arg-type]
        return list(compare_metadata(context, metadata))

    async with store.read() as conn:
        assert await conn.run_sync(diff) == []
    assert await store.current_revision() == head_revision()


async def test_upgrading_an_older_store_keeps_its_data(store_url: str) -> None:
    old = StoreClass(dialect_for(store_url))
    assert not await old.is_ready()
    await old.migrate("0001")
    org_id, cp_id = uuid.uuid4(), uuid.uuid4()
    now = utcnow()
    async with old.write() as conn:
        stamps = {"created_at": now, "updated_at": now, "version": 1}
        await conn.execute(insert(organizations).values(id=org_id, name="old", **stamps))
        await conn.execute(
            insert(control_planes).values(
                id=cp_id,
                org_id=org_id,
                name="kept",
                description="from 0001",
                labels={"a": "b"},
                features=[],
                **stamps,
            )
        )
    assert not await old.is_ready()
    await old.migrate()
    assert await old.is_ready()
    found = await old.control_planes.get(org_id, cp_id)
    assert (found.item.name, found.item.description, found.item.labels) == (
        "kept",
        "from 0001",
        {"a": "b"},
    )
    async with old.read() as conn:
        assert (await conn.execute(select(zones))).all() == []
    await old.close()


async def test_a_stale_version_is_refused(store: Store) -> None:
    org_id = await _org(store)
    created = await store.control_planes.create_owned(org_id, _fields("a"))
    cp_id = created.item.id
    first = await store.control_planes.update(org_id, cp_id, {"description": "one"}, 1)
    assert first.version == 2
    with pytest.raises(Conflict):
        await store.control_planes.update(org_id, cp_id, {"description": "two"}, 1)
    assert (await store.control_planes.get(org_id, cp_id)).item.description == "one"


async def test_concurrent_writers_of_one_version_never_both_win(store: Store) -> None:
    org_id = await _org(store)
    cp_id = (await store.control_planes.create_owned(org_id, _fields("race"))).item.id
    results = await asyncio.gather(
        *(
            store.control_planes.update(org_id, cp_id, {"description": f"w{i}"}, 1)
            for i in range(8)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    stored = await store.control_planes.get(org_id, cp_id)
    assert stored.version == 2
    assert stored.item.description == winners[0].item.description


async def test_rows_are_scoped_by_organization(store: Store) -> None:
    org_id = await _org(store)
    cp_id = (await store.control_planes.create_owned(org_id, _fields("mine"))).item.id
    other_org = uuid.uuid4()
    with pytest.raises(NotFound):
        await store.control_planes.get(other_org, cp_id)
    with pytest.raises(NotFound):
        await store.control_planes.update(other_org, cp_id, {"description": "x"}, None)
    with pytest.raises(NotFound):
        await store.control_planes.delete(other_org, cp_id)
    assert (await store.control_planes.get(org_id, cp_id)).item.description == ""


async def test_bootstrap_happens_once_even_when_raced(store: Store) -> None:
    results = await asyncio.gather(
        *(bootstrap(store, "acme", f"admin{i}@acme.example", None) for i in range(4))
    )
    assert sum(r is not None for r in results) == 1
    assert await bootstrap(store, "acme", "later@acme.example", None) is None


async def test_zone_online_state_blocks_deletion(store: Store) -> None:
    org_id = await _org(store)
    cp_id = (await store.control_planes.create_owned(org_id, _fields("zoned"))).item.id
    await store.zones.create(org_id, cp_id, ZoneSettings("zone-east"))
    assert await store.zones.online_names(org_id, cp_id) == []
    await store.zones.mark_connected(org_id, cp_id, "zone-east")
    assert await store.zones.online_names(org_id, cp_id) == ["zone-east"]
    with pytest.raises(Exception, match="zone-east"):
        await store.control_planes.delete(org_id, cp_id)
    await store.zones.mark_disconnected(org_id, cp_id, "zone-east")
    await store.control_planes.delete(org_id, cp_id)
    with pytest.raises(NotFound):
        await store.control_planes.get(org_id, cp_id)


async def test_concurrent_resource_writes_share_a_commit_but_fail_alone(store: Store) -> None:
    org_id = await _org(store)
    cp_id = (await store.control_planes.create_owned(org_id, _fields("batched"))).item.id
    scope = CpScope(org_id, cp_id)
    await store.resources.write(scope, [Create(Resource("Mesh", "", "taken"))])
    writes = [
        store.resources.write(scope, [Create(Resource("Mesh", "", f"m{i}"))]) for i in range(20)
    ]
    duplicate = store.resources.write(scope, [Create(Resource("Mesh", "", "taken"))])
    results = await asyncio.gather(*writes, duplicate, return_exceptions=True)
    assert [type(r) for r in results[:-1]] == [list] * 20
    assert isinstance(results[-1], Conflict)
    meshes, total = await store.resources.find(scope, ResourceQuery("Mesh"))
    assert total == 21 and {m.name for m in meshes} == {"taken", *(f"m{i}" for i in range(20))}
    reopened = StoreClass(store.dialect)
    fresh, _ = await reopened.resources.find(scope, ResourceQuery("Mesh"))
    assert {m.name for m in fresh} == {m.name for m in meshes}, "what the cache shows is stored"
    await reopened.close()


async def test_a_batch_takes_savepoints_only_when_one_of_its_requests_fails(
    store: Store,
) -> None:
    org_id = await _org(store)
    scopes = []
    for i in range(5):
        created = await store.control_planes.create_owned(org_id, _fields(f"savepoints{i}"))
        scopes.append(CpScope(org_id, created.item.id))

    async def write_meshes(names: list[str]) -> list[Any]:
        writes = (
            store.resources.write(scope, [Create(Resource("Mesh", "", name))])
            for scope, name in zip(scopes, names, strict=True)
        )
        return await asyncio.gather(*writes, return_exceptions=True)

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.upper())

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        landed = await write_meshes(["a"] * 5)
        clean_run, statements[:] = list(statements), []
        mixed = await write_meshes(["b", "b", "a", "b", "b"])  # "a" exists in the third
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    assert [type(result) for result in landed] == [list] * 5
    assert not [s for s in clean_run if "SAVEPOINT" in s], "no failure, no savepoints"
    assert [s for s in statements if "SAVEPOINT" in s], "redone with savepoints"
    assert isinstance(mixed[2], Conflict)
    assert [type(result) for i, result in enumerate(mixed) if i != 2] == [list] * 4
    for i, scope in enumerate(scopes):
        meshes, _ = await store.resources.find(scope, ResourceQuery("Mesh"))
        assert {mesh.name for mesh in meshes} == ({"a"} if i == 2 else {"a", "b"})


async def test_the_cache_after_writes_equals_a_fresh_load(store: Store) -> None:
    org_id = await _org(store)
    cp_id = (await store.control_planes.create_owned(org_id, _fields("mirrored"))).item.id
    scope = CpScope(org_id, cp_id)
    mesh = Resource("Mesh", "", "m")
    policy = Resource("MeshTimeout", "m", "t", {"targetRef": {"kind": "Mesh"}})
    await store.resources.find(scope, ResourceQuery("Mesh"))  # load the (empty) cache
    await store.resources.write(scope, [Create(mesh), Create(policy)])
    stored = await store.resources.get(scope, "MeshTimeout", "m", "t")
    assert stored is not None
    await store.resources.write(scope, [Update(stored.with_changes(labels={"a": "b"}))])
    await store.resources.write(scope, [Create(Resource("Mesh", "", "gone"))])
    gone = await store.resources.get(scope, "Mesh", "", "gone")
    assert gone is not None
    await store.resources.write(scope, [Delete(gone)])
    await store.resources.write(scope, [Create(Resource("MeshRetry", "m", "r"))])
    await store.resources.write(scope, [DeleteMeshContents(mesh)])

    def snapshot(cp: CpResources) -> dict[tuple[str, str, str], Any]:
        return {key: (res.spec, res.labels, res.version) for key, (_, res) in cp.entries.items()}

    reopened = StoreClass(store.dialect)
    fresh = await reopened.resources.loaded(scope)
    cached = await store.resources.loaded(scope)
    assert snapshot(cached) == snapshot(fresh) == {("Mesh", "", "m"): ({}, {}, 1)}
    assert cached.revision == fresh.revision
    await reopened.close()


async def test_a_run_of_updates_lands_whole_or_fails_on_its_stale_one(store: Store) -> None:
    """Many updates in one write (a status flush) go as one statement; one stale version
    among them fails the whole write and names that resource."""
    org_id = await _org(store)
    scope = CpScope(org_id, (await store.control_planes.create_owned(org_id, _fields("u"))).item.id)
    meshes = await store.resources.write(
        scope, [Create(Resource("Mesh", "", f"m{i}")) for i in range(5)]
    )
    updated = await store.resources.write(
        scope, [Update(m.with_changes(labels={"n": m.name})) for m in meshes]
    )
    assert [(m.name, m.version, m.labels) for m in updated] == [
        (f"m{i}", 2, {"n": f"m{i}"}) for i in range(5)
    ]
    assert all(m.creation_time == c.creation_time for m, c in zip(updated, meshes, strict=True))
    stale = [updated[0], meshes[1], *updated[2:]]  # m1 at version 1 is stale now
    with pytest.raises(Conflict, match="'m1'"):
        await store.resources.write(scope, [Update(m.with_changes(labels={})) for m in stale])
    reopened = StoreClass(store.dialect)
    fresh, _ = await reopened.resources.find(scope, ResourceQuery("Mesh"))
    assert sorted((m.name, m.version, m.labels) for m in fresh) == [
        (f"m{i}", 2, {"n": f"m{i}"}) for i in range(5)
    ], "nothing of the failed write is stored"
    await reopened.close()


@dataclass
class Replicas:
    """Two stores on one PostgreSQL database, as two replicas have; `reader` follows
    the other's writes and hands what it hears to `heard`."""

    writer: Store
    reader: Store
    heard: asyncio.Queue[Event]
    scope: CpScope


@pytest.fixture
async def replicas(fresh_postgres_url: str) -> AsyncIterator[Replicas]:
    writer = await open_store(fresh_postgres_url)
    reader = await open_store(fresh_postgres_url)
    stop = await reader.follow_other_replicas()
    try:
        org_id = await _org(writer)
        cp_id = (await writer.control_planes.create_owned(org_id, _fields("shared"))).item.id
        yield Replicas(writer, reader, asyncio.Queue(), CpScope(org_id, cp_id))
    finally:
        await stop()
        await reader.close()
        await writer.close()


async def test_a_replica_hears_of_writes_made_by_another(replicas: Replicas) -> None:
    writer, reader, scope = replicas.writer, replicas.reader, replicas.scope
    assert await reader.resources.find(scope, ResourceQuery("Mesh")) == ([], 0)  # cached
    reader.events.listen(replicas.heard.put_nowait)
    await writer.resources.write(scope, [Create(Resource("Mesh", "", "from-writer"))])
    event = await asyncio.wait_for(replicas.heard.get(), timeout=10)
    assert isinstance(event, ResourcesChanged) and event.cp_id == scope.cp_id
    meshes, _ = await reader.resources.find(scope, ResourceQuery("Mesh"))
    assert [m.name for m in meshes] == ["from-writer"], "the reader's cache caught up"
    assert writer.events is not reader.events


async def test_a_replica_hears_of_zone_revocations_made_by_another(replicas: Replicas) -> None:
    org_id, cp_id = replicas.scope.org_id, replicas.scope.cp_id
    await replicas.writer.zones.create(org_id, cp_id, ZoneSettings("zone-east"))
    replicas.reader.events.listen(replicas.heard.put_nowait)
    await replicas.writer.zones.rotate(org_id, cp_id, "zone-east")
    event = await asyncio.wait_for(replicas.heard.get(), timeout=10)
    assert event == ZoneAccessRevoked(org_id, cp_id, "zone-east")

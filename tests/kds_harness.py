"""Shared setup of the KDS end-to-end tests: a control plane, zones with credentials
from the zone store, an in-process KDS server on a free port (TLS or plaintext), and
simulated zones dialling it."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from meshmanager.addresses import HostPort
from meshmanager.kds import tls as kds_tls
from meshmanager.kds.server import KdsServer
from meshmanager.kds.simulator import ZoneOptions, ZoneSimulator, ZoneStore
from meshmanager.kds.tls import TlsMaterial
from meshmanager.model.resources.stored import CpScope
from meshmanager.store import Store
from meshmanager.store.resources import Delete
from tests.conftest import Api
from tests.helpers import create_cp, my_org_id

T = TypeVar("T")
FAST_BACKOFF = 0.2  # tests reconnect quickly; the default is Kuma's 5 s


def make_tls(data_dir: Path) -> TlsMaterial:
    """The server's certificate as `meshmanager run` makes it: our own CA and a leaf
    with SANs for 127.0.0.1 and localhost (grpc checks the IP SAN, as Go does)."""
    return kds_tls.load_or_create(data_dir, ["127.0.0.1", "localhost"])


async def new_control_plane(api: Api, name: str, empty: bool = False) -> CpScope:
    """A control plane made through the API (default mesh, policies, signing keys), or
    with no Kuma resources at all when `empty`."""
    features = [
        {"type": "MeshCreation", "meshCreation": {"enabled": True}},
        {"type": "HostnameGeneratorCreation", "hostnameGeneratorCreation": {"enabled": True}},
    ]
    created = await create_cp(api, name, features=features)
    scope = CpScope(await my_org_id(api), uuid.UUID(created["id"]))
    if empty:
        cp = await api.store.resources.loaded(scope)
        everything = [entry[1] for entry in cp.entries.values()]
        if everything:
            await api.store.resources.write(scope, [Delete(r) for r in everything])
    return scope


async def new_zone(store: Store, scope: CpScope, name: str) -> str:
    """Creates the zone in the zone store; returns its credential."""
    from meshmanager.store.zones import ZoneSettings

    _, secret = await store.zones.create(scope.org_id, scope.cp_id, ZoneSettings(name=name))
    return secret


@dataclass
class Kds:
    server: KdsServer
    tls: TlsMaterial | None
    zones: list[ZoneSimulator] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    def address(self, credential: str | None) -> str:
        scheme = "grpcs" if self.tls else "grpc"
        return f"{scheme}://127.0.0.1:{self.port}/{credential or ''}".rstrip("/")

    def zone(
        self,
        name: str,
        credential: str | None,
        store: ZoneStore | None = None,
        start: bool = True,
        **options: Any,
    ) -> ZoneSimulator:
        options.setdefault("base_backoff", FAST_BACKOFF)
        options.setdefault("max_backoff", FAST_BACKOFF * 4)
        options.setdefault("seed", len(self.zones))
        if self.tls is not None:
            options.setdefault("ca_pem", self.tls.ca_pem)  # our own CA: never None here
        zone = ZoneSimulator(self.address(credential), name, store, ZoneOptions(**options))
        self.zones.append(zone)
        if start:
            zone.start()
        return zone


async def start_kds(store: Store, tls: TlsMaterial | None) -> KdsServer:
    server = KdsServer(HostPort.parse("127.0.0.1:0"), store, tls)
    await server.start()
    return server


@contextlib.asynccontextmanager
async def kds_context(store: Store, tls: TlsMaterial | None) -> AsyncIterator[Kds]:
    server = await start_kds(store, tls)
    kds = Kds(server, tls)
    try:
        yield kds
    finally:
        await asyncio.gather(*(zone.stop() for zone in kds.zones))
        await server.stop()


async def eventually(
    check: Callable[[], Any],
    within: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> Any:
    """Polls `check` until it returns something truthy without raising AssertionError."""
    deadline = time.monotonic() + within
    last: BaseException | None = None
    while True:
        try:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return result
            last = None
        except AssertionError as error:
            last = error
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within}s: {last!r}")
        await asyncio.sleep(interval)

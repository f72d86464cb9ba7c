"""Server-side render time of the console's pages with 10,000 dataplanes in one mesh.

    .venv/bin/python -m bench.console [--dataplanes 10000] [--store URL] [--rounds 40]

Loads the store directly (dataplanes and insights as zones report them), then requests
each page through the ASGI app in-process, signed in, and prints the median and p95
time per page: the time to authenticate, compute and render, without a network in the
way. Target (issue 5): a page renders in <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.machine import describe
from meshmanager.api.app import create_app
from meshmanager.api.controlplanes import initial_resources
from meshmanager.model.controlplane import (
    ControlPlaneFields,
    MeshCreationFeature,
    Toggle,
    complete_features,
)
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import open_store
from meshmanager.tenancy.bootstrap import bootstrap
from meshmanager.ui.app import with_console
from tests.console_data import fleet

MTP = {
    "targetRef": {"kind": "MeshSubset", "tags": {"kuma.io/service": "svc-01"}},
    "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
}


async def run(dataplanes: int, store_url: str | None, rounds: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="mm-bench-console-"))
    store = await open_store(store_url or f"sqlite:///{directory / 'meshmanager.db'}")
    created = await bootstrap(store, "bench", "bench@example.com", None)
    assert created is not None
    admin = await store.identity.bootstrap_admin()
    assert admin is not None
    fields = ControlPlaneFields(
        name="bench",
        description="",
        labels={},
        features=complete_features(
            [MeshCreationFeature(type="MeshCreation", mesh_creation=Toggle(enabled=True))]
        ),
    )
    cp = await store.control_planes.create_owned(
        admin[0], fields, initial=initial_resources(fields)
    )
    scope = CpScope(admin[0], cp.item.id)
    started = time.perf_counter()
    items = fleet("default", dataplanes, zones=10, services=100)
    items.append(Resource("MeshTrafficPermission", "default", "allow-svc-01", MTP))
    await store.resources.bulk_create(scope, items)
    print(f"loaded {dataplanes} dataplanes and insights in {time.perf_counter() - started:.1f} s")

    app = with_console(create_app(store), store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        login = await client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert csrf is not None
        signed_in = await client.post(
            "/login",
            data={"csrf_token": csrf.group(1), "method": "token", "token": created.token},
        )
        assert signed_in.status_code == 303
        base = f"/control-planes/{cp.item.id}"
        mesh = f"{base}/meshes/default"
        pages = {
            "data plane proxies, page 1": f"{mesh}/dataplanes",
            "data plane proxies, page 100": f"{mesh}/dataplanes?page=100",
            "data plane proxies, filtered": f"{mesh}/dataplanes?zone=zone-3&status=offline",
            "data plane proxies, live fragment": f"{mesh}/dataplanes?fragment=1",
            "mesh overview": mesh,
            "control plane overview": base,
            "control planes list": "/control-planes",
            "policy with affected proxies": f"{mesh}/policies/MeshTrafficPermission/allow-svc-01",
        }
        print(describe())
        print(f"{'page':36} {'first':>9} {'median':>9} {'p95':>9}")
        for label, path in pages.items():
            timings = []
            for _ in range(rounds + 1):
                start = time.perf_counter()
                response = await client.get(path)
                timings.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            first, rest = timings[0], sorted(timings[1:])
            p95 = rest[min(len(rest) - 1, int(len(rest) * 0.95))]
            print(f"{label:36} {first:7.1f}ms {statistics.median(rest):7.1f}ms {p95:7.1f}ms")
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataplanes", type=int, default=10_000)
    parser.add_argument("--store", default=None)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(run(args.dataplanes, args.store, args.rounds))


if __name__ == "__main__":
    main()

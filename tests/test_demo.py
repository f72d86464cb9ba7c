"""`meshmanager run --demo`: a real server whose demo zones connect over KDS (TLS)."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.server_process import ServerProcess

TOKEN = "kpat_" + uuid.uuid4().hex + uuid.uuid4().hex[:12]
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def _demo_server(tmp_path: Path) -> ServerProcess:
    env = {"MESHMANAGER_ADMIN_TOKEN": TOKEN, "MESHMANAGER_DEMO": "true"}
    return ServerProcess(tmp_path, f"sqlite:///{tmp_path}/mm.db", env=env).start()


def _eventually(check: Callable[[], Any], within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _get(server: ServerProcess, path: str) -> Any:
    response = httpx.get(f"{server.url}{path}", headers=HEADERS, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _demo_control_plane(server: ServerProcess) -> str:
    planes = _get(server, "/v1/mesh/control-planes")["data"]
    assert [cp["name"] for cp in planes] == ["demo"]
    return str(planes[0]["id"])


def _zones_online(server: ServerProcess, cp: str) -> dict[str, Any]:
    zones = {z["name"]: z for z in _get(server, f"/v1/mesh/control-planes/{cp}/zones")["data"]}
    assert set(zones) == {"demo-east", "demo-west"}
    assert all(zone["online"] for zone in zones.values()), zones
    return zones


def _dataplanes_synced(server: ServerProcess, cp: str) -> dict[str, Any]:
    insight = _get(server, f"/v1/mesh/control-planes/{cp}/api/global-insight")
    assert insight["resources"]["Dataplane"]["total"] == 64, insight
    assert insight["zones"]["zoneIngresses"] == {"online": 2, "total": 2}
    assert insight["zones"]["zoneEgresses"] == {"online": 1, "total": 1}
    return dict(insight)


def test_demo_zones_connect_sync_up_and_reconnect_after_a_restart(tmp_path: Path) -> None:
    server = _demo_server(tmp_path)
    try:
        cp = _demo_control_plane(server)
        zones = _eventually(lambda: _zones_online(server, cp))
        assert zones["demo-east"]["environment"] == "kubernetes"
        insight = _eventually(lambda: _dataplanes_synced(server, cp))
        assert insight["dataplanes"]["standard"]["offline"] > 0  # some are offline on purpose
        api = f"/v1/mesh/control-planes/{cp}/api"
        mesh = _get(server, f"{api}/meshes/default")
        assert mesh["mtls"]["enabledBackend"] == "ca-1"
        names = {p["name"] for p in _get(server, f"{api}/meshtimeouts")["items"]}
        assert "backend-timeouts" in names
        east = _get(
            server, f"{api}/meshes/default/dataplanes?filter[labels.kuma.io/zone]=demo-east"
        )
        assert east["total"] == 40
        assert {dp["labels"]["kuma.io/env"] for dp in east["items"]} == {"kubernetes"}
    finally:
        assert server.terminate() == 0

    # The next start rotates the demo zones' credentials and connects them again.
    server = _demo_server(tmp_path)
    try:
        assert _demo_control_plane(server) == cp
        _eventually(lambda: _zones_online(server, cp))
        _eventually(lambda: _dataplanes_synced(server, cp))
    finally:
        assert server.terminate() == 0


def test_zones_of_a_killed_server_read_offline_once_it_is_back(tmp_path: Path) -> None:
    """SIGKILL leaves the demo zones recorded as connected; the restarted sole replica
    (without --demo, so nothing reconnects) finalizes them and their proxies."""
    server = _demo_server(tmp_path)
    cp = _demo_control_plane(server)
    _eventually(lambda: _zones_online(server, cp))
    _eventually(lambda: _dataplanes_synced(server, cp))
    assert server.kill() == -signal.SIGKILL
    env = {"MESHMANAGER_ADMIN_TOKEN": TOKEN}
    server = ServerProcess(tmp_path, f"sqlite:///{tmp_path}/mm.db", env=env).start()
    try:
        zones = _get(server, f"/v1/mesh/control-planes/{cp}/zones")["data"]
        assert [z["online"] for z in zones] == [False, False]
        api = f"/v1/mesh/control-planes/{cp}/api"
        for item in _get(server, f"{api}/zones/_overview")["items"]:
            assert item["zoneInsight"]["subscriptions"][-1]["disconnectTime"]
        insight = _get(server, f"{api}/global-insight")
        assert insight["dataplanes"]["standard"]["online"] == 0
        assert insight["zones"]["controlPlanes"]["online"] == 0
    finally:
        assert server.terminate() == 0

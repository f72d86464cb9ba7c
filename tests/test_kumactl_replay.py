"""The request sequences kumactl 2.14 sends (shared/spec/kuma-rest-api.md §1-§2), replayed
over plain HTTP against a real server: config add, get, apply (create and update),
delete and inspect, on meshes, policies, secrets and dataplanes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server_process import ServerProcess

pytestmark = pytest.mark.slow

KUMACTL = {
    "User-Agent": "kumactl/2.14.3 (linux; amd64; Kuma/abc1234)",
    "Accept": "application/json",
}
ZERO = "0001-01-01T00:00:00Z"


class Kumactl:
    """What kumactl puts on the wire: the base address plus each path, its headers."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.client = httpx.Client(headers={**KUMACTL, "Authorization": f"Bearer {token}"})

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"content-type": "application/json"} if body is not None else {}
        return self.client.request(method, self.base + path, json=body, headers=headers)

    def compatibility_check(self) -> None:
        index = self.call("GET", "")
        assert index.status_code == 200
        assert (index.json()["product"], index.json()["version"]) == ("Kuma", "2.14.3")

    def apply(self, resource: dict[str, Any], item: str) -> str:
        """kumactl apply: GET the item, then PUT it (name and mesh from the GET if found)."""
        self.compatibility_check()
        found = self.call("GET", item)
        if found.status_code == 404:
            assert found.json()["title"], "kumactl needs a titled 404"
            put = self.call("PUT", item, _as_kumactl_sends(resource))
            assert put.status_code == 201, put.text
            return "Created"
        assert found.status_code == 200, found.text
        current = found.json()
        body = {**_as_kumactl_sends(resource), "name": current["name"]}
        if "mesh" in current:
            body["mesh"] = current["mesh"]
        put = self.call("PUT", item, body)
        assert put.status_code == 200, put.text
        return "Updated"


def _as_kumactl_sends(resource: dict[str, Any]) -> dict[str, Any]:
    """kumactl adds zero times and a client-side kri; new-style types get `status: {}`."""
    body = {**resource, "creationTime": ZERO, "modificationTime": ZERO, "kri": "kri_x"}
    if "spec" in resource and resource["type"] in ("MeshTimeout", "MeshExternalService"):
        body["status"] = {}
    return body


@pytest.fixture
def kumactl(tmp_path: Path) -> Iterator[tuple[Kumactl, ServerProcess]]:
    token = "kpat_" + uuid.uuid4().hex + uuid.uuid4().hex[:12]
    server = ServerProcess(
        tmp_path, f"sqlite:///{tmp_path}/mm.db", env={"MESHMANAGER_ADMIN_TOKEN": token}
    ).start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        cp = httpx.post(
            f"{server.url}/v1/mesh/control-planes", json={"name": "prod"}, headers=headers
        ).json()
        yield Kumactl(f"{server.url}/v1/mesh/control-planes/{cp['id']}/api", token), server
    finally:
        server.terminate()


def test_config_add_get_apply_delete(kumactl: tuple[Kumactl, ServerProcess]) -> None:
    ctl, _ = kumactl
    # kumactl config control-planes add: one GET of the bare prefix, with --headers only.
    ctl.compatibility_check()
    mesh = {"type": "Mesh", "name": "default"}
    assert ctl.apply(mesh, "/meshes/default") == "Created"
    mtls = {"enabledBackend": "ca-1", "backends": [{"name": "ca-1", "type": "builtin"}]}
    assert ctl.apply({**mesh, "mtls": mtls}, "/meshes/default") == "Updated"
    ctl.compatibility_check()
    got = ctl.call("GET", "/meshes/default").json()
    assert got["mtls"] == mtls and got["creationTime"].endswith("Z")

    timeout = {
        "type": "MeshTimeout",
        "name": "web",
        "mesh": "default",
        "spec": {
            "targetRef": {"kind": "Mesh"},
            "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "20s"}}],
        },
    }
    permission = {
        "type": "MeshTrafficPermission",
        "name": "allow",
        "mesh": "default",
        "spec": {
            "targetRef": {"kind": "Mesh"},
            "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
        },
    }
    retry = {
        "type": "MeshRetry",
        "name": "retry",
        "mesh": "default",
        "spec": {
            "targetRef": {"kind": "Mesh"},
            "to": [{"targetRef": {"kind": "Mesh"}, "default": {"http": {"numRetries": 3}}}],
        },
    }
    for policy, path in (
        (timeout, "meshtimeouts"),
        (permission, "meshtrafficpermissions"),
        (retry, "meshretries"),
    ):
        item = f"/meshes/default/{path}/{policy['name']}"
        assert ctl.apply(policy, item) == "Created"
        assert ctl.apply(policy, item) == "Updated"
        listed = ctl.call("GET", f"/meshes/default/{path}").json()
        assert policy["name"] in [i["name"] for i in listed["items"]]
        single = ctl.call("GET", item).json()
        assert {"type", "name", "mesh", "spec"} <= set(single)

    secret = {"type": "Secret", "name": "token", "mesh": "default", "data": "c2VjcmV0"}
    assert ctl.apply(secret, "/meshes/default/secrets/token") == "Created"
    assert ctl.call("GET", "/meshes/default/secrets/token").json()["data"] == "c2VjcmV0"

    # kumactl delete: success is exactly 200; a second delete is a titled 404.
    ctl.compatibility_check()
    deleted = ctl.call("DELETE", "/meshes/default/meshtimeouts/web")
    assert (deleted.status_code, deleted.json()) == (200, {})
    again = ctl.call("DELETE", "/meshes/default/meshtimeouts/web")
    assert again.status_code == 404 and again.json()["title"]
    # kumactl get of a missing item: any 404 prints "No resources found".
    assert ctl.call("GET", "/meshes/default/meshtimeouts/web").status_code == 404


def test_dataplanes_are_read_only_on_the_global(kumactl: tuple[Kumactl, ServerProcess]) -> None:
    ctl, _ = kumactl
    ctl.apply({"type": "Mesh", "name": "default"}, "/meshes/default")
    dataplane = {
        "type": "Dataplane",
        "name": "web-1",
        "mesh": "default",
        "networking": {
            "address": "10.0.0.1",
            "inbound": [{"port": 8080, "tags": {"kuma.io/service": "web"}}],
        },
    }
    ctl.compatibility_check()
    assert ctl.call("GET", "/meshes/default/dataplanes/web-1").status_code == 404
    refused = ctl.call("PUT", "/meshes/default/dataplanes/web-1", _as_kumactl_sends(dataplane))
    assert refused.status_code == 405
    assert refused.json()["title"] == "Method not allowed"
    listed = ctl.call("GET", "/meshes/default/dataplanes").json()
    assert listed == {"total": 0, "items": [], "next": None}


def test_inspect(kumactl: tuple[Kumactl, ServerProcess]) -> None:
    ctl, _ = kumactl
    ctl.apply({"type": "Mesh", "name": "default"}, "/meshes/default")
    ctl.compatibility_check()
    meshes = ctl.call("GET", "/mesh-insights").json()
    assert [m["name"] for m in meshes["items"]] == ["default"]
    assert all("dataplanes" in m for m in meshes["items"]), "inspect meshes needs it"
    overview = ctl.call("GET", "/meshes/default/dataplanes/_overview?tag=kuma.io/service:web")
    assert overview.status_code == 200 and overview.json()["total"] == 0
    services = ctl.call("GET", "/meshes/default/service-insights").json()
    assert services["items"] == []
    zones = ctl.call("GET", "/zones/_overview")
    assert zones.status_code == 200 and zones.json()["items"] == []
    policy = ctl.call("GET", "/meshes/default/meshtimeouts/mesh-timeout-all-default/dataplanes")
    assert policy.status_code == 200 and policy.json()["total"] == 0

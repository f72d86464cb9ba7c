"""The real service in a child process: first start, restarts, signals, durability."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import meshmanager
from tests.server_process import ServerProcess

pytestmark = pytest.mark.slow

CP = "/v1/mesh/control-planes"
SERVING = health_pb2.HealthCheckResponse.SERVING


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _count_control_planes(server: ServerProcess, token: str) -> set[str]:
    names: set[str] = set()
    number = 1
    while True:
        r = httpx.get(
            f"{server.url}{CP}",
            params={"page[size]": 100, "page[number]": number},
            headers=_auth(token),
        )
        assert r.status_code == 200, r.text
        page = r.json()["data"]
        names.update(cp["name"] for cp in page)
        if len(page) < 100:
            return names
        number += 1


def test_first_start_prints_a_token_once(tmp_path: Path, store_url: str) -> None:
    first = ServerProcess(tmp_path, store_url).start()
    try:
        tokens = first.printed_tokens()
        assert len(tokens) == 1
        r = httpx.get(f"{first.url}{CP}", headers=_auth(tokens[0]))
        assert r.status_code == 200
    finally:
        first.terminate()
    tokens = first.printed_tokens()
    assert len(tokens) == 1, "the token is printed exactly once"

    second = ServerProcess(tmp_path, store_url).start()
    try:
        r = httpx.get(f"{second.url}{CP}", headers=_auth(tokens[0]))
        assert r.status_code == 200, "a restart keeps the admin token"
    finally:
        second.terminate()
    assert second.printed_tokens() == []


def test_admin_token_from_environment_is_used_and_not_printed(tmp_path: Path) -> None:
    token = "kpat_" + "A1b2C3d4" * 6
    server = ServerProcess(
        tmp_path, f"sqlite:///{tmp_path}/mm.db", env={"MESHMANAGER_ADMIN_TOKEN": token}
    ).start()
    try:
        assert httpx.get(f"{server.url}{CP}", headers=_auth(token)).status_code == 200
    finally:
        server.terminate()
    assert token not in server.stdout + server.stderr
    assert server.printed_tokens() == []


def test_a_weak_admin_token_from_environment_is_refused(tmp_path: Path) -> None:
    server = ServerProcess(
        tmp_path, f"sqlite:///{tmp_path}/mm.db", env={"MESHMANAGER_ADMIN_TOKEN": "kpat_short"}
    )
    with pytest.raises(RuntimeError, match="at least 43"):
        server.start()
    assert server.process is not None and server.process.returncode != 0


def test_admin_create_token_mints_a_working_token(tmp_path: Path, store_url: str) -> None:
    server = ServerProcess(tmp_path, store_url).start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "meshmanager", "admin", "create-token", "--store", store_url],
            capture_output=True,
            text=True,
            check=True,
        )
        minted = result.stdout.strip()
        assert minted.startswith("kpat_") and minted != server.printed_tokens()[0]
        assert httpx.get(f"{server.url}{CP}", headers=_auth(minted)).status_code == 200
    finally:
        server.terminate()


def test_create_token_on_an_uninitialised_store_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "meshmanager", "admin", "create-token", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "has not been initialised" in result.stderr


def test_no_acknowledged_write_is_lost_on_sigkill(tmp_path: Path, store_url: str) -> None:
    server = ServerProcess(tmp_path, store_url).start()
    token = server.printed_tokens()[0]
    acknowledged: list[str] = []
    with httpx.Client(base_url=server.url, headers=_auth(token)) as client:
        for i in range(40):
            r = client.post(CP, json={"name": f"cp-{i:03d}", "labels": {"i": str(i)}})
            assert r.status_code == 201, r.text
            acknowledged.append(f"cp-{i:03d}")
        # The last write is acknowledged, then the process dies at once.
        r = client.patch(f"{CP}/{r.json()['id']}", json={"description": "last word"})
        assert r.status_code == 200
    assert server.kill() == -signal.SIGKILL

    restarted = ServerProcess(tmp_path, store_url).start()
    try:
        assert _count_control_planes(restarted, token) == set(acknowledged)
        r = httpx.get(
            f"{restarted.url}{CP}", params={"filter[name]": "cp-039"}, headers=_auth(token)
        )
        assert r.json()["data"][0]["description"] == "last word"
    finally:
        restarted.terminate()


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, f"sqlite:///{tmp_path}/mm.db").start()
    token = server.printed_tokens()[0]
    outcomes: list[str] = []
    first_done = threading.Event()

    def create(i: int) -> None:
        try:
            r = httpx.post(
                f"{server.url}{CP}", json={"name": f"term-{i}"}, headers=_auth(token), timeout=30
            )
            outcomes.append(f"{r.status_code}:term-{i}")
        except httpx.ConnectError:
            outcomes.append("refused")
        first_done.set()

    with ThreadPoolExecutor(max_workers=16) as pool:
        for i in range(64):
            pool.submit(create, i)
        first_done.wait(timeout=30)
        code = server.terminate()
    assert code == 0, server.stderr
    statuses = {o.split(":")[0] for o in outcomes}
    assert statuses <= {"201", "refused"}, outcomes
    created = {o.split(":")[1] for o in outcomes if o.startswith("201")}
    assert created, "some requests completed before shutdown"

    restarted = ServerProcess(tmp_path, f"sqlite:///{tmp_path}/mm.db").start()
    try:
        names = _count_control_planes(restarted, token)
        assert created <= names
    finally:
        restarted.terminate()
    assert "shutting down" in server.stderr


def test_logs_are_json_with_the_request_id(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, f"sqlite:///{tmp_path}/mm.db").start()
    try:
        r = httpx.get(
            f"{server.url}{CP}",
            headers={**_auth(server.printed_tokens()[0]), "X-Request-Id": "trace-me-42"},
        )
        assert r.headers["x-request-id"] == "trace-me-42"
    finally:
        server.terminate()
    lines = [json.loads(line) for line in server.stderr.splitlines() if line.startswith("{")]
    assert lines, server.stderr
    access = [entry for entry in lines if entry.get("request_id") == "trace-me-42"]
    assert access and access[0]["route"] == CP and access[0]["status"] == 200


def test_sigterm_ends_grpc_streams_with_a_retryable_status(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, f"sqlite:///{tmp_path}/mm.db").start()
    ca = (tmp_path / "kds-tls" / "ca.pem").read_bytes()  # KDS is TLS, with our own CA
    credentials = grpc.ssl_channel_credentials(root_certificates=ca)
    channel = grpc.secure_channel(f"127.0.0.1:{server.kds_port}", credentials)
    health = health_pb2_grpc.HealthStub(channel)
    assert health.Check(health_pb2.HealthCheckRequest()).status == SERVING
    stream = health.Watch(health_pb2.HealthCheckRequest())
    assert next(stream).status == SERVING
    server.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    statuses = []
    with pytest.raises(grpc.RpcError) as ended:
        statuses.extend(update.status for update in stream)
    assert statuses == [health_pb2.HealthCheckResponse.NOT_SERVING]
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE  # clients retry on it
    server.process.wait(timeout=60)  # type: ignore[union-attr]
    server.collect()
    channel.close()


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        (None, meshmanager.GRPC_EXPERIMENTS),
        ("", ""),  # gRPC's own default, on request
        ("-event_engine_client", "-event_engine_client"),
    ],
)
def test_grpc_io_manager_is_chosen_before_grpc_loads(preset: str | None, expected: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "GRPC_EXPERIMENTS"}
    if preset is not None:
        env["GRPC_EXPERIMENTS"] = preset
    program = (
        "import os, sys; assert 'grpc' not in sys.modules; import meshmanager.kds.server;"
        " assert 'grpc' in sys.modules; print(os.environ['GRPC_EXPERIMENTS'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == expected

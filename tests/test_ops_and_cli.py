"""Operations endpoints in-process, and how the CLI assembles its settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from meshmanager.addresses import HostPort
from meshmanager.api.ops import create_ops_app
from meshmanager.cli import serve as serve_module
from meshmanager.cli.main import cli
from meshmanager.cli.settings import Settings
from meshmanager.store.base import Store as StoreClass
from meshmanager.store.dialects import dialect_for
from tests.conftest import Api


async def _get(app: Any, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
        return await client.get(path)


async def test_health_ready_and_metrics(api: Api) -> None:
    await api.call("GET", "/v1/mesh/control-planes")
    ops = create_ops_app(api.store)
    assert (await _get(ops, "/healthz")).json() == {"status": "ok"}
    assert (await _get(ops, "/readyz")).status_code == 200
    metrics = (await _get(ops, "/metrics")).text
    assert 'meshmanager_build_info{python="' in metrics
    assert (
        'meshmanager_http_requests_total{method="GET",route="/v1/mesh/control-planes",status="200"}'
        in metrics
    )
    assert 'meshmanager_store_operations_total{operation="control_planes.list",outcome="ok"}' in (
        metrics
    )
    assert "meshmanager_http_request_duration_seconds_bucket" in metrics


async def test_not_ready_until_migrated(tmp_path: Path) -> None:
    store = StoreClass(dialect_for(f"sqlite:///{tmp_path}/mm.db"))
    ops = create_ops_app(store)
    r = await _get(ops, "/readyz")
    assert r.status_code == 503 and "not migrated" in r.json()["detail"]
    await store.migrate()
    assert (await _get(ops, "/readyz")).status_code == 200
    await store.close()


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """Runs `meshmanager run` up to the point where it would serve."""
    seen: list[Settings] = []

    async def fake_serve(settings: Settings, announce: Any) -> None:
        seen.append(settings)

    monkeypatch.setattr(serve_module, "serve", fake_serve)
    for name in ("MESHMANAGER_HTTP_ADDRESS", "MESHMANAGER_STORE", "MESHMANAGER_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return seen


def test_defaults(captured: list[Settings]) -> None:
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 0, result.output
    (settings,) = captured
    assert settings.http_address == HostPort("127.0.0.1", 5681)
    assert settings.kds_address == HostPort("0.0.0.0", 5685)
    assert settings.metrics_address == HostPort("0.0.0.0", 5680)
    assert settings.store.startswith("sqlite:///") and settings.store.endswith(
        ".local/share/meshmanager/meshmanager.db"
    )


def test_option_beats_environment_beats_config_file(
    captured: list[Settings], tmp_path: Path
) -> None:
    config = tmp_path / "mm.yaml"
    config.write_text("http_address: 127.0.0.1:7001\nkds-address: 127.0.0.1:7005\n")
    runner = CliRunner()
    env = {"MESHMANAGER_HTTP_ADDRESS": "127.0.0.1:7002", "MESHMANAGER_STORE": "sqlite:////x.db"}
    assert runner.invoke(cli, ["run", "--config", str(config)]).exit_code == 0
    assert runner.invoke(cli, ["run", "--config", str(config)], env=env).exit_code == 0
    args = ["run", "--config", str(config), "--http-address", "127.0.0.1:7003"]
    assert runner.invoke(cli, args, env=env).exit_code == 0
    assert [s.http_address.port for s in captured] == [7001, 7002, 7003]
    assert all(s.kds_address.port == 7005 for s in captured)
    assert captured[1].store == "sqlite:////x.db"


def test_config_file_with_unknown_key_is_refused(captured: list[Settings], tmp_path: Path) -> None:
    config = tmp_path / "mm.yaml"
    config.write_text("http_adress: 127.0.0.1:7001\n")
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown keys http_adress" in result.output
    assert captured == []


def test_bad_address_is_refused(captured: list[Settings]) -> None:
    result = CliRunner().invoke(cli, ["run", "--http-address", "localhost"])
    assert result.exit_code == 2
    assert "host:port" in result.output


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for args in (["--help"], ["run", "--help"], ["migrate", "--help"], ["admin", "--help"]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0 and "Usage:" in result.output, args
    result = runner.invoke(cli, ["admin", "create-token", "--help"])
    assert "locked-out" in result.output or "lost the admin token" in result.output

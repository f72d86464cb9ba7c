"""Run settings, from options, MESHMANAGER_* environment variables and a YAML file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

from meshmanager.addresses import HostPort

DEFAULT_DATA_DIR = Path("~/.local/share/meshmanager")
ENV_PREFIX = "MESHMANAGER_"


@dataclass(frozen=True)
class Settings:
    http_address: HostPort
    kds_address: HostPort
    metrics_address: HostPort
    data_dir: Path
    store: str
    org_name: str
    admin_email: str
    admin_token: str | None
    kds_public_address: str | None = None
    kds_tls_cert: Path | None = None
    kds_tls_key: Path | None = None
    kds_plaintext: bool = False
    demo: bool = False

    def kds_url(self) -> str:
        """The address zones dial, as a grpc(s):// URL."""
        scheme = "grpc" if self.kds_plaintext else "grpcs"
        if self.kds_public_address:
            given = self.kds_public_address
            return given if "://" in given else f"{scheme}://{given}"
        host = self.kds_address.host or "127.0.0.1"
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        return f"{scheme}://{host}:{self.kds_address.port}"


def default_store_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir.expanduser().resolve() / 'meshmanager.db'}"


def load_config_file(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """`--config FILE`: its keys become the defaults of the command's options."""
    if value is None:
        return None
    try:
        loaded = yaml.safe_load(Path(value).read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise click.BadParameter(f"cannot read {value}: {error}") from error
    if not isinstance(loaded, dict):
        raise click.BadParameter(f"{value} must hold a mapping of option names to values")
    known = {p.name for p in ctx.command.params if p.name and p.name != "config"}
    options: dict[str, Any] = {str(k).replace("-", "_"): v for k, v in loaded.items()}
    unknown = sorted(set(options) - known)
    if unknown:
        raise click.BadParameter(
            f"{value}: unknown keys {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    ctx.default_map = {**(ctx.default_map or {}), **options}
    return value


def address(_ctx: click.Context, _param: click.Parameter, value: str) -> HostPort:
    try:
        return HostPort.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error


def env(name: str) -> str:
    return ENV_PREFIX + name

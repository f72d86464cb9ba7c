"""`meshmanager`: run the service, migrate its store, and recover admin access."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from meshmanager import __version__
from meshmanager.cli.settings import (
    DEFAULT_DATA_DIR,
    Settings,
    address,
    default_store_url,
    env,
    load_config_file,
)
from meshmanager.cli.zone_sim import zone_sim
from meshmanager.model.errors import ValidationFailed
from meshmanager.observability import configure_logging
from meshmanager.store import open_store
from meshmanager.tenancy.bootstrap import Bootstrap, mint_admin_token

console = Console()
F = TypeVar("F", bound=Callable[..., Any])


def store_options(fn: F) -> F:
    """--config, --data-dir and --store: shared by every command that opens the store."""
    for option in reversed(
        [
            click.option(
                "--config",
                type=click.Path(exists=True, dir_okay=False),
                callback=load_config_file,
                is_eager=True,
                expose_value=False,
                envvar=env("CONFIG"),
                help="YAML file whose keys (option names, e.g. http_address) set defaults."
                " Command-line options and environment variables override it.",
            ),
            click.option(
                "--data-dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=DEFAULT_DATA_DIR,
                show_default=True,
                envvar=env("DATA_DIR"),
                help="Where the embedded store and generated files live.",
            ),
            click.option(
                "--store",
                "store",
                default=None,
                envvar=env("STORE"),
                help="sqlite:///PATH or postgresql://USER:PASS@HOST:PORT/DB."
                "  [default: sqlite in the data dir]",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def _store_url(data_dir: Path, store: str | None) -> str:
    return store or default_store_url(data_dir)


T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except (ValueError, LookupError, OSError) as error:
        raise click.ClickException(str(error)) from error


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="meshmanager")
def cli() -> None:
    """meshmanager: a self-hostable, multi-tenant global control plane for Kuma meshes.

    Start everything with `meshmanager run`. Every option can also be set with an
    environment variable MESHMANAGER_<OPTION> (e.g. MESHMANAGER_STORE) or in the
    YAML file given to --config.
    """


@cli.command()
@store_options
@click.option(
    "--http-address",
    default="127.0.0.1:5681",
    show_default=True,
    callback=address,
    envvar=env("HTTP_ADDRESS"),
    help="HTTP API and web console.",
)
@click.option(
    "--kds-address",
    default=":5685",
    show_default=True,
    callback=address,
    envvar=env("KDS_ADDRESS"),
    help="KDS gRPC endpoint that zone control planes connect to.",
)
@click.option(
    "--kds-public-address",
    default=None,
    envvar=env("KDS_PUBLIC_ADDRESS"),
    help="The KDS URL zones dial, e.g. grpcs://kds.example.com:5685 (the host also goes"
    " into the generated certificate). Default: the KDS address, 127.0.0.1 if unspecified.",
)
@click.option(
    "--kds-tls-cert",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar=env("KDS_TLS_CERT"),
    help="PEM certificate (chain) for KDS. Default: a CA and certificate generated in the"
    " data dir, handed to zones with their deploy material.",
)
@click.option(
    "--kds-tls-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar=env("KDS_TLS_KEY"),
    help="PEM private key of --kds-tls-cert.",
)
@click.option(
    "--kds-plaintext",
    is_flag=True,
    default=False,
    envvar=env("KDS_PLAINTEXT"),
    help="Serve KDS without TLS (grpc://). Zone credentials then cross the network in clear.",
)
@click.option(
    "--metrics-address",
    default=":5680",
    show_default=True,
    callback=address,
    envvar=env("METRICS_ADDRESS"),
    help="Prometheus /metrics, /healthz and /readyz.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    envvar=env("LOG_LEVEL"),
)
@click.option(
    "--org-name",
    default="default",
    show_default=True,
    envvar=env("ORG_NAME"),
    help="Name of the organization created on first start.",
)
@click.option(
    "--admin-email",
    default="admin@meshmanager.invalid",
    show_default=True,
    envvar=env("ADMIN_EMAIL"),
    help="Email of the admin user created on first start.",
)
@click.option(
    "--admin-token",
    default=None,
    envvar=env("ADMIN_TOKEN"),
    help="On first start, use this admin token (kpat_ and 43+ letters and digits) instead"
    " of generating and printing one. Ignored once the store is initialised.",
)
@click.option(
    "--demo",
    is_flag=True,
    default=False,
    envvar=env("DEMO"),
    help="Also run a control plane named 'demo' with two simulated Kuma zones (proxies,"
    " ingresses, an egress) connected over KDS, to explore the console and API.",
)
def run(data_dir: Path, store: str | None, **options: Any) -> None:
    """Run the service: HTTP API, KDS server and metrics, in one process.

    On the first start against an empty store it creates an organization, an admin
    user and an admin token, and prints the token once.
    """
    from meshmanager.cli.serve import serve

    configure_logging(options.pop("log_level"))
    settings = Settings(
        data_dir=data_dir.expanduser(),
        store=_store_url(data_dir, store),
        **options,
    )
    _run(serve(settings, _announce))


def _announce(created: Bootstrap) -> None:
    if created.token_was_provided:
        console.print(
            f"Initialised organization [bold]{created.org_name}[/] with the admin token"
            " from MESHMANAGER_ADMIN_TOKEN."
        )
        return
    console.print(
        f"[bold]Admin token[/] for organization {created.org_name} ({created.admin_email}),"
        " shown only now (if it is lost, run 'meshmanager admin create-token'):"
    )
    console.print(created.token, soft_wrap=True, highlight=False)
    console.file.flush()


@cli.command()
@store_options
def migrate(data_dir: Path, store: str | None) -> None:
    """Upgrade the store's schema to this version and exit (`run` does this too)."""

    async def go() -> None:
        opened = await open_store(_store_url(data_dir, store))
        await opened.close()

    _run(go())
    console.print("store is up to date")


@cli.group()
def admin() -> None:
    """Administer the store directly, without the API."""


@admin.command("create-token")
@store_options
@click.option("--name", default="recovery admin token", show_default=True)
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, 366),
    default=30,
    show_default=True,
    help="Days until the token stops working.",
)
def create_token(data_dir: Path, store: str | None, name: str, expires_in_days: int) -> None:
    """Mint a new token for the first organization's admin and print it.

    For an operator who has lost the admin token. It needs direct access to the store.
    """

    async def go() -> str:
        opened = await open_store(_store_url(data_dir, store))
        try:
            return await mint_admin_token(opened, name, timedelta(days=expires_in_days))
        finally:
            await opened.close()

    click.echo(_run(go()))


@admin.command("set-password")
@store_options
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of prompting for it.",
)
def set_password_command(
    data_dir: Path, store: str | None, email: str, password_stdin: bool
) -> None:
    """Set the web console password of the user with this EMAIL.

    Passwords are stored as scrypt hashes. Setting one signs out the user's other
    password sessions.
    """
    from meshmanager.tenancy.passwords import set_password_by_email

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))

    async def go() -> None:
        opened = await open_store(_store_url(data_dir, store))
        try:
            await set_password_by_email(opened, email, password)
        finally:
            await opened.close()

    try:
        _run(go())
    except ValidationFailed as error:
        raise click.ClickException(error.invalid_parameters[0].reason) from error
    console.print(f"password set for {email}")


cli.add_command(zone_sim)

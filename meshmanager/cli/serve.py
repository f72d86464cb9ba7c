"""One process: the HTTP API, the KDS gRPC server and the operations listener."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import uvicorn
from starlette.types import ASGIApp

from meshmanager.addresses import HostPort
from meshmanager.api.app import create_app
from meshmanager.api.ops import create_ops_app
from meshmanager.cli.demo import start_demo
from meshmanager.cli.heap import HeapCollector
from meshmanager.cli.settings import Settings
from meshmanager.kds.server import KdsServer
from meshmanager.kds.tls import TlsError, TlsMaterial, load_files, load_or_create
from meshmanager.model.zones import KdsEndpoint
from meshmanager.observability import log_fields
from meshmanager.store import open_store
from meshmanager.tenancy.bootstrap import Bootstrap, bootstrap
from meshmanager.ui.app import ConsoleSettings, with_console

log = logging.getLogger("meshmanager")

HTTP_SHUTDOWN_GRACE_SECONDS = 30


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us: we run several in one loop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _http_server(app: ASGIApp, address: HostPort) -> _Server:
    config = uvicorn.Config(
        app,
        host=address.host,
        port=address.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=HTTP_SHUTDOWN_GRACE_SECONDS,
        server_header=False,
    )
    return _Server(config)


def _kds_tls(settings: Settings) -> TlsMaterial | None:
    """The operator's certificate, or our own CA's for the public KDS host; None when
    plaintext was asked for."""
    if settings.kds_plaintext:
        return None
    if settings.kds_tls_cert or settings.kds_tls_key:
        if not (settings.kds_tls_cert and settings.kds_tls_key):
            raise TlsError("give both --kds-tls-cert and --kds-tls-key, or neither")
        return load_files(settings.kds_tls_cert, settings.kds_tls_key)
    host = urlsplit(settings.kds_url()).hostname or "127.0.0.1"
    return load_or_create(settings.data_dir, [host])


async def serve(settings: Settings, announce: Callable[[Bootstrap], None]) -> None:
    """Runs until SIGTERM or SIGINT, then drains in-flight work and stops."""
    store = await open_store(settings.store)
    log.info("store ready", extra=log_fields(store=store.dialect.describe()))
    stop_following = await store.follow_other_replicas()
    created = await bootstrap(store, settings.org_name, settings.admin_email, settings.admin_token)
    if created is not None:
        announce(created)
    tls = await asyncio.to_thread(_kds_tls, settings)
    kds = KdsServer(settings.kds_address, store, tls)
    endpoint = KdsEndpoint(
        settings.kds_url(), None if tls is None or tls.ca_pem is None else tls.ca_pem.decode()
    )
    kds_listen = HostPort(settings.kds_address.host, kds.port)
    servers = [
        _http_server(
            with_console(
                create_app(store, kds.services.admin, kds_listen, endpoint),
                store,
                ConsoleSettings(
                    kds_address=endpoint.address,
                    kds_ca_pem=endpoint.ca_pem,
                    envoy_admin=kds.services.admin,
                ),
            ),
            settings.http_address,
        ),
        _http_server(create_ops_app(store), settings.metrics_address),
    ]
    stopped = asyncio.Event()
    _stop_on_signals(servers, stopped)
    await kds.start()
    heap = asyncio.create_task(HeapCollector().run_forever())
    demo = await start_demo(store, endpoint) if settings.demo else None
    log.info(
        "meshmanager started",
        extra=log_fields(
            http=str(settings.http_address),
            kds=str(settings.kds_address),
            metrics=str(settings.metrics_address),
        ),
    )
    try:
        # KDS drains alongside HTTP: its streams are long-lived, so waiting for the HTTP
        # requests first would only delay the retryable status zones reconnect on.
        await asyncio.gather(*(server.serve() for server in servers), _stop_when(stopped, kds))
    finally:
        heap.cancel()
        if demo is not None:
            await demo.stop()
        await kds.stop()
        await stop_following()
        await store.close()
        log.info("meshmanager stopped")


async def _stop_when(stopped: asyncio.Event, kds: KdsServer) -> None:
    await stopped.wait()
    await kds.stop()


def _stop_on_signals(servers: list[_Server], stopped: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()

    def stop(sig: signal.Signals) -> None:
        log.info("shutting down", extra=log_fields(signal=sig.name))
        stopped.set()
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig)

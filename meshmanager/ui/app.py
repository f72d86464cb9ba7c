"""The web console: server-rendered pages over the store, served beside the API.

`with_console(api_app, store)` answers the API's paths (/v0, /v1, /v3) with the API and
everything else with the console, so the API app stays usable without it.
"""

from __future__ import annotations

import base64
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote
from uuid import UUID

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from meshmanager import __version__
from meshmanager.api.kuma.context import KumaCall
from meshmanager.api.kuma.envoy_admin import EnvoyAdminForwarder
from meshmanager.api.kuma.errors import KumaError
from meshmanager.model.controlplane import ControlPlane
from meshmanager.model.errors import DomainError, Forbidden, NotFound, Unauthenticated
from meshmanager.model.identity import Action, Organization
from meshmanager.model.resources.stored import CpScope
from meshmanager.model.zone_deploy import KUMA_VERSION
from meshmanager.model.zones import KdsEndpoint
from meshmanager.store import Store
from meshmanager.store.console import session_key
from meshmanager.tenancy.passwords import user_principal
from meshmanager.tenancy.principal import Principal, authenticate_token_hash
from meshmanager.ui.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    LoginLimiter,
    Session,
    csrf_matches,
    csrf_token,
    read_session,
)

HERE = Path(__file__).parent
API_PREFIXES = ("/v0/", "/v1/", "/v3/")
FLASH_COOKIE = "mm_flash"
MAX_FORM_BYTES = 2 * 1024 * 1024


@dataclass
class ConsoleSettings:
    kds_address: str = "grpcs://127.0.0.1:5685"  # what zones are told to dial
    public_url: str | None = None  # the console's and API's URL as users reach it
    kds_ca_pem: str | None = None  # the CA of the KDS certificate, when it is our own
    # Fetches a proxy's Envoy admin data through its zone (the KDS server's streams).
    envoy_admin: EnvoyAdminForwarder | None = None

    def kds_endpoint(self) -> KdsEndpoint:
        return KdsEndpoint(self.kds_address, self.kds_ca_pem)


@dataclass
class Console:
    store: Store
    settings: ConsoleSettings
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    templates: Environment = field(init=False)
    _key: bytes | None = None

    def __post_init__(self) -> None:
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
            enable_async=False,
        )
        self.templates.filters["when"] = format_when
        self.templates.filters["ago"] = format_ago
        self.templates.filters["labels"] = format_labels
        self.templates.globals["version"] = __version__
        self.templates.globals["kuma_version"] = KUMA_VERSION

    async def key(self) -> bytes:
        if self._key is None:
            self._key = await session_key(self.store)
        return self._key


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


@dataclass
class Ctx:
    """One signed-in request: who, their session, and the form they sent."""

    request: Request
    console: Console
    principal: Principal
    session: Session
    organization: Organization
    csrf: str
    form: dict[str, str] = field(default_factory=dict)
    form_lists: dict[str, list[str]] = field(default_factory=dict)
    flash: str | None = None

    @property
    def store(self) -> Store:
        return self.console.store

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def param(self, name: str, default: str = "") -> str:
        return self.request.path_params.get(name) or self.request.query_params.get(name, default)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        page = self.console.templates.get_template(template)
        html = page.render(
            ctx=self,
            principal=self.principal,
            organization=self.organization,
            csrf=self.csrf,
            flash=self.flash,
            request=self.request,
            **values,
        )
        response = HTMLResponse(html, status_code=status)
        if self.flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        response.headers["Cache-Control"] = "no-store"
        return response

    def redirect(self, url: str, flash: str | None = None) -> Response:
        if self.is_htmx:
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        if flash:
            set_flash(response, flash)
        return response

    async def control_plane(self, cp_id: str, action: Action = Action.READ) -> ControlPlane:
        try:
            ident = UUID(cp_id)
        except ValueError:
            raise NotFound(f"control plane {cp_id} not found") from None
        found = await self.store.control_planes.get(self.principal.org_id, ident)
        self.principal.require(action, ident)
        return found.item

    async def kuma_call(self, cp_id: str, action: Action = Action.READ) -> KumaCall:
        control_plane = await self.control_plane(cp_id, action)
        scope = CpScope(self.principal.org_id, control_plane.id)
        return KumaCall(self.store, self.principal, control_plane, scope)

    def api_base(self) -> str:
        configured = self.console.settings.public_url
        if configured:
            return configured.rstrip("/")
        return str(self.request.base_url).rstrip("/")


def set_flash(response: Response, message: str) -> None:
    encoded = base64.urlsafe_b64encode(message.encode()).decode()
    response.set_cookie(FLASH_COOKIE, encoded, max_age=60, path="/", httponly=True, samesite="lax")


def read_flash(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        return base64.urlsafe_b64decode(raw.encode()).decode()[:500]
    except (ValueError, UnicodeDecodeError):
        return None


def format_when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    seconds = (datetime.now(UTC) - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = f"{int(seconds // size)} {unit}"
            break
    else:
        amount = f"{int(seconds)} s"
    return f"in {amount}" if future else f"{amount} ago"


def format_labels(labels: dict[str, str] | None) -> Markup:
    if not labels:
        return Markup('<span class="muted">—</span>')
    return Markup(" ").join(
        Markup('<span class="label">{}: {}</span>').format(k, v) for k, v in sorted(labels.items())
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def read_form(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """URL-encoded forms only (every console form is one): no multipart parser needed."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise DomainError("the form is too large")
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    single: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for key, value in pairs:
        single.setdefault(key, value)
        lists.setdefault(key, []).append(value)
    return single, lists


def same_origin(request: Request) -> bool:
    """A browser's Origin header, when sent, must be this console's."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def session_principal(console: Console, session: Session) -> Principal | None:
    if session.kind == "password" and session.user_id is not None:
        return await user_principal(console.store, session.org_id, session.user_id, session.epoch)
    if session.kind == "token" and session.token_hash:
        try:
            principal = await authenticate_token_hash(console.store, session.token_hash)
        except Unauthenticated:
            return None
        return principal if principal.org_id == session.org_id else None
    return None


Handler = Callable[[Ctx], Awaitable[Response]]


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for signed-in callers: resolves the session, checks CSRF on writes, and
    turns domain errors into error pages."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        console: Console = request.app.state.console
        key = await console.key()
        session = read_session(key, request.cookies.get(SESSION_COOKIE))
        principal = None if session is None else await session_principal(console, session)
        if session is None or principal is None:
            return _to_login(request)
        ctx = Ctx(
            request=request,
            console=console,
            principal=principal,
            session=session,
            organization=await console.store.identity.get_organization(principal.org_id),
            csrf=csrf_token(key, session.nonce),
            flash=read_flash(request),
        )
        if request.method == "POST":
            ctx.form, ctx.form_lists = await read_form(request)
            given = ctx.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
            if not same_origin(request) or not csrf_matches(key, session.nonce, given):
                return ctx.render(
                    "error.html",
                    status=403,
                    title="Form expired",
                    message="This form was not sent by this console, or its session changed."
                    " Reload the page and try again.",
                )
        try:
            return await handler(ctx)
        except Redirect as redirect:
            return ctx.redirect(redirect.url)
        except NotFound as error:
            return ctx.render("error.html", status=404, title="Not found", message=error.detail)
        except Forbidden as error:
            return ctx.render(
                "error.html", status=403, title="Permission denied", message=error.detail
            )
        except KumaError as error:
            if error.status == 404:
                return ctx.render("error.html", status=404, title="Not found", message=error.title)
            if error.status == 403:
                return ctx.render(
                    "error.html", status=403, title="Permission denied", message=error.detail
                )
            raise

    return endpoint


def _to_login(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    url = "/login" if target in ("/", "") else f"/login?next={quote(target)}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def create_console_app(store: Store, settings: ConsoleSettings | None = None) -> Starlette:
    from meshmanager.ui.urls import console_routes as url_map

    console_routes: list[BaseRoute] = [
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        *url_map(),
    ]
    app = Starlette(routes=console_routes)
    app.state.console = Console(store, settings or ConsoleSettings())
    return app


class ConsoleDispatch:
    """The API's paths to the API app, everything else to the console."""

    def __init__(self, api: ASGIApp, console: ASGIApp) -> None:
        self.api = api
        self.console = console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        if scope["type"] != "http" or path.startswith(API_PREFIXES):
            await self.api(scope, receive, send)
            return
        await self.console(scope, receive, send)


def with_console(api: ASGIApp, store: Store, settings: ConsoleSettings | None = None) -> ASGIApp:
    from meshmanager.api.middleware import RequestContextMiddleware

    console = RequestContextMiddleware(create_console_app(store, settings))
    return ConsoleDispatch(api, console)


def monotonic() -> float:
    return time.monotonic()

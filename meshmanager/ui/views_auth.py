"""Sign-in (password or access token), sign-out, and the signed-in user's account."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from meshmanager.model.errors import Unauthenticated, ValidationFailed
from meshmanager.model.identity import TokenOwner
from meshmanager.store.console import credentials_by_id
from meshmanager.tenancy.passwords import (
    check_credentials,
    password_epoch,
    set_password,
    verify_password,
)
from meshmanager.tenancy.principal import authenticate_token_hash
from meshmanager.tenancy.tokens import hash_secret
from meshmanager.ui.app import (
    Console,
    Ctx,
    client_address,
    page,
    read_form,
    same_origin,
)
from meshmanager.ui.auth import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_LIFETIME_SECONDS,
    new_session,
    sign_session,
)


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/control-planes"
    return target


def _login_page(
    request: Request,
    console: Console,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    method: str = "password",
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    html = console.templates.get_template("login.html").render(
        csrf=token,
        error=error,
        email=email,
        method=method,
        next=_safe_next(request.query_params.get("next")),
    )
    response = HTMLResponse(html, status_code=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def login(request: Request) -> Response:
    console: Console = request.app.state.console
    if request.method == "GET":
        return _login_page(request, console)
    form, _ = await read_form(request)
    method = "token" if form.get("method") == "token" else "password"
    email = form.get("email", "").strip()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not same_origin(request) or not expected or form.get(CSRF_FIELD) != expected:
        return _login_page(
            request, console, 403, "The sign-in form expired: try again.", email, method
        )
    address = client_address(request)
    account = email.lower() if method == "password" else "token"
    wait = console.limiter.retry_after(address, account)
    if wait:
        return _login_page(
            request,
            console,
            429,
            f"Too many failed sign-in attempts. Try again in {wait} seconds.",
            email,
            method,
        )
    if method == "password":
        found = await check_credentials(console.store, email, form.get("password", ""))
        if found is None:
            console.limiter.failed(address, account)
            return _login_page(
                request, console, 401, "The email or password is not right.", email, method
            )
        session = new_session(
            "password", found.org_id, user_id=found.id, epoch=password_epoch(found.password_hash)
        )
    else:
        token_hash = hash_secret(form.get("token", "").strip())
        try:
            principal = await authenticate_token_hash(console.store, token_hash)
        except Unauthenticated as error:
            console.limiter.failed(address, account)
            reason = error.detail.removeprefix("A valid token is required: ")
            return _login_page(
                request, console, 401, f"This token cannot sign in: {reason}.", "", method
            )
        session = new_session("token", principal.org_id, token_hash=token_hash)
    console.limiter.succeeded(account)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        sign_session(await console.key(), session),
        max_age=SESSION_LIFETIME_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@page
async def logout(ctx: Ctx) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def root(request: Request) -> Response:
    return RedirectResponse("/control-planes", status_code=303)


@page
async def account(ctx: Ctx) -> Response:
    errors: dict[str, str] = {}
    has_password = False
    if ctx.principal.kind == TokenOwner.USER:
        found = await credentials_by_id(ctx.store, ctx.principal.org_id, ctx.principal.id)
        has_password = bool(found and found.password_hash)
    if ctx.request.method == "POST":
        if ctx.principal.kind != TokenOwner.USER:
            errors["password"] = "A system account has no password."
        else:
            found = await credentials_by_id(ctx.store, ctx.principal.org_id, ctx.principal.id)
            current = ctx.form.get("current_password", "")
            new, again = ctx.form.get("password", ""), ctx.form.get("password_again", "")
            if (
                found is not None
                and found.password_hash
                and ctx.session.kind == "password"
                and not verify_password(current, found.password_hash)
            ):
                errors["current_password"] = "This is not your current password."
            elif new != again:
                errors["password_again"] = "The two passwords differ."
            else:
                try:
                    await set_password(ctx.store, ctx.principal.id, new)
                except ValidationFailed as error:
                    errors["password"] = error.invalid_parameters[0].reason
        if not errors:
            if ctx.session.kind != "password":
                return ctx.redirect("/account", flash="Password set.")
            # A new password ends every password session, this one too.
            response = ctx.redirect("/login", flash="Password set: sign in with it.")
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response
    return ctx.render(
        "account.html",
        title="Your account",
        errors=errors,
        has_password=has_password,
        status=400 if errors else 200,
    )

"""Zones of a control plane: list, detail, the create-zone wizard, credential rotation
and deletion, and the RBAC tab's resources."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import RowMapping
from starlette.responses import Response

from meshmanager.api.zones import drop_zone, kuma_version, provision_zone
from meshmanager.model import zone_deploy
from meshmanager.model.controlplane import ControlPlane
from meshmanager.model.errors import Conflict, NotFound
from meshmanager.model.identity import Action
from meshmanager.model.resources.insights import is_online as is_insight_online
from meshmanager.model.resources.registry import BY_NAME
from meshmanager.model.resources.stored import CpScope
from meshmanager.model.zones import ZoneCreate
from meshmanager.store.console import role_assignments_on, zone_records
from meshmanager.store.resources import ResourceQuery
from meshmanager.store.types import utcnow
from meshmanager.store.zones import ZoneSettings, is_online
from meshmanager.ui.app import Ctx, page
from meshmanager.ui.data import now, plain_yaml, to_yaml, zone_rows
from meshmanager.ui.forms import checked, pydantic_errors, zone_name_problem

ENVIRONMENTS = ("kubernetes", "universal")


async def _control_plane(ctx: Ctx, *actions: Action) -> ControlPlane:
    """The control plane of the path, for a caller with any of `actions` on it (as the
    zone API: creating and rotating take Admin or Connector)."""
    try:
        ident = UUID(ctx.param("cp"))
    except ValueError:
        raise NotFound(f"control plane {ctx.param('cp')} not found") from None
    found = await ctx.store.control_planes.get(ctx.principal.org_id, ident)
    if not any(ctx.principal.can(action, ident) for action in actions):
        ctx.principal.require(actions[0], ident)
    return found.item


def _can_connect(ctx: Ctx, cp: ControlPlane) -> bool:
    return ctx.principal.can(Action.CONNECT, cp.id) or ctx.principal.can(Action.UPDATE, cp.id)


@page
async def zone_list(ctx: Ctx) -> Response:
    call = await ctx.kuma_call(ctx.param("cp"))
    cp = call.control_plane
    zones = await zone_rows(call, await zone_records(ctx.store, ctx.principal.org_id, cp.id))
    template = (
        "fragments/zone_table.html" if ctx.request.query_params.get("fragment") else "zones.html"
    )
    return ctx.render(
        template,
        title=f"Zones · {cp.name}",
        cp=cp,
        tab="zones",
        zones=zones,
        at=now(),
        can_connect=_can_connect(ctx, cp),
    )


@page
async def zone_detail(ctx: Ctx) -> Response:
    return await _detail(ctx)


ZONE_PROXIES = {"zoneingresses": "ZoneIngress", "zoneegresses": "ZoneEgress"}


@page
async def zone_proxy_detail(ctx: Ctx) -> Response:
    """A zone ingress or egress: where it listens, what it serves, its connections to
    the zone's control plane, and its YAML."""
    call = await ctx.kuma_call(ctx.param("cp"))
    type_name = ZONE_PROXIES.get(ctx.param("kind"))
    name = ctx.param("name")
    proxy = (
        None
        if type_name is None
        else await call.store.resources.get(call.scope, type_name, "", name)
    )
    if type_name is None or proxy is None:
        raise NotFound(f"zone proxy {name!r} not found")
    insight = await call.store.resources.get(call.scope, f"{type_name}Insight", "", name)
    insight_spec = (insight.spec if insight is not None else None) or {}
    return ctx.render(
        "zone_proxy.html",
        title=f"{name} · {BY_NAME[type_name].singular_display_name}",
        cp=call.control_plane,
        tab="zones",
        zone_name=ctx.param("zone"),
        kind=BY_NAME[type_name].singular_display_name,
        proxy=proxy,
        networking=(proxy.spec or {}).get("networking") or {},
        services=(proxy.spec or {}).get("availableServices") or [],
        online=is_insight_online(insight_spec),
        subscriptions=list(reversed(insight_spec.get("subscriptions") or [])),
        yaml=to_yaml(BY_NAME[type_name], proxy),
    )


async def _detail(ctx: Ctx, delete_error: str | None = None) -> Response:
    call = await ctx.kuma_call(ctx.param("cp"))
    cp = call.control_plane
    name = ctx.param("zone")
    records = await zone_records(ctx.store, ctx.principal.org_id, cp.id)
    zones = await zone_rows(call, records)
    zone = next((z for z in zones if z.name == name), None)
    if zone is None:
        raise NotFound(f"zone {name!r} not found")
    if ctx.request.query_params.get("fragment"):
        return ctx.render("fragments/zone_status.html", zone=zone, at=now(), cp=cp)
    ingresses = [
        r
        for r in (await call.store.resources.find(call.scope, ResourceQuery("ZoneIngress", "")))[0]
        if (r.spec or {}).get("zone") == name or r.labels.get("kuma.io/zone") == name
    ]
    egresses = [
        r
        for r in (await call.store.resources.find(call.scope, ResourceQuery("ZoneEgress", "")))[0]
        if (r.spec or {}).get("zone") == name or r.labels.get("kuma.io/zone") == name
    ]
    record = records.get(name)
    credential = None
    if record is not None:
        credential = (await ctx.store.zones.current_credentials([record["id"]])).get(record["id"])
    return ctx.render(
        "zone.html",
        title=f"{name} · Zones",
        cp=cp,
        tab="zones",
        zone=zone,
        at=now(),
        config_yaml=plain_yaml(zone.config) if zone.config else None,
        ingresses=ingresses,
        egresses=egresses,
        credential=credential,
        delete_error=delete_error,
        can_write=ctx.principal.can(Action.UPDATE, cp.id),
        can_connect=_can_connect(ctx, cp),
        can_delete=ctx.principal.can(Action.DELETE, cp.id),
        status=409 if delete_error else 200,
    )


# --- the create-zone wizard -----------------------------------------------------------


async def _name_error(ctx: Ctx, cp: ControlPlane, name: str) -> str | None:
    """Why `name` cannot be a new zone's name: its format, or a zone that has it."""
    problem = zone_name_problem(name)
    if problem:
        return problem
    try:
        await ctx.store.zones.get(ctx.principal.org_id, cp.id, name)
    except NotFound:
        return None
    return _taken(name)


def _taken(name: str) -> str:
    return f"A zone named “{name}” already exists in this control plane. Choose another name."


@page
async def zone_name_check(ctx: Ctx) -> Response:
    """The wizard's live name check (htmx, as the user types)."""
    cp = await _control_plane(ctx, Action.CONNECT, Action.UPDATE)
    name = ctx.request.query_params.get("name", "").strip()
    error = await _name_error(ctx, cp, name) if name else None
    return ctx.render(
        "fragments/zone_name_check.html",
        name_error=error,
        name_ok=name if name and error is None else None,
    )


@page
async def zone_new(ctx: Ctx) -> Response:
    cp = await _control_plane(ctx, Action.CONNECT, Action.UPDATE)
    form: dict[str, Any] = {
        "environment": "kubernetes",
        "name": "",
        "ingress": True,
        "egress": False,
    }
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        form = {
            "environment": ctx.form.get("environment", ""),
            "name": ctx.form.get("name", "").strip(),
            "ingress": checked(ctx.form, "ingress"),
            "egress": checked(ctx.form, "egress"),
        }
        if form["environment"] not in ENVIRONMENTS:
            errors["environment"] = "Choose Kubernetes or Universal."
        problem = zone_name_problem(form["name"])
        if problem:
            errors["name"] = problem
        if not errors:
            try:
                body = ZoneCreate.model_validate(form)
            except ValidationError as error:
                errors = pydantic_errors(error)
            else:
                settings = ZoneSettings(body.name, body.environment, body.ingress, body.egress)
                scope = CpScope(ctx.principal.org_id, cp.id)
                try:
                    row, secret = await provision_zone(ctx.store, scope, settings)
                except Conflict:
                    errors["name"] = _taken(body.name)
                else:
                    return _material_page(ctx, cp, row, secret, "zone_wizard.html", step=2)
    status = 409 if errors.get("name", "").startswith("A zone named") else 400
    return ctx.render(
        "zone_wizard.html",
        title=f"Create zone · {cp.name}",
        cp=cp,
        tab="zones",
        step=1,
        form=form,
        errors=errors,
        name_error=errors.get("name"),
        status=status if errors else 200,
    )


def _material_page(
    ctx: Ctx, cp: ControlPlane, row: RowMapping, secret: str, template: str, **values: Any
) -> Response:
    endpoint = ctx.console.settings.kds_endpoint()
    material = zone_deploy.material_for(row, endpoint, secret)
    env_lines = "\n".join(f"export {k}='{v}'" for k, v in material.environment_variables.items())
    response = ctx.render(
        template,
        title=f"{row['name']} · Zones",
        cp=cp,
        tab="zones",
        zone=row["name"],
        zone_env=row["environment"],
        ingress=row["ingress_enabled"],
        egress=row["egress_enabled"],
        credential=secret,
        material=material,
        env_lines=env_lines,
        kds_address=endpoint.address,
        **values,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@page
async def zone_connection(ctx: Ctx) -> Response:
    """Step 3: polled until the zone is online (its `zones` row, kept by KDS)."""
    cp = await _control_plane(ctx, Action.READ, Action.CONNECT)
    name = ctx.param("zone")
    values: dict[str, Any] = {
        "cp": cp,
        "zone": name,
        "kds_address": ctx.console.settings.kds_address,
    }
    try:
        row = await ctx.store.zones.get(ctx.principal.org_id, cp.id, name)
    except NotFound:
        return ctx.render("fragments/zone_wait.html", gone=True, **values)
    connected = is_online(row, utcnow())
    version = None
    if connected:
        scope = CpScope(ctx.principal.org_id, cp.id)
        version = kuma_version(await ctx.store.resources.get(scope, "ZoneInsight", "", name))
    return ctx.render("fragments/zone_wait.html", connected=connected, version=version, **values)


@page
async def zone_rotate(ctx: Ctx) -> Response:
    cp = await _control_plane(ctx, Action.CONNECT, Action.UPDATE)
    row, secret = await ctx.store.zones.rotate(ctx.principal.org_id, cp.id, ctx.param("zone"))
    return _material_page(ctx, cp, row, secret, "zone_credential.html")


@page
async def zone_delete(ctx: Ctx) -> Response:
    cp = await _control_plane(ctx, Action.DELETE)
    name = ctx.param("zone")
    row = await ctx.store.zones.get(ctx.principal.org_id, cp.id, name)
    if is_online(row, utcnow()) and not checked(ctx.form, "force"):
        return await _detail(
            ctx,
            delete_error=f"Zone “{name}” is online, so it was not deleted. Stop its zone"
            " control plane first, or tick “Force” to delete it and drop its connection.",
        )
    await drop_zone(ctx.store, CpScope(ctx.principal.org_id, cp.id), name)
    return ctx.redirect(f"/control-planes/{cp.id}/zones", flash=f"Zone {name} deleted.")


# --- RBAC -----------------------------------------------------------------------------


@page
async def rbac(ctx: Ctx) -> Response:
    call = await ctx.kuma_call(ctx.param("cp"))
    cp = call.control_plane
    roles, _ = await call.store.resources.find(call.scope, ResourceQuery("AccessRole", ""))
    bindings, _ = await call.store.resources.find(
        call.scope, ResourceQuery("AccessRoleBinding", "")
    )
    assignments = await role_assignments_on(ctx.store, ctx.principal.org_id, cp.id)
    return ctx.render(
        "rbac.html",
        title=f"RBAC · {cp.name}",
        cp=cp,
        tab="rbac",
        roles=roles,
        bindings=bindings,
        assignments=assignments,
        can_write=ctx.principal.can(Action.UPDATE, cp.id),
    )


@page
async def rbac_detail(ctx: Ctx) -> Response:
    call = await ctx.kuma_call(ctx.param("cp"))
    cp = call.control_plane
    rt = BY_NAME.get(ctx.param("type"))
    if rt is None or rt.name not in ("AccessRole", "AccessRoleBinding"):
        raise NotFound("no such RBAC resource type")
    found = await call.store.resources.get(call.scope, rt.name, "", ctx.param("name"))
    if found is None:
        raise NotFound(f"{rt.name} {ctx.param('name')!r} not found")
    return ctx.render(
        "rbac_item.html",
        title=f"{found.name} · {rt.name}",
        cp=cp,
        tab="rbac",
        rt=rt,
        item=found,
        yaml=to_yaml(rt, found),
        can_write=ctx.principal.can(Action.UPDATE, cp.id),
    )

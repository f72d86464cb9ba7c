"""Zones of a control plane: list, detail, and the RBAC tab's resources."""

from __future__ import annotations

from starlette.responses import Response

from meshmanager.model.errors import NotFound
from meshmanager.model.identity import Action
from meshmanager.model.resources.registry import BY_NAME
from meshmanager.store.console import role_assignments_on, zone_names
from meshmanager.store.resources import ResourceQuery
from meshmanager.ui.app import Ctx, page
from meshmanager.ui.data import now, plain_yaml, to_yaml, zone_rows


@page
async def zone_list(ctx: Ctx) -> Response:
    call = await ctx.kuma_call(ctx.param("cp"))
    cp = call.control_plane
    zones = await zone_rows(call, await zone_names(ctx.store, ctx.principal.org_id, cp.id))
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
        can_connect=ctx.principal.can(Action.UPDATE, cp.id),
    )


@page
async def zone_detail(ctx: Ctx) -> Response:
    call = await ctx.kuma_call(ctx.param("cp"))
    cp = call.control_plane
    name = ctx.param("zone")
    zones = await zone_rows(call, await zone_names(ctx.store, ctx.principal.org_id, cp.id))
    zone = next((z for z in zones if z.name == name), None)
    if zone is None:
        raise NotFound(f"zone {name!r} not found")
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
    template = (
        "fragments/zone_status.html" if ctx.request.query_params.get("fragment") else "zone.html"
    )
    return ctx.render(
        template,
        title=f"{name} · Zones",
        cp=cp,
        tab="zones",
        zone=zone,
        at=now(),
        config_yaml=plain_yaml(zone.config) if zone.config else None,
        ingresses=ingresses,
        egresses=egresses,
        can_write=ctx.principal.can(Action.UPDATE, cp.id),
    )


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

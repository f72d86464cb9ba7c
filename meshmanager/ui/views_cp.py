"""Control planes: list, create, edit, delete, overview and the Connect dialog."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from meshmanager.api.controlplanes import initial_resources
from meshmanager.api.kuma.context import KumaCall
from meshmanager.model.controlplane import (
    ControlPlane,
    ControlPlaneCreate,
    ControlPlaneFields,
    ControlPlanePatch,
    complete_features,
)
from meshmanager.model.errors import Conflict, DomainError, PreconditionFailed
from meshmanager.model.identity import Action
from meshmanager.model.paging import ControlPlaneQuery, PageRequest
from meshmanager.model.resources.stored import CpScope
from meshmanager.store.console import zone_records
from meshmanager.ui.app import Ctx, page
from meshmanager.ui.data import cp_stats, zone_rows
from meshmanager.ui.forms import checked, domain_errors, labels_text, parse_labels, pydantic_errors

PAGE_SIZE = 20


def _call(ctx: Ctx, cp: ControlPlane) -> KumaCall:
    return KumaCall(ctx.store, ctx.principal, cp, CpScope(ctx.principal.org_id, cp.id))


async def _summary(ctx: Ctx, cp: ControlPlane) -> dict[str, Any]:
    call = _call(ctx, cp)
    zones = await zone_rows(call, await zone_records(ctx.store, ctx.principal.org_id, cp.id))
    stats, meshes = await cp_stats(call, zones)
    return {"cp": cp, "stats": stats, "zones": zones, "meshes": meshes}


@page
async def cp_list(ctx: Ctx) -> Response:
    number = max(1, int(ctx.request.query_params.get("page", "1") or 1))
    name = ctx.request.query_params.get("name", "").strip()
    visible = ctx.principal.visible_control_planes(Action.LIST)
    query = ControlPlaneQuery(
        page=PageRequest(number=number, size=PAGE_SIZE),
        name_contains=name or None,
        only_ids=visible,
    )
    items, total = await ctx.store.control_planes.query(ctx.principal.org_id, query)
    rows = [await _summary(ctx, cp) for cp in items]
    return ctx.render(
        "cp_list.html",
        title="Control planes",
        rows=rows,
        total=total,
        number=number,
        pages=max(1, -(-total // PAGE_SIZE)),
        name=name,
        can_create=ctx.principal.can(Action.CREATE),
    )


@page
async def cp_rows(ctx: Ctx) -> Response:
    """The live part of the list: each control plane's counters (htmx polls it)."""
    ids = [i for i in ctx.request.query_params.getlist("id") if i][:PAGE_SIZE]
    rows = []
    for cp_id in ids:
        try:
            rows.append(await _summary(ctx, await ctx.control_plane(cp_id)))
        except DomainError:
            continue
    return ctx.render("fragments/cp_counters.html", rows=rows)


def _form_values(ctx: Ctx) -> tuple[dict[str, Any], dict[str, str]]:
    labels, problem = parse_labels(ctx.form.get("labels", ""))
    errors = {"labels": problem} if problem else {}
    values = {
        "name": ctx.form.get("name", "").strip(),
        "description": ctx.form.get("description", "").strip(),
        "labels": labels,
    }
    return values, errors


@page
async def cp_new(ctx: Ctx) -> Response:
    ctx.principal.require(Action.CREATE)
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        values, errors = _form_values(ctx)
        if not errors:
            features = [
                {"type": "MeshCreation", "meshCreation": {"enabled": checked(ctx.form, "mesh")}}
            ]
            try:
                body = ControlPlaneCreate.model_validate({**values, "features": features})
            except ValidationError as error:
                errors = pydantic_errors(error)
            else:
                fields = ControlPlaneFields(
                    name=body.name,
                    description=body.description,
                    labels=body.labels,
                    features=complete_features(body.features),
                )
                owner = None if ctx.principal.org_admin else ctx.principal.subject
                initial = await asyncio.to_thread(initial_resources, fields)
                try:
                    created = await ctx.store.control_planes.create_owned(
                        ctx.principal.org_id, fields, admin=owner, initial=initial
                    )
                except Conflict:
                    errors = {"name": f"A control plane named {body.name!r} already exists."}
                else:
                    return ctx.redirect(
                        f"/control-planes/{created.item.id}",
                        flash=f"Control plane {created.item.name} created.",
                    )
    return ctx.render(
        "cp_form.html",
        title="Create a control plane",
        cp=None,
        form=ctx.form,
        errors=errors,
        status=400 if errors else 200,
    )


@page
async def cp_edit(ctx: Ctx) -> Response:
    cp = await ctx.control_plane(ctx.param("cp"), Action.UPDATE)
    errors: dict[str, str] = {}
    form: dict[str, str] = {
        "name": cp.name,
        "description": cp.description,
        "labels": labels_text(cp.labels),
    }
    if ctx.request.method == "POST":
        form = ctx.form
        values, errors = _form_values(ctx)
        if not errors:
            try:
                patch = ControlPlanePatch.model_validate(values)
            except ValidationError as error:
                errors = pydantic_errors(error)
            else:
                current = await ctx.store.control_planes.get(ctx.principal.org_id, cp.id)
                expected = int(ctx.form.get("version") or current.version)
                try:
                    await ctx.store.control_planes.update(
                        ctx.principal.org_id,
                        cp.id,
                        patch.model_dump(exclude_none=True),
                        expected,
                    )
                except Conflict as error:
                    errors = {"form": error.detail}
                except DomainError as error:
                    errors = domain_errors(error)
                else:
                    return ctx.redirect(f"/control-planes/{cp.id}", flash="Control plane saved.")
    version = (await ctx.store.control_planes.get(ctx.principal.org_id, cp.id)).version
    return ctx.render(
        "cp_form.html",
        title=f"Edit {cp.name}",
        cp=cp,
        form=form,
        version=ctx.form.get("version") or version,
        errors=errors,
        status=400 if errors else 200,
    )


@page
async def cp_delete(ctx: Ctx) -> Response:
    cp = await ctx.control_plane(ctx.param("cp"), Action.DELETE)
    if ctx.form.get("confirm_name", "").strip() != cp.name:
        return await _overview(ctx, cp, delete_error="Type the control plane's name to delete it.")
    try:
        await ctx.store.control_planes.delete(ctx.principal.org_id, cp.id)
    except PreconditionFailed as error:
        reason = error.detail.split("]: ", 1)[-1]
        return await _overview(ctx, cp, delete_error=f"It cannot be deleted now: {reason}.")
    return ctx.redirect("/control-planes", flash=f"Control plane {cp.name} deleted.")


async def _overview(ctx: Ctx, cp: ControlPlane, delete_error: str | None = None) -> Response:
    summary = await _summary(ctx, cp)
    return ctx.render(
        "cp_overview.html",
        title=cp.name,
        tab="overview",
        api_url=f"{ctx.api_base()}/v1/mesh/control-planes/{cp.id}",
        delete_error=delete_error,
        can_update=ctx.principal.can(Action.UPDATE, cp.id),
        can_delete=ctx.principal.can(Action.DELETE, cp.id),
        status=409 if delete_error else 200,
        **summary,
    )


@page
async def cp_overview(ctx: Ctx) -> Response:
    return await _overview(ctx, await ctx.control_plane(ctx.param("cp")))


@page
async def cp_stats_fragment(ctx: Ctx) -> Response:
    cp = await ctx.control_plane(ctx.param("cp"))
    return ctx.render("fragments/cp_live.html", **await _summary(ctx, cp))


def connect_command(api_base: str, cp: ControlPlane) -> str:
    address = f"{api_base}/v1/mesh/control-planes/{cp.id}/api"
    return (
        f"kumactl config control-planes add --name {cp.name} \\\n"
        f"  --address {address} \\\n"
        "  --headers 'authorization=Bearer TOKEN' --overwrite"
    )

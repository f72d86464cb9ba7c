"""Meshes and what is in them: overview, services, gateways, data plane proxies,
policies, and applying any resource from YAML with Kuma's validation."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import yaml
from cryptography import x509
from starlette.responses import Response

from meshmanager.api.kuma.context import KumaCall
from meshmanager.api.kuma.envoy_admin import ForwardingFailed
from meshmanager.api.kuma.errors import KumaError
from meshmanager.api.kuma.insights import mesh_summaries
from meshmanager.api.kuma.resources import apply_resource, deprecations, remove_resource
from meshmanager.model.errors import DomainError, NotFound
from meshmanager.model.identity import Action
from meshmanager.model.resources import matching
from meshmanager.model.resources.insights import service_overview
from meshmanager.model.resources.matching import Decoded, Proxy, Referenced
from meshmanager.model.resources.registry import BY_NAME, ResourceType, Style
from meshmanager.model.resources.signing import secret_data
from meshmanager.model.resources.stored import Resource
from meshmanager.store.resources import ResourceQuery
from meshmanager.ui.app import Ctx, page
from meshmanager.ui.data import (
    DataplaneFilter,
    dataplane_page,
    dataplane_row,
    line_of_path,
    mesh_stats,
    mtls_of,
    now,
    parse_time,
    plain_yaml,
    policy_direction,
    policy_types,
    to_yaml,
    yaml_error,
)
from meshmanager.ui.forms import checked

DP_PAGE_SIZE = 50
PROXY_MEMO = "console-proxy"
AFFECTED_MEMO = "console-affected"


async def _all(call: KumaCall, type_: str, mesh: str | None) -> list[Resource]:
    items, _ = await call.store.resources.find(call.scope, ResourceQuery(type_, mesh))
    return items


async def _mesh(call: KumaCall, name: str) -> Resource:
    found = await call.store.resources.get(call.scope, "Mesh", "", name)
    if found is None:
        raise NotFound(f"mesh {name!r} not found")
    return found


def _proxy(dataplane: Resource) -> Proxy:
    cached = dataplane.memo.get(PROXY_MEMO)
    if cached is None:
        cached = dataplane.memo[PROXY_MEMO] = Proxy.of(dataplane)
    proxy: Proxy = cached
    return proxy


@page
async def mesh_list(ctx: Ctx) -> Response:
    call = await ctx.kuma_call(ctx.param("cp"))
    meshes = await _all(call, "Mesh", "")
    return ctx.render(
        "mesh_list.html",
        title=f"Meshes · {call.control_plane.name}",
        cp=call.control_plane,
        tab="meshes",
        meshes=await mesh_stats(call, meshes),
        can_write=ctx.principal.can(Action.UPDATE, call.control_plane.id),
    )


def mesh_body(form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "Mesh", "name": form.get("name", "").strip()}
    if checked(form, "mtls"):
        backend = form.get("backend", "").strip() or "ca-1"
        body["mtls"] = {
            "enabledBackend": backend,
            "backends": [{"name": backend, "type": "builtin"}],
        }
    return body


@page
async def mesh_new(ctx: Ctx) -> Response:
    call = await ctx.kuma_call(ctx.param("cp"), Action.UPDATE)
    errors: list[dict[str, Any]] = []
    if ctx.request.method == "POST":
        body = mesh_body(ctx.form)
        name = body["name"]
        if not name:
            errors = [{"field": "name", "message": "a mesh needs a name"}]
        elif await call.store.resources.get(call.scope, "Mesh", "", name) is not None:
            errors = [{"field": "name", "message": f"a mesh named {name!r} already exists"}]
        else:
            try:
                await apply_resource(call, BY_NAME["Mesh"], "", name, body)
            except KumaError as error:
                errors = _violations(error)
            else:
                base = f"/control-planes/{call.control_plane.id}/meshes/{name}"
                return ctx.redirect(base, flash=f"Mesh {name} created.")
    return ctx.render(
        "mesh_form.html",
        title=f"Create a mesh · {call.control_plane.name}",
        cp=call.control_plane,
        tab="meshes",
        form=ctx.form,
        errors={e["field"] or "form": e["message"] for e in errors},
        status=400 if errors else 200,
    )


def _violations(error: KumaError) -> list[dict[str, Any]]:
    if error.violations:
        return [{"field": v.field, "message": v.message} for v in error.violations]
    return [{"field": "", "message": f"{error.title}: {error.detail}".strip()}]


def _ca_expiry(call_resources: dict[tuple[str, str], Resource], mesh: str, backend: str) -> Any:
    secret = call_resources.get((mesh, f"{mesh}.ca-builtin-cert-{backend}"))
    if secret is None:
        return None
    try:
        with warnings.catch_warnings():  # a CA's own serial number is not ours to judge
            warnings.simplefilter("ignore")
            return x509.load_pem_x509_certificate(secret_data(secret)).not_valid_after_utc
    except (ValueError, TypeError):
        return None


def _mesh_warnings(mesh: Resource, mtps: int, mesh_services_mode: str | None) -> list[str]:
    warnings = []
    backend, _ = mtls_of(mesh)
    if backend is None:
        warnings.append(
            "mTLS is not enabled on this mesh: traffic between proxies is neither encrypted"
            " nor authenticated, and MeshTrafficPermissions have no effect."
        )
    elif mtps == 0:
        warnings.append(
            "mTLS is enabled but the mesh has no MeshTrafficPermission: all traffic between"
            " proxies is denied until one allows it."
        )
    if not mesh_services_mode:
        warnings.append(
            "MeshServices are not enabled: set meshServices.mode to Exclusive to use them."
        )
    return warnings


async def _mesh_context(ctx: Ctx, tab: str) -> tuple[KumaCall, Resource, dict[str, Any]]:
    call = await ctx.kuma_call(ctx.param("cp"))
    mesh = await _mesh(call, ctx.param("mesh"))
    values = {
        "cp": call.control_plane,
        "mesh": mesh,
        "tab": "meshes",
        "mesh_tab": tab,
        "base": f"/control-planes/{call.control_plane.id}/meshes/{mesh.name}",
        "can_write": ctx.principal.can(Action.UPDATE, call.control_plane.id),
    }
    return call, mesh, values


@page
async def mesh_overview(ctx: Ctx) -> Response:
    call, mesh, values = await _mesh_context(ctx, "overview")
    spec = mesh.spec or {}
    (stats,) = await mesh_stats(call, [mesh])
    if ctx.request.query_params.get("fragment") == "stats":
        return ctx.render("fragments/mesh_stats.html", stats=stats)
    secrets = {(s.mesh, s.name): s for s in await _all(call, "Secret", mesh.name)}
    mtls = spec.get("mtls") or {}
    backends = [
        {
            "name": b.get("name", ""),
            "type": b.get("type", ""),
            "enabled": b.get("name") == mtls.get("enabledBackend"),
            "mode": b.get("mode") or "STRICT",
            "expiry": _ca_expiry(secrets, mesh.name, b.get("name", ""))
            if b.get("type") == "builtin"
            else None,
        }
        for b in mtls.get("backends") or []
    ]
    mtps = len(await _all(call, "MeshTrafficPermission", mesh.name))
    mode = (spec.get("meshServices") or {}).get("mode")
    observability = {
        "Logging": [
            b.get("name") or b.get("type")
            for b in (spec.get("logging") or {}).get("backends") or []
        ],
        "Tracing": [
            b.get("name") or b.get("type")
            for b in (spec.get("tracing") or {}).get("backends") or []
        ],
        "Metrics": [
            b.get("name") or b.get("type")
            for b in (spec.get("metrics") or {}).get("backends") or []
        ],
    }
    trusts = await _all(call, "MeshTrust", mesh.name)
    return ctx.render(
        "mesh_overview.html",
        title=f"{mesh.name} · Meshes",
        stats=stats,
        backends=backends,
        warnings=_mesh_warnings(mesh, mtps, mode),
        observability=observability,
        trusts=trusts,
        yaml=to_yaml(BY_NAME["Mesh"], mesh),
        **values,
    )


@page
async def mesh_services(ctx: Ctx) -> Response:
    call, mesh, values = await _mesh_context(ctx, "services")
    (summary,) = await mesh_summaries(call, [mesh])
    stored = await _all(call, "ServiceInsight", mesh.name)
    insight = stored[0] if stored else summary.service_insight
    legacy = [
        service_overview(name, service)
        for name, service in sorted(((insight.spec or {}).get("services") or {}).items())
    ]
    groups = [
        (BY_NAME[type_], await _all(call, type_, mesh.name))
        for type_ in ("MeshService", "MeshMultiZoneService", "MeshExternalService")
    ]
    return ctx.render(
        "mesh_services.html",
        title=f"Services · {mesh.name}",
        groups=groups,
        legacy=legacy,
        **values,
    )


@page
async def mesh_gateways(ctx: Ctx) -> Response:
    call, mesh, values = await _mesh_context(ctx, "gateways")
    builtin = await _all(call, "MeshGateway", mesh.name)
    cp = await call.store.resources.loaded(call.scope)
    delegated: dict[str, list[Any]] = {}
    builtin_proxies: dict[str, list[Any]] = {}
    for dataplane in cp.of_type("Dataplane", mesh.name):
        row = dataplane_row(dataplane, cp.get(("DataplaneInsight", mesh.name, dataplane.name)))
        service = row.services[0] if row.services else dataplane.name
        if row.kind == "delegated gateway":
            delegated.setdefault(service, []).append(row)
        elif row.kind == "builtin gateway":
            builtin_proxies.setdefault(service, []).append(row)
    return ctx.render(
        "mesh_gateways.html",
        title=f"Gateways · {mesh.name}",
        builtin=builtin,
        builtin_proxies=builtin_proxies,
        delegated=sorted(delegated.items()),
        **values,
    )


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


@page
async def mesh_dataplanes(ctx: Ctx) -> Response:
    call, mesh, values = await _mesh_context(ctx, "dataplanes")
    params = ctx.request.query_params
    wanted = DataplaneFilter(
        name=params.get("name", "").strip(),
        zone=params.get("zone", ""),
        service=params.get("service", ""),
        status=params.get("status", ""),
    )
    number = _int(params.get("page"), 1)
    found = await dataplane_page(call, mesh.name, wanted, (number - 1) * DP_PAGE_SIZE, DP_PAGE_SIZE)
    pages = max(1, -(-found.total // DP_PAGE_SIZE))
    template = "fragments/dp_table.html" if params.get("fragment") else "mesh_dataplanes.html"
    return ctx.render(
        template,
        title=f"Data plane proxies · {mesh.name}",
        found=found,
        wanted=wanted,
        number=number,
        pages=pages,
        at=now(),
        query=_query(wanted),
        mtls_on=mtls_of(mesh)[0] is not None,
        **values,
    )


def _query(wanted: DataplaneFilter) -> str:
    from urllib.parse import urlencode

    pairs = {
        k: v
        for k, v in (
            ("name", wanted.name),
            ("zone", wanted.zone),
            ("service", wanted.service),
            ("status", wanted.status),
        )
        if v
    }
    return urlencode(pairs)


async def _referenced(call: KumaCall, mesh: str) -> Referenced:
    return Referenced(
        [Decoded.of(r) for r in await _all(call, "MeshGateway", mesh)],
        [Decoded.of(r) for r in await _all(call, "MeshHTTPRoute", mesh)],
    )


@page
async def dataplane_detail(ctx: Ctx) -> Response:
    call, mesh, values = await _mesh_context(ctx, "dataplanes")
    name = ctx.param("name")
    dataplane = await call.store.resources.get(call.scope, "Dataplane", mesh.name, name)
    if dataplane is None:
        raise NotFound(f"data plane proxy {name!r} not found in mesh {mesh.name}")
    insight = await call.store.resources.get(call.scope, "DataplaneInsight", mesh.name, name)
    row = dataplane_row(dataplane, insight)
    proxy = _proxy(dataplane)
    referenced = await _referenced(call, mesh.name)
    policies: list[tuple[str, list[Decoded]]] = []
    for policy_type in matching.POLICY_TYPES:
        found = await _all(call, policy_type, mesh.name)
        if not found:
            continue
        matched = matching.match(policy_type, map(Decoded.of, found), proxy, referenced)
        if matched.policies:
            policies.append((policy_type, matched.policies))
    networking = proxy.networking
    insight_spec = (insight.spec if insight is not None else None) or {}
    return ctx.render(
        "dataplane.html",
        title=f"{name} · Data plane proxies",
        dp=row,
        at=now(),
        inbounds=proxy.inbounds,
        outbounds=list(networking.get("outbound") or []),
        gateway=proxy.gateway,
        policies=policies,
        subscriptions=list(reversed(insight_spec.get("subscriptions") or [])),
        parse_time=parse_time,
        yaml=to_yaml(BY_NAME["Dataplane"], dataplane),
        insight_yaml=plain_yaml(insight_spec) if insight_spec else None,
        api_base=f"{ctx.api_base()}/v1/mesh/control-planes/{call.control_plane.id}/api"
        f"/meshes/{mesh.name}/dataplanes/{name}",
        **values,
    )


ENVOY_KINDS = {"xds": "xDS config", "stats": "Stats", "clusters": "Clusters"}


@page
async def dataplane_envoy(ctx: Ctx) -> Response:
    """A fragment with the proxy's Envoy config dump, stats or clusters, fetched from
    its zone over KDS, or why they could not be."""
    call, mesh, _ = await _mesh_context(ctx, "dataplanes")
    kind = ctx.param("kind")
    if kind not in ENVOY_KINDS:
        raise NotFound(f"unknown Envoy admin data {kind!r}")
    dataplane = await call.store.resources.get(
        call.scope, "Dataplane", mesh.name, ctx.param("name")
    )
    if dataplane is None:
        raise NotFound(f"data plane proxy {ctx.param('name')!r} not found in mesh {mesh.name}")
    zone = dataplane.labels.get("kuma.io/zone", "")
    forwarder = ctx.console.settings.envoy_admin
    text, error = "", None
    if forwarder is None or not forwarder.connected(call.scope.cp_id, zone, kind):
        error = (
            f"Zone “{zone or 'unknown'}” is not connected to this server, so its proxies'"
            " Envoy data cannot be fetched."
        )
    else:
        try:
            payload = await forwarder.forward(
                call.scope.cp_id, zone, kind, dataplane, kind == "xds"
            )
            text = payload.decode(errors="replace")
        except ForwardingFailed as failed:
            error = str(failed)
    return ctx.render(
        "fragments/envoy_admin.html",
        title=ENVOY_KINDS[kind],
        kind=ENVOY_KINDS[kind],
        text=text,
        error=error,
    )


# --- policies ------------------------------------------------------------------------


@page
async def policy_index(ctx: Ctx) -> Response:
    call, mesh, values = await _mesh_context(ctx, "policies")
    counts = await call.store.resources.count_by_type(call.scope, mesh.name)
    groups = [
        {
            "rt": rt,
            "count": counts.get((rt.name, mesh.name), 0),
            "direction": policy_direction(rt),
        }
        for rt in policy_types()
    ]
    types = policy_types()
    selected = ctx.request.query_params.get("type") or next(
        (t.name for t in types if counts.get((t.name, mesh.name))), types[0].name
    )
    rt = BY_NAME.get(selected)
    if rt is None or not rt.is_policy:
        raise NotFound(f"no policy type {selected!r}")
    items = await _all(call, rt.name, mesh.name)
    return ctx.render(
        "policies.html",
        title=f"Policies · {mesh.name}",
        groups=groups,
        selected=rt,
        items=items,
        **values,
    )


def _policy_filter(
    rt: ResourceType, policy: Resource, referenced: Referenced
) -> Callable[[Proxy], bool]:
    decoded = Decoded.of(policy)
    if policy.type in matching.POLICY_TYPES:
        return lambda proxy: matching.policy_selects(decoded, proxy, referenced)
    return lambda proxy: matching.old_policy_selects(decoded, proxy)


@page
async def policy_detail(ctx: Ctx) -> Response:
    call, mesh, values = await _mesh_context(ctx, "policies")
    rt = BY_NAME.get(ctx.param("type"))
    if rt is None or not rt.is_mesh_scoped:
        raise NotFound(f"no policy type {ctx.param('type')!r}")
    name = ctx.param("name")
    policy = await call.store.resources.get(call.scope, rt.name, mesh.name, name)
    if policy is None:
        raise NotFound(f"{rt.name} {name!r} not found in mesh {mesh.name}")
    cp = await call.store.resources.loaded(call.scope)
    # Which dataplanes the policy selects changes only with a write to the control plane:
    # remembered on the policy with the revision it was computed at.
    cached = policy.memo.get(AFFECTED_MEMO)
    if cached is not None and cached[0] == cp.revision:
        selected: list[str] = cached[1]
    else:
        selects = _policy_filter(rt, policy, await _referenced(call, mesh.name))
        selected = [dp.name for dp in cp.of_type("Dataplane", mesh.name) if selects(_proxy(dp))]
        policy.memo[AFFECTED_MEMO] = (cp.revision, selected)
    wanted = ctx.request.query_params.get("name", "").strip()
    names = [n for n in selected if wanted in n] if wanted else selected
    number = _int(ctx.request.query_params.get("page"), 1)
    start = (number - 1) * DP_PAGE_SIZE
    affected = []
    for dp_name in names[start : start + DP_PAGE_SIZE]:
        dataplane = cp.get(("Dataplane", mesh.name, dp_name))
        if dataplane is not None:
            insight = cp.get(("DataplaneInsight", mesh.name, dp_name))
            affected.append(dataplane_row(dataplane, insight))
    return ctx.render(
        "policy.html",
        title=f"{name} · {rt.name}",
        rt=rt,
        policy=policy,
        affected=affected,
        affected_total=len(names),
        number=number,
        pages=max(1, -(-len(names) // DP_PAGE_SIZE)),
        filter_name=wanted,
        yaml=to_yaml(rt, policy),
        at=now(),
        **values,
    )


# --- apply from YAML (meshes, policies, RBAC: any type the global may write) ----------


def _template_for(rt: ResourceType, mesh: str) -> str:
    if rt.name == "Mesh":
        body: dict[str, Any] = {
            "type": "Mesh",
            "name": "new-mesh",
            "mtls": {"enabledBackend": "ca-1", "backends": [{"name": "ca-1", "type": "builtin"}]},
        }
    elif rt.name == "MeshTrafficPermission":
        body = {
            "type": rt.name,
            "mesh": mesh,
            "name": "allow-all",
            "spec": {
                "targetRef": {"kind": "Mesh"},
                "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
            },
        }
    elif rt.name == "AccessRole":
        body = {
            "type": "AccessRole",
            "name": "viewer-writer",
            "rules": [{"types": ["MeshTimeout"], "access": ["CREATE", "UPDATE", "DELETE"]}],
        }
    elif rt.name == "AccessRoleBinding":
        body = {
            "type": "AccessRoleBinding",
            "name": "team-binding",
            "subjects": [{"type": "Group", "name": "my-team"}],
            "roles": ["viewer-writer"],
        }
    elif rt.style == Style.NEW:
        body = {
            "type": rt.name,
            "mesh": mesh,
            "name": f"my-{rt.path.rstrip('s')}",
            "spec": {"targetRef": {"kind": "Mesh"}},
        }
    else:
        body = {"type": rt.name, "mesh": mesh, "name": "my-policy"}
    if not rt.is_mesh_scoped:
        body.pop("mesh", None)
    return plain_yaml(body)


def _done_url(cp_id: Any, rt: ResourceType, mesh: str, name: str) -> str:
    base = f"/control-planes/{cp_id}"
    if rt.name == "Mesh":
        return f"{base}/meshes/{name}"
    if rt.name in ("AccessRole", "AccessRoleBinding"):
        return f"{base}/rbac/{rt.name}/{name}"
    if rt.is_mesh_scoped:
        return f"{base}/meshes/{mesh}/policies/{rt.name}/{name}"
    return base


@page
async def apply_yaml(ctx: Ctx) -> Response:
    """Create or edit a resource from YAML. Errors are Kuma's, each shown at the line of
    its field path."""
    call = await ctx.kuma_call(ctx.param("cp"))
    params = ctx.request.query_params
    type_name = params.get("type", "")
    mesh = params.get("mesh", "")
    name = params.get("name", "")
    rt = BY_NAME.get(type_name) if type_name else None
    errors: list[dict[str, Any]] = []
    warnings: list[str] = []
    existing = None
    if rt is not None and name:
        existing = await call.store.resources.get(
            call.scope, rt.name, mesh if rt.is_mesh_scoped else "", name
        )
    if ctx.request.method == "POST":
        text = ctx.form.get("yaml", "")
        ctx.principal.require(Action.UPDATE, call.control_plane.id)
        result = await _apply_text(call, text, mesh, expect=(rt, name) if existing else None)
        if isinstance(result, list):
            errors = result
        else:
            written_rt, written, created = result
            warnings = deprecations(written_rt, written)
            verb = "created" if created else "updated"
            flash = f"{written_rt.name} {written.name} {verb}."
            if warnings:
                flash += " Warning: " + " ".join(warnings)
            return ctx.redirect(
                _done_url(call.control_plane.id, written_rt, written.mesh, written.name),
                flash=flash,
            )
    else:
        if existing is not None and rt is not None:
            text = to_yaml(rt, existing)
        elif rt is not None:
            text = _template_for(rt, mesh or "default")
        else:
            text = _template_for(BY_NAME["MeshTrafficPermission"], mesh or "default")
    for error in errors:
        if error.get("line") is None and error["field"]:
            error["line"] = line_of_path(text, error["field"])
    return ctx.render(
        "apply.html",
        title=("Edit " if existing else "Create ") + (rt.name if rt else "a resource"),
        cp=call.control_plane,
        tab="rbac" if rt is not None and rt.name.startswith("Access") else "meshes",
        rt=rt,
        mesh_name=mesh,
        existing=existing,
        text=text,
        errors=errors,
        lines=text.count("\n") + 1,
        status=400 if errors else 200,
    )


async def _apply_text(
    call: KumaCall, text: str, default_mesh: str, expect: tuple[ResourceType | None, str] | None
) -> list[dict[str, Any]] | tuple[ResourceType, Resource, bool]:
    try:
        body = yaml.safe_load(text)
    except yaml.YAMLError as error:
        message, line = yaml_error(error)
        return [{"field": "", "message": message, "line": line}]
    if not isinstance(body, dict):
        return [
            {"field": "", "message": "the YAML must be one object with type and name", "line": 1}
        ]
    type_name = body.get("type")
    rt = BY_NAME.get(type_name) if isinstance(type_name, str) else None
    if rt is None:
        return [{"field": "type", "message": f"unknown resource type {type_name!r}", "line": None}]
    if not rt.writable_on_global:
        return [
            {
                "field": "type",
                "message": f"{rt.name} is not written on the global control plane: zones report it",
                "line": None,
            }
        ]
    name = body.get("name")
    if not isinstance(name, str) or not name:
        return [{"field": "name", "message": "a resource needs a name", "line": None}]
    mesh = ""
    if rt.is_mesh_scoped:
        mesh = body.get("mesh") or ""
        if not isinstance(mesh, str) or not mesh:
            if rt.style == Style.NEW:
                mesh = "default"
            else:
                return [
                    {
                        "field": "mesh",
                        "message": "a mesh-scoped resource needs a mesh",
                        "line": None,
                    }
                ]
        if await call.store.resources.get(call.scope, "Mesh", "", mesh) is None:
            return [{"field": "mesh", "message": f"mesh {mesh!r} does not exist", "line": None}]
    if expect is not None and (expect[0] is not rt or expect[1] != name):
        return [
            {
                "field": "name",
                "message": "the type and name cannot change while editing:"
                " create a new resource instead",
                "line": None,
            }
        ]
    try:
        written, created = await apply_resource(call, rt, mesh, name, body)
    except KumaError as error:
        return [{**v, "line": None} for v in _violations(error)]
    except DomainError as error:
        return [{"field": "", "message": error.detail, "line": None}]
    return rt, written, created


@page
async def delete_resource(ctx: Ctx) -> Response:
    call = await ctx.kuma_call(ctx.param("cp"), Action.UPDATE)
    rt = BY_NAME.get(ctx.form.get("type", ""))
    if rt is None or not rt.writable_on_global:
        raise NotFound("no such resource type")
    mesh = ctx.form.get("mesh", "") if rt.is_mesh_scoped else ""
    name = ctx.form.get("name", "")
    base = f"/control-planes/{call.control_plane.id}"
    back = ctx.form.get("back") or base
    try:
        await remove_resource(call, rt, mesh, name)
    except KumaError as error:
        message = error.detail if error.detail != "Resource is not valid" else ""
        message = "; ".join(v.message for v in error.violations) or message or error.title
        return ctx.redirect(back, flash=f"{rt.name} {name} was not deleted: {message}")
    if rt.name == "Mesh":
        done = f"{base}/meshes"
    elif rt.name.startswith("Access"):
        done = f"{base}/rbac"
    else:
        done = f"{base}/meshes/{mesh}/policies?type={rt.name}"
    return ctx.redirect(done, flash=f"{rt.name} {name} deleted.")


_ = parse_time

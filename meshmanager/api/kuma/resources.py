"""Generic CRUD for every resource type, driven by its registry descriptor."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from meshmanager.api.kuma import k8s_form, listing
from meshmanager.api.kuma.codec import (
    destination_ports,
    dumps,
    render,
    render_list,
    split_body,
)
from meshmanager.api.kuma.context import KumaCall, kuma_call
from meshmanager.api.kuma.errors import KumaError, invalid, method_not_allowed, not_found
from meshmanager.api.kuma.mesh_cas import mesh_ca_secrets
from meshmanager.model.identity import Action
from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.defaults import created_with_mesh
from meshmanager.model.resources.naming import (
    CpMode,
    Environment,
    KriError,
    core_name_for_kri,
    parse_kri,
)
from meshmanager.model.resources.registry import ResourceType, Style, by_path
from meshmanager.model.resources.stored import Resource
from meshmanager.model.resources.validation import Context, Path, Violation, validate_spec
from meshmanager.model.resources.validation.mesh_core.meta import validate_meta
from meshmanager.store.resources import (
    Change,
    Create,
    Delete,
    DeleteMeshContents,
    ResourceQuery,
    Update,
)
from meshmanager.tenancy.access_roles import Target

PROCESS_TITLE = "Could not process a resource"
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
MESH_NAME_MAX = 63


def json_response(value: Any, status: int = 200) -> Response:
    return Response(dumps(value), status_code=status, media_type="application/json")


def resource_type(request: Request) -> ResourceType:
    rt = by_path(request.path_params["ws"])
    mesh = request.path_params.get("mesh")
    if rt is None or (mesh is not None and not rt.is_mesh_scoped):
        raise KumaError(404, "Not Found", f"no such endpoint: {request.url.path}")
    return rt


def item_key(request: Request, rt: ResourceType) -> tuple[str, str]:
    """(mesh, name) of an item URL; a mesh-scoped item needs the /meshes/{mesh}/ form."""
    mesh = request.path_params.get("mesh")
    if rt.is_mesh_scoped and mesh is None:
        raise KumaError(404, "Not Found", f"no such endpoint: {request.url.path}")
    return mesh or "", request.path_params["name"]


async def require_mesh(call: KumaCall, mesh: str | None) -> None:
    if mesh and await call.store.resources.get(call.scope, "Mesh", "", mesh) is None:
        raise not_found("Failed to retrieve Mesh")


async def authorized(request: Request, rt: ResourceType, action: Action) -> KumaCall:
    call = await kuma_call(request, Action.READ)
    if rt.admin_only or action != Action.READ:
        call.require(Action.UPDATE)
    return call


async def list_resources(request: Request) -> Response:
    rt = resource_type(request)
    mesh = request.path_params.get("mesh")
    call = await authorized(request, rt, Action.READ)
    await require_mesh(call, mesh)
    params = request.query_params
    page = listing.paging(params)
    route = request.scope["route"].path.replace("{ws}", rt.path)
    query = ResourceQuery(
        type=rt.name,
        mesh=mesh,
        name_contains=params.get("name") or None,
        labels=listing.label_filters(params, route),
    )
    tags = listing.tag_filters(params) if rt.name in ("Dataplane", "ExternalService") else []
    gateway = listing.gateway_filter(params) if rt.name == "Dataplane" else None
    if tags or gateway:
        everything, _ = await call.store.resources.find(call.scope, query)
        matching = [r for r in everything if _matches(rt, r, tags, gateway)]
        items, total = matching[page.offset : page.offset + page.size], len(matching)
    else:
        query = replace(query, offset=page.offset, size=page.size)
        items, total = await call.store.resources.find(call.scope, query)
    body = render_list(
        [render(rt, item) for item in items], total, listing.next_url(request, page, total)
    )
    return Response(body, media_type="application/json")


def _matches(
    rt: ResourceType, resource: Resource, tags: list[tuple[str, str]], gateway: str | None
) -> bool:
    if rt.name == "Dataplane":
        return listing.dataplane_matches(resource, tags, gateway)
    return listing.external_service_matches(resource, tags)


async def get_resource(request: Request) -> Response:
    rt = resource_type(request)
    mesh, name = item_key(request, rt)
    call = await authorized(request, rt, Action.READ)
    await require_mesh(call, mesh)
    found = await call.store.resources.get(call.scope, rt.name, mesh, name)
    if found is None:
        raise not_found("Could not retrieve a resource")
    namespace = request.query_params.get("namespace", "")
    return k8s_form.formatted(
        request, rt, found, title="Could not retrieve a resource", namespace=namespace
    )


async def put_resource(request: Request) -> Response:
    rt = resource_type(request)
    mesh, name = item_key(request, rt)
    if not rt.writable_on_global:
        raise method_not_allowed()
    call = await kuma_call(request, Action.READ)
    await require_mesh(call, mesh)
    body = await _json_object(request, rt)
    written, created = await apply_resource(call, rt, mesh, name, body)
    return _written(rt, written, 201 if created else 200)


async def apply_resource(
    call: KumaCall, rt: ResourceType, mesh: str, name: str, body: dict[str, Any]
) -> tuple[Resource, bool]:
    """What a PUT does with a decoded body (the console applies YAML through it too):
    validates it with Kuma's paths and messages, checks the roles, and creates or
    replaces the resource. Returns it and whether it was created; raises KumaError."""
    spec, _status = split_body(rt, body)
    labels = _labels_of(body)
    _check_schema_and_spec(rt, body, spec, mesh, name, labels)
    _check_meta(rt, body, mesh, name, labels)
    call.require(Action.UPDATE)
    if rt.is_mesh_scoped:
        labels.setdefault(kuma_labels.MESH, mesh)
    existing = await call.store.resources.get(call.scope, rt.name, mesh, name)
    access = "CREATE" if existing is None else "UPDATE"
    await call.require_access(access, Target(rt.name, mesh, name, spec))
    if existing is None:
        created = Resource(rt.name, mesh, name, spec if spec is not None else {}, labels)
        _check_mesh_name(rt, created)
        companions: list[Resource] = []
        if rt.name == "Mesh":
            # Kuma's mesh manager: the builtin CAs of its mTLS backends, then the defaults.
            companions += await mesh_ca_secrets(call, created, None)
            companions += await asyncio.to_thread(created_with_mesh, created)
        await call.store.resources.write(
            call.scope, [Create(item) for item in (created, *companions)]
        )
        return created, True
    changed = kuma_labels.immutable_label_changes(existing.labels, labels)
    if changed:
        raise invalid("Could not update a resource", changed)
    updated = existing.with_changes(spec=spec if spec is not None else {}, labels=labels)
    cas = await mesh_ca_secrets(call, updated, existing) if rt.name == "Mesh" else []
    await call.store.resources.write(call.scope, [Update(updated), *map(Create, cas)])
    return updated, False


def _written(rt: ResourceType, resource: Resource, status: int) -> Response:
    warnings = deprecations(rt, resource)
    return json_response({"warnings": warnings} if warnings else {}, status)


async def delete_resource(request: Request) -> Response:
    rt = resource_type(request)
    mesh, name = item_key(request, rt)
    if not rt.writable_on_global:
        raise method_not_allowed()
    call = await authorized(request, rt, Action.UPDATE)
    await require_mesh(call, mesh)
    await remove_resource(call, rt, mesh, name)
    return json_response({})


async def remove_resource(call: KumaCall, rt: ResourceType, mesh: str, name: str) -> None:
    """What a DELETE does once the caller may write: Kuma's rules, then the deletion."""
    found = await call.store.resources.get(call.scope, rt.name, mesh, name)
    if found is None:
        raise not_found("Could not delete a resource")
    origin = found.labels.get(kuma_labels.ORIGIN)
    if origin is not None and origin != "global":
        raise invalid(
            "Could not delete a resource",
            [Violation('labels["kuma.io/origin"]', "the origin label must be set to 'global'")],
        )
    await call.require_access("DELETE", Target(rt.name, mesh, name, found.spec))
    changes: list[Change] = [Delete(found)]
    if rt.name == "Mesh":
        await _check_mesh_is_empty(call, name)
        changes.append(DeleteMeshContents(found))
    await call.store.resources.write(call.scope, changes)


async def _check_mesh_is_empty(call: KumaCall, mesh: str) -> None:
    _, dataplanes = await call.store.resources.find(
        call.scope, ResourceQuery(type="Dataplane", mesh=mesh, size=1)
    )
    if dataplanes:
        raise KumaError(
            400,
            "Could not delete a resource",
            "unable to delete mesh, there are still some dataplanes attached",
        )


async def _json_object(request: Request, rt: ResourceType) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise KumaError(400, "Bad Request", f"invalid {rt.name} object: {error}") from None
    if not isinstance(body, dict):
        raise KumaError(400, "Bad Request", f"invalid {rt.name} object: expected a JSON object")
    return body


def _labels_of(body: dict[str, Any]) -> dict[str, str]:
    labels = body.get("labels")
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        raise invalid(
            PROCESS_TITLE,
            [Violation("labels", f'in body must be of type object: "{type(labels).__name__}"')],
        )
    return dict(labels)


def _check_schema_and_spec(
    rt: ResourceType,
    body: dict[str, Any],
    spec: Any,
    mesh: str,
    name: str,
    labels: dict[str, str],
) -> None:
    violations: list[Violation] = []
    if rt.style == Style.NEW:
        if body.get("type") != rt.name:
            violations.append(Violation("", f"type in body should be one of [{rt.name}]"))
        if not isinstance(body.get("name"), str):
            violations.append(Violation("name", "in body is required"))
        if body.get("spec") is None:
            violations.append(Violation("spec", "in body is required"))
    if not violations:
        # Labels matter to some rules (a policy's role comes from kuma.io/policy-role).
        context = Context(mesh=mesh or None, name=name, extra={"labels": labels})
        violations = validate_spec(rt.name, spec if spec is not None else {}, context)
    if violations:
        raise invalid(PROCESS_TITLE, violations)


def _check_meta(
    rt: ResourceType, body: dict[str, Any], mesh: str, name: str, labels: dict[str, str]
) -> None:
    violations: list[Violation] = []
    if body.get("name") != name:
        violations.append(Violation("name", "name from the URL has to be the same as in body"))
    if body.get("type") != rt.name:
        violations.append(Violation("type", "type from the URL has to be the same as in body"))
    if rt.is_mesh_scoped and body.get("mesh", "default" if rt.style == Style.NEW else "") != mesh:
        violations.append(Violation("mesh", "mesh from the URL has to be the same as in body"))
    violations.extend(kuma_labels.validate_labels(labels))
    violations.extend(validate_meta(name, mesh, rt.is_mesh_scoped))
    if violations:
        raise invalid(PROCESS_TITLE, violations)


def _check_mesh_name(rt: ResourceType, resource: Resource) -> None:
    if rt.name == "Mesh" and len(resource.name) > MESH_NAME_MAX:
        raise invalid(
            PROCESS_TITLE, [Violation(str(Path("name")), "cannot be longer than 63 characters")]
        )


DNS1035_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with"
    " an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or"
    " 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


def deprecations(rt: ResourceType, resource: Resource) -> list[str]:
    """Kuma's warnings for names that still work but will not: meshes and destinations
    should be DNS labels, and a destination's SNIs need dot-free names."""
    if rt.name == "MeshTrust" and isinstance(resource.spec, dict) and "origin" in resource.spec:
        return ["setting spec.origin field is deprecated"]
    if rt.name != "Mesh" and not rt.is_destination:
        return []
    name = resource.name
    warnings = []
    errors = []
    if len(name) > MESH_NAME_MAX:
        errors.append("must be no more than 63 characters")
    elif not _DNS1035.match(name):
        errors.append(DNS1035_MESSAGE)
    if errors:
        warnings.append(
            f"Invalid {rt.name} resource name: '{name}'. It does not conform to the DNS format"
            f" (RFC 1035). This is deprecated. Errors: {'; '.join(errors)}"
        )
    sni_problem = (
        "must not contain dots"
        if "." in name
        else "must be no more than 63 characters"
        if len(name) > MESH_NAME_MAX
        else None
    )
    if rt.is_destination and sni_problem:
        warnings += [
            f'Invalid {rt.name} SNI (port "{port}"): name "{name}" does not conform to'
            f" RFC 1123: {sni_problem}. This is deprecated."
            for port in destination_ports(rt, resource)
        ]
    return warnings


async def get_by_kri(request: Request) -> Response:
    """`/_kri/{kri}`: the resource a Kuma Resource Identifier names, as stored here
    (`format=k8s` puts it in the KRI's namespace, as Kuma does)."""
    call = await kuma_call(request, Action.READ)
    try:
        identifier = parse_kri(request.path_params["kri"])
    except KriError as error:
        raise KumaError(400, "Bad Request", f"bad request: {error}") from None
    rt = identifier.resource_type
    assert rt is not None  # parse_kri refuses unknown short names
    if rt.admin_only:
        call.require(Action.UPDATE)
    name = core_name_for_kri(
        identifier,
        cp_mode=CpMode.GLOBAL,
        cp_zone="",
        environment=Environment.UNIVERSAL,
        system_namespace="kuma-system",
    )
    mesh = identifier.mesh if rt.is_mesh_scoped else ""
    found = await call.store.resources.get(call.scope, rt.name, mesh, name)
    if found is None:
        raise not_found("Could not retrieve a resource")
    return k8s_form.formatted(
        request, rt, found, title="Could not format a resource", namespace=identifier.namespace
    )

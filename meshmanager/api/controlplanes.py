"""`/mesh/control-planes`: the Konnect-shaped management API for global control planes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response, status
from starlette.datastructures import QueryParams

from meshmanager.api.deps import (
    IfMatchDep,
    PageDep,
    PrincipalDep,
    StoreDep,
    check_version,
    set_etag,
)
from meshmanager.api.problems import problem_responses
from meshmanager.model.common import ListMeta, Page, PageMeta, is_label_key
from meshmanager.model.controlplane import (
    ControlPlane,
    ControlPlaneCreate,
    ControlPlaneFields,
    ControlPlanePatch,
    ControlPlaneReplace,
    Feature,
    MeshCreationFeature,
    complete_features,
)
from meshmanager.model.errors import InvalidParameter, ValidationFailed, invalid
from meshmanager.model.identity import Action
from meshmanager.model.paging import ControlPlaneQuery, LabelFilter, LabelOp, PageRequest
from meshmanager.model.resources.defaults import (
    created_with_mesh,
    default_hostname_generators,
    default_mesh,
)
from meshmanager.model.resources.stored import Resource
from meshmanager.store import Store
from meshmanager.store.rows import Versioned
from meshmanager.tenancy.access_roles import default_access_resources
from meshmanager.tenancy.principal import Principal

router = APIRouter(prefix="/v1/mesh/control-planes", tags=["Mesh Control Planes"])

ETAG_HEADER = {
    "ETag": {"description": "The object's version, for If-Match.", "schema": {"type": "string"}}
}

FILTER_PARAMETER: dict[str, Any] = {
    "name": "filter",
    "in": "query",
    "style": "deepObject",
    "explode": True,
    "description": "`filter[name]`, `filter[name][eq]`, `filter[name][contains]`, and"
    " `filter[labels.KEY]` with `[eq]` (default), `[neq]`, `[oeq]` or `[ocontains]`;"
    " `oeq` and `ocontains` take comma-separated values.",
    "schema": {
        "type": "object",
        "properties": {
            "name": {
                "type": "object",
                "properties": {"eq": {"type": "string"}, "contains": {"type": "string"}},
                "additionalProperties": False,
            }
        },
        "additionalProperties": False,
    },
}

_FILTER_KEY = re.compile(r"^filter\[(name|labels\.([^\]]*))\](?:\[([a-z]+)\])?$")


def parse_filters(params: QueryParams, page: PageRequest) -> ControlPlaneQuery:
    name_eq: str | None = None
    name_contains: str | None = None
    labels: list[LabelFilter] = []
    problems: list[InvalidParameter] = []
    for key, value in params.multi_items():
        if not key.startswith("filter"):
            continue
        match = _FILTER_KEY.match(key)
        if match is None:
            problems.append(InvalidParameter(key, "unknown_property", "unsupported filter"))
            continue
        _, label_key, op = match.groups()
        if label_key is None:
            if op in (None, "eq"):
                name_eq = value
            elif op == "contains":
                name_contains = value
            else:
                problems.append(InvalidParameter(key, "enum", "name filters are eq or contains"))
            continue
        problem = _label_filter(key, label_key, op or "eq", value, labels)
        if problem:
            problems.append(problem)
    if problems:
        raise ValidationFailed(problems)
    return ControlPlaneQuery(
        page=page, name_eq=name_eq, name_contains=name_contains, labels=tuple(labels)
    )


def _label_filter(
    key: str, label_key: str, op: str, value: str, out: list[LabelFilter]
) -> InvalidParameter | None:
    if not is_label_key(label_key):
        return InvalidParameter(key, "is_label", f"{label_key!r} is not a valid label key")
    try:
        label_op = LabelOp(op)
    except ValueError:
        return InvalidParameter(key, "enum", "label filters are eq, neq, oeq or ocontains")
    if label_op in (LabelOp.OEQ, LabelOp.OCONTAINS):
        values = tuple(v for v in value.split(",") if v)
    else:
        values = (value,)
    if not values:
        return InvalidParameter(key, "min_length", "give at least one value")
    out.append(LabelFilter(label_key, label_op, values))
    return None


def initial_resources(fields: ControlPlaneFields) -> list[Resource]:
    """What a new control plane starts with: Kong Mesh's default RBAC, and the default
    mesh and hostname generators when its features ask for them."""
    initial = default_access_resources()
    enabled = {feature.type for feature in fields.features if _enabled(feature)}
    if "MeshCreation" in enabled:
        mesh = default_mesh()
        initial += [mesh, *created_with_mesh(mesh)]
    if "HostnameGeneratorCreation" in enabled:
        initial += default_hostname_generators()
    return initial


def _enabled(feature: Feature) -> bool:
    if isinstance(feature, MeshCreationFeature):
        return feature.mesh_creation.enabled
    return feature.hostname_generator_creation.enabled


async def _readable(
    store: Store, principal: Principal, cp_id: UUID, action: Action
) -> Versioned[ControlPlane]:
    found = await store.control_planes.get(principal.org_id, cp_id)
    principal.require(action, cp_id)
    return found


@router.get(
    "",
    operation_id="list-mesh-control-planes",
    summary="List control planes",
    response_model=Page[ControlPlane],
    responses=problem_responses(400, 401, 403),
    openapi_extra={"parameters": [FILTER_PARAMETER]},
)
async def list_control_planes(
    request: Request, store: StoreDep, principal: PrincipalDep, page: PageDep
) -> Page[ControlPlane]:
    query = parse_filters(request.query_params, page)
    visible = principal.visible_control_planes(Action.LIST)
    if visible is not None:
        query = replace(query, only_ids=visible)
    items, total = await store.control_planes.query(principal.org_id, query)
    meta = ListMeta(page=PageMeta(number=page.number, size=page.size, total=total))
    return Page[ControlPlane](meta=meta, data=items)


@router.post(
    "",
    operation_id="create-cp",
    summary="Create a control plane",
    status_code=status.HTTP_201_CREATED,
    response_model=ControlPlane,
    responses={201: {"headers": ETAG_HEADER}, **problem_responses(400, 401, 403, 409)},
)
async def create_control_plane(
    body: ControlPlaneCreate, response: Response, store: StoreDep, principal: PrincipalDep
) -> ControlPlane:
    principal.require(Action.CREATE)
    fields = ControlPlaneFields(
        name=body.name,
        description=body.description,
        labels=body.labels,
        features=complete_features(body.features),
    )
    owner = None if principal.org_admin else principal.subject
    initial = await asyncio.to_thread(initial_resources, fields)
    created = await store.control_planes.create_owned(
        principal.org_id, fields, admin=owner, initial=initial
    )
    response.headers["Location"] = f"{router.prefix}/{created.item.id}"
    set_etag(response, created.version)
    return created.item


@router.get(
    "/{cpId}",
    operation_id="get-mesh-control-plane",
    summary="Get a control plane",
    response_model=ControlPlane,
    responses={200: {"headers": ETAG_HEADER}, **problem_responses(400, 401, 403, 404)},
)
async def get_control_plane(
    cpId: UUID, response: Response, store: StoreDep, principal: PrincipalDep
) -> ControlPlane:
    found = await _readable(store, principal, cpId, Action.READ)
    set_etag(response, found.version)
    return found.item


@router.put(
    "/{cpId}",
    operation_id="update-cp",
    summary="Replace a control plane",
    response_model=ControlPlane,
    responses={200: {"headers": ETAG_HEADER}, **problem_responses(400, 401, 403, 404, 409)},
)
async def replace_control_plane(
    cpId: UUID,
    body: ControlPlaneReplace,
    response: Response,
    store: StoreDep,
    principal: PrincipalDep,
    expected: IfMatchDep,
) -> ControlPlane:

    def changes(current: ControlPlane) -> dict[str, Any]:
        if body.features is not None and complete_features(body.features) != current.features:
            raise invalid("features", "features are set at creation and cannot change", "immutable")
        return body.model_dump(include={"name", "description", "labels"})

    return await _update(store, principal, cpId, expected, response, changes)


@router.patch(
    "/{cpId}",
    operation_id="patch-mesh-control-plane",
    summary="Update some fields of a control plane",
    response_model=ControlPlane,
    responses={200: {"headers": ETAG_HEADER}, **problem_responses(400, 401, 403, 404, 409)},
)
async def patch_control_plane(
    cpId: UUID,
    body: ControlPlanePatch,
    response: Response,
    store: StoreDep,
    principal: PrincipalDep,
    expected: IfMatchDep,
) -> ControlPlane:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return await _update(store, principal, cpId, expected, response, lambda _: changes)


async def _update(
    store: Store,
    principal: Principal,
    cp_id: UUID,
    expected: int | None,
    response: Response,
    changes_to: Callable[[ControlPlane], dict[str, Any]],
) -> ControlPlane:
    """A write conditional on the version read (or the caller's If-Match)."""
    current = await _readable(store, principal, cp_id, Action.UPDATE)
    version = check_version(current, expected)
    changes = changes_to(current.item)
    updated = await store.control_planes.update(principal.org_id, cp_id, changes, version)
    set_etag(response, updated.version)
    return updated.item


@router.delete(
    "/{cpId}",
    operation_id="delete-mesh-control-plane",
    summary="Delete a control plane",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(400, 401, 403, 404),
)
async def delete_control_plane(cpId: UUID, store: StoreDep, principal: PrincipalDep) -> Response:
    await _readable(store, principal, cpId, Action.DELETE)
    await store.control_planes.delete(principal.org_id, cpId)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

"""Insight and overview endpoints, computed on the global from stored resources.

Kuma's global keeps MeshInsight and ServiceInsight up to date with a resyncer; here they
are computed when asked, from the stored Dataplanes, DataplaneInsights and
ExternalServices. A ServiceInsight that is stored (Kuma's `all-services-<mesh>`, which
the global also syncs down to zones) is served as it is, as Kuma serves it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from weakref import WeakKeyDictionary

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meshmanager.api.kuma import listing
from meshmanager.api.kuma.codec import EMPTY_OBJECT, dumps, format_time, meta, render_list
from meshmanager.api.kuma.context import KumaCall, kuma_call
from meshmanager.api.kuma.errors import KumaError, not_found
from meshmanager.api.kuma.resources import json_response, require_mesh
from meshmanager.model.identity import Action
from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources.insights import (
    SERVICE_TYPES,
    DataplaneOverview,
    GlobalInputs,
    MeshInputs,
    global_insight,
    global_insights_resources,
    mesh_insight_spec,
    service_insight_spec,
    service_overview,
    service_type_of,
)
from meshmanager.model.resources.registry import ResourceType, by_name
from meshmanager.model.resources.stored import Resource
from meshmanager.store import Store
from meshmanager.store.resources import ResourceQuery

Endpoint = Callable[[Request], Awaitable[Response]]
RETRIEVE_TITLE = "Could not retrieve a resource"


def _now() -> datetime:
    return datetime.now(UTC)


async def _all(call: KumaCall, type_: str, mesh: str | None = None) -> list[Resource]:
    items, _ = await call.store.resources.find(call.scope, ResourceQuery(type_, mesh))
    return items


def _latest(moments: Iterable[datetime | None]) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


# Mesh inputs: what MeshInsight and ServiceInsight are computed from.


async def _mesh_inputs(call: KumaCall, meshes: Sequence[Resource]) -> list[MeshInputs]:
    if not meshes:
        return []
    only = meshes[0].name if len(meshes) == 1 else None
    dataplanes = await _all(call, "Dataplane", only)
    insights = {(i.mesh, i.name): i for i in await _all(call, "DataplaneInsight", only)}
    externals = await _all(call, "ExternalService", only)
    counts = await call.store.resources.count_by_type(call.scope, only)
    result = []
    for mesh in meshes:
        result.append(
            MeshInputs(
                mesh=mesh,
                dataplanes=[
                    DataplaneOverview(dp, insights.get((dp.mesh, dp.name)))
                    for dp in dataplanes
                    if dp.mesh == mesh.name
                ],
                external_services=[es for es in externals if es.mesh == mesh.name],
                resource_counts={t: n for (t, m), n in counts.items() if m == mesh.name},
            )
        )
    return result


def _modified(inputs: MeshInputs) -> datetime | None:
    """When anything the insight is computed from last changed."""
    resources: list[Resource | None] = [inputs.mesh, *inputs.external_services]
    for overview in inputs.dataplanes:
        resources += [overview.dataplane, overview.insight]
    return _latest(r.modification_time for r in resources if r is not None)


@dataclass(frozen=True)
class MeshSummary:
    """What is computed from one mesh's dataplanes, kept while nothing changed."""

    insight_json: dict[str, Any]
    insight_spec: dict[str, Any]
    service_insight: Resource


@dataclass(frozen=True)
class _Summarized:
    revision: int
    at: float
    mesh_created: datetime | None  # a mesh deleted and made again is another mesh
    summary: MeshSummary


# Summaries by (control plane, mesh), with the resource revision and the time they were
# computed at. Computing one reads every dataplane of the mesh, so a summary is reused
# while the revision is unchanged, and for SUMMARY_MAX_AGE seconds after it changed
# (Kuma's global likewise recomputes its insights periodically, not on every change).
SUMMARY_MAX_AGE = 2.0
_SUMMARIES: WeakKeyDictionary[Store, dict[tuple[UUID, str], _Summarized]] = WeakKeyDictionary()


async def _summaries(call: KumaCall, meshes: Sequence[Resource]) -> list[MeshSummary]:
    revision = (await call.store.resources.loaded(call.scope)).revision
    known = _SUMMARIES.setdefault(call.store, {})
    now = time.monotonic()

    def usable(mesh: Resource) -> bool:
        entry = known.get((call.scope.cp_id, mesh.name))
        if entry is None or entry.mesh_created != mesh.creation_time:
            return False
        return entry.revision == revision or now - entry.at < SUMMARY_MAX_AGE

    stale = [mesh for mesh in meshes if not usable(mesh)]
    for inputs in await _mesh_inputs(call, stale):
        summary = MeshSummary(
            _mesh_insight_json(inputs), mesh_insight_spec(inputs), _computed_service_insight(inputs)
        )
        key = (call.scope.cp_id, inputs.mesh.name)
        known[key] = _Summarized(revision, now, inputs.mesh.creation_time, summary)
    return [known[(call.scope.cp_id, mesh.name)].summary for mesh in meshes]


async def mesh_summaries(call: KumaCall, meshes: Sequence[Resource]) -> list[MeshSummary]:
    """The insights of `meshes`, computed or reused (the console shows them too)."""
    return await _summaries(call, meshes)


def _mesh_insight_json(inputs: MeshInputs) -> dict[str, Any]:
    return {
        "type": "MeshInsight",
        "name": inputs.mesh.name,
        "creationTime": format_time(inputs.mesh.creation_time),
        "modificationTime": format_time(_modified(inputs)),
        **mesh_insight_spec(inputs),
    }


async def list_mesh_insights(request: Request) -> Response:
    call = await kuma_call(request, Action.READ)
    params = request.query_params
    page = listing.paging(params)
    meshes: list[Resource] = []
    total = 0  # computed MeshInsights carry no labels: a label filter matches none
    if not listing.label_filters(params, request.scope["route"].path):
        query = ResourceQuery(
            "Mesh", name_contains=params.get("name") or None, offset=page.offset, size=page.size
        )
        meshes, total = await call.store.resources.find(call.scope, query)
    items = [summary.insight_json for summary in await _summaries(call, meshes)]
    return json_response(
        {"total": total, "items": items, "next": listing.next_url(request, page, total)}
    )


async def get_mesh_insight(request: Request) -> Response:
    call = await kuma_call(request, Action.READ)
    mesh = await call.store.resources.get(call.scope, "Mesh", "", request.path_params["name"])
    if mesh is None:
        raise not_found(RETRIEVE_TITLE)
    (summary,) = await _summaries(call, [mesh])
    return json_response(summary.insight_json)


# Service insights: one stored-or-computed ServiceInsight per mesh, shown per service.


def _computed_service_insight(inputs: MeshInputs) -> Resource:
    return Resource(
        "ServiceInsight",
        inputs.mesh.name,
        f"all-services-{inputs.mesh.name}",
        service_insight_spec(inputs),
        creation_time=inputs.mesh.creation_time,
        modification_time=_modified(inputs),
    )


async def _service_insights(call: KumaCall, mesh: str | None) -> list[Resource]:
    stored = await _all(call, "ServiceInsight", mesh)
    covered = {insight.mesh for insight in stored}
    meshes = [m for m in await _meshes(call, mesh) if m.name not in covered]
    return stored + [summary.service_insight for summary in await _summaries(call, meshes)]


async def _meshes(call: KumaCall, name: str | None) -> list[Resource]:
    if name is None:
        return await _all(call, "Mesh")
    mesh = await call.store.resources.get(call.scope, "Mesh", "", name)
    return [] if mesh is None else [mesh]


def _service_json(insight: Resource, name: str, service: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "ServiceInsight",
        "mesh": insight.mesh,
        "name": name,
        "creationTime": format_time(insight.creation_time),
        "modificationTime": format_time(insight.modification_time),
    }
    # Kuma drops the display name: it names the per-mesh object, not the service.
    labels = {k: v for k, v in insight.labels.items() if k != kuma_labels.DISPLAY_NAME}
    if labels:
        body["labels"] = labels
    return body | service_overview(name, service)


def _services_of(insight: Resource) -> dict[str, Any]:
    services: dict[str, Any] = (insight.spec or {}).get("services") or {}
    return services


def _service_types(params: QueryParams) -> set[str]:
    wanted = {t.strip().lower() for t in (params.get("type") or "").split(",") if t.strip()}
    if wanted - set(SERVICE_TYPES):
        raise KumaError(400, "Bad Request", "bad request: unsupported service type")
    return wanted


async def list_service_insights(request: Request) -> Response:
    call = await kuma_call(request, Action.READ)
    mesh = request.path_params.get("mesh")
    await require_mesh(call, mesh)
    params = request.query_params
    types = _service_types(params)
    name_contains = params.get("name") or ""
    page = listing.paging(params)
    items = sorted(
        (
            _service_json(insight, name, service)
            for insight in await _service_insights(call, mesh)
            for name, service in _services_of(insight).items()
            if name_contains in name and (not types or service_type_of(service) in types)
        ),
        key=lambda item: (item["mesh"], item["name"]),
    )
    return json_response(
        {
            "total": len(items),
            "items": items[page.offset : page.offset + page.size],
            "next": listing.next_url(request, page, len(items)),
        }
    )


async def get_service_insight(request: Request) -> Response:
    call = await kuma_call(request, Action.READ)
    mesh = request.path_params["mesh"]
    await require_mesh(call, mesh)
    key = f"all-services-{mesh}"
    insight = next((i for i in await _service_insights(call, mesh) if i.name == key), None)
    if insight is None:
        raise not_found(RETRIEVE_TITLE)
    name = request.path_params["service"]
    service = _services_of(insight).get(name) or {"dataplanes": {}}
    return json_response(_service_json(insight, name, service))


# Global summaries.


async def global_insight_endpoint(request: Request) -> Response:
    call = await kuma_call(request, Action.READ)
    summaries = await _summaries(call, await _all(call, "Mesh"))
    services = [
        service
        for insight in await _service_insights(call, None)
        for service in _services_of(insight).values()
    ]
    counts = await call.store.resources.count_by_type(call.scope, "")
    summary = global_insight(
        GlobalInputs(
            mesh_insights=[summary.insight_spec for summary in summaries],
            services=services,
            zone_insights=[z.spec for z in await _all(call, "ZoneInsight")],
            zone_ingress_insights=[z.spec for z in await _all(call, "ZoneIngressInsight")],
            zone_egress_insights=[z.spec for z in await _all(call, "ZoneEgressInsight")],
            global_counts={type_: n for (type_, _), n in counts.items()},
        )
    )
    return json_response({"createdAt": format_time(_now()), **summary})


async def global_insights_endpoint(request: Request) -> Response:
    call = await kuma_call(request, Action.READ)
    counts = await call.store.resources.count_by_type(call.scope, "")
    return json_response(
        {
            "type": "GlobalInsights",
            "creationTime": format_time(_now()),
            "resources": global_insights_resources({t: n for (t, _), n in counts.items()}),
        }
    )


# Overviews: a resource next to its insight.


@dataclass(frozen=True)
class Overview:
    base: str  # the registry type, e.g. Dataplane
    spec_key: str  # e.g. dataplane
    insight_key: str  # e.g. dataplaneInsight

    @property
    def rt(self) -> ResourceType:
        rt = by_name(self.base)
        assert rt is not None and rt.insight is not None
        return rt

    @property
    def insight_type(self) -> str:
        return self.rt.insight or ""

    def render(self, resource: Resource, insight: Resource | None, single: bool) -> bytes:
        """The overview's JSON, with the stored specs spliced in as they are. A single
        overview shows a missing insight as `{}` where a list item leaves it out.
        Remembered on the resource for as long as its insight stays the same object."""
        cached = resource.memo.get(OVERVIEW_MEMO)
        if cached is not None and cached[0] == single and cached[1] is insight:
            rendered: bytes = cached[2]
            return rendered
        rendered = self._render(resource, insight, single)
        resource.memo[OVERVIEW_MEMO] = (single, insight, rendered)
        return rendered

    def _render(self, resource: Resource, insight: Resource | None, single: bool) -> bytes:
        head = meta(self.rt, resource)
        head["type"] = f"{self.base}Overview"
        body = dumps(head)[:-1] + f',"{self.spec_key}":'.encode() + resource.spec_json
        if insight is not None or single:
            insight_json = EMPTY_OBJECT if insight is None else insight.spec_json
            body += f',"{self.insight_key}":'.encode() + insight_json
        return body + b"}"


OVERVIEW_MEMO = "overview"
DATAPLANE = Overview("Dataplane", "dataplane", "dataplaneInsight")
ZONE = Overview("Zone", "zone", "zoneInsight")
ZONE_INGRESS = Overview("ZoneIngress", "zoneIngress", "zoneIngressInsight")
ZONE_EGRESS = Overview("ZoneEgress", "zoneEgress", "zoneEgressInsight")


async def _insights_of(
    call: KumaCall, insight_type: str, items: Sequence[Resource]
) -> dict[tuple[str, str], Resource]:
    """The insights of one page, looked up by key: the repository serves lookups from
    memory, where listing the type would go through every insight of the mesh."""
    found = {}
    for item in items:
        insight = await call.store.resources.get(call.scope, insight_type, item.mesh, item.name)
        if insight is not None:
            found[(item.mesh, item.name)] = insight
    return found


async def _overview_page(
    call: KumaCall, overview: Overview, request: Request, page: listing.Paging
) -> tuple[list[Resource], int]:
    params = request.query_params
    query = ResourceQuery(
        overview.base,
        mesh=request.path_params.get("mesh"),
        name_contains=params.get("name") or None,
        labels=listing.label_filters(params, request.scope["route"].path),
    )
    tags: list[tuple[str, str]] = []
    gateway = None
    if overview is DATAPLANE:
        gateway = listing.gateway_filter(params)
        tags = listing.tag_filters(params)
    await require_mesh(call, query.mesh)
    if not tags and gateway is None:
        paged = replace(query, offset=page.offset, size=page.size)
        return await call.store.resources.find(call.scope, paged)
    everything = await call.store.resources.find(call.scope, query)
    matching = [r for r in everything[0] if listing.dataplane_matches(r, tags, gateway)]
    return matching[page.offset : page.offset + page.size], len(matching)


def list_overviews(overview: Overview) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        call = await kuma_call(request, Action.READ)
        page = listing.paging(request.query_params)
        items, total = await _overview_page(call, overview, request, page)
        insights = await _insights_of(call, overview.insight_type, items)
        rendered = [
            overview.render(item, insights.get((item.mesh, item.name)), single=False)
            for item in items
        ]
        body = render_list(rendered, total, listing.next_url(request, page, total))
        return Response(body, media_type="application/json")

    return endpoint


def get_overview(overview: Overview) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        call = await kuma_call(request, Action.READ)
        mesh = request.path_params.get("mesh", "")
        name = request.path_params["name"]
        await require_mesh(call, mesh)
        found = await call.store.resources.get(call.scope, overview.base, mesh, name)
        if found is None:
            raise not_found(RETRIEVE_TITLE)
        insight = await call.store.resources.get(call.scope, overview.insight_type, mesh, name)
        return Response(overview.render(found, insight, single=True), media_type="application/json")

    return endpoint


# (overview, list paths, item paths); the `+insights` and `zoneegressoverviews` forms are
# Kuma's legacy aliases, served by the same handlers.
OVERVIEW_PATHS: tuple[tuple[Overview, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        DATAPLANE,
        (
            "/meshes/{mesh}/dataplanes/_overview",
            "/meshes/{mesh}/dataplanes+insights",
            "/dataplanes/_overview",
            "/dataplanes+insights",
        ),
        ("/meshes/{mesh}/dataplanes/{name}/_overview", "/meshes/{mesh}/dataplanes+insights/{name}"),
    ),
    (
        ZONE,
        ("/zones/_overview", "/zones+insights"),
        ("/zones/{name}/_overview", "/zones+insights/{name}"),
    ),
    (
        ZONE_INGRESS,
        ("/zoneingresses/_overview", "/zone-ingresses/_overview", "/zoneingresses+insights"),
        (
            "/zoneingresses/{name}/_overview",
            "/zone-ingresses/{name}/_overview",
            "/zoneingresses+insights/{name}",
        ),
    ),
    (
        ZONE_EGRESS,
        ("/zoneegresses/_overview", "/zoneegressoverviews"),
        ("/zoneegresses/{name}/_overview", "/zoneegressoverviews/{name}"),
    ),
)


def routes() -> list[Route]:
    found = [
        Route("/global-insight", global_insight_endpoint),
        Route("/global-insights", global_insights_endpoint),
        Route("/mesh-insights", list_mesh_insights),
        Route("/mesh-insights/{name}", get_mesh_insight),
        Route("/meshes/{mesh}/service-insights", list_service_insights),
        Route("/meshes/{mesh}/service-insights/{service}", get_service_insight),
        Route("/service-insights", list_service_insights),
    ]
    for overview, list_paths, item_paths in OVERVIEW_PATHS:
        found += [Route(path, list_overviews(overview)) for path in list_paths]
        found += [Route(path, get_overview(overview)) for path in item_paths]
    return found

"""Inspection endpoints of the Kuma API built on policy matching: which dataplanes a
policy selects, which policies a dataplane gets, and the Envoy admin endpoints, which a
global control plane forwards to the zone of the proxy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meshmanager.api.kuma import legacy_inspect, listing
from meshmanager.api.kuma.codec import kri
from meshmanager.api.kuma.context import KumaCall, kuma_call
from meshmanager.api.kuma.envoy_admin import EnvoyAdminForwarder, ForwardingFailed
from meshmanager.api.kuma.errors import RESOURCE_NOT_VALID, KumaError, not_found
from meshmanager.api.kuma.lookups import (
    all_matched,
    find_dataplane,
    find_mesh,
    inspected_type,
    mesh_resources,
    proxies,
)
from meshmanager.api.kuma.resources import json_response
from meshmanager.model.identity import Action
from meshmanager.model.resources import hostnames, matching
from meshmanager.model.resources import labels as kuma_labels
from meshmanager.model.resources import rules as kuma_rules
from meshmanager.model.resources.matching import Decoded, Proxy, Referenced
from meshmanager.model.resources.registry import BY_NAME, ResourceType
from meshmanager.model.resources.stored import Resource
from meshmanager.store.resources import ResourceQuery

ADMIN_TITLE = "Could not execute admin operation"
ADMIN_RPCS = {"xds": "XDS Config Dump", "stats": "Stats", "clusters": "Clusters"}

ProxyFilter = Callable[[Proxy], bool]
FilterFor = Callable[[Decoded, Referenced], ProxyFilter]


# --- which dataplanes a policy (or MeshService) selects -----------------------------


def _paging(request: Request) -> listing.Paging:
    """Kuma checks the page size up front and the offset only when it lists dataplanes,
    hence two titles."""
    try:
        return listing.paging(request.query_params)
    except KumaError as error:
        title = "Could not retrieve policy" if error.violations else "failed inspect"
        raise KumaError(error.status, title, error.detail, error.violations) from None


def _short_meta(resource: Resource) -> dict[str, Any]:
    return {
        "type": resource.type,
        "mesh": resource.mesh,
        "name": resource.name,
        "labels": resource.labels,
    }


async def _matching_dataplanes(
    request: Request, rt: ResourceType, filter_for: FilterFor
) -> Response:
    """Kuma's matchingDataplanesForFilter: the mesh's dataplanes (with a `name` substring
    filter and paging) that the resource at the URL selects, as short metas."""
    mesh, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    await find_mesh(call, mesh, "Failed to retrieve Mesh")
    page = _paging(request)
    found = await call.store.resources.get(call.scope, rt.name, mesh, name)
    if found is None:
        raise not_found("Could not retrieve policy")
    referenced = Referenced([], [])
    if rt.policy.is_target_ref:
        dependents = await mesh_resources(call, mesh, ("MeshHTTPRoute", "MeshGateway"))
        referenced = Referenced.of(dependents)
    selects = filter_for(Decoded.of(found), referenced)
    candidates = await proxies(call, mesh, request.query_params.get("name"))
    matched = [proxy.resource for proxy in candidates if selects(proxy)]
    end = page.offset + page.size
    body: dict[str, Any] = {
        "total": len(matched),
        "items": [_short_meta(dataplane) for dataplane in matched[page.offset : end]],
    }
    if end < len(matched):
        body["next"] = listing.link_with_offset(request, end)
    return json_response(body)


def _policy_filter(policy: Decoded, referenced: Referenced) -> ProxyFilter:
    if policy.resource.type in matching.POLICY_TYPES:
        return lambda proxy: matching.policy_selects(policy, proxy, referenced)
    return lambda proxy: matching.old_policy_selects(policy, proxy)


def _mesh_service_filter(mesh_service: Decoded, _: Referenced) -> ProxyFilter:
    return lambda proxy: matching.mesh_service_selects(mesh_service, proxy)


async def policy_dataplanes(request: Request) -> Response:
    rt = inspected_type(request, lambda t: t.is_policy)
    return await _matching_dataplanes(request, rt, _policy_filter)


async def mesh_service_dataplanes(request: Request) -> Response:
    return await _matching_dataplanes(request, BY_NAME["MeshService"], _mesh_service_filter)


# --- the hostnames of a service -------------------------------------------------------


async def service_hostnames(request: Request) -> Response:
    """`_hostnames`: Kuma neither checks the mesh nor the caller's access to the service."""
    selector = hostnames.SELECTORS.get(request.path_params["service_type"])
    if selector is None:
        types = ",".join(hostnames.SELECTORS)
        title = f'only "{types}" are available for inspection'
        raise KumaError(400, title, RESOURCE_NOT_VALID)
    mesh, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    service = await call.store.resources.get(call.scope, selector[0], mesh, name)
    if service is None:
        raise not_found("could not retrieve service")
    generators, _ = await call.store.resources.find(call.scope, ResourceQuery("HostnameGenerator"))
    try:
        return json_response(hostnames.hostnames(service, selector[1], generators))
    except hostnames.HostnameError:
        raise KumaError(500, "could not generate hostname", "Internal Server Error") from None


# --- which policies a dataplane gets ------------------------------------------------


async def dataplane_policies(request: Request) -> Response:
    """The confs that apply to the proxy as a whole (`_policies`)."""
    mesh, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    mesh_spec = (await find_mesh(call, mesh, "Failed to retrieve Mesh")).spec or {}
    proxy = await find_dataplane(call, mesh, name, "Could not retrieve Dataplane")
    if (mesh_spec.get("meshServices") or {}).get("mode") != "Exclusive":
        raise KumaError(
            400,
            "Bad Request",
            "bad request: can't use _policies endpoint without meshService enabled",
        )
    policies = []
    for matched in await all_matched(call, mesh, proxy):
        rule = kuma_rules.single_item_rule(matched)
        if rule is not None:
            policies.append(_policy_conf(matched.type, rule))
    return json_response({"policies": policies})


def _policy_conf(policy_type: str, rule: kuma_rules.Rule) -> dict[str, Any]:
    rt = BY_NAME[policy_type]
    origins = [{"kri": kri(rt, origin.resource)} for origin in rule.origins]
    return {"conf": rule.conf, "kind": policy_type, "origins": origins}


# --- proxy config and Envoy admin -----------------------------------------------------


async def config_not_allowed(request: Request) -> Response:
    await kuma_call(request, Action.READ)
    raise KumaError(405, "Method not allowed", "Not allowed on global CP")


def _admin_rpc(request: Request) -> str:
    rpc = ADMIN_RPCS.get(request.path_params["kind"])
    if rpc is None:
        raise not_found(ADMIN_TITLE)
    return rpc


async def dataplane_admin(request: Request) -> Response:
    mesh, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    rpc = _admin_rpc(request)
    found = await call.store.resources.get(call.scope, "Dataplane", mesh, name)
    if found is None:
        raise not_found("Could not get dataplane resource")
    return await _forward(request, call, found, rpc)


def zone_proxy_admin(type_: str) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        call = await kuma_call(request, Action.READ)
        rpc = _admin_rpc(request)
        found = await call.store.resources.get(call.scope, type_, "", request.path_params["name"])
        if found is None:
            raise not_found("Could not get zone ingress resource")
        return await _forward(request, call, found, rpc)

    return endpoint


def _zone_of(resource: Resource) -> str:
    return resource.labels.get(kuma_labels.ZONE) or resource.name.split(".")[0]


async def _forward(request: Request, call: KumaCall, resource: Resource, rpc: str) -> Response:
    """Forwards the request to the proxy's zone over its KDS envoy-admin stream."""
    forwarder: EnvoyAdminForwarder | None = getattr(request.app.state, "envoy_admin", None)
    zone, kind = _zone_of(resource), request.path_params["kind"]
    if forwarder is None or not forwarder.connected(call.scope.cp_id, zone, kind):
        raise await _forwarding_error(call, resource, rpc)
    as_json = kind == "xds" or request.query_params.get("format") == "json"
    try:
        payload = await forwarder.forward(call.scope.cp_id, zone, kind, resource, as_json)
    except ForwardingFailed as error:
        raise KumaError(400, ADMIN_TITLE, f"couldn't execute {rpc} operation: {error}") from error
    media_type = "application/json" if as_json else "text/plain"
    return Response(payload, media_type=media_type)


async def _forwarding_error(call: KumaCall, resource: Resource, rpc: str) -> KumaError:
    """Why the request cannot reach the proxy's zone: offline, or connected without (or
    not yet with) the envoy-admin stream of this kind."""
    insight = await call.store.resources.get(call.scope, "ZoneInsight", "", _zone_of(resource))
    if insight is None:
        return not_found(ADMIN_TITLE)
    subscriptions = (insight.spec or {}).get("subscriptions") or []
    if not any(s.get("connectTime") and not s.get("disconnectTime") for s in subscriptions):
        return KumaError(400, ADMIN_TITLE, f"couldn't execute {rpc} operation, zone is offline")
    return KumaError(400, "Bad Request", f"stream to execute {rpc} operations is not yet connected")


def routes() -> list[Route]:
    # Literal segments first: `{kind}` and `{ws}` would otherwise take them.
    dataplane = "/meshes/{mesh}/dataplanes/{name}"
    return [
        Route(f"{dataplane}/_policies", dataplane_policies),
        Route(f"{dataplane}/_config", config_not_allowed),
        Route("/meshes/{mesh}/meshgateways/{name}/_config", config_not_allowed),
        Route(f"{dataplane}/policies", legacy_inspect.legacy_dataplane_policies),
        Route(f"{dataplane}/rules", legacy_inspect.legacy_dataplane_rules),
        Route("/meshes/{mesh}/meshgateways/{name}/dataplanes", legacy_inspect.gateway_dataplanes),
        Route(
            "/meshes/{mesh}/meshgatewayroutes/{name}/dataplanes",
            legacy_inspect.gateway_route_dataplanes,
        ),
        Route("/meshes/{mesh}/meshservices/{name}/_resources/dataplanes", mesh_service_dataplanes),
        Route("/meshes/{mesh}/meshservices/{name}/_dataplanes", mesh_service_dataplanes),
        Route("/meshes/{mesh}/{ws}/{name}/_resources/dataplanes", policy_dataplanes),
        Route("/meshes/{mesh}/{service_type}/{name}/_hostnames", service_hostnames),
        Route(f"{dataplane}/{{kind}}", dataplane_admin),
        Route("/meshes/{mesh}/{ws}/{name}/dataplanes", legacy_inspect.legacy_policy_dataplanes),
        Route("/zoneingresses/{name}/{kind}", zone_proxy_admin("ZoneIngress")),
        Route("/zoneegresses/{name}/{kind}", zone_proxy_admin("ZoneEgress")),
    ]

"""The legacy inspection kumactl decodes (`pkg/api-server/inspect_endpoints.go`): the
policies matched to a dataplane by attachment, the dataplanes a policy attaches to, the
builtin gateway dataplanes of a MeshGateway or MeshGatewayRoute, and a dataplane's rules
in their old format."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from meshmanager.api.kuma.codec import meta
from meshmanager.api.kuma.context import KumaCall, kuma_call
from meshmanager.api.kuma.errors import not_found
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
from meshmanager.model.resources import legacy_inspection as legacy
from meshmanager.model.resources import legacy_rules, matching
from meshmanager.model.resources.legacy_matching import DATAPLANE
from meshmanager.model.resources.matching import Decoded, Proxy, Referenced
from meshmanager.model.resources.registry import BY_NAME
from meshmanager.model.resources.stored import Resource


def _render(policy: Decoded) -> dict[str, Any]:
    return meta(BY_NAME[policy.resource.type], policy.resource)


async def _legacy_mesh(call: KumaCall, mesh: str) -> legacy.LegacyMesh:
    return legacy.LegacyMesh.of(await mesh_resources(call, mesh, legacy.RESOURCE_TYPES))


async def legacy_dataplane_policies(request: Request) -> Response:
    """`kumactl inspect dataplane`: a sidecar's policies by attachment, or a builtin
    gateway's listeners with the policies of each route destination."""
    mesh, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    await find_mesh(call, mesh, "Could not build MeshContext")
    proxy = await find_dataplane(call, mesh, name, "Could not get MatchedPolicies")
    legacy_mesh = await _legacy_mesh(call, mesh)
    if proxy.is_builtin_gateway:
        return json_response(legacy.gateway_document(legacy_mesh.gateway_view(proxy), _render))
    attached = legacy_mesh.sidecar_attachments(proxy)
    attached += [
        (DATAPLANE, policy)
        for matched in await all_matched(call, mesh, proxy)
        for policy in matched.policies
    ]
    return json_response(legacy.sidecar_document(attached, _render))


async def legacy_policy_dataplanes(request: Request) -> Response:
    """`kumactl inspect <policy> NAME`: the dataplanes a policy is attached to, in the
    store's order."""
    rt = inspected_type(request, lambda t: t.allow_inspect)
    mesh, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    await find_mesh(call, mesh, "Could not list Dataplanes")
    found = await call.store.resources.get(call.scope, rt.name, mesh, name)
    items: list[dict[str, Any]] = []
    if found is not None and rt.policy.is_target_ref:
        items = await _target_ref_entries(call, Decoded.of(found))
    elif found is not None:
        items = await _old_policy_entries(call, Decoded.of(found))
    return json_response({"total": len(items), "items": items})


async def _target_ref_entries(call: KumaCall, policy: Decoded) -> list[dict[str, Any]]:
    resources = await mesh_resources(call, policy.mesh, ("MeshGateway", "MeshHTTPRoute"))
    referenced = Referenced.of(resources)
    return [
        _sidecar_entry(proxy)
        for proxy in await proxies(call, policy.mesh)
        # Kuma lists only the route destinations of gateways
        if not proxy.is_builtin_gateway
        and matching.match(policy.resource.type, [policy], proxy, referenced).policies
    ]


def _sidecar_entry(proxy: Proxy) -> dict[str, Any]:
    return {
        "kind": legacy.SIDECAR,
        "dataplane": {"mesh": proxy.mesh, "name": proxy.name},
        "attachments": [{"type": "dataplane"}],
    }


async def _old_policy_entries(call: KumaCall, policy: Decoded) -> list[dict[str, Any]]:
    legacy_mesh = await _legacy_mesh(call, policy.mesh)
    key = legacy.policy_key(policy)
    entries = []
    for proxy in await proxies(call, policy.mesh):
        if proxy.is_builtin_gateway:
            entries += legacy.gateway_entries(legacy_mesh.gateway_view(proxy), key)
        else:
            entries += legacy.sidecar_entries(proxy, legacy_mesh.sidecar_attachments(proxy), key)
    return entries


async def gateway_dataplanes(request: Request) -> Response:
    """`kumactl inspect meshgateway NAME`: the builtin gateway dataplanes it serves."""

    async def serves(call: KumaCall, gateway: Resource) -> Callable[[Proxy], bool]:
        return lambda proxy: matching.select_gateway([Decoded.of(gateway)], proxy) is not None

    return await _builtin_gateways_of(request, "MeshGateway", serves)


async def gateway_route_dataplanes(request: Request) -> Response:
    """`kumactl inspect meshgatewayroute NAME`: the builtin gateway dataplanes whose route
    tables have an entry of the route."""

    async def routes(call: KumaCall, route: Resource) -> Callable[[Proxy], bool]:
        legacy_mesh = await _legacy_mesh(call, route.mesh)
        return lambda proxy: legacy.route_attached(legacy_mesh.gateway_view(proxy), route.name)

    return await _builtin_gateways_of(request, "MeshGatewayRoute", routes)


async def _builtin_gateways_of(
    request: Request,
    type_name: str,
    predicate: Callable[[KumaCall, Resource], Awaitable[Callable[[Proxy], bool]]],
) -> Response:
    """The builtin gateway dataplanes of the mesh that `predicate` says the resource
    named in the URL applies to."""
    mesh, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    await find_mesh(call, mesh, "Could not build mesh context")
    found = await call.store.resources.get(call.scope, type_name, mesh, name)
    if found is None:
        raise not_found(f"Could not find {type_name}")
    applies = await predicate(call, found)
    items = [
        {"dataplane": {"mesh": proxy.mesh, "name": proxy.name}}
        for proxy in await proxies(call, mesh)
        if proxy.is_builtin_gateway and applies(proxy)
    ]
    return json_response({"total": len(items), "items": items})


async def legacy_dataplane_rules(request: Request) -> Response:
    """`/dataplanes/{name}/rules`: the rules of the dataplane's targetRef policies in their
    old format, per inbound, per outbound and for the whole proxy."""
    mesh, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    await find_mesh(call, mesh, "Could not build MeshContext")
    proxy = await find_dataplane(call, mesh, name, "Could not get MatchedPolicies")
    resources = await mesh_resources(call, mesh, legacy_rules.RESOURCE_TYPES)
    items = legacy_rules.rule_attachments(proxy, resources)
    return json_response({"total": len(items), "items": items})

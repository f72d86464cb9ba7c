"""Inspection of one proxy built on Kuma's policy rules: `_rules` of a dataplane or a
MeshGateway, and the per inbound, outbound and route confs under
`/meshes/{mesh}/dataplanes/{name}/...` (`pkg/api-server/resource_endpoints.go`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meshmanager.api.kuma.context import KumaCall, kuma_call
from meshmanager.api.kuma.errors import KumaError, not_found
from meshmanager.api.kuma.lookups import find_dataplane, find_mesh, mesh_resources
from meshmanager.api.kuma.resources import json_response
from meshmanager.model.identity import Action
from meshmanager.model.resources import layout, proxy_confs
from meshmanager.model.resources.matching import POLICY_TYPES, Decoded, Proxy, Resources
from meshmanager.model.resources.naming import Kri, KriError, parse_kri
from meshmanager.model.resources.rules import DESTINATION_TYPES
from meshmanager.model.resources.rules_inspection import gateway_proxy, rules_document
from meshmanager.model.resources.stored import Resource

# What rules are built from: the policies, what their targetRefs may name.
RULE_INPUTS = (
    *POLICY_TYPES,
    "MeshGateway",
    *DESTINATION_TYPES,
)


def is_exclusive(mesh: Resource) -> bool:
    return ((mesh.spec or {}).get("meshServices") or {}).get("mode") == "Exclusive"


async def rule_inputs(call: KumaCall, mesh: Resource) -> Resources:
    found = await mesh_resources(call, mesh.name, RULE_INPUTS)
    return {**found, "Mesh": [mesh]}


async def _subject(call: KumaCall, type_: str, mesh: str, name: str) -> Resource:
    found = await call.store.resources.get(call.scope, type_, mesh, name)
    if found is None:
        raise not_found(f"Could not retrieve {type_}")
    return found


def _proxy_of(subject: Resource) -> Proxy:
    if subject.type == "Dataplane":
        return Proxy.of(subject)
    proxy = gateway_proxy(subject)
    if proxy is None:
        raise KumaError(500, "Invalid MeshGateway", "Internal Server Error")  # no selectors
    return proxy


def rules_of(type_: str) -> Any:
    async def endpoint(request: Request) -> Response:
        mesh_name, name = request.path_params["mesh"], request.path_params["name"]
        call = await kuma_call(request, Action.READ)
        mesh = await find_mesh(call, mesh_name, "Failed to retrieve Mesh")
        subject = await _subject(call, type_, mesh_name, name)
        proxy = _proxy_of(subject)
        resources = await rule_inputs(call, mesh)
        return json_response(rules_document(subject, proxy, resources, is_exclusive(mesh)))

    return endpoint


# --- confs per inbound, outbound and route (MeshServices mode Exclusive only) ---------


@dataclass(frozen=True)
class _Inspected:
    mesh: Decoded
    proxy: Proxy
    resources: Resources


async def _inspected(request: Request) -> _Inspected:
    """Kuma's getPoliciesConf: the mesh, the dataplane, and the mesh's resources, refused
    unless the mesh's MeshServices mode is Exclusive."""
    mesh_name, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    mesh = await find_mesh(call, mesh_name, "Failed to retrieve Mesh")
    proxy = await find_dataplane(call, mesh_name, name, "Could not retrieve Dataplane")
    if not is_exclusive(mesh):
        raise KumaError(
            400,
            "Bad Request",
            "bad request: can't use _policies endpoint without meshService enabled",
        )
    return _Inspected(Decoded.of(mesh), proxy, await rule_inputs(call, mesh))


def _kri(request: Request, param: str) -> Kri:
    try:
        return parse_kri(request.path_params[param])
    except KriError as error:
        raise KumaError(400, "Bad Request", f"bad request: {error}") from None


async def inbound_policies(request: Request) -> Response:
    inspected = await _inspected(request)
    section = _kri(request, "inbound_kri").section
    listener = proxy_confs.inbound_listener(inspected.proxy, section)
    if listener is None:
        raise KumaError(500, "Failed building response", "Internal Server Error")  # no inbound
    all_rules = proxy_confs.type_rules(inspected.proxy, inspected.resources, POLICY_TYPES)
    return json_response({"policies": proxy_confs.inbound_policies(all_rules, listener)})


async def outbound_policies(request: Request) -> Response:
    inspected = await _inspected(request)
    outbound = _kri(request, "outbound_kri")
    ids = [outbound, proxy_confs.without_section(outbound)]
    return json_response({"policies": _confs(inspected, ids, POLICY_TYPES)})


async def route_policies(request: Request) -> Response:
    inspected = await _inspected(request)
    outbound, route = _kri(request, "outbound_kri"), _kri(request, "route_kri")
    ids = [route, outbound, proxy_confs.without_section(outbound)]
    types = [t for t in POLICY_TYPES if t not in proxy_confs.ROUTE_TYPES]
    return json_response({"policies": _confs(inspected, ids, types)})


def _confs(inspected: _Inspected, ids: list[Kri], types: Sequence[str]) -> list[dict[str, Any]]:
    confs = []
    for each in proxy_confs.type_rules(inspected.proxy, inspected.resources, types):
        rule = proxy_confs.context_rule(each.to_rules.resource_rules, inspected.mesh, ids)
        if rule is not None:
            confs.append(proxy_confs.policy_conf(each.type, rule))
    return confs


async def outbound_routes(request: Request) -> Response:
    inspected = await _inspected(request)
    outbound = _kri(request, "outbound_kri")
    found = []
    for each in proxy_confs.type_rules(
        inspected.proxy, inspected.resources, proxy_confs.ROUTE_TYPES
    ):
        rule = proxy_confs.computed_rule(each.to_rules.resource_rules, outbound, inspected.mesh)
        if rule is not None:
            found.append(proxy_confs.route_conf(each.type, rule))
    return json_response({"routes": found})


async def dataplane_layout(request: Request) -> Response:
    """Kuma checks the MeshServices mode before it looks for the dataplane."""
    mesh_name, name = request.path_params["mesh"], request.path_params["name"]
    call = await kuma_call(request, Action.READ)
    mesh = await find_mesh(call, mesh_name, "Failed to build MeshContext")
    if not is_exclusive(mesh):
        raise KumaError(
            400,
            "Bad Request",
            "bad request: can't use _layout endpoint without meshService enabled",
        )
    proxy = await find_dataplane(call, mesh_name, name, "Failed to retrieve Dataplane")
    found = await mesh_resources(call, mesh_name, (*DESTINATION_TYPES, "MeshIdentity"))
    destinations = [Decoded.of(r) for t in DESTINATION_TYPES for r in found[t]]
    identities = [Decoded.of(r) for r in found["MeshIdentity"]]
    return json_response(layout.layout(proxy, destinations, identities))


def routes() -> list[Route]:
    dataplane = "/meshes/{mesh}/dataplanes/{name}"
    outbound = f"{dataplane}/_outbounds/{{outbound_kri}}"
    return [
        Route(f"{dataplane}/_rules", rules_of("Dataplane")),
        Route(f"{dataplane}/_layout", dataplane_layout),
        Route("/meshes/{mesh}/meshgateways/{name}/_rules", rules_of("MeshGateway")),
        Route(f"{dataplane}/_inbounds/{{inbound_kri}}/_policies", inbound_policies),
        Route(f"{outbound}/_policies", outbound_policies),
        Route(f"{outbound}/_routes", outbound_routes),
        Route(f"{outbound}/_routes/{{route_kri}}/_policies", route_policies),
    ]

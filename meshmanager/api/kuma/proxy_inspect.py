"""Inspection of one proxy built on Kuma's policy rules: `_rules` of a dataplane or a
MeshGateway, and the per inbound, outbound and route confs under
`/meshes/{mesh}/dataplanes/{name}/...` (`pkg/api-server/resource_endpoints.go`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from meshmanager.api.kuma.context import KumaCall, kuma_call
from meshmanager.api.kuma.errors import KumaError, not_found
from meshmanager.api.kuma.inspect import find_mesh, mesh_resources
from meshmanager.api.kuma.resources import json_response
from meshmanager.model.identity import Action
from meshmanager.model.resources import matching
from meshmanager.model.resources.matching import Proxy, Resources
from meshmanager.model.resources.rules_inspection import gateway_proxy, rules_document
from meshmanager.model.resources.stored import Resource

# What rules are built from: the policies, what their targetRefs may name.
RULE_INPUTS = (
    *matching.POLICY_TYPES,
    "MeshGateway",
    "MeshService",
    "MeshExternalService",
    "MeshMultiZoneService",
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
        raise KumaError(
            500, "Invalid MeshGateway", "no selectors on MeshGateway this is not supported"
        )
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


def routes() -> list[Route]:
    return [
        Route("/meshes/{mesh}/dataplanes/{name}/_rules", rules_of("Dataplane")),
        Route("/meshes/{mesh}/meshgateways/{name}/_rules", rules_of("MeshGateway")),
    ]

"""Lookups the inspection endpoints share: the mesh, a dataplane, a mesh's resources of
some types, the policy types matched against a proxy."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.requests import Request

from meshmanager.api.kuma.context import KumaCall
from meshmanager.api.kuma.errors import KumaError, not_found
from meshmanager.model.resources import matching
from meshmanager.model.resources.matching import Decoded, Proxy, Referenced
from meshmanager.model.resources.registry import ResourceType, by_path
from meshmanager.model.resources.stored import Resource
from meshmanager.store.resources import ResourceQuery


async def mesh_resources(
    call: KumaCall, mesh: str, types: Sequence[str]
) -> dict[str, list[Resource]]:
    found = {}
    for type_ in types:
        found[type_], _ = await call.store.resources.find(call.scope, ResourceQuery(type_, mesh))
    return found


async def proxies(call: KumaCall, mesh: str, name_contains: str | None = None) -> list[Proxy]:
    query = ResourceQuery("Dataplane", mesh, name_contains=name_contains or None)
    dataplanes, _ = await call.store.resources.find(call.scope, query)
    return [Proxy.of(dataplane) for dataplane in dataplanes]


async def find_mesh(call: KumaCall, mesh: str, title: str) -> Resource:
    found = await call.store.resources.get(call.scope, "Mesh", "", mesh)
    if found is None:
        raise not_found(title)
    return found


async def find_dataplane(call: KumaCall, mesh: str, name: str, title: str) -> Proxy:
    found = await call.store.resources.get(call.scope, "Dataplane", mesh, name)
    if found is None:
        raise not_found(title)
    return Proxy.of(found)


def inspected_type(request: Request, allowed: Callable[[ResourceType], bool]) -> ResourceType:
    rt = by_path(request.path_params["ws"])
    if rt is None or not allowed(rt):
        raise KumaError(404, "Not Found", f"no such endpoint: {request.url.path}")
    return rt


async def all_matched(call: KumaCall, mesh: str, proxy: Proxy) -> list[matching.MatchedPolicies]:
    """Every targetRef policy type matched against the proxy, in Kuma's plugin order."""
    resources = await mesh_resources(call, mesh, (*matching.POLICY_TYPES, "MeshGateway"))
    referenced = Referenced.of(resources)
    return [
        matching.match(policy_type, map(Decoded.of, resources[policy_type]), proxy, referenced)
        for policy_type in matching.POLICY_TYPES
    ]

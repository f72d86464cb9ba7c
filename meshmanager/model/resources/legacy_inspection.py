"""The documents of Kuma v2.14.3's legacy inspection (`kumactl inspect`,
`pkg/api-server/inspect_endpoints.go`): the policies of a dataplane by attachment, the
dataplanes a policy attaches to, and the builtin gateway listeners a policy or
MeshGatewayRoute reaches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.legacy_gateway import (
    GatewayListener,
    RouteDestination,
    RouteEntry,
    gateway_listeners,
)
from meshmanager.model.resources.legacy_matching import (
    LEGACY_POLICY_TYPES,
    PASS_THROUGH,
    Attached,
    Attachment,
    Policies,
    best_dataplane_policy,
    legacy_outbounds,
    sidecar_attachments,
    traffic_logs,
)
from meshmanager.model.resources.matching import (
    Decoded,
    Proxy,
    Resources,
    gateways_of_zone,
    select_gateway,
)

SIDECAR = "SidecarDataplane"
GATEWAY = "MeshGatewayDataplane"
Render = Callable[[Decoded], dict[str, Any]]  # a policy's REST meta
PolicyKey = tuple[str, str, str]  # type, mesh, name
Document = dict[str, Any]
RESOURCE_TYPES = (*LEGACY_POLICY_TYPES, "MeshGateway", "MeshGatewayRoute")


def policy_key(policy: Decoded) -> PolicyKey:
    return (policy.resource.type, policy.mesh, policy.name)


def _key(resource: Decoded | None) -> dict[str, str]:
    return {"mesh": resource.mesh, "name": resource.name} if resource else {"mesh": "", "name": ""}


def _attachment(where: Attachment) -> dict[str, str]:
    entry = {"type": where.type, "name": where.name, "service": where.service}
    return {key: value for key, value in entry.items() if value}


# --- sidecars -------------------------------------------------------------------------


def sidecar_document(attached: Attached, render: Render) -> Document:
    """`/dataplanes/{name}/policies` of a sidecar: the policies of each attachment."""
    by_attachment: dict[Attachment, dict[str, list[dict[str, Any]]]] = {}
    for where, policy in attached:
        by_type = by_attachment.setdefault(where, {})
        by_type.setdefault(policy.resource.type, []).append(render(policy))
    items = [
        _attachment(where) | {"matchedPolicies": dict(sorted(by_type.items()))}
        for where, by_type in sorted(by_attachment.items(), key=lambda item: item[0].sort_key)
    ]
    return {"kind": SIDECAR, "total": len(items), "items": items}


def sidecar_entries(proxy: Proxy, attached: Attached, key: PolicyKey) -> list[Document]:
    """The entry of the policy `key` for one sidecar, if it attaches anywhere."""
    places = sorted(
        (where for where, policy in attached if policy_key(policy) == key),
        key=lambda where: where.sort_key,
    )
    if not places:
        return []
    attachments = [_attachment(where) for where in places]
    return [{"kind": SIDECAR, "dataplane": _key(proxy), "attachments": attachments}]


# --- builtin gateways -----------------------------------------------------------------


@dataclass(frozen=True)
class GatewayView:
    """A builtin gateway dataplane as its legacy inspection sees it."""

    proxy: Proxy
    listeners: Sequence[GatewayListener]
    gateway: Decoded | None  # the MeshGateway it serves, when it has listeners
    whole: Sequence[Decoded]  # the TrafficLog and TrafficTrace of the whole gateway


@dataclass(frozen=True)
class LegacyMesh:
    """What the legacy inspection reads of a mesh: its old-style policies by type, its
    MeshGateways and MeshGatewayRoutes."""

    policies: Policies
    gateways: Sequence[Decoded]
    gateway_routes: Sequence[Decoded]

    @classmethod
    def of(cls, resources: Resources) -> LegacyMesh:
        """`resources`: the mesh's resources of (at least) RESOURCE_TYPES, by type."""
        policies = {t: [Decoded.of(r) for r in resources.get(t, ())] for t in LEGACY_POLICY_TYPES}
        gateways = [Decoded.of(r) for r in resources.get("MeshGateway", ())]
        routes = [Decoded.of(r) for r in resources.get("MeshGatewayRoute", ())]
        return cls(policies, gateways, routes)

    def sidecar_attachments(self, proxy: Proxy) -> Attached:
        return sidecar_attachments(proxy, self.policies)

    def gateway_view(self, proxy: Proxy) -> GatewayView:
        gateway = select_gateway(gateways_of_zone(self.gateways, proxy), proxy)
        listeners = []
        if gateway is not None:
            listeners = gateway_listeners(proxy, gateway, self.gateway_routes, self.policies)
        log = traffic_logs(proxy, legacy_outbounds(proxy), self.policies).get(PASS_THROUGH)
        trace = best_dataplane_policy(self.policies.get("TrafficTrace", ()), proxy.matches)
        whole = [policy for policy in (log, trace) if policy is not None]
        return GatewayView(proxy, listeners, gateway if listeners else None, whole)


def _tags_text(tags: Mapping[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(tags.items()))


def _route_destinations(entries: Iterable[RouteEntry]) -> dict[str, list[RouteDestination]]:
    """Per route, the destinations Kuma shows: of each entry that forwards, its mirror and
    its last forward (earlier forwards of an entry are overwritten)."""
    by_route: dict[str, list[RouteDestination]] = {}
    for entry in entries:
        if entry.forwards:
            mirror = [entry.mirror] if entry.mirror is not None else []
            by_route[entry.route] = [*by_route.get(entry.route, []), *mirror, entry.forwards[-1]]
    return by_route


def _routes_document(entries: Iterable[RouteEntry], render: Render) -> list[Document]:
    return [
        {
            "route": route,
            "destinations": [
                {
                    "tags": dict(destination.tags),
                    "policies": {t: render(p) for t, p in sorted(destination.policies.items())},
                }
                for destination in sorted(destinations, key=lambda d: _tags_text(d.tags))
            ],
        }
        for route, destinations in sorted(_route_destinations(entries).items())
    ]


def _listener_document(listener: GatewayListener, render: Render) -> Document:
    hosts = [
        {"hostName": host.hostname, "routes": _routes_document(host.entries, render)}
        for host in sorted(listener.hosts, key=lambda host: host.hostname)
    ]
    return {"port": listener.port, "protocol": listener.protocol, "hosts": hosts}


def gateway_document(view: GatewayView, render: Render) -> Document:
    """`/dataplanes/{name}/policies` of a builtin gateway: its listeners, the policies of
    each route destination and those of the whole gateway."""
    document: Document = {
        "kind": GATEWAY,
        "gateway": _key(view.gateway),
        "listeners": [_listener_document(listener, render) for listener in view.listeners],
    }
    if view.whole:
        document["policies"] = {policy.resource.type: render(policy) for policy in view.whole}
    return document


def _reached(entry: RouteEntry, key: PolicyKey) -> list[dict[str, str]]:
    destinations = [entry.mirror] if entry.mirror is not None else []
    destinations += entry.forwards
    return [
        dict(destination.tags)
        for destination in destinations
        if any(policy_key(policy) == key for policy in destination.policies.values())
    ]


def _listeners_reached(view: GatewayView, key: PolicyKey) -> list[Document]:
    """The listeners, hosts and routes with a destination that gets the policy `key`."""
    listeners = []
    for listener in view.listeners:
        hosts = []
        for host in listener.hosts:
            routes = [
                {"route": entry.route, "destinations": destinations}
                for entry in host.entries
                if (destinations := _reached(entry, key))
            ]
            if routes:
                hosts.append({"hostName": host.hostname, "routes": routes})
        if hosts:
            listeners.append({"port": listener.port, "protocol": listener.protocol, "hosts": hosts})
    return listeners


def gateway_entries(view: GatewayView, key: PolicyKey) -> list[Document]:
    """The entries of the policy `key` for one builtin gateway dataplane: the listeners it
    reaches through route destinations, and the gateway as a whole."""
    base: Document = {"kind": GATEWAY, "dataplane": _key(view.proxy), "gateway": _key(view.gateway)}
    entries = []
    listeners = _listeners_reached(view, key)
    if listeners:
        entries.append(base | {"listeners": listeners})
    if any(policy_key(policy) == key for policy in view.whole):
        entries.append(base)
    return entries


def route_attached(view: GatewayView, route: str) -> bool:
    """Whether a MeshGatewayRoute named `route` makes some route table entry."""
    return any(
        entry.route == route
        for listener in view.listeners
        for host in listener.hosts
        for entry in host.entries
    )

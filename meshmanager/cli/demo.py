"""`meshmanager run --demo`: a control plane with simulated zones, to look around.

The first start makes a control plane named `demo` in the first organization, with
builtin mTLS on its default mesh and a few policies; every start connects two simulated Kuma zones
over the real KDS port, each with data plane proxies, a zone ingress and, in one, an
egress. Each start rotates the zones' credentials: the simulated zones get the new ones,
and nothing else can hold them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from meshmanager.api.controlplanes import initial_resources
from meshmanager.api.kuma.context import KumaCall
from meshmanager.api.kuma.resources import apply_resource
from meshmanager.api.zones import provision_zone
from meshmanager.kds.simulator import ZoneFleet, ZoneOptions, ZoneSimulator
from meshmanager.model.controlplane import ControlPlane, ControlPlaneFields, complete_features
from meshmanager.model.errors import NotFound
from meshmanager.model.identity import TokenOwner
from meshmanager.model.paging import ControlPlaneQuery
from meshmanager.model.resources.registry import BY_NAME
from meshmanager.model.resources.stored import CpScope
from meshmanager.model.zone_deploy import global_address
from meshmanager.model.zones import KdsEndpoint
from meshmanager.observability import log_fields
from meshmanager.store import Store
from meshmanager.store.zones import ZoneSettings
from meshmanager.tenancy.principal import Principal

log = logging.getLogger("meshmanager.demo")

CONTROL_PLANE = "demo"


@dataclass(frozen=True)
class DemoZone:
    settings: ZoneSettings
    dataplanes: int
    offline_every: int


ZONES = (
    DemoZone(ZoneSettings("demo-east", "kubernetes", ingress=True, egress=True), 40, 9),
    DemoZone(ZoneSettings("demo-west", "universal", ingress=True, egress=False), 24, 7),
)

MESH: dict[str, Any] = {
    "type": "Mesh",
    "name": "default",
    "mtls": {"enabledBackend": "ca-1", "backends": [{"name": "ca-1", "type": "builtin"}]},
    "metrics": {
        "enabledBackend": "prometheus-1",
        "backends": [{"name": "prometheus-1", "type": "prometheus"}],
    },
}


def _policy(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "mesh": "default", "name": name, "spec": spec}


def _to_mesh(default: dict[str, Any]) -> dict[str, Any]:
    return {
        "targetRef": {"kind": "Mesh"},
        "to": [{"targetRef": {"kind": "Mesh"}, "default": default}],
    }


POLICIES = (
    _policy(
        "MeshTrafficPermission",
        "allow-all",
        {
            "targetRef": {"kind": "Mesh"},
            "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
        },
    ),
    _policy(
        "MeshTimeout",
        "backend-timeouts",
        _to_mesh({"connectionTimeout": "3s", "http": {"requestTimeout": "10s"}}),
    ),
    _policy("MeshRetry", "retry-on-5xx", _to_mesh({"http": {"numRetries": 3, "retryOn": ["5xx"]}})),
)


async def start_demo(store: Store, endpoint: KdsEndpoint) -> ZoneFleet:
    """The demo control plane's zones, connecting. Stop them with `ZoneFleet.stop`."""
    admin = await store.identity.bootstrap_admin()
    if admin is None:
        raise LookupError("the store has no organization yet")
    principal = Principal(
        org_id=admin[0],
        kind=TokenOwner.USER,
        id=admin[1],
        name="meshmanager demo",
        org_admin=True,
        platform_operator=True,
        grants=(),
    )
    control_plane, created = await _control_plane(store, principal)
    scope = CpScope(principal.org_id, control_plane.id)
    if created:
        call = KumaCall(store, principal, control_plane, scope)
        for body in (MESH, *POLICIES):
            await apply_resource(
                call, BY_NAME[body["type"]], body.get("mesh", ""), body["name"], body
            )
    zones = [await _connect(store, scope, zone, endpoint) for zone in ZONES]
    fleet = ZoneFleet(zones)
    fleet.start()
    log.info(
        "demo control plane ready",
        extra=log_fields(control_plane=str(control_plane.id), zones=[z.zone for z in zones]),
    )
    return fleet


async def _control_plane(store: Store, principal: Principal) -> tuple[ControlPlane, bool]:
    """The demo control plane, and whether this start created it."""
    query = ControlPlaneQuery(name_eq=CONTROL_PLANE)
    found, _ = await store.control_planes.query(principal.org_id, query)
    if found:
        return found[0], False
    fields = ControlPlaneFields(
        name=CONTROL_PLANE,
        description="Simulated zones started by `meshmanager run --demo`",
        labels={"meshmanager.io/demo": "true"},
        features=complete_features(None),
    )
    created = await store.control_planes.create_owned(
        principal.org_id, fields, initial=initial_resources(fields)
    )
    return created.item, True


async def _connect(
    store: Store, scope: CpScope, zone: DemoZone, endpoint: KdsEndpoint
) -> ZoneSimulator:
    name = zone.settings.name
    try:
        _, credential = await store.zones.rotate(scope.org_id, scope.cp_id, name)
    except NotFound:
        _, credential = await provision_zone(store, scope, zone.settings)
    ca = endpoint.ca_pem.encode() if endpoint.ca_pem else None
    options = ZoneOptions(ca_pem=ca, environment=zone.settings.environment)
    simulator = ZoneSimulator(global_address(endpoint, name, credential), name, options=options)
    simulator.add_dataplanes(zone.dataplanes, offline_every=zone.offline_every)
    simulator.add_zone_proxies(int(zone.settings.ingress), int(zone.settings.egress))
    return simulator

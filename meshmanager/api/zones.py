"""`/mesh/control-planes/{cpId}/zones`: onboarding zones. Creating a zone (or rotating
its credential) answers, once, the zone's KDS credential and ready-to-run deploy
material; the credential is stored only as a hash."""

from __future__ import annotations

import contextlib
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import RowMapping

from meshmanager.api.deps import PageDep, PrincipalDep, StoreDep
from meshmanager.api.problems import problem_responses
from meshmanager.model import zone_deploy
from meshmanager.model.common import ListMeta, Page, PageMeta
from meshmanager.model.errors import Conflict
from meshmanager.model.identity import Action
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.model.zones import KdsEndpoint, Zone, ZoneCreate, ZoneWithCredential
from meshmanager.store import Store
from meshmanager.store.resources import Create, Delete
from meshmanager.store.types import utcnow
from meshmanager.store.zones import ZoneSettings, is_online
from meshmanager.tenancy.principal import Principal
from meshmanager.tenancy.signing_keys import SigningKeys

router = APIRouter(prefix="/v1/mesh/control-planes/{cpId}/zones", tags=["Zones"])


def kds_endpoint(request: Request) -> KdsEndpoint:
    endpoint: KdsEndpoint = getattr(request.app.state, "kds_endpoint", KdsEndpoint())
    return endpoint


EndpointDep = Annotated[KdsEndpoint, Depends(kds_endpoint)]


async def _control_plane(
    store: Store, principal: Principal, cp_id: UUID, *actions: Action
) -> CpScope:
    await store.control_planes.get(principal.org_id, cp_id)  # 404 for another org's
    if not any(principal.can(action, cp_id) for action in actions):
        principal.require(actions[0], cp_id)
    return CpScope(principal.org_id, cp_id)


async def _zone(
    store: Store, scope: CpScope, row: RowMapping, credential: RowMapping | None
) -> Zone:
    insight = await store.resources.get(scope, "ZoneInsight", "", row["name"])
    return Zone(
        id=row["id"],
        name=row["name"],
        environment=row["environment"],
        ingress=row["ingress_enabled"],
        egress=row["egress_enabled"],
        online=is_online(row, utcnow()),
        connected_at=row["connected_at"],
        disconnected_at=row["disconnected_at"],
        last_seen_at=row["last_seen_at"],
        kuma_version=kuma_version(insight),
        credential_prefix=None if credential is None else credential["prefix"],
        credential_created_at=None if credential is None else credential["created_at"],
        created_at=row["created_at"],
    )


def kuma_version(insight: Resource | None) -> str | None:
    subscriptions = ((insight.spec or {}) if insight else {}).get("subscriptions") or []
    if not subscriptions:
        return None
    version = ((subscriptions[-1].get("version") or {}).get("kumaCp") or {}).get("version")
    return version if isinstance(version, str) else None


async def _with_credential(
    store: Store, scope: CpScope, row: RowMapping, secret: str, endpoint: KdsEndpoint
) -> ZoneWithCredential:
    credential = (await store.zones.current_credentials([row["id"]])).get(row["id"])
    deploy = zone_deploy.material_for(row, endpoint, secret)
    return ZoneWithCredential(
        zone=await _zone(store, scope, row, credential), credential=secret, deploy=deploy
    )


@router.post(
    "",
    operation_id="create-zone",
    summary="Create a zone and its credential",
    status_code=status.HTTP_201_CREATED,
    response_model=ZoneWithCredential,
    responses=problem_responses(400, 401, 403, 404, 409),
)
async def create_zone(
    cpId: UUID,
    body: ZoneCreate,
    response: Response,
    store: StoreDep,
    principal: PrincipalDep,
    endpoint: EndpointDep,
) -> ZoneWithCredential:
    scope = await _control_plane(store, principal, cpId, Action.CONNECT, Action.UPDATE)
    settings = ZoneSettings(body.name, body.environment, body.ingress, body.egress)
    row, secret = await provision_zone(store, scope, settings)
    response.headers["Location"] = f"/v1/mesh/control-planes/{cpId}/zones/{body.name}"
    return await _with_credential(store, scope, row, secret, endpoint)


@router.get(
    "",
    operation_id="list-zones",
    summary="List the zones of a control plane",
    response_model=Page[Zone],
    responses=problem_responses(400, 401, 403, 404),
)
async def list_zones(
    cpId: UUID, store: StoreDep, principal: PrincipalDep, page: PageDep
) -> Page[Zone]:
    scope = await _control_plane(store, principal, cpId, Action.READ, Action.CONNECT)
    rows, total = await store.zones.page(scope.org_id, cpId, page.offset, page.size)
    credentials = await store.zones.current_credentials([row["id"] for row in rows])
    items = [await _zone(store, scope, row, credentials.get(row["id"])) for row in rows]
    meta = ListMeta(page=PageMeta(number=page.number, size=page.size, total=total))
    return Page[Zone](meta=meta, data=items)


@router.get(
    "/{name}",
    operation_id="get-zone",
    summary="Get a zone",
    response_model=Zone,
    responses=problem_responses(400, 401, 403, 404),
)
async def get_zone(cpId: UUID, name: str, store: StoreDep, principal: PrincipalDep) -> Zone:
    scope = await _control_plane(store, principal, cpId, Action.READ, Action.CONNECT)
    row = await store.zones.get(scope.org_id, cpId, name)
    credential = (await store.zones.current_credentials([row["id"]])).get(row["id"])
    return await _zone(store, scope, row, credential)


@router.post(
    "/{name}/rotate-credential",
    operation_id="rotate-zone-credential",
    summary="Replace the zone's credential",
    description="The earlier credential stops working at once and its connections end.",
    response_model=ZoneWithCredential,
    responses=problem_responses(400, 401, 403, 404),
)
async def rotate_credential(
    cpId: UUID, name: str, store: StoreDep, principal: PrincipalDep, endpoint: EndpointDep
) -> ZoneWithCredential:
    scope = await _control_plane(store, principal, cpId, Action.CONNECT, Action.UPDATE)
    row, secret = await store.zones.rotate(scope.org_id, cpId, name)
    return await _with_credential(store, scope, row, secret, endpoint)


@router.delete(
    "/{name}",
    operation_id="delete-zone",
    summary="Delete a zone",
    description="Refused while the zone is online, unless `force=true`, which drops its"
    " connection.",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 401, 403, 404, 409),
)
async def delete_zone(
    cpId: UUID,
    name: str,
    store: StoreDep,
    principal: PrincipalDep,
    force: Annotated[bool, Query(description="Delete even while the zone is online.")] = False,
) -> Response:
    scope = await _control_plane(store, principal, cpId, Action.DELETE)
    row = await store.zones.get(scope.org_id, cpId, name)
    zone = await _zone(store, scope, row, None)
    if zone.online and not force:
        raise Conflict(
            f"zone {name!r} is online: stop its control plane first, or delete with"
            " force=true to drop its connection"
        )
    await drop_zone(store, scope, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def provision_zone(
    store: Store, scope: CpScope, settings: ZoneSettings
) -> tuple[RowMapping, str]:
    """The zone's row and first credential, its Zone resource, and the control plane's
    zone-token signing key if this is its first zone (shared with the console's wizard)."""
    row, secret = await store.zones.create(scope.org_id, scope.cp_id, settings)
    existing = await store.resources.get(scope, "Zone", "", settings.name)
    if existing is None:
        zone = Resource("Zone", "", settings.name, {"enabled": True})
        with contextlib.suppress(Conflict):  # made meanwhile through the Kuma API: it stays
            await store.resources.write(scope, [Create(zone)])
    await SigningKeys(store).ensure_zone_token_key(scope)
    return row, secret


async def drop_zone(store: Store, scope: CpScope, name: str) -> None:
    """The zone's row and credentials, and the resources that go with it."""
    await store.zones.delete(scope.org_id, scope.cp_id, name)
    await store.resources.write(
        scope, [Delete(r) for r in await _zone_resources(store, scope, name)]
    )


async def _zone_resources(store: Store, scope: CpScope, zone: str) -> list[Resource]:
    """What Kuma's owner references remove with a zone: its Zone, its insight, and all
    it synced up."""
    cp = await store.resources.loaded(scope)
    owned = [r for r in cp.all_of_zone(zone) if r.labels.get("kuma.io/origin") == "zone"]
    own = [cp.get(("Zone", "", zone)), cp.get(("ZoneInsight", "", zone))]
    return [*owned, *(r for r in own if r is not None)]

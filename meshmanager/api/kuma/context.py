"""Who calls which control plane: authentication and authorization for the Kuma API."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID
from weakref import WeakKeyDictionary

from starlette.requests import Request

from meshmanager.api.kuma.errors import KumaError
from meshmanager.model.controlplane import ControlPlane
from meshmanager.model.errors import Forbidden, NotFound, Unauthenticated
from meshmanager.model.identity import Action, TokenOwner
from meshmanager.model.resources.stored import CpScope
from meshmanager.store import Store
from meshmanager.store.resources import ResourceQuery
from meshmanager.tenancy.access_roles import AUTHENTICATED, Subject, Target, is_allowed
from meshmanager.tenancy.principal import Principal, authenticate

CP_ID_KEY = "meshmanager.cp_id"


@dataclass(frozen=True)
class KumaCall:
    store: Store
    principal: Principal
    control_plane: ControlPlane
    scope: CpScope

    async def require_access(self, access: str, target: Target) -> None:
        """Kong Mesh RBAC of the control plane, on top of the platform role."""
        if self.principal.org_admin:
            return
        roles, _ = await self.store.resources.find(self.scope, ResourceQuery("AccessRole"))
        bindings, _ = await self.store.resources.find(
            self.scope, ResourceQuery("AccessRoleBinding")
        )
        teams: list[str] = []
        if self.principal.kind == TokenOwner.USER:
            teams = await self.store.identity.team_names(self.scope.org_id, self.principal.id)
        subject = Subject(self.principal.name, (AUTHENTICATED, *teams))
        if not is_allowed(roles, bindings, subject, access, target):
            what = f"{access} on {target.type or 'this control plane'}"
            raise KumaError(
                403,
                "Access Denied",
                f'user "{self.principal.name}" is not allowed to {what}: no AccessRole bound'
                " to it grants that",
            )

    def require(self, action: Action) -> None:
        try:
            self.principal.require(action, self.scope.cp_id)
        except Forbidden as error:
            raise KumaError(403, "Access Denied", error.detail) from error


def cp_id_of(request: Request) -> UUID:
    try:
        return UUID(request.scope[CP_ID_KEY])
    except ValueError:
        raise KumaError(404, "Not Found", "no such control plane: the id is not a UUID") from None


async def kuma_call(request: Request, action: Action) -> KumaCall:
    store: Store = request.app.state.store
    cp_id = cp_id_of(request)
    try:
        principal = await authenticate(store, request.headers.get("authorization"))
    except Unauthenticated as error:
        raise KumaError(
            401, "Invalid authentication data", error.detail, headers={"WWW-Authenticate": "Bearer"}
        ) from error
    control_plane = await _control_plane(store, principal.org_id, cp_id)
    call = KumaCall(store, principal, control_plane, CpScope(principal.org_id, cp_id))
    call.require(action)
    return call


# Control planes by (org, id), valid while the store's identity generation is unchanged
# (every control plane write changes it).
_CONTROL_PLANES: WeakKeyDictionary[Store, dict[tuple[UUID, UUID], tuple[int, ControlPlane]]] = (
    WeakKeyDictionary()
)


async def _control_plane(store: Store, org_id: UUID, cp_id: UUID) -> ControlPlane:
    known = _CONTROL_PLANES.setdefault(store, {})
    cached = known.get((org_id, cp_id))
    if cached is not None and cached[0] == store.identity_generation:
        return cached[1]
    generation = store.identity_generation
    try:
        found = await store.control_planes.get(org_id, cp_id)
    except NotFound:
        raise KumaError(404, "Not Found", f"control plane {cp_id} not found") from None
    if len(known) > 10_000:
        known.clear()
    known[(org_id, cp_id)] = (generation, found.item)
    return found.item

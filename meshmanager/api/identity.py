"""`/v3`: organizations, users, teams, system accounts, access tokens and role assignments.

No `from __future__ import annotations` here: the route factories annotate with the
models they are given, and FastAPI reads those annotations at run time.
"""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from meshmanager.api.deps import (
    IfMatchDep,
    PageDep,
    PrincipalDep,
    StoreDep,
    check_version,
    set_etag,
)
from meshmanager.api.problems import problem_responses
from meshmanager.model.common import ListMeta, Page, PageMeta
from meshmanager.model.errors import Forbidden, NotFound
from meshmanager.model.identity import (
    ROLE_ACTIONS,
    ROLE_DESCRIPTIONS,
    AccessToken,
    AccessTokenCreate,
    AccessTokenWithSecret,
    Organization,
    OrganizationCreate,
    OrganizationCreated,
    RoleAssignment,
    RoleAssignmentCreate,
    RoleDefinition,
    SubjectType,
    SystemAccount,
    SystemAccountCreate,
    SystemAccountPatch,
    Team,
    TeamCreate,
    TeamMemberAdd,
    TeamPatch,
    TokenOwner,
    User,
    UserCreate,
    UserPatch,
)
from meshmanager.model.paging import PageRequest
from meshmanager.store.entities import EntityRepository
from meshmanager.store.types import utcnow
from meshmanager.tenancy.principal import Principal
from meshmanager.tenancy.tokens import new_token, token_expiry

router = APIRouter(prefix="/v3")

READ_ERRORS = problem_responses(400, 401, 403, 404)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409)


def page_of(items: list[Any], total: int, page: PageRequest) -> dict[str, Any]:
    meta = ListMeta(page=PageMeta(number=page.number, size=page.size, total=total))
    return {"meta": meta, "data": items}


def _is_self(principal: Principal, kind: TokenOwner, subject_id: UUID) -> bool:
    return principal.kind == kind and principal.id == subject_id


def _require_admin_or_self(principal: Principal, kind: TokenOwner | None, subject_id: UUID) -> None:
    if kind is None or not _is_self(principal, kind, subject_id):
        principal.require_org_admin()


# Organizations and roles


@router.get(
    "/organizations/me",
    tags=["Organizations"],
    operation_id="get-organization-me",
    response_model=Organization,
    responses=problem_responses(401),
)
async def get_my_organization(store: StoreDep, principal: PrincipalDep) -> Organization:
    return await store.identity.get_organization(principal.org_id)


@router.get(
    "/organizations",
    tags=["Organizations"],
    operation_id="list-organizations",
    summary="List organizations: all of them for a platform operator, else one's own",
    response_model=Page[Organization],
    responses=problem_responses(400, 401),
)
async def list_organizations(store: StoreDep, principal: PrincipalDep, page: PageDep) -> Any:
    if principal.platform_operator:
        items, total = await store.identity.list_organizations(page)
    else:
        own = await store.identity.get_organization(principal.org_id)
        items, total = ([own] if page.number == 1 else []), 1
    return page_of(items, total, page)


@router.post(
    "/organizations",
    tags=["Organizations"],
    operation_id="create-organization",
    summary="Create an organization with its first admin user and token (platform operators)",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationCreated,
    responses=problem_responses(400, 401, 403, 409),
)
async def create_organization(
    body: OrganizationCreate, store: StoreDep, principal: PrincipalDep
) -> OrganizationCreated:
    if not principal.platform_operator:
        raise Forbidden("Permission denied: only a platform operator can create organizations")
    secret, token = new_token("initial admin token", TokenOwner.USER, token_expiry(None))
    created = await store.identity.create_organization(body.name, body.admin_email, token)
    assert created is not None
    org, user, stored = created
    return OrganizationCreated(
        organization=org,
        admin_user=user,
        admin_token=AccessTokenWithSecret(**stored.model_dump(), token=secret),
    )


@router.get(
    "/roles",
    tags=["Roles"],
    operation_id="list-roles",
    summary="The roles that can be assigned on Mesh Control Planes",
    response_model=list[RoleDefinition],
    responses=problem_responses(401),
)
async def list_roles(principal: PrincipalDep) -> list[RoleDefinition]:
    return [
        RoleDefinition(name=role, description=ROLE_DESCRIPTIONS[role], actions=sorted(actions))
        for role, actions in ROLE_ACTIONS.items()
    ]


@router.get(
    "/users/me",
    tags=["Users"],
    operation_id="get-user-me",
    response_model=User,
    responses=problem_responses(401, 404),
)
async def get_me(store: StoreDep, principal: PrincipalDep) -> User:
    if principal.kind != TokenOwner.USER:
        raise NotFound("this token belongs to a system account, not a user")
    return (await store.identity.users.get(principal.org_id, principal.id)).item


# Users, teams and system accounts: the same five operations each.


def add_entity_routes(
    path: str,
    tag: str,
    repo_of: Any,
    create_model: type[BaseModel],
    patch_model: type[BaseModel],
    out_model: type[BaseModel],
    self_kind: TokenOwner | None,
) -> None:
    slug = tag.lower().replace(" ", "-")

    @router.get(
        path,
        tags=[tag],
        operation_id=f"list-{slug}",
        response_model=Page[out_model],  # type: ignore[valid-type]
        responses=problem_responses(400, 401, 403),
    )
    async def list_entities(store: StoreDep, principal: PrincipalDep, page: PageDep) -> Any:
        principal.require_org_admin()
        items, total = await repo_of(store).list(principal.org_id, page)
        return page_of(items, total, page)

    @router.post(
        path,
        tags=[tag],
        operation_id=f"create-{slug}",
        status_code=status.HTTP_201_CREATED,
        response_model=out_model,
        responses=problem_responses(400, 401, 403, 409),
    )
    async def create_entity(
        body: create_model,  # type: ignore[valid-type]
        response: Response,
        store: StoreDep,
        principal: PrincipalDep,
    ) -> Any:
        principal.require_org_admin()
        created = await repo_of(store).create(principal.org_id, body.model_dump())  # type: ignore[attr-defined]
        set_etag(response, created.version)
        return created.item

    @router.get(
        path + "/{id}",
        tags=[tag],
        operation_id=f"get-{slug}",
        response_model=out_model,
        responses=READ_ERRORS,
    )
    async def get_entity(
        id: UUID, response: Response, store: StoreDep, principal: PrincipalDep
    ) -> Any:
        found = await repo_of(store).get(principal.org_id, id)
        _require_admin_or_self(principal, self_kind, id)
        set_etag(response, found.version)
        return found.item

    @router.patch(
        path + "/{id}",
        tags=[tag],
        operation_id=f"patch-{slug}",
        response_model=out_model,
        responses=WRITE_ERRORS,
    )
    async def patch_entity(
        id: UUID,
        body: patch_model,  # type: ignore[valid-type]
        response: Response,
        store: StoreDep,
        principal: PrincipalDep,
        expected: IfMatchDep,
    ) -> Any:
        repo: EntityRepository[Any] = repo_of(store)
        current = await repo.get(principal.org_id, id)
        principal.require_org_admin()
        changes = body.model_dump(exclude_unset=True, exclude_none=True)  # type: ignore[attr-defined]
        updated = await repo.update(principal.org_id, id, changes, check_version(current, expected))
        set_etag(response, updated.version)
        return updated.item

    @router.delete(
        path + "/{id}",
        tags=[tag],
        operation_id=f"delete-{slug}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        responses=WRITE_ERRORS,
    )
    async def delete_entity(id: UUID, store: StoreDep, principal: PrincipalDep) -> Response:
        repo: EntityRepository[Any] = repo_of(store)
        await repo.get(principal.org_id, id)
        principal.require_org_admin()
        await repo.delete(principal.org_id, id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)


def add_token_routes(path: str, tag: str, owner: TokenOwner) -> None:
    slug = f"{owner.replace('_', '-')}-access-tokens"

    @router.get(
        path,
        tags=[tag],
        operation_id=f"list-{slug}",
        response_model=Page[AccessToken],
        responses=READ_ERRORS,
    )
    async def list_tokens(id: UUID, store: StoreDep, principal: PrincipalDep, page: PageDep) -> Any:
        _require_admin_or_self(principal, owner, id)
        items, total = await store.identity.list_tokens(principal.org_id, owner, id, page)
        return page_of(items, total, page)

    @router.post(
        path,
        tags=[tag],
        operation_id=f"create-{slug}",
        summary="Create a token; its secret is in this response only",
        status_code=status.HTTP_201_CREATED,
        response_model=AccessTokenWithSecret,
        responses=WRITE_ERRORS,
    )
    async def create_token(
        id: UUID, body: AccessTokenCreate, store: StoreDep, principal: PrincipalDep
    ) -> AccessTokenWithSecret:
        _require_admin_or_self(principal, owner, id)
        secret, token = new_token(body.name, owner, token_expiry(body.expires_at, utcnow()))
        stored = await store.identity.create_token(principal.org_id, owner, id, token)
        return AccessTokenWithSecret(**stored.model_dump(), token=secret)

    @router.get(
        path + "/{tokenId}",
        tags=[tag],
        operation_id=f"get-{slug}",
        response_model=AccessToken,
        responses=READ_ERRORS,
    )
    async def get_token(
        id: UUID, tokenId: UUID, store: StoreDep, principal: PrincipalDep
    ) -> AccessToken:
        _require_admin_or_self(principal, owner, id)
        return await store.identity.get_token(principal.org_id, owner, id, tokenId)

    @router.delete(
        path + "/{tokenId}",
        tags=[tag],
        operation_id=f"revoke-{slug}",
        summary="Revoke a token; it stops working on the next request",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        responses=READ_ERRORS,
    )
    async def revoke_token(
        id: UUID, tokenId: UUID, store: StoreDep, principal: PrincipalDep
    ) -> Response:
        _require_admin_or_self(principal, owner, id)
        await store.identity.revoke_token(principal.org_id, owner, id, tokenId)
        return Response(status_code=status.HTTP_204_NO_CONTENT)


def add_role_routes(path: str, tag: str, subject: SubjectType) -> None:
    slug = f"{subject.replace('_', '-')}-assigned-roles"
    self_kind = None if subject == SubjectType.TEAM else TokenOwner(subject)

    @router.get(
        path,
        tags=[tag],
        operation_id=f"list-{slug}",
        response_model=Page[RoleAssignment],
        responses=READ_ERRORS,
    )
    async def list_assigned(
        id: UUID, store: StoreDep, principal: PrincipalDep, page: PageDep
    ) -> Any:
        _require_admin_or_self(principal, self_kind, id)
        items, total = await store.identity.list_roles(principal.org_id, subject, id, page)
        return page_of(items, total, page)

    @router.post(
        path,
        tags=[tag],
        operation_id=f"assign-{slug}",
        status_code=status.HTTP_201_CREATED,
        response_model=RoleAssignment,
        responses=WRITE_ERRORS,
    )
    async def assign(
        id: UUID, body: RoleAssignmentCreate, store: StoreDep, principal: PrincipalDep
    ) -> RoleAssignment:
        principal.require_org_admin()
        return await store.identity.assign_role(principal.org_id, subject, id, body)

    @router.delete(
        path + "/{roleId}",
        tags=[tag],
        operation_id=f"unassign-{slug}",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        responses=READ_ERRORS,
    )
    async def unassign(
        id: UUID, roleId: UUID, store: StoreDep, principal: PrincipalDep
    ) -> Response:
        principal.require_org_admin()
        await store.identity.unassign_role(principal.org_id, subject, id, roleId)
        return Response(status_code=status.HTTP_204_NO_CONTENT)


add_entity_routes(
    "/users", "Users", lambda s: s.identity.users, UserCreate, UserPatch, User, TokenOwner.USER
)
add_entity_routes("/teams", "Teams", lambda s: s.identity.teams, TeamCreate, TeamPatch, Team, None)
add_entity_routes(
    "/system-accounts",
    "System Accounts",
    lambda s: s.identity.system_accounts,
    SystemAccountCreate,
    SystemAccountPatch,
    SystemAccount,
    TokenOwner.SYSTEM_ACCOUNT,
)
add_token_routes("/users/{id}/access-tokens", "Users", TokenOwner.USER)
add_token_routes(
    "/system-accounts/{id}/access-tokens", "System Accounts", TokenOwner.SYSTEM_ACCOUNT
)
add_role_routes("/users/{id}/assigned-roles", "Users", SubjectType.USER)
add_role_routes("/teams/{id}/assigned-roles", "Teams", SubjectType.TEAM)
add_role_routes(
    "/system-accounts/{id}/assigned-roles", "System Accounts", SubjectType.SYSTEM_ACCOUNT
)


@router.get(
    "/teams/{id}/users",
    tags=["Teams"],
    operation_id="list-team-users",
    response_model=Page[User],
    responses=READ_ERRORS,
)
async def list_team_users(id: UUID, store: StoreDep, principal: PrincipalDep, page: PageDep) -> Any:
    principal.require_org_admin()
    items, total = await store.identity.team_members(principal.org_id, id, page)
    return page_of(items, total, page)


@router.post(
    "/teams/{id}/users",
    tags=["Teams"],
    operation_id="add-team-user",
    status_code=status.HTTP_201_CREATED,
    response_class=Response,
    responses=WRITE_ERRORS,
)
async def add_team_user(
    id: UUID, body: TeamMemberAdd, store: StoreDep, principal: PrincipalDep
) -> Response:
    principal.require_org_admin()
    await store.identity.add_team_member(principal.org_id, id, body.id)
    return Response(status_code=status.HTTP_201_CREATED)


@router.delete(
    "/teams/{id}/users/{userId}",
    tags=["Teams"],
    operation_id="remove-team-user",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=READ_ERRORS,
)
async def remove_team_user(
    id: UUID, userId: UUID, store: StoreDep, principal: PrincipalDep
) -> Response:
    principal.require_org_admin()
    await store.identity.remove_team_member(principal.org_id, id, userId)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

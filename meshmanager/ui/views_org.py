"""Organization settings: users, teams, system accounts, their tokens and roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from starlette.responses import Response

from meshmanager.model.errors import Conflict, DomainError, NotFound
from meshmanager.model.identity import (
    ALL_ENTITIES,
    ROLE_DESCRIPTIONS,
    Role,
    RoleAssignmentCreate,
    SubjectType,
    SystemAccountCreate,
    TeamCreate,
    TokenOwner,
    UserCreate,
)
from meshmanager.model.paging import ControlPlaneQuery, PageRequest
from meshmanager.store.types import utcnow
from meshmanager.tenancy.passwords import set_password
from meshmanager.tenancy.tokens import new_token
from meshmanager.ui.app import Ctx, page
from meshmanager.ui.forms import checked, domain_errors, pydantic_errors

KINDS: dict[str, tuple[SubjectType, str, str]] = {
    "users": (SubjectType.USER, "Users", "user"),
    "teams": (SubjectType.TEAM, "Teams", "team"),
    "system-accounts": (SubjectType.SYSTEM_ACCOUNT, "System accounts", "system account"),
}
TOKEN_LIFETIMES = (("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year"))
ALL_PAGE = PageRequest(number=1, size=100)


def _repository(ctx: Ctx, subject: SubjectType) -> Any:
    identity = ctx.store.identity
    return {
        SubjectType.USER: identity.users,
        SubjectType.TEAM: identity.teams,
        SubjectType.SYSTEM_ACCOUNT: identity.system_accounts,
    }[subject]


def _kind(ctx: Ctx) -> tuple[str, SubjectType, str, str]:
    kind = ctx.param("kind") or "users"
    if kind not in KINDS:
        raise NotFound(f"no such list {kind!r}")
    subject, title, singular = KINDS[kind]
    return kind, subject, title, singular


@page
async def org_list(ctx: Ctx) -> Response:
    ctx.principal.require_org_admin()
    kind, subject, title, singular = _kind(ctx)
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        errors = await _create_subject(ctx, subject)
        if not errors:
            return ctx.redirect(f"/organization/{kind}", flash=f"The {singular} was created.")
    items, total = await _repository(ctx, subject).list(ctx.principal.org_id, ALL_PAGE)
    return ctx.render(
        "org_list.html",
        title=f"{title} · Organization",
        kind=kind,
        kind_title=title,
        singular=singular,
        items=items,
        total=total,
        errors=errors,
        form=ctx.form,
        status=400 if errors else 200,
    )


async def _create_subject(ctx: Ctx, subject: SubjectType) -> dict[str, str]:
    form = ctx.form
    try:
        if subject == SubjectType.USER:
            body: Any = UserCreate(
                email=form.get("email", "").strip(),
                full_name=form.get("full_name", "").strip(),
                org_admin=checked(form, "org_admin"),
            )
        elif subject == SubjectType.TEAM:
            body = TeamCreate(
                name=form.get("name", "").strip(), description=form.get("description", "")
            )
        else:
            body = SystemAccountCreate(
                name=form.get("name", "").strip(),
                description=form.get("description", ""),
                org_admin=checked(form, "org_admin"),
            )
    except ValidationError as error:
        return pydantic_errors(error)
    password = form.get("password", "")
    try:
        created = await _repository(ctx, subject).create(ctx.principal.org_id, body.model_dump())
        if subject == SubjectType.USER and password:
            await set_password(ctx.store, created.item.id, password)
    except Conflict as error:
        field = "email" if subject == SubjectType.USER else "name"
        return {field: error.detail}
    except DomainError as error:
        return domain_errors(error)
    return {}


async def _subject(ctx: Ctx) -> tuple[str, SubjectType, str, Any]:
    kind, subject, _, singular = _kind(ctx)
    try:
        ident = UUID(ctx.param("id"))
    except ValueError:
        raise NotFound(f"{singular} {ctx.param('id')} not found") from None
    is_self = subject == SubjectType(ctx.principal.kind) and ident == ctx.principal.id
    if not is_self:
        ctx.principal.require_org_admin()
    found = await _repository(ctx, subject).get(ctx.principal.org_id, ident)
    return kind, subject, singular, found.item


async def _control_planes(ctx: Ctx) -> list[Any]:
    items, _ = await ctx.store.control_planes.query(
        ctx.principal.org_id, ControlPlaneQuery(page=ALL_PAGE)
    )
    return items


async def subject_page(
    ctx: Ctx, created_token: Any = None, errors: dict[str, str] | None = None
) -> Response:
    kind, subject, singular, item = await _subject(ctx)
    org = ctx.principal.org_id
    roles, _ = await ctx.store.identity.list_roles(org, subject, item.id, ALL_PAGE)
    tokens: list[Any] = []
    if subject != SubjectType.TEAM:
        tokens, _ = await ctx.store.identity.list_tokens(
            org, TokenOwner(subject), item.id, ALL_PAGE
        )
    members: list[Any] = []
    users: list[Any] = []
    if subject == SubjectType.TEAM:
        members, _ = await ctx.store.identity.team_members(org, item.id, ALL_PAGE)
        users, _ = await ctx.store.identity.users.list(org, ALL_PAGE)
    cps = await _control_planes(ctx)
    names = {str(cp.id): cp.name for cp in cps}
    return ctx.render(
        "org_subject.html",
        title=f"{getattr(item, 'email', None) or item.name} · {KINDS[kind][1]}",
        kind=kind,
        singular=singular,
        subject=subject,
        item=item,
        roles=roles,
        cp_names=names,
        control_planes=cps,
        role_choices=[(r.value, ROLE_DESCRIPTIONS[r]) for r in Role],
        tokens=tokens,
        members=members,
        users=[u for u in users if u.id not in {m.id for m in members}],
        lifetimes=TOKEN_LIFETIMES,
        created_token=created_token,
        errors=errors or {},
        now=utcnow(),
        all_entities=ALL_ENTITIES,
        status=400 if errors else 200,
    )


@page
async def subject_detail(ctx: Ctx) -> Response:
    return await subject_page(ctx)


@page
async def subject_action(ctx: Ctx) -> Response:
    """Every write on one user, team or system account, by the form's `action`."""
    kind, subject, singular, item = await _subject(ctx)
    org = ctx.principal.org_id
    action = ctx.form.get("action", "")
    here = f"/organization/{kind}/{item.id}"
    try:
        if action == "create-token":
            if subject == SubjectType.TEAM:
                raise NotFound("teams have no tokens")
            days = int(ctx.form.get("lifetime") or 30)
            name = ctx.form.get("name", "").strip()
            if not name:
                return await subject_page(ctx, errors={"token_name": "Give the token a name."})
            owner = TokenOwner(subject)
            secret, token = new_token(
                name, owner, utcnow() + timedelta(days=min(max(days, 1), 365))
            )
            created = await ctx.store.identity.create_token(org, owner, item.id, token)
            return await subject_page(ctx, created_token={"name": created.name, "secret": secret})
        if action == "revoke-token":
            await ctx.store.identity.revoke_token(
                org, TokenOwner(subject), item.id, UUID(ctx.form.get("token_id", ""))
            )
            return ctx.redirect(here, flash="Token revoked: it no longer works.")
        ctx.principal.require_org_admin()
        if action == "assign-role":
            body = RoleAssignmentCreate(
                role_name=Role(ctx.form.get("role", "")),
                entity_id=ctx.form.get("entity", ALL_ENTITIES) or ALL_ENTITIES,
            )
            await ctx.store.identity.assign_role(org, subject, item.id, body)
            return ctx.redirect(here, flash=f"Role {body.role_name} assigned.")
        if action == "unassign-role":
            await ctx.store.identity.unassign_role(
                org, subject, item.id, UUID(ctx.form.get("assignment_id", ""))
            )
            return ctx.redirect(here, flash="Role removed.")
        if action == "add-member" and subject == SubjectType.TEAM:
            await ctx.store.identity.add_team_member(
                org, item.id, UUID(ctx.form.get("user_id", ""))
            )
            return ctx.redirect(here, flash="Member added.")
        if action == "remove-member" and subject == SubjectType.TEAM:
            await ctx.store.identity.remove_team_member(
                org, item.id, UUID(ctx.form.get("user_id", ""))
            )
            return ctx.redirect(here, flash="Member removed.")
        if action == "set-password" and subject == SubjectType.USER:
            await set_password(ctx.store, item.id, ctx.form.get("password", ""))
            return ctx.redirect(here, flash="Password set.")
        if action == "delete":
            await _repository(ctx, subject).delete(org, item.id)
            return ctx.redirect(f"/organization/{kind}", flash=f"The {singular} was deleted.")
    except (ValueError, ValidationError) as error:
        return await subject_page(ctx, errors={action: f"Not a valid choice: {error}"})
    except DomainError as error:
        detail = domain_errors(error)
        return await subject_page(ctx, errors={action: "; ".join(detail.values())})
    raise NotFound(f"no such action {action!r}")

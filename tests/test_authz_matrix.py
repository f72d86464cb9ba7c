"""Authentication and authorization over every endpoint, and the control-plane roles (spec §1.8).

MATRIX has one row per (method, path) of the app; `test_every_endpoint_has_a_matrix_row`
fails when an endpoint is added without one, so that it cannot escape these checks.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from meshmanager.api.app import create_app
from meshmanager.store import open_store
from meshmanager.tenancy.bootstrap import bootstrap
from tests.conftest import BACKENDS, Api, postgres_admin_url
from tests.helpers import (
    CP,
    Actor,
    assert_problem,
    assign_role,
    cp_names,
    create_cp,
    create_user,
    expect,
    expire_token,
    list_cps,
    mint_token,
    new_org,
    new_system_account,
    new_user,
    no_auth,
    with_header,
)

# The world every matrix test runs in


@dataclass
class Ids:
    """One organization's objects, each with what hangs off it (tokens, roles, members)."""

    admin: str
    cp: str
    user: str
    user_token: str
    user_role: str
    team: str
    team_role: str
    sa: str
    sa_token: str
    sa_role: str
    zone: str


async def build_ids(api: Api, token: str, tag: str) -> Ids:
    admin = expect(await api.call("GET", "/v3/users/me", token), 200)["id"]
    cp = (await create_cp(api, f"cp-{tag}", token))["id"]
    user = (await create_user(api, f"target@{tag}.example", token))["id"]
    user_token = (await mint_token(api, user, token=token))["id"]
    user_role = (await assign_role(api, "users", user, "Viewer", cp, token))["id"]
    team = expect(await api.call("POST", "/v3/teams", token, json={"name": f"team-{tag}"}), 201)
    team_role = (await assign_role(api, "teams", team["id"], "Viewer", cp, token))["id"]
    r = await api.call("POST", f"/v3/teams/{team['id']}/users", token, json={"id": user})
    assert r.status_code == 201, r.text
    sa = expect(
        await api.call("POST", "/v3/system-accounts", token, json={"name": f"sa-{tag}"}), 201
    )
    sa_token = (await mint_token(api, sa["id"], "system-accounts", token))["id"]
    sa_role = (await assign_role(api, "system-accounts", sa["id"], "Connector", cp, token))["id"]
    zone = f"zone-{tag}"
    expect(await api.call("POST", f"{CP}/{cp}/zones", token, json={"name": zone}), 201)
    return Ids(
        admin,
        cp,
        user,
        user_token,
        user_role,
        team["id"],
        team_role,
        sa["id"],
        sa_token,
        sa_role,
        zone,
    )


@dataclass
class World:
    api: Api
    own: Ids  # organization "acme", whose admin is api.admin_token
    other: Ids  # organization "globex"
    other_admin: str  # globex's admin token
    nobody: Actor  # an acme user without any role
    viewer: Actor  # an acme user with Viewer on every control plane ('*')
    expired: str  # a token past its expiry
    revoked: str  # a token that worked until it was revoked


async def build_world(api: Api) -> World:
    _, other_admin = await new_org(api, "globex")
    own = await build_ids(api, api.admin_token, "acme")
    other = await build_ids(api, other_admin, "globex")
    nobody = await new_user(api, "nobody@acme.example")
    viewer = await new_user(api, "viewer@acme.example")
    await assign_role(api, "users", viewer.id, "Viewer", "*")

    expired = await mint_token(api, nobody.id)
    await expire_token(api, expired["id"])
    revoked = await mint_token(api, nobody.id)
    assert (await api.call("GET", "/v3/organizations/me", revoked["token"])).status_code == 200
    r = await api.call("DELETE", f"/v3/users/{nobody.id}/access-tokens/{revoked['id']}")
    assert r.status_code == 204, r.text
    return World(api, own, other, other_admin, nobody, viewer, expired["token"], revoked["token"])


async def _pg(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """One world per backend for the whole matrix: creating a PostgreSQL database per
    matrix cell would take minutes. Matrix tests must not change it: those that write
    (the org admin's) work on objects of their own, made by `fresh_ids`."""
    admin_url = ""
    database = f"mm_matrix_{uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'meshmanager.db'}"
    else:
        admin_url = make_url(postgres_admin_url()).render_as_string(hide_password=False)
        await _pg(admin_url, f'CREATE DATABASE "{database}"')
        url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    store = await open_store(url)
    try:
        booted = await bootstrap(store, "acme", "admin@acme.example", None)
        assert booted is not None
        transport = httpx.ASGITransport(app=create_app(store))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield await build_world(Api(client, store, booted.token))
    finally:
        await store.close()
        if admin_url:
            await _pg(admin_url, f'DROP DATABASE "{database}" WITH (FORCE)')


# The tests that use `world` run in its event loop.
IN_WORLD = pytest.mark.asyncio(loop_scope="module")


async def fresh_ids(world: World) -> Ids:
    return await build_ids(world.api, world.api.admin_token, uuid4().hex[:8])


# The matrix

Body = Callable[[Ids], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    ok: int  # what the organization's admin gets
    body: Body | None = None
    nobody: int = 403  # what a user without any role gets
    viewer: int = 403  # what a Viewer on every control plane ('*') gets


def _role(role: str) -> Body:
    return lambda ids: {"role_name": role, "entity_id": ids.cp}


def _new_org(ids: Ids) -> dict[str, Any]:
    name = f"org-{ids.cp[:8]}"
    return {"name": name, "admin_email": f"admin@{name}.example"}


ADMIN_ONLY_ENTITY_ROWS = {
    ("GET", "/v3/{kind}"): Row(200),
    ("GET", "/v3/{kind}/{id}"): Row(200),
    ("DELETE", "/v3/{kind}/{id}"): Row(204),
    ("GET", "/v3/{kind}/{id}/assigned-roles"): Row(200),
    ("POST", "/v3/{kind}/{id}/assigned-roles"): Row(201, _role("Admin")),
    ("DELETE", "/v3/{kind}/{id}/assigned-roles/{roleId}"): Row(204),
}
TOKEN_ROWS = {
    ("GET", "/v3/{kind}/{id}/access-tokens"): Row(200),
    ("POST", "/v3/{kind}/{id}/access-tokens"): Row(201, lambda ids: {"name": "another"}),
    ("GET", "/v3/{kind}/{id}/access-tokens/{tokenId}"): Row(200),
    ("DELETE", "/v3/{kind}/{id}/access-tokens/{tokenId}"): Row(204),
}
CREATE_BODIES: dict[str, Body] = {
    "users": lambda ids: {"email": f"new-{ids.cp[:8]}@example.com"},
    "teams": lambda ids: {"name": f"new-team-{ids.cp[:8]}"},
    "system-accounts": lambda ids: {"name": f"new-sa-{ids.cp[:8]}"},
}
PATCH_BODIES: dict[str, Body] = {
    "users": lambda ids: {"full_name": "Renamed"},
    "teams": lambda ids: {"description": "patched"},
    "system-accounts": lambda ids: {"description": "patched"},
}


def _v3_rows() -> dict[tuple[str, str], Row]:
    rows: dict[tuple[str, str], Row] = {}
    for kind in ("users", "teams", "system-accounts"):
        for (method, path), row in ADMIN_ONLY_ENTITY_ROWS.items():
            rows[(method, path.format(kind=kind, id="{id}", roleId="{roleId}"))] = row
        rows[("POST", f"/v3/{kind}")] = Row(201, CREATE_BODIES[kind])
        rows[("PATCH", f"/v3/{kind}/{{id}}")] = Row(200, PATCH_BODIES[kind])
    for kind in ("users", "system-accounts"):
        for (method, path), row in TOKEN_ROWS.items():
            rows[(method, path.format(kind=kind, id="{id}", tokenId="{tokenId}"))] = row
    return rows


MATRIX: dict[tuple[str, str], Row] = {
    # Control planes: the Viewer on '*' may read, not write; list filters instead of refusing.
    ("GET", CP): Row(200, nobody=200, viewer=200),
    ("POST", CP): Row(201, lambda ids: {"name": f"new-cp-{ids.cp[:8]}"}),
    ("GET", f"{CP}/{{cpId}}"): Row(200, viewer=200),
    ("PUT", f"{CP}/{{cpId}}"): Row(200, lambda ids: {"name": "renamed"}),
    ("PATCH", f"{CP}/{{cpId}}"): Row(200, lambda ids: {"description": "patched"}),
    ("DELETE", f"{CP}/{{cpId}}"): Row(204),
    # Zones: readers see them; creating credentials needs Admin or Connector (see below).
    ("GET", f"{CP}/{{cpId}}/zones"): Row(200, viewer=200),
    ("GET", f"{CP}/{{cpId}}/zones/{{name}}"): Row(200, viewer=200),
    ("POST", f"{CP}/{{cpId}}/zones"): Row(201, lambda ids: {"name": f"new-{ids.cp[:8]}"}),
    ("POST", f"{CP}/{{cpId}}/zones/{{name}}/rotate-credential"): Row(200),
    ("DELETE", f"{CP}/{{cpId}}/zones/{{name}}"): Row(204),
    # Any authenticated caller: who am I, which organization, which roles exist.
    ("GET", "/v3/organizations/me"): Row(200, nobody=200, viewer=200),
    ("GET", "/v3/organizations"): Row(200, nobody=200, viewer=200),
    ("GET", "/v3/roles"): Row(200, nobody=200, viewer=200),
    ("GET", "/v3/users/me"): Row(200, nobody=200, viewer=200),
    # Platform operators only.
    ("POST", "/v3/organizations"): Row(201, _new_org),
    # Organization admins only.
    **_v3_rows(),
    ("GET", "/v3/teams/{id}/users"): Row(200),
    ("POST", "/v3/teams/{id}/users"): Row(201, lambda ids: {"id": ids.admin}),
    ("DELETE", "/v3/teams/{id}/users/{userId}"): Row(204),
}

_PARAM = re.compile(r"\{(\w+)\}")


def fill(path: str, ids: Ids) -> str:
    """The path with the ids of `ids`' objects: {id} is the collection's, {tokenId} its token..."""
    kind = path.split("/")[2] if path.startswith("/v3/") else "cp"
    own = {
        "users": (ids.user, ids.user_token, ids.user_role),
        "teams": (ids.team, None, ids.team_role),
        "system-accounts": (ids.sa, ids.sa_token, ids.sa_role),
    }.get(kind, (None, None, None))
    values = {
        "cpId": ids.cp,
        "id": own[0],
        "tokenId": own[1],
        "roleId": own[2],
        "userId": ids.user,  # the team's member
        "name": ids.zone,
    }

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        assert found is not None, f"no id for {match.group(0)} in {path}"
        return found

    return _PARAM.sub(value, path)


def random_ids() -> Ids:
    return Ids(*(str(uuid4()) for _ in range(11)))


ROWS = sorted(MATRIX)
ROW_IDS = [f"{method} {path}" for method, path in ROWS]
ROWS_WITH_IDS = [key for key in ROWS if "{" in key[1]]


async def call_row(
    world: World, key: tuple[str, str], token: str | None, ids: Ids | None = None
) -> Any:
    method, path = key
    row = MATRIX[key]
    ids = ids or world.own
    kwargs = {"json": row.body(ids)} if row.body else {}
    return await world.api.call(method, fill(path, ids), token, **kwargs)


def app_endpoints(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app routes, but its OpenAPI document and docs."""
    try:
        from fastapi.routing import iter_route_contexts

        routes: Any = iter_route_contexts(app.routes)
    except ImportError:  # FastAPI versions whose app.routes are flat
        routes = app.routes
    docs = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    endpoints = set()
    for route in routes:
        path = getattr(route, "path", repr(route))
        if path in docs:
            continue
        methods = set(getattr(route, "methods", None) or {"*"})
        if "GET" in methods:
            methods.discard("HEAD")
        endpoints |= {(method, path) for method in methods}
    return endpoints


async def test_every_endpoint_has_a_matrix_row(api: Api) -> None:
    endpoints = app_endpoints(create_app(api.store))
    assert len(endpoints) > 40
    assert endpoints - set(MATRIX) == set(), "endpoints without a row in MATRIX"
    assert set(MATRIX) - endpoints == set(), "MATRIX rows for endpoints that do not exist"


# 401: no token, a garbage token, an expired token, a revoked token


@IN_WORLD
@pytest.mark.parametrize("key", ROWS, ids=ROW_IDS)
async def test_unauthenticated_calls_are_401(world: World, key: tuple[str, str]) -> None:
    api, (method, path), row = world.api, key, MATRIX[key]
    ids = random_ids()  # authentication comes first: whether the ids exist does not matter
    url = fill(path, ids)
    kwargs = {"json": row.body(ids)} if row.body else {}
    urls = [url, url.replace("/v1/mesh/", "/v0/mesh/")] if url.startswith("/v1/mesh/") else [url]
    for target in urls:
        attempts = {
            "no token": await no_auth(api, method, target, **kwargs),
            "garbage token": await with_header(
                api, method, target, "Bearer kpat_garbage", **kwargs
            ),
            "empty bearer": await with_header(api, method, target, "Bearer ", **kwargs),
            "basic scheme": await with_header(
                api, method, target, f"Basic {api.admin_token}", **kwargs
            ),
            "expired token": await api.call(method, target, world.expired, **kwargs),
            "revoked token": await api.call(method, target, world.revoked, **kwargs),
        }
        for what, r in attempts.items():
            assert r.status_code == 401, f"{what} on {method} {target}: {r.status_code} {r.text}"
            assert_problem(r, 401)
            assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), what


# 403: authenticated, but without the role


@IN_WORLD
@pytest.mark.parametrize("key", ROWS, ids=ROW_IDS)
async def test_a_user_without_roles_is_refused(world: World, key: tuple[str, str]) -> None:
    row = MATRIX[key]
    r = await call_row(world, key, world.nobody.token)
    if row.nobody == 403:
        assert_problem(r, 403)
    else:
        assert r.status_code == row.nobody, r.text
    if key == ("GET", CP):
        assert r.json()["data"] == [] and r.json()["meta"]["page"]["total"] == 0


@IN_WORLD
@pytest.mark.parametrize("key", ROWS, ids=ROW_IDS)
async def test_a_viewer_of_every_control_plane_cannot_write(
    world: World, key: tuple[str, str]
) -> None:
    row = MATRIX[key]
    r = await call_row(world, key, world.viewer.token)
    if row.viewer == 403:
        assert_problem(r, 403)
    else:
        assert r.status_code == row.viewer, r.text


@IN_WORLD
@pytest.mark.parametrize("key", ROWS, ids=ROW_IDS)
async def test_the_org_admin_may_do_everything_in_its_org(
    world: World, key: tuple[str, str]
) -> None:
    r = await call_row(world, key, world.api.admin_token, await fresh_ids(world))
    assert r.status_code == MATRIX[key].ok, r.text


# 404: another organization's objects do not exist for you


@IN_WORLD
@pytest.mark.parametrize("key", ROWS_WITH_IDS, ids=[f"{m} {p}" for m, p in ROWS_WITH_IDS])
async def test_another_orgs_objects_are_404(world: World, key: tuple[str, str]) -> None:
    # globex's admin may do everything in globex, and finds nothing of acme's.
    assert_problem(await call_row(world, key, world.other_admin, world.own), 404)
    # acme's admin (a platform operator, too) finds nothing of globex's.
    assert_problem(await call_row(world, key, world.api.admin_token, world.other), 404)


# Role semantics (spec §1.8)


async def _assign(api: Api, actor: Actor, role: str, entity: str = "*") -> dict[str, Any]:
    return await assign_role(api, actor.kind, actor.id, role, entity)


async def test_viewer_of_one_control_plane(api: Api) -> None:
    seen = await create_cp(api, "seen", labels={"env": "prod"})
    hidden = await create_cp(api, "hidden", labels={"env": "prod"})
    viewer = await new_user(api, "viewer@acme.example")
    await _assign(api, viewer, "Viewer", seen["id"])

    assert expect(await api.call("GET", f"{CP}/{seen['id']}", viewer.token), 200) == seen
    assert_problem(await api.call("GET", f"{CP}/{hidden['id']}", viewer.token), 403)
    page = await list_cps(api, viewer.token)
    assert [cp["id"] for cp in page["data"]] == [seen["id"]]
    assert page["meta"]["page"]["total"] == 1
    assert await cp_names(api, viewer.token, **{"filter[labels.env]": "prod"}) == ["seen"]

    url = f"{CP}/{seen['id']}"
    assert_problem(await api.call("PATCH", url, viewer.token, json={"description": "x"}), 403)
    assert_problem(await api.call("PUT", url, viewer.token, json={"name": "x"}), 403)
    assert_problem(await api.call("DELETE", url, viewer.token), 403)
    assert_problem(await api.call("POST", CP, viewer.token, json={"name": "mine"}), 403)
    assert expect(await api.call("GET", url), 200) == seen
    assert await cp_names(api) == ["hidden", "seen"]


async def test_admin_of_one_control_plane(api: Api) -> None:
    mine = await create_cp(api, "mine")
    theirs = await create_cp(api, "theirs")
    admin = await new_user(api, "cp-admin@acme.example")
    await _assign(api, admin, "Admin", mine["id"])

    patched = await api.call("PATCH", f"{CP}/{mine['id']}", admin.token, json={"description": "x"})
    assert expect(patched, 200)["description"] == "x"
    put = await api.call("PUT", f"{CP}/{mine['id']}", admin.token, json={"name": "mine"})
    assert expect(put, 200)["description"] == ""
    assert await cp_names(api, admin.token) == ["mine"]

    url = f"{CP}/{theirs['id']}"
    assert_problem(await api.call("GET", url, admin.token), 403)
    assert_problem(await api.call("PATCH", url, admin.token, json={"description": "x"}), 403)
    assert_problem(await api.call("DELETE", url, admin.token), 403)
    # Admin of one control plane does not make one an organization-wide creator.
    assert_problem(await api.call("POST", CP, admin.token, json={"name": "new"}), 403)

    assert (await api.call("DELETE", f"{CP}/{mine['id']}", admin.token)).status_code == 204
    assert await cp_names(api) == ["theirs"]


async def test_creator_lists_creates_and_becomes_admin_of_what_it_creates(api: Api) -> None:
    existing = await create_cp(api, "existing")
    creator = await new_user(api, "creator@acme.example")
    await _assign(api, creator, "Creator")

    assert await cp_names(api, creator.token) == ["existing"]
    # Creator is list and create: not read, update or delete of others' control planes.
    assert_problem(await api.call("GET", f"{CP}/{existing['id']}", creator.token), 403)
    url = f"{CP}/{existing['id']}"
    assert_problem(await api.call("PATCH", url, creator.token, json={"description": "x"}), 403)
    assert_problem(await api.call("DELETE", url, creator.token), 403)

    created = await create_cp(api, "created", creator.token)
    roles = expect(await api.call("GET", f"/v3/users/{creator.id}/assigned-roles"), 200)
    assert {(r["role_name"], r["entity_id"]) for r in roles["data"]} == {
        ("Creator", "*"),
        ("Admin", created["id"]),
    }
    own = f"{CP}/{created['id']}"
    assert expect(await api.call("GET", own, creator.token), 200) == created
    patched = await api.call("PATCH", own, creator.token, json={"description": "mine"})
    assert expect(patched, 200)["description"] == "mine"
    assert await cp_names(api, creator.token) == ["created", "existing"]
    assert (await api.call("DELETE", own, creator.token)).status_code == 204


async def test_an_org_admin_creating_a_control_plane_gets_no_extra_role(api: Api) -> None:
    await create_cp(api, "prod")
    me = expect(await api.call("GET", "/v3/users/me"), 200)
    roles = expect(await api.call("GET", f"/v3/users/{me['id']}/assigned-roles"), 200)
    assert roles["data"] == []


async def test_connector_cannot_read_or_write(api: Api) -> None:
    cp = await create_cp(api, "prod")
    zone = await new_system_account(api, "zone-1")
    await _assign(api, zone, "Connector", cp["id"])
    assert zone.token.startswith("spat_")

    assert_problem(await api.call("GET", f"{CP}/{cp['id']}", zone.token), 403)
    assert await list_cps(api, zone.token) == {
        "meta": {"page": {"number": 1, "size": 10, "total": 0}},
        "data": [],
    }
    url = f"{CP}/{cp['id']}"
    assert_problem(await api.call("PATCH", url, zone.token, json={"description": "x"}), 403)
    assert_problem(await api.call("DELETE", url, zone.token), 403)
    assert_problem(await api.call("POST", CP, zone.token, json={"name": "x"}), 403)


ZONE_CALLS = [
    ("GET", "", None),
    ("GET", "/zone-1", None),
    ("POST", "", {"name": "zone-2"}),
    ("POST", "/zone-1/rotate-credential", None),
    ("DELETE", "/zone-1", None),
]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        # A Connector onboards zones (create, rotate, read) but does not delete them.
        ("Connector", [200, 200, 201, 200, 403]),
        # A Viewer reads zones, never their credentials.
        ("Viewer", [200, 200, 403, 403, 403]),
        ("Admin", [200, 200, 201, 200, 204]),
    ],
)
async def test_zone_endpoints_by_role(api: Api, role: str, expected: list[int]) -> None:
    cp, elsewhere = await create_cp(api, "prod"), await create_cp(api, "other")
    for plane in (cp, elsewhere):
        body = {"name": "zone-1"}
        expect(await api.call("POST", f"{CP}/{plane['id']}/zones", json=body), 201)
    account = await new_system_account(api, f"sa-{role.lower()}")
    await _assign(api, account, role, cp["id"])
    for (method, suffix, body), status in zip(ZONE_CALLS, expected, strict=True):
        kwargs = {"json": body} if body else {}
        url = f"{CP}/{cp['id']}/zones{suffix}"
        response = await api.call(method, url, account.token, **kwargs)
        assert response.status_code == status, (method, suffix, response.text)
        # the role on one control plane says nothing about another
        url = f"{CP}/{elsewhere['id']}/zones{suffix}"
        assert_problem(await api.call(method, url, account.token, **kwargs), 403)


async def test_team_roles_apply_to_its_members(api: Api) -> None:
    cp = await create_cp(api, "prod")
    member = await new_user(api, "member@acme.example")
    outsider = await new_user(api, "outsider@acme.example")
    team = expect(await api.call("POST", "/v3/teams", json={"name": "sre"}), 201)
    await assign_role(api, "teams", team["id"], "Admin", cp["id"])
    add = await api.call("POST", f"/v3/teams/{team['id']}/users", json={"id": member.id})
    assert add.status_code == 201, add.text

    url = f"{CP}/{cp['id']}"
    assert expect(await api.call("GET", url, member.token), 200)["id"] == cp["id"]
    patched = await api.call("PATCH", url, member.token, json={"description": "by the team"})
    assert expect(patched, 200)["description"] == "by the team"
    assert_problem(await api.call("GET", url, outsider.token), 403)

    # Leaving the team takes the role away on the next request.
    r = await api.call("DELETE", f"/v3/teams/{team['id']}/users/{member.id}")
    assert r.status_code == 204, r.text
    assert_problem(await api.call("GET", url, member.token), 403)


async def test_removing_a_role_takes_effect_on_the_next_request(api: Api) -> None:
    cp = await create_cp(api, "prod")
    viewer = await new_user(api, "viewer@acme.example")
    role = await _assign(api, viewer, "Viewer", cp["id"])
    url = f"{CP}/{cp['id']}"
    assert (await api.call("GET", url, viewer.token)).status_code == 200
    r = await api.call("DELETE", f"/v3/users/{viewer.id}/assigned-roles/{role['id']}")
    assert r.status_code == 204, r.text
    assert_problem(await api.call("GET", url, viewer.token), 403)
    assert await cp_names(api, viewer.token) == []


async def test_deleting_a_control_plane_removes_the_roles_on_it(api: Api) -> None:
    cp = await create_cp(api, "prod")
    viewer = await new_user(api, "viewer@acme.example")
    await _assign(api, viewer, "Viewer", cp["id"])
    assert (await api.call("DELETE", f"{CP}/{cp['id']}")).status_code == 204
    roles = expect(await api.call("GET", f"/v3/users/{viewer.id}/assigned-roles"), 200)
    assert roles["data"] == []


@pytest.mark.parametrize("kind", ["users", "system-accounts"])
async def test_org_admins_can_do_everything_in_their_org(api: Api, kind: str) -> None:
    if kind == "users":
        admin = await new_user(api, "second-admin@acme.example", org_admin=True)
    else:
        admin = await new_system_account(api, "automation", org_admin=True)
    cp = await create_cp(api, "by-admin", admin.token)
    url = f"{CP}/{cp['id']}"
    assert expect(await api.call("GET", url, admin.token), 200) == cp
    assert (await api.call("PATCH", url, admin.token, json={"description": "x"})).status_code == 200
    user = await create_user(api, "made@acme.example", admin.token)
    await assign_role(api, "users", user["id"], "Viewer", cp["id"], admin.token)
    assert (await api.call("DELETE", url, admin.token)).status_code == 204


async def test_tokens_have_prefixes_and_their_secret_is_shown_once(api: Api) -> None:
    user = await create_user(api, "u@acme.example")
    minted = await mint_token(api, user["id"], name="laptop")
    assert minted["token"].startswith("kpat_")
    assert minted["name"] == "laptop"
    account = await new_system_account(api, "ci")
    assert account.token.startswith("spat_")

    got = expect(await api.call("GET", f"/v3/users/{user['id']}/access-tokens/{minted['id']}"), 200)
    assert "token" not in got
    assert got["id"] == minted["id"] and got["name"] == "laptop"
    listed = expect(await api.call("GET", f"/v3/users/{user['id']}/access-tokens"), 200)
    assert [t["id"] for t in listed["data"]] == [minted["id"]]
    assert all("token" not in t for t in listed["data"])
    assert minted["token"] not in str(listed)


async def test_a_user_manages_its_own_tokens_but_nothing_else(api: Api) -> None:
    me = await new_user(api, "me@acme.example")
    other = await create_user(api, "other@acme.example")
    assert expect(await api.call("GET", "/v3/users/me", me.token), 200)["id"] == me.id
    assert expect(await api.call("GET", f"/v3/users/{me.id}", me.token), 200)["id"] == me.id
    second = await mint_token(api, me.id, token=me.token)
    assert second["token"].startswith("kpat_")
    r = await api.call("DELETE", f"/v3/users/{me.id}/access-tokens/{second['id']}", me.token)
    assert r.status_code == 204, r.text
    assert_problem(await api.call("GET", "/v3/organizations/me", second["token"]), 401)

    assert_problem(await api.call("GET", f"/v3/users/{other['id']}", me.token), 403)
    assert_problem(
        await api.call(
            "POST", f"/v3/users/{other['id']}/access-tokens", me.token, json={"name": "x"}
        ),
        403,
    )
    # No one promotes themselves.
    r = await api.call("PATCH", f"/v3/users/{me.id}", me.token, json={"org_admin": True})
    assert_problem(r, 403)
    r = await api.call(
        "POST", f"/v3/users/{me.id}/assigned-roles", me.token, json={"role_name": "Creator"}
    )
    assert_problem(r, 403)
    assert not expect(await api.call("GET", f"/v3/users/{me.id}"), 200)["org_admin"]


async def test_deactivated_and_deleted_users_lose_access(api: Api) -> None:
    paused = await new_user(api, "paused@acme.example", org_admin=True)
    gone = await new_user(api, "gone@acme.example", org_admin=True)
    for actor in (paused, gone):
        assert (await api.call("GET", CP, actor.token)).status_code == 200
    r = await api.call("PATCH", f"/v3/users/{paused.id}", json={"active": False})
    assert r.status_code == 200, r.text
    assert (await api.call("DELETE", f"/v3/users/{gone.id}")).status_code == 204
    assert_problem(await api.call("GET", CP, paused.token), 401)
    assert_problem(await api.call("GET", CP, gone.token), 401)


async def test_a_system_account_token_is_not_a_user(api: Api) -> None:
    account = await new_system_account(api, "ci", org_admin=True)
    assert_problem(await api.call("GET", "/v3/users/me", account.token), 404)
    me = await api.call("GET", f"/v3/system-accounts/{account.id}", account.token)
    assert expect(me, 200)["name"] == "ci"

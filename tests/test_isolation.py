"""Two organizations share one store and see nothing of each other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import (
    CP,
    assert_problem,
    assign_role,
    cp_names,
    create_cp,
    create_user,
    expect,
    list_cps,
    mint_token,
    new_org,
)


@dataclass
class Org:
    token: str  # its admin's
    id: str
    cps: dict[str, dict[str, Any]]  # by name
    user: dict[str, Any]
    user_token: dict[str, Any]
    role: dict[str, Any]
    team: dict[str, Any]
    sa: dict[str, Any]
    sa_token: dict[str, Any]


async def populate(api: Api, token: str, tag: str, names: list[str]) -> Org:
    org_id = expect(await api.call("GET", "/v3/organizations/me", token), 200)["id"]
    cps = {}
    for i, name in enumerate(names):
        cps[name] = await create_cp(api, name, token, labels={"org": tag, "n": str(i)})
    user = await create_user(api, f"dev@{tag}.example", token)
    user_token = await mint_token(api, user["id"], token=token)
    first = cps[names[0]]
    role = await assign_role(api, "users", user["id"], "Viewer", first["id"], token)
    team = expect(await api.call("POST", "/v3/teams", token, json={"name": "sre"}), 201)
    r = await api.call("POST", f"/v3/teams/{team['id']}/users", token, json={"id": user["id"]})
    assert r.status_code == 201, r.text
    sa = expect(await api.call("POST", "/v3/system-accounts", token, json={"name": "ci"}), 201)
    sa_token = await mint_token(api, sa["id"], "system-accounts", token)
    return Org(token, org_id, cps, user, user_token, role, team, sa, sa_token)


@dataclass
class Pair:
    api: Api
    acme: Org
    globex: Org


ACME_CPS = ["prod", "shared", "staging"]
GLOBEX_CPS = ["dev", "eu", "shared", "us"]


@pytest.fixture
async def pair(api: Api) -> Pair:
    _, globex_token = await new_org(api, "globex")
    acme = await populate(api, api.admin_token, "acme", ACME_CPS)
    globex = await populate(api, globex_token, "globex", GLOBEX_CPS)
    return Pair(api, acme, globex)


def both(pair: Pair) -> list[tuple[Org, Org]]:
    """(me, them) both ways round."""
    return [(pair.acme, pair.globex), (pair.globex, pair.acme)]


async def test_each_org_is_its_own(pair: Pair) -> None:
    me_acme = expect(await pair.api.call("GET", "/v3/organizations/me", pair.acme.token), 200)
    me_globex = expect(await pair.api.call("GET", "/v3/organizations/me", pair.globex.token), 200)
    assert (me_acme["name"], me_globex["name"]) == ("acme", "globex")
    assert me_acme["id"] != me_globex["id"]


async def test_lists_filters_and_pages_show_only_ones_own(pair: Pair) -> None:
    api = pair.api
    for me, names in ((pair.acme, ACME_CPS), (pair.globex, GLOBEX_CPS)):
        page = await list_cps(api, me.token, **{"page[size]": 100})
        assert [cp["name"] for cp in page["data"]] == names
        assert page["meta"]["page"]["total"] == len(names)
        assert {cp["id"] for cp in page["data"]} == {cp["id"] for cp in me.cps.values()}

        shared = await list_cps(api, me.token, **{"filter[name]": "shared"})
        assert [cp["id"] for cp in shared["data"]] == [me.cps["shared"]["id"]]
        assert shared["meta"]["page"]["total"] == 1

        # Label filters and paging stay inside the organization too.
        assert await cp_names(api, me.token, **{"filter[labels.org][oeq]": "acme,globex"}) == names
        assert await cp_names(api, me.token, **{"filter[labels.n]": "0"}) == names[:1]
        second = await list_cps(api, me.token, **{"page[size]": 2, "page[number]": 2})
        assert [cp["name"] for cp in second["data"]] == names[2:4]
        assert second["meta"]["page"] == {"number": 2, "size": 2, "total": len(names)}


async def test_the_other_orgs_control_planes_do_not_exist(pair: Pair) -> None:
    api = pair.api
    for me, them in both(pair):
        for theirs in them.cps.values():
            url = f"{CP}/{theirs['id']}"
            assert_problem(await api.call("GET", url, me.token), 404)
            assert_problem(await api.call("PUT", url, me.token, json={"name": "mine"}), 404)
            r = await api.call("PATCH", url, me.token, json={"description": "mine"})
            assert_problem(r, 404)
            assert_problem(await api.call("DELETE", url, me.token), 404)
            # Through the /v0 alias as well.
            v0 = f"/v0/mesh/control-planes/{theirs['id']}"
            assert_problem(await api.call("GET", v0, me.token), 404)
            # Untouched: same object, same version.
            r = await api.call("GET", url, them.token)
            assert expect(r, 200) == theirs
            assert r.headers["ETag"] == '"1"'


async def test_the_other_orgs_people_do_not_exist(pair: Pair) -> None:
    api = pair.api
    for me, them in both(pair):
        for kind, obj in (("users", them.user), ("teams", them.team), ("system-accounts", them.sa)):
            url = f"/v3/{kind}/{obj['id']}"
            assert_problem(await api.call("GET", url, me.token), 404)
            body = {"description": "x"} if kind != "users" else {"full_name": "x"}
            assert_problem(await api.call("PATCH", url, me.token, json=body), 404)
            assert_problem(await api.call("DELETE", url, me.token), 404)
            assert_problem(await api.call("GET", f"{url}/assigned-roles", me.token), 404)
            assert expect(await api.call("GET", url, them.token), 200) == obj


async def test_the_other_orgs_lists_of_teams_and_accounts_are_not_shown(pair: Pair) -> None:
    for me, them in both(pair):
        for kind, obj in (("teams", them.team), ("system-accounts", them.sa)):
            page = expect(await pair.api.call("GET", f"/v3/{kind}", me.token), 200)
            assert obj["id"] not in {item["id"] for item in page["data"]}
            assert page["meta"]["page"]["total"] == 1


async def test_the_other_orgs_users_are_not_listed(pair: Pair) -> None:
    for me, them in both(pair):
        page = expect(await pair.api.call("GET", "/v3/users", me.token), 200)
        ids = {item["id"] for item in page["data"]}
        assert them.user["id"] not in ids
        assert me.user["id"] in ids
        assert page["meta"]["page"]["total"] == 2  # the admin and the user


async def test_the_other_orgs_tokens_cannot_be_seen_minted_or_revoked(pair: Pair) -> None:
    api = pair.api
    for me, them in both(pair):
        for kind, subject, token in (
            ("users", them.user, them.user_token),
            ("system-accounts", them.sa, them.sa_token),
        ):
            base = f"/v3/{kind}/{subject['id']}/access-tokens"
            assert_problem(await api.call("GET", base, me.token), 404)
            assert_problem(await api.call("POST", base, me.token, json={"name": "x"}), 404)
            assert_problem(await api.call("GET", f"{base}/{token['id']}", me.token), 404)
            assert_problem(await api.call("DELETE", f"{base}/{token['id']}", me.token), 404)
        # Their token, under my own user's path, is no more found.
        mine = f"/v3/users/{me.user['id']}/access-tokens/{them.user_token['id']}"
        assert_problem(await api.call("GET", mine, me.token), 404)
        assert_problem(await api.call("DELETE", mine, me.token), 404)
        # And their tokens still work.
        r = await api.call("GET", "/v3/users/me", them.user_token["token"])
        assert expect(r, 200)["id"] == them.user["id"]
        r = await api.call("GET", f"/v3/system-accounts/{them.sa['id']}", them.sa_token["token"])
        assert r.status_code == 200, r.text


async def test_roles_cannot_be_assigned_across_orgs(pair: Pair) -> None:
    api = pair.api
    for me, them in both(pair):
        body = {"role_name": "Admin", "entity_id": "*"}
        for kind, obj in (("users", them.user), ("teams", them.team), ("system-accounts", them.sa)):
            r = await api.call(
                "POST", f"/v3/{kind}/{obj['id']}/assigned-roles", me.token, json=body
            )
            assert_problem(r, 404)
        url = f"/v3/users/{them.user['id']}/assigned-roles/{them.role['id']}"
        assert_problem(await api.call("DELETE", url, me.token), 404)
        mine = f"/v3/users/{me.user['id']}/assigned-roles/{them.role['id']}"
        assert_problem(await api.call("DELETE", mine, me.token), 404)

        # A role on their control plane, for my own user, is refused exactly like one on a
        # control plane that does not exist at all: nothing tells that it exists.
        their_cp = them.cps["shared"]["id"]
        path = f"/v3/users/{me.user['id']}/assigned-roles"
        theirs = await api.call(
            "POST", path, me.token, json={"role_name": "Viewer", "entity_id": their_cp}
        )
        nowhere = await api.call(
            "POST",
            path,
            me.token,
            json={"role_name": "Viewer", "entity_id": "00000000-0000-4000-8000-000000000000"},
        )
        assert_problem(theirs, nowhere.status_code, field="entity_id")
        assert theirs.status_code in (400, 404)
        roles = expect(await api.call("GET", path, me.token), 200)
        assert [r["id"] for r in roles["data"]] == [me.role["id"]]
        # Their user's own roles are intact.
        theirs_roles = await api.call(
            "GET", f"/v3/users/{them.user['id']}/assigned-roles", them.token
        )
        assert [r["id"] for r in expect(theirs_roles, 200)["data"]] == [them.role["id"]]


async def test_teams_cannot_be_mixed_across_orgs(pair: Pair) -> None:
    api = pair.api
    for me, them in both(pair):
        their_team = f"/v3/teams/{them.team['id']}/users"
        assert_problem(await api.call("GET", their_team, me.token), 404)
        r = await api.call("POST", their_team, me.token, json={"id": me.user["id"]})
        assert_problem(r, 404)
        r = await api.call("DELETE", f"{their_team}/{them.user['id']}", me.token)
        assert_problem(r, 404)
        # Their user cannot be put in my team.
        my_team = f"/v3/teams/{me.team['id']}/users"
        r = await api.call("POST", my_team, me.token, json={"id": them.user["id"]})
        assert_problem(r, 404)
        members = expect(await api.call("GET", my_team, me.token), 200)
        assert [u["id"] for u in members["data"]] == [me.user["id"]]


async def test_a_users_role_reaches_only_its_own_org(pair: Pair) -> None:
    """acme's user may read acme's first control plane, and nothing of globex."""
    api = pair.api
    for me, them in both(pair):
        reader = me.user_token["token"]
        (first,) = [cp for cp in me.cps.values() if cp["id"] == me.role["entity_id"]]
        assert expect(await api.call("GET", f"{CP}/{first['id']}", reader), 200) == first
        assert await cp_names(api, reader) == [first["name"]]
        for theirs in them.cps.values():
            assert_problem(await api.call("GET", f"{CP}/{theirs['id']}", reader), 404)


async def test_only_the_platform_operator_creates_organizations(pair: Pair) -> None:
    api = pair.api
    body = {"name": "initech", "admin_email": "admin@initech.example"}
    assert_problem(await api.call("POST", "/v3/organizations", pair.globex.token, json=body), 403)
    orgs = expect(await api.call("GET", "/v3/organizations", pair.globex.token), 200)
    assert [o["name"] for o in orgs["data"]] == ["globex"]
    assert orgs["meta"]["page"]["total"] == 1

    # The bootstrap admin is a platform operator: it sees and creates organizations ...
    orgs = expect(await api.call("GET", "/v3/organizations", pair.acme.token), 200)
    assert [o["name"] for o in orgs["data"]] == ["acme", "globex"]
    created = expect(await api.call("POST", "/v3/organizations", pair.acme.token, json=body), 201)
    assert created["organization"]["name"] == "initech"
    assert created["admin_user"]["email"] == "admin@initech.example"
    assert created["admin_user"]["org_admin"] is True
    assert created["admin_token"]["token"].startswith("kpat_")
    # ... whose admin is no platform operator, and starts with nothing.
    new_admin = created["admin_token"]["token"]
    assert await cp_names(api, new_admin) == []
    assert_problem(await api.call("POST", "/v3/organizations", new_admin, json=body), 403)
    # The same name twice is a conflict.
    assert_problem(await api.call("POST", "/v3/organizations", pair.acme.token, json=body), 409)


async def test_what_one_org_creates_never_lands_in_the_other(pair: Pair) -> None:
    api = pair.api
    for me, them in both(pair):
        created = await create_cp(api, f"new-{me.id[:8]}", me.token)
        assert created["name"] not in await cp_names(api, them.token, **{"page[size]": 100})
        assert_problem(await api.call("GET", f"{CP}/{created['id']}", them.token), 404)
        assert created["name"] in await cp_names(api, me.token, **{"page[size]": 100})


async def test_the_other_orgs_zones_do_not_exist(pair: Pair) -> None:
    api = pair.api
    credentials = {}
    for me in (pair.acme, pair.globex):
        zones = f"{CP}/{me.cps['shared']['id']}/zones"
        created = expect(await api.call("POST", zones, me.token, json={"name": "zone-1"}), 201)
        credentials[me.id] = created["credential"]
    for me, them in both(pair):
        theirs = f"{CP}/{them.cps['shared']['id']}/zones"
        assert_problem(await api.call("GET", theirs, me.token), 404)
        assert_problem(await api.call("GET", f"{theirs}/zone-1", me.token), 404)
        assert_problem(await api.call("POST", theirs, me.token, json={"name": "zone-2"}), 404)
        rotate = f"{theirs}/zone-1/rotate-credential"
        assert_problem(await api.call("POST", rotate, me.token), 404)
        assert_problem(await api.call("DELETE", f"{theirs}/zone-1", me.token), 404)
        # the system account of my org with Connector everywhere still cannot reach theirs
        sa_token = me.sa_token["token"]
        await assign_role(api, "system-accounts", me.sa["id"], "Connector", "*", me.token)
        assert_problem(await api.call("POST", theirs, sa_token, json={"name": "zone-3"}), 404)
        mine = f"{CP}/{me.cps['shared']['id']}/zones"
        expect(await api.call("POST", mine, sa_token, json={"name": f"ci-{me.id[:8]}"}), 201)
        check = await api.store.zones.check_credential(credentials[me.id])
        assert (check.outcome, str(check.org_id), str(check.cp_id)) == (
            "ok",
            me.id,
            me.cps["shared"]["id"],
        )
    for me in (pair.acme, pair.globex):
        zones = f"{CP}/{me.cps['shared']['id']}/zones"
        listed = expect(await api.call("GET", zones, me.token), 200)
        assert [z["name"] for z in listed["data"]] == sorted(["zone-1", f"ci-{me.id[:8]}"])
        zone_1 = next(z for z in listed["data"] if z["name"] == "zone-1")
        assert credentials[me.id].startswith(zone_1["credential_prefix"])

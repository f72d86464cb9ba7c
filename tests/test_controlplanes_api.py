"""The control-plane management API: /v1/mesh/control-planes and its /v0 alias (spec §1.2-§1.6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import update

from meshmanager.store.schema import zones
from meshmanager.store.types import utcnow
from meshmanager.store.zones import ZONE_STALE_AFTER, ZoneSettings
from tests.conftest import Api
from tests.helpers import (
    CP,
    DEFAULT_FEATURES,
    assert_problem,
    cp_names,
    create_cp,
    expect,
    list_cps,
    my_org_id,
    new_org,
)

PREFIXES = ["/v1/mesh/control-planes", "/v0/mesh/control-planes"]
ENABLED_MESH_CREATION = [
    {"type": "MeshCreation", "meshCreation": {"enabled": True}},
    {"type": "HostnameGeneratorCreation", "hostnameGeneratorCreation": {"enabled": False}},
]


async def _get(api: Api, cp_id: str, prefix: str = CP) -> dict[str, Any]:
    result: dict[str, Any] = expect(await api.call("GET", f"{prefix}/{cp_id}"), 200)
    return result


# Create, read, replace, patch, delete


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_create_answers_201_with_location_etag_and_defaults(api: Api, prefix: str) -> None:
    r = await api.call("POST", prefix, json={"name": "prod-us"})
    cp = expect(r, 201)
    assert UUID(cp["id"])
    assert r.headers["Location"] == f"/v1/mesh/control-planes/{cp['id']}"
    assert r.headers["ETag"] == '"1"'
    assert cp["name"] == "prod-us"
    assert cp["description"] == ""
    assert cp["labels"] == {}
    assert cp["features"] == DEFAULT_FEATURES
    assert cp["created_at"] == cp["updated_at"]
    # The Location header leads to the object.
    assert await _get(api, cp["id"]) == cp


async def test_create_keeps_what_was_given(api: Api) -> None:
    cp = await create_cp(
        api,
        "Test Control Plane",
        description="the one in us-east",
        labels={"env": "prod", "kuma.io/zone": "us-east-1"},
        features=[{"type": "MeshCreation", "meshCreation": {"enabled": True}}],
    )
    assert cp["description"] == "the one in us-east"
    assert cp["labels"] == {"env": "prod", "kuma.io/zone": "us-east-1"}
    # A feature type left out takes its default.
    assert cp["features"] == ENABLED_MESH_CREATION
    assert await _get(api, cp["id"]) == cp


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_get_returns_the_object_with_its_etag(api: Api, prefix: str) -> None:
    cp = await create_cp(api, "prod", labels={"env": "prod"})
    r = await api.call("GET", f"{prefix}/{cp['id']}")
    assert expect(r, 200) == cp
    assert r.headers["ETag"] == '"1"'


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_get_of_an_unknown_id_is_404(api: Api, prefix: str) -> None:
    assert_problem(await api.call("GET", f"{prefix}/{uuid4()}"), 404)


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_put_replaces_the_whole_object(api: Api, prefix: str) -> None:
    cp = await create_cp(api, "prod", description="old", labels={"env": "prod"})
    r = await api.call("PUT", f"{prefix}/{cp['id']}", json={"name": "prod-2"})
    replaced = expect(r, 200)
    assert r.headers["ETag"] == '"2"'
    # Fields left out of a PUT take their defaults; id, features and created_at stay.
    assert replaced["name"] == "prod-2"
    assert replaced["description"] == ""
    assert replaced["labels"] == {}
    assert replaced["id"] == cp["id"]
    assert replaced["features"] == cp["features"]
    assert replaced["created_at"] == cp["created_at"]
    assert replaced["updated_at"] >= cp["updated_at"]
    assert await _get(api, cp["id"]) == replaced


async def test_put_with_the_same_features_is_accepted(api: Api) -> None:
    cp = await create_cp(api, "prod", features=ENABLED_MESH_CREATION)
    body = {"name": "prod", "description": "d", "features": ENABLED_MESH_CREATION}
    replaced = expect(await api.call("PUT", f"{CP}/{cp['id']}", json=body), 200)
    assert replaced["description"] == "d"
    assert replaced["features"] == ENABLED_MESH_CREATION


async def test_put_with_changed_features_is_400_immutable_and_changes_nothing(api: Api) -> None:
    cp = await create_cp(api, "prod", description="keep")
    body = {"name": "renamed", "features": ENABLED_MESH_CREATION}
    r = await api.call("PUT", f"{CP}/{cp['id']}", json=body)
    assert_problem(r, 400, field="features", rule="immutable")
    assert await _get(api, cp["id"]) == cp


async def test_put_needs_a_name(api: Api) -> None:
    cp = await create_cp(api, "prod")
    r = await api.call("PUT", f"{CP}/{cp['id']}", json={"description": "x"})
    assert_problem(r, 400, field="name", rule="required")


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_patch_changes_only_the_fields_given(api: Api, prefix: str) -> None:
    cp = await create_cp(api, "prod", description="old", labels={"env": "prod"})
    r = await api.call("PATCH", f"{prefix}/{cp['id']}", json={"description": "new"})
    patched = expect(r, 200)
    assert r.headers["ETag"] == '"2"'
    assert patched == {**cp, "description": "new", "updated_at": patched["updated_at"]}
    assert await _get(api, cp["id"]) == patched

    patched = expect(await api.call("PATCH", f"{CP}/{cp['id']}", json={"name": "prod-eu"}), 200)
    assert (patched["name"], patched["description"], patched["labels"]) == (
        "prod-eu",
        "new",
        {"env": "prod"},
    )


async def test_patch_cannot_change_features(api: Api) -> None:
    cp = await create_cp(api, "prod")
    r = await api.call("PATCH", f"{CP}/{cp['id']}", json={"features": ENABLED_MESH_CREATION})
    assert_problem(r, 400, field="features")
    assert await _get(api, cp["id"]) == cp


@pytest.mark.parametrize("prefix", PREFIXES)
async def test_delete_answers_204_then_the_object_is_gone(api: Api, prefix: str) -> None:
    cp = await create_cp(api, "prod")
    r = await api.call("DELETE", f"{prefix}/{cp['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_problem(await api.call("GET", f"{CP}/{cp['id']}"), 404)
    assert_problem(await api.call("DELETE", f"{CP}/{cp['id']}"), 404)
    assert await cp_names(api) == []


async def test_writes_to_an_unknown_id_are_404(api: Api) -> None:
    missing = f"{CP}/{uuid4()}"
    assert_problem(await api.call("PUT", missing, json={"name": "x"}), 404)
    assert_problem(await api.call("PATCH", missing, json={"name": "x"}), 404)
    assert_problem(await api.call("DELETE", missing), 404)


async def test_the_v0_alias_sees_the_same_objects(api: Api) -> None:
    created = expect(await api.call("POST", "/v0/mesh/control-planes", json={"name": "a"}), 201)
    assert await _get(api, created["id"], "/v1/mesh/control-planes") == created
    listed = expect(await api.call("GET", "/v0/mesh/control-planes"), 200)
    assert [cp["id"] for cp in listed["data"]] == [created["id"]]


# Names are unique per organization


async def test_a_duplicate_name_in_the_same_org_is_409(api: Api) -> None:
    await create_cp(api, "prod")
    assert_problem(await api.call("POST", CP, json={"name": "prod"}), 409)
    assert await cp_names(api) == ["prod"]


async def test_renaming_onto_an_existing_name_is_409(api: Api) -> None:
    await create_cp(api, "prod")
    other = await create_cp(api, "staging")
    assert_problem(await api.call("PATCH", f"{CP}/{other['id']}", json={"name": "prod"}), 409)
    assert_problem(await api.call("PUT", f"{CP}/{other['id']}", json={"name": "prod"}), 409)
    assert (await _get(api, other["id"]))["name"] == "staging"


async def test_the_same_name_in_another_org_is_allowed(api: Api) -> None:
    mine = await create_cp(api, "prod")
    _, other_token = await new_org(api, "globex")
    theirs = await create_cp(api, "prod", other_token)
    assert theirs["id"] != mine["id"]
    assert await cp_names(api) == ["prod"]
    assert await cp_names(api, other_token) == ["prod"]


# Paging and ordering


async def test_pages_are_ordered_by_name_with_meta_page(api: Api) -> None:
    names = [f"cp-{i:02d}" for i in range(7)]
    for name in (names[3], names[0], names[6], names[1], names[5], names[2], names[4]):
        await create_cp(api, name)

    seen: list[str] = []
    for number, expected_len in ((1, 3), (2, 3), (3, 1)):
        page = await list_cps(api, **{"page[size]": 3, "page[number]": number})
        assert page["meta"] == {"page": {"number": number, "size": 3, "total": 7}}
        assert len(page["data"]) == expected_len
        seen += [cp["name"] for cp in page["data"]]
    assert seen == names

    beyond = await list_cps(api, **{"page[size]": 3, "page[number]": 4})
    assert beyond == {"meta": {"page": {"number": 4, "size": 3, "total": 7}}, "data": []}


async def test_default_page_is_number_1_of_size_10(api: Api) -> None:
    for i in range(12):
        await create_cp(api, f"cp-{i:02d}")
    page = await list_cps(api)
    assert page["meta"] == {"page": {"number": 1, "size": 10, "total": 12}}
    assert [cp["name"] for cp in page["data"]] == [f"cp-{i:02d}" for i in range(10)]
    assert len((await list_cps(api, **{"page[size]": 100}))["data"]) == 12


async def test_an_empty_list(api: Api) -> None:
    assert await list_cps(api) == {
        "meta": {"page": {"number": 1, "size": 10, "total": 0}},
        "data": [],
    }


# Filters (spec §1.4)


@pytest.fixture
async def labelled(api: Api) -> Api:
    await create_cp(api, "prod-us", labels={"env": "prod", "team": "payments"})
    await create_cp(api, "prod-eu", labels={"env": "prod", "kuma.io/zone": "eu-1"})
    await create_cp(api, "staging", labels={"env": "staging", "team": "platform"})
    await create_cp(api, "dev", labels={"env": "development"})
    await create_cp(api, "bare")
    return api


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter[name]": "staging"}, ["staging"]),
        ({"filter[name][eq]": "prod-eu"}, ["prod-eu"]),
        ({"filter[name][eq]": "prod"}, []),
        ({"filter[name][contains]": "prod"}, ["prod-eu", "prod-us"]),
        ({"filter[name][contains]": "a"}, ["bare", "staging"]),
        ({"filter[labels.env]": "prod"}, ["prod-eu", "prod-us"]),
        ({"filter[labels.env][eq]": "staging"}, ["staging"]),
        ({"filter[labels.kuma.io/zone]": "eu-1"}, ["prod-eu"]),
        ({"filter[labels.team][neq]": "payments"}, ["bare", "dev", "prod-eu", "staging"]),
        ({"filter[labels.env][oeq]": "staging,development"}, ["dev", "staging"]),
        ({"filter[labels.env][oeq]": "dev"}, []),
        ({"filter[labels.env][ocontains]": "dev,stag"}, ["dev", "staging"]),
        ({"filter[labels.env][ocontains]": "ro"}, ["prod-eu", "prod-us"]),
        ({"filter[labels.missing]": "x"}, []),
        ({"filter[name][contains]": "prod", "filter[labels.team]": "payments"}, ["prod-us"]),
    ],
)
async def test_filters(labelled: Api, params: dict[str, str], expected: list[str]) -> None:
    page = await list_cps(labelled, **params)
    assert [cp["name"] for cp in page["data"]] == expected
    assert page["meta"]["page"]["total"] == len(expected)


async def test_filter_total_counts_all_matches_not_the_page(labelled: Api) -> None:
    page = await list_cps(labelled, **{"filter[name][contains]": "prod", "page[size]": 1})
    assert [cp["name"] for cp in page["data"]] == ["prod-eu"]
    assert page["meta"]["page"] == {"number": 1, "size": 1, "total": 2}


async def test_contains_takes_sql_wildcards_literally(api: Api) -> None:
    await create_cp(api, "a_b")
    await create_cp(api, "axb")
    await create_cp(api, "a%b")
    assert await cp_names(api, **{"filter[name][contains]": "_"}) == ["a_b"]
    assert await cp_names(api, **{"filter[name][contains]": "%"}) == ["a%b"]


async def test_name_filters_are_case_sensitive_on_every_backend(api: Api) -> None:
    """eq is case-sensitive everywhere; contains must agree with it, whatever the store."""
    await create_cp(api, "prod-us", labels={"env": "Prod"})
    assert await cp_names(api, **{"filter[name]": "PROD-US"}) == []
    assert await cp_names(api, **{"filter[name][contains]": "PROD"}) == []
    assert await cp_names(api, **{"filter[labels.env][ocontains]": "prod"}) == []
    assert await cp_names(api, **{"filter[labels.env][ocontains]": "Pro"}) == ["prod-us"]


@pytest.mark.parametrize(
    "key",
    [
        "filter[colour]",
        "filter[name][gt]",
        "filter[labels.env][gt]",
        "filter[labels.-bad]",
        "filter[description]",
        "filter",
    ],
)
async def test_unknown_filters_are_400_with_invalid_parameters(api: Api, key: str) -> None:
    r = await api.call("GET", CP, params={key: "x"})
    body = assert_problem(r, 400, field=key)
    assert len(body["invalid_parameters"]) == 1


async def test_oeq_without_any_value_is_400(api: Api) -> None:
    r = await api.call("GET", CP, params={"filter[labels.env][oeq]": ","})
    assert_problem(r, 400, field="filter[labels.env][oeq]")


# Optimistic concurrency


async def test_a_matching_if_match_succeeds_and_the_etag_increments(api: Api) -> None:
    cp = await create_cp(api, "prod")
    etag = (await api.call("GET", f"{CP}/{cp['id']}")).headers["ETag"]
    assert etag == '"1"'
    r = await api.call(
        "PATCH", f"{CP}/{cp['id']}", json={"description": "a"}, headers={"If-Match": etag}
    )
    assert expect(r, 200)["description"] == "a"
    assert r.headers["ETag"] == '"2"'
    r = await api.call(
        "PUT", f"{CP}/{cp['id']}", json={"name": "prod"}, headers={"If-Match": r.headers["ETag"]}
    )
    expect(r, 200)
    assert r.headers["ETag"] == '"3"'
    assert (await api.call("GET", f"{CP}/{cp['id']}")).headers["ETag"] == '"3"'


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_a_stale_if_match_is_409_and_changes_nothing(api: Api, method: str) -> None:
    cp = await create_cp(api, "prod", description="first")
    current = expect(
        await api.call("PATCH", f"{CP}/{cp['id']}", json={"description": "second"}), 200
    )
    r = await api.call(
        method,
        f"{CP}/{cp['id']}",
        json={"name": "prod", "description": "lost update"},
        headers={"If-Match": '"1"'},
    )
    assert_problem(r, 409)
    after = await api.call("GET", f"{CP}/{cp['id']}")
    assert expect(after, 200) == current
    assert after.headers["ETag"] == '"2"'


async def test_if_match_star_means_any_version(api: Api) -> None:
    cp = await create_cp(api, "prod")
    r = await api.call(
        "PATCH", f"{CP}/{cp['id']}", json={"description": "x"}, headers={"If-Match": "*"}
    )
    assert expect(r, 200)["description"] == "x"


@pytest.mark.parametrize("value", ["banana", '"v1"', '"-1"', "1.5"])
async def test_an_invalid_if_match_is_400(api: Api, value: str) -> None:
    cp = await create_cp(api, "prod")
    r = await api.call(
        "PATCH", f"{CP}/{cp['id']}", json={"description": "x"}, headers={"If-Match": value}
    )
    assert_problem(r, 400, field="If-Match")
    assert await _get(api, cp["id"]) == cp


# Deletion while zones are online (spec §1.6)


async def test_delete_is_400_naming_the_zone_while_one_is_online(api: Api) -> None:
    cp = await create_cp(api, "prod")
    org_id, cp_id = await my_org_id(api), UUID(cp["id"])
    await api.store.zones.create(org_id, cp_id, ZoneSettings("zone-1"))
    await api.store.zones.mark_connected(org_id, cp_id, "zone-1")

    body = assert_problem(await api.call("DELETE", f"{CP}/{cp['id']}"), 400)
    assert "zone-1" in body["detail"] and "still online" in body["detail"], body["detail"]
    assert await _get(api, cp["id"]) == cp

    await api.store.zones.mark_disconnected(org_id, cp_id, "zone-1")
    assert (await api.call("DELETE", f"{CP}/{cp['id']}")).status_code == 204
    assert_problem(await api.call("GET", f"{CP}/{cp['id']}"), 404)


async def test_a_zone_not_seen_for_too_long_does_not_block_deletion(api: Api) -> None:
    cp = await create_cp(api, "prod")
    org_id, cp_id = await my_org_id(api), UUID(cp["id"])
    await api.store.zones.create(org_id, cp_id, ZoneSettings("zone-1"))
    await api.store.zones.mark_connected(org_id, cp_id, "zone-1")
    long_ago = utcnow() - ZONE_STALE_AFTER - timedelta(seconds=1)
    async with api.store.write() as conn:
        await conn.execute(
            update(zones).where(zones.c.cp_id == cp_id).values(last_seen_at=long_ago)
        )
    assert (await api.call("DELETE", f"{CP}/{cp['id']}")).status_code == 204


async def test_a_zone_of_another_control_plane_does_not_block_deletion(api: Api) -> None:
    busy = await create_cp(api, "busy")
    idle = await create_cp(api, "idle")
    org_id = await my_org_id(api)
    await api.store.zones.create(org_id, UUID(busy["id"]), ZoneSettings("zone-1"))
    await api.store.zones.mark_connected(org_id, UUID(busy["id"]), "zone-1")
    assert (await api.call("DELETE", f"{CP}/{idle['id']}")).status_code == 204
    assert_problem(await api.call("DELETE", f"{CP}/{busy['id']}"), 400)

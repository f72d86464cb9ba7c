"""Bad input gets a 4xx problem+json naming what is wrong (spec §1.3, §1.5), never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from meshmanager.api.middleware import MAX_BODY_BYTES
from tests.conftest import Api
from tests.helpers import CP, assert_problem, cp_names, create_cp, create_user, expect

JSON = {"Content-Type": "application/json"}


async def _post_raw(api: Api, path: str, content: Any, **headers: str) -> Any:
    return await api.call("POST", path, content=content, headers={**JSON, **headers})


# Bodies that are not JSON objects


@pytest.mark.parametrize("content", [b"{", b'{"name": "a",}', b"nope", b'{"name": "a"} x'])
async def test_malformed_json_is_400_on_the_body(api: Api, content: bytes) -> None:
    assert_problem(await _post_raw(api, CP, content), 400, field="body", rule="invalid_json")


@pytest.mark.parametrize("content", [b"[]", b'"prod"', b"42", b"null"])
async def test_json_that_is_not_an_object_is_400(api: Api, content: bytes) -> None:
    assert_problem(await _post_raw(api, CP, content), 400, field="body")


async def test_an_empty_body_is_400(api: Api) -> None:
    assert_problem(await _post_raw(api, CP, b""), 400)


# Wrong types, unknown and missing fields


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": None}, "name"),
        ({"name": ["prod"]}, "name"),
        ({"name": "prod", "description": 3}, "description"),
        ({"name": "prod", "labels": "env=prod"}, "labels"),
        ({"name": "prod", "labels": ["env"]}, "labels"),
        ({"name": "prod", "labels": {"env": 1}}, "labels.env"),
        ({"name": "prod", "features": "all"}, "features"),
    ],
)
async def test_wrong_types_are_400_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    assert_problem(await api.call("POST", CP, json=body), 400, field=field, rule="type")
    assert await cp_names(api) == []


async def test_unknown_fields_are_400_unknown_property(api: Api) -> None:
    r = await api.call("POST", CP, json={"name": "prod", "colour": "red"})
    assert_problem(r, 400, field="colour", rule="unknown_property")
    cp = await create_cp(api, "prod")
    r = await api.call("PATCH", f"{CP}/{cp['id']}", json={"id": str(uuid4())})
    assert_problem(r, 400, field="id", rule="unknown_property")
    r = await api.call("PUT", f"{CP}/{cp['id']}", json={"name": "prod", "version": "v3"})
    assert_problem(r, 400, field="version", rule="unknown_property")


async def test_missing_name_is_400_required(api: Api) -> None:
    body = assert_problem(await api.call("POST", CP, json={}), 400, field="name", rule="required")
    assert body["detail"].startswith("name")
    r = await api.call("POST", CP, json={"description": "no name"})
    assert_problem(r, 400, field="name", rule="required")


async def test_every_invalid_field_is_reported(api: Api) -> None:
    body = {"name": "", "description": "x" * 251, "colour": "red"}
    problem = assert_problem(await api.call("POST", CP, json=body), 400)
    assert {p["field"] for p in problem["invalid_parameters"]} == {"name", "description", "colour"}
    assert "(and 2 more)" in problem["detail"]


# Field constraints of the MeshControlPlane object (spec §1.3)


async def test_name_length_limits(api: Api) -> None:
    assert_problem(await api.call("POST", CP, json={"name": "a" * 101}), 400, "name", "max_length")
    assert_problem(await api.call("POST", CP, json={"name": ""}), 400, "name", "min_length")
    await create_cp(api, "a" * 100)
    assert await cp_names(api) == ["a" * 100]


@pytest.mark.parametrize("name", ["-prod", " prod", "_prod", ".prod", "é-prod"])
async def test_name_must_start_with_a_letter_or_digit(api: Api, name: str) -> None:
    assert_problem(await api.call("POST", CP, json={"name": name}), 400, "name", "pattern")


@pytest.mark.parametrize("name", ["Test Control Plane", "9lives", "a", "prod/eu ✓"])
async def test_names_allowed_by_the_pattern(api: Api, name: str) -> None:
    assert (await create_cp(api, name))["name"] == name


async def test_at_most_10_labels(api: Api) -> None:
    eleven = {f"k{i}": "v" for i in range(11)}
    assert_problem(await api.call("POST", CP, json={"name": "a", "labels": eleven}), 400, "labels")
    cp = await create_cp(api, "a", labels={f"k{i}": "v" for i in range(10)})
    r = await api.call("PATCH", f"{CP}/{cp['id']}", json={"labels": eleven})
    assert_problem(r, 400, "labels")
    r = await api.call("PUT", f"{CP}/{cp['id']}", json={"name": "a", "labels": eleven})
    assert_problem(r, 400, "labels")
    assert len(expect(await api.call("GET", f"{CP}/{cp['id']}"), 200)["labels"]) == 10


@pytest.mark.parametrize(
    "labels",
    [
        {"": "v"},
        {"-env": "v"},
        {"env-": "v"},
        {"bad key": "v"},
        {"k" * 64: "v"},
        {"env": ""},
        {"env": "-prod"},
        {"env": "prod-"},
        {"env": "prod eu"},
        {"env": "prod/eu"},
        {"env": "v" * 64},
    ],
)
async def test_bad_label_keys_and_values_are_400(api: Api, labels: dict[str, str]) -> None:
    r = await api.call("POST", CP, json={"name": "a", "labels": labels})
    assert_problem(r, 400, "labels")


async def test_label_boundaries_that_are_allowed(api: Api) -> None:
    labels = {"k" * 63: "v" * 63, "kuma.io/zone": "eu-1", "a": "b", "x_y.z": "A.b_c-D"}
    assert (await create_cp(api, "a", labels=labels))["labels"] == labels


async def test_description_is_at_most_250_characters(api: Api) -> None:
    r = await api.call("POST", CP, json={"name": "a", "description": "d" * 251})
    assert_problem(r, 400, "description", "max_length")
    cp = await create_cp(api, "a", description="d" * 250)
    r = await api.call("PATCH", f"{CP}/{cp['id']}", json={"description": "d" * 251})
    assert_problem(r, 400, "description", "max_length")


@pytest.mark.parametrize(
    "features",
    [
        [{"type": "Teleportation", "teleportation": {"enabled": True}}],
        [{"type": "MeshCreation"}],
        [{"type": "MeshCreation", "meshCreation": {"enabled": "sometimes"}}],
        [{"type": "MeshCreation", "meshCreation": {"enabled": True}, "extra": 1}],
        [
            {"type": "MeshCreation", "meshCreation": {"enabled": True}},
            {"type": "MeshCreation", "meshCreation": {"enabled": False}},
        ],
    ],
)
async def test_bad_features_are_400(api: Api, features: list[dict[str, Any]]) -> None:
    r = await api.call("POST", CP, json={"name": "a", "features": features})
    body = assert_problem(r, 400)
    assert all(p["field"].startswith("features") for p in body["invalid_parameters"]), body


# Request size


async def test_a_body_over_2_mib_with_content_length_is_413(api: Api) -> None:
    content = b'{"name": "a", "description": "' + b"x" * MAX_BODY_BYTES + b'"}'
    r = await _post_raw(api, CP, content)
    assert "content-length" in r.request.headers
    body = assert_problem(r, 413)
    assert body["type"].endswith("payload-too-large")
    assert await cp_names(api) == []


async def test_a_streamed_body_over_2_mib_is_413(api: Api) -> None:
    """Without a Content-Length (chunked), the limit must still answer 413, not 400."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "a", "description": "'
        for _ in range(3):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    r = await api.call("POST", CP, content=chunks(), headers=JSON)
    assert "content-length" not in r.request.headers
    assert_problem(r, 413)
    assert await cp_names(api) == []


async def test_a_streamed_body_under_the_limit_is_accepted(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": '
        yield b'"streamed"}'

    r = await api.call("POST", CP, content=chunks(), headers=JSON)
    assert "content-length" not in r.request.headers
    assert expect(r, 201)["name"] == "streamed"


# Paths, routes and methods


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("cp_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
async def test_an_invalid_uuid_in_the_path_is_400(api: Api, method: str, cp_id: str) -> None:
    r = await api.call(method, f"{CP}/{cp_id}", json={"name": "a"})
    assert_problem(r, 400, field="cpId", rule="type")


@pytest.mark.parametrize(
    "path",
    [
        "/v3/users/not-a-uuid",
        "/v3/teams/not-a-uuid",
        "/v3/system-accounts/not-a-uuid",
        "/v3/users/not-a-uuid/access-tokens",
        "/v3/users/not-a-uuid/assigned-roles",
        "/v3/teams/not-a-uuid/users",
    ],
)
async def test_an_invalid_uuid_in_a_v3_path_is_400(api: Api, path: str) -> None:
    assert_problem(await api.call("GET", path), 400, field="id", rule="type")


@pytest.mark.parametrize("path", ["/nope", "/v1/nope", "/v2/mesh/control-planes", "/v3/nope"])
async def test_an_unknown_route_is_a_404_problem(api: Api, path: str) -> None:
    assert_problem(await api.call("GET", path), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", CP),
        ("PUT", CP),
        ("POST", f"{CP}/{uuid4()}"),
        ("PUT", "/v3/users"),
        ("DELETE", "/v3/organizations/me"),
    ],
)
async def test_a_wrong_method_is_a_405_problem(api: Api, method: str, path: str) -> None:
    r = await api.call(method, path, json={})
    assert_problem(r, 405)
    assert r.headers.get("Allow"), r.headers


# Paging parameters


@pytest.mark.parametrize(
    ("param", "value", "rule"),
    [
        ("page[size]", "0", "minimum"),
        ("page[size]", "101", "maximum"),
        ("page[size]", "-1", "minimum"),
        ("page[size]", "ten", "type"),
        ("page[number]", "0", "minimum"),
        ("page[number]", "1.5", "type"),
    ],
)
@pytest.mark.parametrize("path", [CP, "/v3/users", "/v3/teams", "/v3/organizations"])
async def test_bad_paging_is_400(api: Api, path: str, param: str, value: str, rule: str) -> None:
    assert_problem(await api.call("GET", path, params={param: value}), 400, param, rule)


# Identity endpoints


async def test_bad_user_input(api: Api) -> None:
    assert_problem(await api.call("POST", "/v3/users", json={"email": "nope"}), 400, "email")
    assert_problem(await api.call("POST", "/v3/users", json={}), 400, "email", "required")
    r = await api.call("POST", "/v3/users", json={"email": "a@b.example", "org_admin": "perhaps"})
    assert_problem(r, 400, "org_admin", "type")


async def test_bad_role_assignments(api: Api) -> None:
    user = await create_user(api, "u@acme.example")
    path = f"/v3/users/{user['id']}/assigned-roles"
    r = await api.call("POST", path, json={"role_name": "Deployer"})
    assert_problem(r, 400, "role_name", "enum")
    r = await api.call("POST", path, json={"role_name": "Viewer", "entity_type_name": "Gateways"})
    assert_problem(r, 400, "entity_type_name", "enum")
    r = await api.call("POST", path, json={"role_name": "Viewer", "entity_id": "not-a-uuid"})
    assert_problem(r, 400, "entity_id")
    r = await api.call("POST", path, json={"role_name": "Viewer", "entity_id": str(uuid4())})
    assert_problem(r, 400, "entity_id")
    cp = await create_cp(api, "prod")
    r = await api.call("POST", path, json={"role_name": "Creator", "entity_id": cp["id"]})
    assert_problem(r, 400, "entity_id")
    roles = expect(await api.call("GET", path), 200)
    assert roles["data"] == []


@pytest.mark.parametrize(
    ("expires_at", "rule"),
    [
        ("2000-01-01T00:00:00Z", "invalid"),
        ("2999-01-01T00:00:00Z", "maximum"),
        ("2030-01-01T00:00:00", "invalid"),
        ("tomorrow", "type"),
    ],
)
async def test_bad_token_expiry(api: Api, expires_at: str, rule: str) -> None:
    user = await create_user(api, "u@acme.example")
    r = await api.call(
        "POST",
        f"/v3/users/{user['id']}/access-tokens",
        json={"name": "t", "expires_at": expires_at},
    )
    assert_problem(r, 400, "expires_at", rule)


async def test_the_problem_instance_carries_the_request_id(api: Api) -> None:
    r = await api.call("GET", f"{CP}/{uuid4()}", headers={"X-Request-Id": "req-123"})
    body = assert_problem(r, 404)
    assert r.headers["X-Request-Id"] == "req-123"
    assert body["instance"].endswith(":req-123")

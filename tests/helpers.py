"""Small helpers shared by the API tests: problems, control planes, users, tokens, roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import update

from meshmanager.store.schema import access_tokens
from meshmanager.store.types import utcnow
from tests.conftest import Api

CP = "/v1/mesh/control-planes"
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://kongapi.info/konnect/"
DEFAULT_FEATURES = [
    {"type": "MeshCreation", "meshCreation": {"enabled": False}},
    {"type": "HostnameGeneratorCreation", "hostnameGeneratorCreation": {"enabled": False}},
]
_INSTANCE = re.compile(r"^[a-z]+:trace:\S+$")


def assert_problem(
    response: httpx.Response,
    status: int,
    field: str | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """Checks an application/problem+json error and, for a 400, the offending field and rule."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    content_type = response.headers.get("content-type", "")
    assert content_type.split(";")[0].strip() == PROBLEM_JSON, content_type
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["type"], str) and body["type"].startswith(TYPE_BASE), body["type"]
    assert isinstance(body["instance"], str) and _INSTANCE.match(body["instance"]), body
    assert isinstance(body["detail"], str) and body["detail"]
    if status == 400:
        params = body["invalid_parameters"]
        assert isinstance(params, list)
        for param in params:
            assert set(param) >= {"field", "rule", "reason"}, param
            assert all(isinstance(param[key], str) for key in ("field", "rule", "reason"))
    if field is not None:
        fields = [p["field"] for p in body["invalid_parameters"]]
        assert field in fields, f"{field!r} not among {fields}: {body}"
        if rule is not None:
            rules = [p["rule"] for p in body["invalid_parameters"] if p["field"] == field]
            assert rule in rules, f"rule {rule!r} not among {rules} for {field!r}: {body}"
    return body


def expect(response: httpx.Response, status: int) -> Any:
    """The JSON body of a response that must have `status` (None for an empty body)."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json() if response.content else None


async def create_cp(api: Api, name: str, token: str | None = None, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = expect(
        await api.call("POST", CP, token, json={"name": name, **fields}), 201
    )
    return result


async def list_cps(api: Api, token: str | None = None, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = expect(await api.call("GET", CP, token, params=params), 200)
    return result


async def cp_names(api: Api, token: str | None = None, **params: Any) -> list[str]:
    return [cp["name"] for cp in (await list_cps(api, token, **params))["data"]]


async def my_org_id(api: Api, token: str | None = None) -> UUID:
    return UUID(expect(await api.call("GET", "/v3/organizations/me", token), 200)["id"])


@dataclass
class Actor:
    """A user or system account with a token of its own."""

    id: str
    token: str
    kind: str = "users"  # the /v3 collection: "users" or "system-accounts"


async def create_user(
    api: Api, email: str, token: str | None = None, **fields: Any
) -> dict[str, Any]:
    result: dict[str, Any] = expect(
        await api.call("POST", "/v3/users", token, json={"email": email, **fields}), 201
    )
    return result


async def mint_token(
    api: Api, subject_id: str, kind: str = "users", token: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A new access token (with its one-time `token` secret), minted by `token`'s owner."""
    body = {"name": "t", **fields}
    result: dict[str, Any] = expect(
        await api.call("POST", f"/v3/{kind}/{subject_id}/access-tokens", token, json=body), 201
    )
    return result


async def new_user(api: Api, email: str, admin_token: str | None = None, **fields: Any) -> Actor:
    user = await create_user(api, email, admin_token, **fields)
    minted = await mint_token(api, user["id"], token=admin_token)
    return Actor(user["id"], minted["token"])


async def new_system_account(
    api: Api, name: str, admin_token: str | None = None, **fields: Any
) -> Actor:
    account = expect(
        await api.call("POST", "/v3/system-accounts", admin_token, json={"name": name, **fields}),
        201,
    )
    minted = await mint_token(api, account["id"], "system-accounts", admin_token)
    return Actor(account["id"], minted["token"], "system-accounts")


async def assign_role(
    api: Api,
    kind: str,
    subject_id: str,
    role: str,
    entity_id: str = "*",
    token: str | None = None,
) -> dict[str, Any]:
    body = {"role_name": role, "entity_type_name": "Mesh Control Planes", "entity_id": entity_id}
    path = f"/v3/{kind}/{subject_id}/assigned-roles"
    result: dict[str, Any] = expect(await api.call("POST", path, token, json=body), 201)
    return result


async def new_org(api: Api, name: str) -> tuple[dict[str, Any], str]:
    """A second organization, created by the bootstrap admin (a platform operator)."""
    body = {"name": name, "admin_email": f"admin@{name}.example"}
    created = expect(await api.call("POST", "/v3/organizations", json=body), 201)
    return created, created["admin_token"]["token"]


async def expire_token(api: Api, token_id: str) -> None:
    """Moves a token's expiry into the past, directly in the store."""
    async with api.store.write() as conn:
        await conn.execute(
            update(access_tokens)
            .where(access_tokens.c.id == UUID(token_id))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


async def no_auth(api: Api, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request without any Authorization header."""
    return await api.client.request(method, path, **kwargs)


async def with_header(
    api: Api, method: str, path: str, authorization: str, **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": authorization, **kwargs.pop("headers", {})}
    return await api.client.request(method, path, headers=headers, **kwargs)

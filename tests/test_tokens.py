"""Dataplane and zone tokens, and their signing keys, as a Kuma v2.14.3 global makes them
(pkg/core/tokens, pkg/tokens/builtin, pkg/util/rsa), so that Kuma zones can verify them."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from meshmanager.model.resources import signing
from meshmanager.model.resources.signing import (
    DataplaneTokenRequest,
    GoDurationError,
    InvalidSigningKey,
    ZoneTokenRequest,
)
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store.resources import ResourceQuery
from tests.conftest import Api
from tests.helpers import assign_role, create_cp, expect, my_org_id, new_user
from tests.test_kuma_api import assert_kuma_error

SECOND = 1_000_000_000
HOUR = 3600 * SECOND
DP_PREFIX = "dataplane-token-signing-key-default"
ZONE_PREFIX = "zone-token-signing-key"
NOW = datetime(2025, 3, 1, 12, 0, 30, 999_999, tzinfo=UTC)
NOW_S = 1740830430  # NOW in whole Unix seconds
NO_TIME_CHECKS = {"verify_exp": False, "verify_nbf": False, "verify_iat": False}


def _public_key(secret: Resource) -> rsa.RSAPublicKey:
    return signing.private_key(secret).public_key()


def _claims(token: str, secret: Resource, **options: bool) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token, _public_key(secret), algorithms=["RS256"], options={**NO_TIME_CHECKS, **options}
    )
    return claims


def _pem(secret: Resource) -> bytes:
    return base64.b64decode(secret.spec["data"])


@pytest.fixture(scope="module")
def dp_key() -> Resource:
    return signing.new_signing_key_secret(DP_PREFIX, "default")


@pytest.fixture(scope="module")
def zone_key() -> Resource:
    return signing.new_signing_key_secret(signing.ZONE_TOKEN_SIGNING_KEY_PREFIX)


# Signing keys


def test_dataplane_signing_key_is_a_secret_in_the_mesh_with_a_pkcs1_pem(dp_key: Resource) -> None:
    assert (dp_key.type, dp_key.mesh, dp_key.name) == ("Secret", "default", f"{DP_PREFIX}-1")
    assert dp_key.labels == {} and set(dp_key.spec) == {"data"}
    pem = _pem(dp_key)
    assert pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    assert pem.endswith(b"-----END RSA PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537


def test_zone_signing_key_is_a_global_secret(zone_key: Resource) -> None:
    assert (zone_key.type, zone_key.mesh, zone_key.name) == (
        "GlobalSecret",
        "",
        "zone-token-signing-key-1",
    )
    assert _pem(zone_key).startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    assert signing.dataplane_signing_key_prefix("payments") == (
        "dataplane-token-signing-key-payments"
    )


def test_the_newest_key_is_the_highest_serial(dp_key: Resource) -> None:
    def secret(name: str) -> Resource:
        return dp_key.with_changes(name=name)

    names = [DP_PREFIX, f"{DP_PREFIX}-1", f"{DP_PREFIX}-10", f"{DP_PREFIX}-2", f"{DP_PREFIX}-x"]
    others = [secret("other-secret-99"), secret("dataplane-token-signing-key-payments-99")]
    latest = signing.latest_signing_key([*map(secret, names), *others], DP_PREFIX)
    assert latest is not None and latest.name == f"{DP_PREFIX}-10"
    assert signing.latest_signing_key(others, DP_PREFIX) is None
    # The bare prefix is a Kuma 1.3 key, serial 0.
    legacy = signing.latest_signing_key([secret(DP_PREFIX)], DP_PREFIX)
    assert legacy is not None and signing.serial_number(legacy.name, DP_PREFIX) == 0
    assert signing.signing_key_name(DP_PREFIX, "0") == DP_PREFIX
    assert signing.serial_number(f"{DP_PREFIX}-+7", DP_PREFIX) == 7
    assert signing.serial_number(f"{DP_PREFIX}-1_0", DP_PREFIX) == 0


def test_the_public_key_a_zone_receives(zone_key: Resource) -> None:
    public = signing.zone_public_key_secret(zone_key.with_changes(labels={"team": "mesh"}))
    assert (public.type, public.name) == ("GlobalSecret", "zone-token-signing-public-key-1")
    assert public.labels == {"team": "mesh"}
    pem = _pem(public)
    assert pem.startswith(b"-----BEGIN RSA PUBLIC KEY-----\n")
    token = signing.issue_zone_token(zone_key, ZoneTokenRequest("zone-1", ["egress"]))
    key = serialization.load_pem_public_key(pem)
    assert jwt.decode(token, key, algorithms=["RS256"])["Zone"] == "zone-1"


def test_key_data_forms_kuma_reads(dp_key: Resource) -> None:
    key = signing.private_key(dp_key)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    legacy = dp_key.with_changes(spec={"data": base64.b64encode(der).decode()})
    assert signing.private_key(legacy).private_numbers() == key.private_numbers()
    url_safe = base64.urlsafe_b64encode(_pem(dp_key)).decode().rstrip("=")
    unpadded = dp_key.with_changes(spec={"data": url_safe})
    assert signing.private_key(unpadded).private_numbers() == key.private_numbers()
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for spec in ({"data": base64.b64encode(pkcs8).decode()}, {"data": "@@"}, {}):
        with pytest.raises(InvalidSigningKey):
            signing.private_key(dp_key.with_changes(spec=spec))


def test_signing_key_not_found_messages() -> None:
    assert signing.signing_key_not_found(DP_PREFIX, "default") == (
        'there is no signing key with KID 1. Secret of name "dataplane-token-signing-key-'
        'default-1" in mesh "default" is not found. If signing key was rotated, regenerate the'
        " token"
    )
    assert signing.signing_key_not_found(signing.ZONE_TOKEN_SIGNING_KEY_PREFIX) == (
        'there is no signing key with KID 1. GlobalSecret of name "zone-token-signing-key-1"'
        " is not found. If signing key was rotated, regenerate the token"
    )


# Tokens


def test_dataplane_token_header_and_claims(dp_key: Resource) -> None:
    request = DataplaneTokenRequest(
        mesh="default",
        name="dp-1",
        tags={"version": ["v2", "v1", "v2"], "kuma.io/service": ["web"], "empty": []},
        type="dataplane",
        workload="web-wl",
        valid_for_ns=24 * HOUR,
    )
    jti = str(uuid.uuid4())
    token = signing.issue_dataplane_token(dp_key, request, now=NOW, token_id=jti)
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "kid": "1", "typ": "JWT"}
    claims = _claims(token, dp_key)
    # Go field names in struct order, then the registered claims jwt-go writes.
    assert list(claims) == ["Name", "Mesh", "Tags", "Type", "Workload", "exp", "nbf", "iat", "jti"]
    assert claims == {
        "Name": "dp-1",
        "Mesh": "default",
        "Tags": {"kuma.io/service": ["web"], "version": ["v1", "v2"]},
        "Type": "dataplane",
        "Workload": "web-wl",
        "exp": NOW_S - 5 + 24 * 3600 + 5,
        "nbf": NOW_S - 5,
        "iat": NOW_S - 5,
        "jti": jti,
    }


def test_dataplane_token_with_defaults_keeps_empty_claims(dp_key: Resource) -> None:
    token = signing.issue_dataplane_token(dp_key, DataplaneTokenRequest(mesh="default"), now=NOW)
    claims = _claims(token, dp_key)
    assert (claims["Name"], claims["Tags"], claims["Type"], claims["Workload"]) == ("", {}, "", "")
    assert claims["exp"] - claims["iat"] == 10 * 365 * 24 * 3600 + 5
    assert uuid.UUID(claims["jti"]).version == 4


def test_zone_token_claims(zone_key: Resource) -> None:
    request = ZoneTokenRequest("zone-1", ["ingress", "egress"], valid_for_ns=0)
    token = signing.issue_zone_token(zone_key, request, now=NOW)
    assert jwt.get_unverified_header(token)["kid"] == "1"
    claims = _claims(token, zone_key)
    assert list(claims) == ["Zone", "Scope", "exp", "nbf", "iat", "jti"]
    assert (claims["Zone"], claims["Scope"]) == ("zone-1", ["ingress", "egress"])
    assert (claims["iat"], claims["exp"]) == (NOW_S - 5, NOW_S)


def test_a_fresh_token_is_valid_now_and_for_validfor(dp_key: Resource) -> None:
    request = DataplaneTokenRequest(mesh="default", valid_for_ns=HOUR)
    claims = _claims(signing.issue_dataplane_token(dp_key, request), dp_key, verify_exp=True)
    assert claims["nbf"] <= datetime.now(UTC).timestamp() < claims["exp"]
    expired = DataplaneTokenRequest(mesh="default", valid_for_ns=-HOUR)
    with pytest.raises(jwt.ExpiredSignatureError):
        _claims(signing.issue_dataplane_token(dp_key, expired), dp_key, verify_exp=True)


def test_the_kid_is_the_serial_and_only_that_key_verifies(dp_key: Resource) -> None:
    rotated = signing.new_signing_key_secret(DP_PREFIX, "default", "12")
    token = signing.issue_dataplane_token(rotated, DataplaneTokenRequest(mesh="default"))
    assert jwt.get_unverified_header(token)["kid"] == "12"
    assert _claims(token, rotated)["Mesh"] == "default"
    with pytest.raises(jwt.InvalidSignatureError):
        _claims(token, dp_key)
    legacy = dp_key.with_changes(name=DP_PREFIX)
    token = signing.issue_dataplane_token(legacy, DataplaneTokenRequest(mesh="default"))
    assert jwt.get_unverified_header(token)["kid"] == "0"


# validFor


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("24h0m0s", 24 * HOUR),
        ("1h30m0s", 90 * 60 * SECOND),
        ("10m0s", 600 * SECOND),
        ("0s", 0),
        ("0", 0),
        ("-0", 0),
        ("+5s", 5 * SECOND),
        ("-1.5h", -90 * 60 * SECOND),
        ("1.5h", 90 * 60 * SECOND),
        (".5s", SECOND // 2),
        ("1.s", SECOND),
        ("300ms", 300_000_000),
        ("2h45m", 165 * 60 * SECOND),
        ("1us", 1000),
        ("1\u00b5s", 1000),
        ("1\u03bcs", 1000),
        ("7ns", 7),
        ("1.0000000000000000000001s", SECOND),
        ("2562047h47m16.854775807s", 2**63 - 1),
    ],
)
def test_go_durations(text: str, nanoseconds: int) -> None:
    assert signing.parse_go_duration(text) == nanoseconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("abc", 'time: invalid duration "abc"'),
        ("-", 'time: invalid duration "-"'),
        (".s", 'time: invalid duration ".s"'),
        ("1", 'time: missing unit in duration "1"'),
        ("1h5", 'time: missing unit in duration "1h5"'),
        ("1x", 'time: unknown unit "x" in duration "1x"'),
        ("1 h", 'time: unknown unit " h" in duration "1 h"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("2\u00e9s", 'time: unknown unit "\\xc3\\xa9s" in duration "2\\xc3\\xa9s"'),
        ('1"', 'time: unknown unit "\\"" in duration "1\\""'),
        ("9999999999h", 'time: invalid duration "9999999999h"'),
        ("2562047h47m16.854775808s", 'time: invalid duration "2562047h47m16.854775808s"'),
        ("99999999999999999999ns", 'time: invalid duration "99999999999999999999ns"'),
    ],
)
def test_go_duration_errors_carry_gos_messages(text: str, message: str) -> None:
    with pytest.raises(GoDurationError) as error:
        signing.parse_go_duration(text)
    assert str(error.value) == message


def test_empty_valid_for_means_ten_years() -> None:
    assert signing.parse_valid_for("") == 10 * 365 * 24 * HOUR
    assert signing.parse_valid_for("0s") == 0


# The endpoints


async def _setup(api: Api, name: str = "tokens") -> tuple[str, str]:
    """(control plane id, Kuma API base) with the `default` mesh."""
    cp = await create_cp(api, name)
    base = f"/v1/mesh/control-planes/{cp['id']}/api"
    mesh = {"type": "Mesh", "name": "default"}
    expect(await api.call("PUT", f"{base}/meshes/default", json=mesh), 201)
    return cp["id"], base


async def _secret(api: Api, base: str, path: str) -> Resource:
    body = expect(await api.call("GET", f"{base}/{path}"), 200)
    return Resource(body["type"], body.get("mesh", ""), body["name"], {"data": body["data"]})


async def _stored(api: Api, cp_id: str, kind: str, mesh: str, prefix: str) -> list[str]:
    scope = CpScope(await my_org_id(api), uuid.UUID(cp_id))
    found, _ = await api.store.resources.find(scope, ResourceQuery(kind, mesh, prefix))
    return [r.name for r in found]


def _token_of(response: Any) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain"
    token: str = response.text
    return token


KUMACTL_DP_REQUEST = {
    "name": "dp-1",
    "mesh": "default",
    "tags": {"kuma.io/service": ["web", "api"]},
    "type": "dataplane",
    "workload": "",
    "validFor": "24h0m0s",
}


async def test_dataplane_token_as_kumactl_asks_for_it(api: Api) -> None:
    _, base = await _setup(api)
    token = _token_of(await api.call("POST", f"{base}/tokens/dataplane", json=KUMACTL_DP_REQUEST))
    key = await _secret(api, base, f"meshes/default/secrets/{DP_PREFIX}-1")
    assert jwt.get_unverified_header(token)["kid"] == "1"
    claims = _claims(token, key, verify_exp=True, verify_nbf=True)
    assert claims["Name"] == "dp-1" and claims["Mesh"] == "default"
    assert claims["Tags"] == {"kuma.io/service": ["api", "web"]}
    assert claims["exp"] - claims["iat"] == 24 * 3600 + 5


async def test_the_signing_key_is_created_once_and_reused(api: Api) -> None:
    cp_id, base = await _setup(api)
    url = f"{base}/tokens/dataplane"
    first = _token_of(await api.call("POST", url, json={"mesh": "default"}))
    second = _token_of(await api.call("POST", url, json={"mesh": "default", "name": "dp-2"}))
    assert await _stored(api, cp_id, "Secret", "default", DP_PREFIX) == [f"{DP_PREFIX}-1"]
    key = await _secret(api, base, f"meshes/default/secrets/{DP_PREFIX}-1")
    assert _claims(first, key)["jti"] != _claims(second, key)["jti"]


async def test_a_rotated_key_signs_new_tokens(api: Api) -> None:
    _, base = await _setup(api)
    url = f"{base}/tokens/dataplane"
    _token_of(await api.call("POST", url, json={"mesh": "default"}))
    rotated = signing.new_signing_key_secret(DP_PREFIX, "default", "2")
    body = {"type": "Secret", "mesh": "default", "name": rotated.name, **rotated.spec}
    expect(await api.call("PUT", f"{base}/meshes/default/secrets/{rotated.name}", json=body), 201)
    token = _token_of(await api.call("POST", url, json={"mesh": "default"}))
    assert jwt.get_unverified_header(token)["kid"] == "2"
    assert _claims(token, rotated)["Mesh"] == "default"


async def test_zone_token_and_its_global_secret(api: Api) -> None:
    cp_id, base = await _setup(api)
    url = f"{base}/tokens/zone"
    body = {"zone": "zone-1", "scope": ["ingress", "egress"], "validFor": "0s"}
    token = _token_of(await api.call("POST", url, json=body))
    key = await _secret(api, base, "globalsecrets/zone-token-signing-key-1")
    assert key.type == "GlobalSecret"
    claims = _claims(token, key)
    assert (claims["Zone"], claims["Scope"], claims["exp"] - claims["iat"]) == (
        "zone-1",
        ["ingress", "egress"],
        5,
    )
    _token_of(await api.call("POST", url, json={"zone": "zone-2", "scope": ["egress"]}))
    prefix = signing.ZONE_TOKEN_SIGNING_KEY_PREFIX
    assert await _stored(api, cp_id, "GlobalSecret", "", prefix) == [f"{prefix}-1"]


async def test_requests_decode_as_go_decodes_them(api: Api) -> None:
    _, base = await _setup(api)
    lenient = {"MESH": "default", "Name": "dp-9", "tags": None, "extra": [1], "workload": None}
    token = _token_of(await api.call("POST", f"{base}/tokens/dataplane", json=lenient))
    key = await _secret(api, base, f"meshes/default/secrets/{DP_PREFIX}-1")
    claims = _claims(token, key)
    assert (claims["Mesh"], claims["Name"], claims["Tags"]) == ("default", "dp-9", {})
    assert claims["exp"] - claims["iat"] == 10 * 365 * 24 * 3600 + 5
    # An empty scope is not null: Kuma issues it.
    token = _token_of(await api.call("POST", f"{base}/tokens/zone", json={"scope": []}))
    zone_key = await _secret(api, base, "globalsecrets/zone-token-signing-key-1")
    assert _claims(token, zone_key)["Scope"] == []


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("dataplane", b""),
        ("dataplane", b"not-valid-json"),
        ("dataplane", b"[]"),
        ("dataplane", b'"default"'),
        ("dataplane", b'{"mesh": 5}'),
        ("dataplane", b'{"mesh": "default", "tags": {"k": "v"}}'),
        ("dataplane", b'{"mesh": "default", "tags": {"k": [1]}}'),
        ("dataplane", b'{"mesh": "default", "validFor": 3600}'),
        ("zone", b""),
        ("zone", b'{"scope": "ingress"}'),
        ("zone", b'{"zone": true, "scope": []}'),
    ],
)
async def test_undecodable_bodies_get_a_bare_400(api: Api, endpoint: str, body: bytes) -> None:
    cp_id, base = await _setup(api)
    headers = {"content-type": "application/json"}
    response = await api.call("POST", f"{base}/tokens/{endpoint}", content=body, headers=headers)
    assert response.status_code == 400 and response.content == b""
    # Only the key created with the mesh: a refused request adds none.
    assert await _stored(api, cp_id, "Secret", "default", DP_PREFIX) == [f"{DP_PREFIX}-1"]
    assert await _stored(api, cp_id, "GlobalSecret", "", ZONE_PREFIX) == []


@pytest.mark.parametrize(
    ("endpoint", "body", "violations"),
    [
        ("dataplane", {}, [("mesh", "cannot be empty")]),
        ("dataplane", "null", [("mesh", "cannot be empty")]),
        (
            "dataplane",
            {"validFor": "1x", "type": "gateway"},
            [
                ("mesh", "cannot be empty"),
                ("validFor", 'is invalid: time: unknown unit "x" in duration "1x"'),
                ("type", "gateway is not a valid proxy type"),
            ],
        ),
        ("zone", {"zone": "z"}, [("scope", "cannot be empty")]),
        (
            "zone",
            {"zone": "z", "scope": None, "validFor": "abc"},
            [
                ("scope", "cannot be empty"),
                ("validFor", 'is invalid: time: invalid duration "abc"'),
            ],
        ),
    ],
)
async def test_invalid_requests_get_kumas_violations(
    api: Api, endpoint: str, body: Any, violations: list[tuple[str, str]]
) -> None:
    _, base = await _setup(api)
    content = body if isinstance(body, str) else json.dumps(body)
    headers = {"content-type": "application/json"}
    url = f"{base}/tokens/{endpoint}"
    response = await api.call("POST", url, content=content, headers=headers)
    error = assert_kuma_error(response, 400, "Invalid request")
    assert error["detail"] == "Resource is not valid"
    assert [(p["field"], p["reason"]) for p in error["invalid_parameters"]] == violations


async def test_a_mesh_that_does_not_exist_has_no_signing_key(api: Api) -> None:
    cp_id, base = await _setup(api)
    url = f"{base}/tokens/dataplane"
    response = await api.call("POST", url, json={"mesh": "nope"})
    error = assert_kuma_error(response, 404, "Signing Key not found")
    prefix = signing.dataplane_signing_key_prefix("nope")
    assert error["detail"] == signing.signing_key_not_found(prefix, "nope")
    assert await _stored(api, cp_id, "Secret", "nope", prefix) == []


async def test_only_admins_get_tokens(api: Api) -> None:
    cp_id, base = await _setup(api)
    viewer = await new_user(api, "viewer@acme.example")
    await assign_role(api, "users", viewer.id, "Viewer", cp_id)
    for endpoint, body in (
        ("dataplane", {"mesh": "default"}),
        ("zone", {"zone": "z", "scope": ["ingress"]}),
    ):
        url = f"{base}/tokens/{endpoint}"
        assert_kuma_error(await api.call("POST", url, viewer.token, json=body), 403)
        assert_kuma_error(await api.client.post(url, json=body), 401)
    assert await _stored(api, cp_id, "Secret", "default", DP_PREFIX) == [f"{DP_PREFIX}-1"]
    prefix = signing.ZONE_TOKEN_SIGNING_KEY_PREFIX
    assert await _stored(api, cp_id, "GlobalSecret", "", prefix) == []


async def test_kong_mesh_access_roles_govern_token_generation(api: Api) -> None:
    cp_id, base = await _setup(api)
    operator = await new_user(api, "operator@acme.example")
    await assign_role(api, "users", operator.id, "Admin", cp_id)
    url = f"{base}/tokens/dataplane"
    _token_of(await api.call("POST", url, operator.token, json={"mesh": "default"}))
    role = {
        "type": "AccessRole",
        "name": "dp-tokens",
        "rules": [{"access": ["GENERATE_DATAPLANE_TOKEN"], "mesh": "other"}],
    }
    binding = {
        "type": "AccessRoleBinding",
        "name": "default",
        "subjects": [{"type": "User", "name": "operator@acme.example"}],
        "roles": ["dp-tokens"],
    }
    expect(await api.call("PUT", f"{base}/access-roles/dp-tokens", json=role), 201)
    expect(await api.call("PUT", f"{base}/access-role-bindings/default", json=binding), 200)
    denied = await api.call("POST", url, operator.token, json={"mesh": "default"})
    assert_kuma_error(denied, 403, "Access Denied")
    zone_denied = await api.call("POST", f"{base}/tokens/zone", operator.token, json={"scope": []})
    assert_kuma_error(zone_denied, 403, "Access Denied")
    _token_of(await api.call("POST", url, json={"mesh": "default"}))  # the org admin

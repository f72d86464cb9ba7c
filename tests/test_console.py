"""The console's auth machinery (passwords, sessions, CSRF, rate limiting) and its pages
through the ASGI app, on both store backends."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from meshmanager.api.app import create_app
from meshmanager.api.kuma.envoy_admin import ForwardingFailed
from meshmanager.model.errors import NotFound
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import Store
from meshmanager.store.console import credentials_by_email
from meshmanager.store.resources import Create
from meshmanager.store.zones import ZoneSettings
from meshmanager.tenancy.bootstrap import bootstrap
from meshmanager.tenancy.passwords import (
    ScryptCost,
    hash_password,
    password_epoch,
    set_password_by_email,
    verify_password,
)
from meshmanager.ui.app import ConsoleSettings, with_console
from meshmanager.ui.auth import (
    LoginLimiter,
    csrf_matches,
    csrf_token,
    new_session,
    read_session,
    sign_session,
)
from meshmanager.ui.data import line_of_path
from tests.console_data import dataplane, fleet

KEY = b"k" * 32
CHEAP = ScryptCost(n=2**10)
EMAIL = "admin@acme.example"
PASSWORD = "a long enough password"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- units ---------------------------------------------------------------------------


def test_passwords_are_salted_scrypt_and_verify() -> None:
    first, second = hash_password("s3cret-pass", CHEAP), hash_password("s3cret-pass", CHEAP)
    assert first.startswith("scrypt$1024$8$1$") and first != second
    assert verify_password("s3cret-pass", first)
    assert not verify_password("s3cret-pasS", first)
    assert not verify_password("s3cret-pass", None)
    assert not verify_password("s3cret-pass", "bcrypt$whatever")
    assert not verify_password("s3cret-pass", "scrypt$x$y")


def test_sessions_are_signed_and_expire() -> None:
    session = new_session("token", __import__("uuid").uuid4(), token_hash="ab" * 32, now=1000)
    cookie = sign_session(KEY, session)
    assert read_session(KEY, cookie, now=1001) == session
    assert read_session(b"other" * 8, cookie, now=1001) is None
    payload, mac = cookie.split(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    assert read_session(KEY, tampered, now=1001) is None
    assert read_session(KEY, cookie, now=session.expires) is None
    assert read_session(KEY, "garbage", now=1001) is None
    assert read_session(KEY, None) is None


def test_csrf_tokens_are_bound_to_the_session() -> None:
    token = csrf_token(KEY, "nonce-1")
    assert csrf_matches(KEY, "nonce-1", token)
    assert not csrf_matches(KEY, "nonce-2", token)
    assert not csrf_matches(KEY, "nonce-1", None)
    assert not csrf_matches(KEY, "nonce-1", "")


def test_login_limiter_windows() -> None:
    limiter = LoginLimiter(per_account=3, per_address=5, window_seconds=60)
    for _ in range(3):
        assert limiter.retry_after("1.1.1.1", "a@x", now=0) == 0
        limiter.failed("1.1.1.1", "a@x", now=0)
    assert limiter.retry_after("1.1.1.1", "A@X", now=1) == 60
    assert limiter.retry_after("1.1.1.1", "b@x", now=1) == 0  # another account
    limiter.failed("1.1.1.1", "b@x", now=1)
    limiter.failed("1.1.1.1", "c@x", now=1)
    assert limiter.retry_after("1.1.1.1", "d@x", now=2) > 0  # the address is spent
    assert limiter.retry_after("2.2.2.2", "d@x", now=2) == 0
    assert limiter.retry_after("1.1.1.1", "a@x", now=61) == 0  # the window slid
    limiter.succeeded("b@x")


def test_field_paths_map_to_yaml_lines() -> None:
    text = (
        "type: X\nspec:\n  from:\n    - targetRef:\n        kind: Mesh\n"
        "      default:\n        action: Allo\n"
    )
    assert line_of_path(text, "spec.from[0].default.action") == 7
    assert line_of_path(text, "spec.from[0].targetRef.kind") == 5
    assert line_of_path(text, "spec.missing.deeper") == 2
    assert line_of_path(text, 'labels["kuma.io/origin"]') == 1
    assert line_of_path("a: [", "a") is None


# --- pages ---------------------------------------------------------------------------


@dataclass
class Browser:
    client: httpx.AsyncClient
    store: Store
    token: str
    settings: ConsoleSettings

    def csrf(self, response: httpx.Response) -> str:
        match = _CSRF.search(response.text)
        assert match, response.text[:500]
        return match.group(1)

    async def get(self, path: str, status: int = 200) -> httpx.Response:
        response = await self.client.get(path)
        assert response.status_code == status, (
            f"{path}: {response.status_code} {response.text[:800]}"
        )
        return response

    async def post(
        self, path: str, data: dict[str, Any], page: str | None = None
    ) -> httpx.Response:
        form = await self.client.get(page or path)
        return await self.client.post(path, data={"csrf_token": self.csrf(form), **data})

    async def sign_in_with_token(self, token: str | None = None) -> httpx.Response:
        return await self.post(
            "/login", {"method": "token", "token": token or self.token, "next": "/control-planes"}
        )


@pytest.fixture
async def browser(store: Store) -> AsyncIterator[Browser]:
    created = await bootstrap(store, "acme", EMAIL, None)
    assert created is not None
    settings = ConsoleSettings()
    app = with_console(create_app(store), store, settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Browser(client, store, created.token, settings)


async def test_pages_need_a_session(browser: Browser) -> None:
    response = await browser.client.get("/control-planes/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/control-planes/new"
    htmx = await browser.client.get("/control-planes", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/login")
    # The API keeps its own answers.
    assert (await browser.client.get("/v1/mesh/control-planes")).status_code == 401


async def test_password_sign_in_rate_limit_and_sign_out(browser: Browser) -> None:
    no_password = await browser.post("/login", {"email": EMAIL, "password": PASSWORD})
    assert no_password.status_code == 401  # no password set yet
    await set_password_by_email(browser.store, EMAIL, PASSWORD)
    wrong = await browser.post("/login", {"email": EMAIL, "password": "wrong one!!"})
    assert wrong.status_code == 401 and "not right" in wrong.text
    ok = await browser.post("/login", {"email": EMAIL, "password": PASSWORD, "next": "/account"})
    assert ok.status_code == 303 and ok.headers["location"] == "/account"
    cookie = ok.headers["set-cookie"]
    assert "mm_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = await browser.get("/account")
    assert EMAIL in page.text
    out = await browser.post("/logout", {}, page="/account")
    assert out.status_code == 303
    await browser.get("/account", status=303)
    for _ in range(5):  # the limit per account, counted since the last success
        await browser.post("/login", {"email": EMAIL, "password": "wrong one!!"})
    limited = await browser.post("/login", {"email": EMAIL, "password": PASSWORD})
    assert limited.status_code == 429 and "Too many" in limited.text


async def test_forms_without_the_csrf_token_are_refused(browser: Browser) -> None:
    login = await browser.client.post("/login", data={"method": "token", "token": browser.token})
    assert login.status_code == 403
    await browser.sign_in_with_token()
    forged = await browser.client.post("/control-planes/new", data={"name": "x"})
    assert forged.status_code == 403 and "Form expired" in forged.text
    cross = await browser.client.post(
        "/control-planes/new",
        data={"name": "x", "csrf_token": browser.csrf(await browser.get("/control-planes/new"))},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    items, total = await browser.store.control_planes.list(
        (await browser.store.identity.bootstrap_admin())[0],  # type: ignore[index]
        __import__("meshmanager.model.paging", fromlist=["PageRequest"]).PageRequest(1, 10),
    )
    assert total == 0 and items == []


async def test_a_new_password_ends_other_sessions_and_revoked_tokens_end_theirs(
    browser: Browser,
) -> None:
    await set_password_by_email(browser.store, EMAIL, PASSWORD)
    await browser.post("/login", {"email": EMAIL, "password": PASSWORD})
    await browser.get("/control-planes")
    found = await credentials_by_email(browser.store, EMAIL)
    assert found is not None and password_epoch(found.password_hash)
    await set_password_by_email(browser.store, EMAIL, "another long password")
    await browser.get("/control-planes", status=303)
    # Token sessions end with their token.
    await browser.sign_in_with_token()
    await browser.get("/control-planes")
    admin = await browser.store.identity.bootstrap_admin()
    assert admin is not None
    page = await browser.post(
        f"/organization/users/{admin[1]}/action",
        {"action": "create-token", "name": "console", "lifetime": "7"},
        page=f"/organization/users/{admin[1]}",
    )
    secret = re.search(r"kpat_[A-Za-z0-9]+", page.text)
    assert secret and "will not be shown again" in page.text
    browser.client.cookies.clear()
    await browser.sign_in_with_token(secret.group(0))
    listing = await browser.get(f"/organization/users/{admin[1]}")
    token_id = re.findall(r'name="token_id" value="([^"]+)"', listing.text)
    assert len(token_id) == 2
    names = re.findall(r'aria-label="Revoke token ([^"]+)"', listing.text)
    revoke = token_id[names.index("console")]
    done = await browser.post(
        f"/organization/users/{admin[1]}/action",
        {"action": "revoke-token", "token_id": revoke},
        page=f"/organization/users/{admin[1]}",
    )
    assert done.status_code == 303
    await browser.get("/control-planes", status=303)


async def test_control_plane_mesh_policy_and_affected_dataplanes(browser: Browser) -> None:
    await browser.sign_in_with_token()
    bad = await browser.post("/control-planes/new", {"name": "-bad", "labels": "nope"})
    assert bad.status_code == 400 and "is not key=value" in bad.text
    created = await browser.post(
        "/control-planes/new", {"name": "prod", "labels": "env=prod", "mesh": "on"}
    )
    assert created.status_code == 303
    base = created.headers["location"]
    twice = await browser.post("/control-planes/new", {"name": "prod"}, page="/control-planes/new")
    assert twice.status_code == 400 and "already exists" in twice.text
    overview = await browser.get(base)
    assert "kumactl config control-planes add --name prod" in overview.text
    assert f"--address http://testserver/v1/mesh/control-planes/{base.split('/')[-1]}/api" in (
        overview.text
    )

    mesh = await browser.post(
        f"{base}/meshes-new", {"name": "pay", "mtls": "on", "backend": "ca-1"}
    )
    assert mesh.status_code == 303, mesh.text
    page = await browser.get(f"{base}/meshes/pay")
    assert "mTLS is enabled but the mesh has no MeshTrafficPermission" in page.text
    assert "enabledBackend: ca-1" in page.text

    admin = await browser.store.identity.bootstrap_admin()
    assert admin is not None
    scope = CpScope(admin[0], __import__("uuid").UUID(base.split("/")[-1]))
    await browser.store.resources.bulk_create(
        scope,
        fleet("pay", 30, zones=2, services=3)
        + dataplane("pay", "old-one", "svc-00", version="2.9.0", online=False),
    )
    listing = await browser.get(f"{base}/meshes/pay/dataplanes?status=offline&zone=zone-1")
    assert "of 31 data plane proxies match" in listing.text
    assert "spiffe://pay/svc-00" in listing.text
    detail = await browser.get(f"{base}/meshes/pay/dataplanes/dp-00000")
    assert "Certificate generation" in detail.text
    assert "dp-00000/envoy/xds" in detail.text
    await _envoy_admin_through_the_zone(browser, f"{base}/meshes/pay/dataplanes/dp-00000")

    yaml_text = (
        "type: MeshTimeout\nmesh: pay\nname: t1\nspec:\n  targetRef:\n    kind: MeshSubset\n"
        "    tags:\n      kuma.io/service: svc-01\n  to:\n    - targetRef:\n        kind: Mesh\n"
        "      default:\n        connectionTimeout: forever\n"
    )
    apply = f"{base}/apply?type=MeshTimeout&mesh=pay"
    invalid = await browser.post(apply, {"yaml": yaml_text})
    assert invalid.status_code == 400
    assert "spec.to[0].default.connectionTimeout" in invalid.text
    assert "line 13" in invalid.text
    broken = await browser.post(apply, {"yaml": "type: [\n"})
    assert broken.status_code == 400 and "not valid YAML" in broken.text
    ok = await browser.post(apply, {"yaml": yaml_text.replace("forever", "2s")})
    assert ok.status_code == 303, ok.text
    policy = await browser.get(ok.headers["location"])
    assert 'id="affected-count">(10)' in policy.text
    edit = await browser.get(f"{base}/apply?type=MeshTimeout&mesh=pay&name=t1")
    assert "connectionTimeout: 2s" in edit.text

    # Deleting the control plane is refused while a zone is online, with the reason.
    await browser.store.zones.create(scope.org_id, scope.cp_id, ZoneSettings("zone-1"))
    await browser.store.zones.mark_connected(scope.org_id, scope.cp_id, "zone-1")
    refused = await browser.post(f"{base}/delete", {"confirm_name": "prod"}, page=base)
    assert refused.status_code == 409 and "zone &#34;zone-1&#34; is still online" in refused.text
    for path in ("/zones", "/zones/zone-1", "/rbac", "/meshes", "/meshes/pay/services"):
        await browser.get(base + path)
    for path in ("/meshes/pay/gateways", "/meshes/pay/policies?type=MeshTimeout", "/edit"):
        await browser.get(base + path)


async def test_organization_pages(browser: Browser) -> None:
    await browser.sign_in_with_token()
    made = await browser.post(
        "/organization/users",
        {"email": "dev@acme.example", "full_name": "Dev", "password": "short"},
    )
    assert made.status_code == 400 and "at least 10 characters" in made.text
    made = await browser.post("/organization/teams", {"name": "platform"})
    assert made.status_code == 303
    teams = await browser.get("/organization/teams")
    assert "platform" in teams.text
    sa = await browser.post("/organization/system-accounts", {"name": "ci"})
    assert sa.status_code == 303
    await browser.get("/organization/nope", status=404)


_SECRET = re.compile(r"mzc_[a-z2-7]{32}")


async def test_zone_wizard_live_name_check_material_and_wait(browser: Browser) -> None:
    await browser.sign_in_with_token()
    base = (await browser.post("/control-planes/new", {"name": "prod"})).headers["location"]
    scope = CpScope(
        (await browser.store.identity.bootstrap_admin())[0],  # type: ignore[index]
        __import__("uuid").UUID(base.split("/")[-1]),
    )
    wizard = await browser.get(f"{base}/zones-new")
    assert 'value="kubernetes" checked' in wizard.text and "Universal" in wizard.text
    assert f'hx-get="{base}/zones-new/name"' in wizard.text

    # The name is checked live, as the user types: format first, then the store.
    for name, message in [
        ("Zone-1", "Use lowercase letters"),
        ("zone_1", "Use only lowercase letters, digits and hyphens"),
        ("1zone", "Start with a lowercase letter"),
        ("zone-", "End with a letter or a digit"),
        ("z" * 64, "At most 63 characters: this one has 64"),
    ]:
        check = await browser.get(f"{base}/zones-new/name?name={name}")
        assert message in check.text and 'role="alert"' in check.text, name
    free = await browser.get(f"{base}/zones-new/name?name={'z' * 63}")
    assert "is available" in free.text and "alert" not in free.text

    # Step 1 to step 2: the credential and the Helm values, shown once.
    step2 = await browser.post(
        f"{base}/zones-new", {"environment": "kubernetes", "name": "zone-1", "ingress": "on"}
    )
    assert step2.status_code == 200, step2.text[:500]
    assert "will not be shown again" in step2.text
    secret = _SECRET.search(step2.text)
    assert secret is not None
    assert f"kdsGlobalAddress: grpcs://zone-1:{secret.group(0)}@127.0.0.1:5685" in step2.text
    assert "helm install kuma kuma/kuma --version 2.14.3" in step2.text
    assert "ingress:\n  enabled: true\negress:\n  enabled: false" in step2.text
    assert "kds-ca.pem" not in step2.text  # no CA configured: the operator's certificate
    assert step2.headers["cache-control"] == "no-store"
    assert (await browser.store.zones.check_credential(secret.group(0))).outcome == "ok"
    assert await browser.store.resources.get(scope, "Zone", "", "zone-1") is not None
    # Step 3: waiting, polled by htmx.
    assert f'hx-get="{base}/zones/zone-1/_connection" hx-trigger="every 2s"' in step2.text

    # The name is now taken: live, and on submit next to the field.
    taken = await browser.get(f"{base}/zones-new/name?name=zone-1")
    assert "A zone named “zone-1” already exists in this control plane" in taken.text
    twice = await browser.post(
        f"{base}/zones-new",
        {"environment": "universal", "name": "zone-1"},
        page=f"{base}/zones-new",
    )
    assert twice.status_code == 409
    assert re.search(r'id="name-check".*\n<p class="field-error"[^>]*>A zone named', twice.text)
    assert 'value="universal" checked' in twice.text  # the form keeps what was chosen

    # Universal, with this server's own CA: kuma-cp config, env vars and the CA file.
    browser.settings.kds_ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    browser.settings.kds_address = "grpcs://kds.example.com:5685"
    uni = await browser.post(
        f"{base}/zones-new",
        {"environment": "universal", "name": "vm-zone", "egress": "on"},
        page=f"{base}/zones-new",
    )
    assert uni.status_code == 200
    assert "kuma-cp run --config-file zone.yaml" in uni.text
    assert "export KUMA_MULTIZONE_ZONE_GLOBAL_ADDRESS=&#39;grpcs://vm-zone:mzc_" in uni.text
    assert "@kds.example.com:5685" in uni.text
    assert "rootCaFile: /etc/kuma/kds-ca.pem" in uni.text
    assert "MIIB" in uni.text and "self-signed" in uni.text
    assert "kuma-dp run --proxy-type=egress" in uni.text

    waiting = await browser.get(f"{base}/zones/zone-1/_connection")
    assert "Waiting for the zone “zone-1” to connect" in waiting.text
    assert 'hx-trigger="every 2s"' in waiting.text
    await browser.store.zones.mark_connected(scope.org_id, scope.cp_id, "zone-1")
    done = await browser.get(f"{base}/zones/zone-1/_connection")
    assert "Done! The zone “zone-1” is now connected." in done.text
    assert "hx-trigger" not in done.text  # polling stops
    assert f'href="{base}/zones/zone-1"' in done.text
    assert 'id="wizard-steps" aria-label="Progress" hx-swap-oob="true"' in done.text

    # The list: environment icon, status, warnings.
    listing = await browser.get(f"{base}/zones")
    assert 'aria-label="Kubernetes"' in listing.text and 'aria-label="Universal"' in listing.text
    assert "vm-zone" in listing.text and "Offline" in listing.text


async def test_zone_rotate_and_delete_refused_while_online(browser: Browser) -> None:
    await browser.sign_in_with_token()
    base = (await browser.post("/control-planes/new", {"name": "prod"})).headers["location"]
    org_id = (await browser.store.identity.bootstrap_admin())[0]  # type: ignore[index]
    cp_id = __import__("uuid").UUID(base.split("/")[-1])
    step2 = await browser.post(
        f"{base}/zones-new", {"environment": "universal", "name": "edge"}, page=f"{base}/zones-new"
    )
    first = _SECRET.search(step2.text)
    assert first is not None
    await browser.store.zones.mark_connected(org_id, cp_id, "edge")
    zone_page = f"{base}/zones/edge"
    detail = await browser.get(zone_page)
    assert first.group(0)[:8] + "…" in detail.text and "Rotate credential" in detail.text
    await _zone_proxy_pages(browser, CpScope(org_id, cp_id), zone_page)

    # Rotating shows a new credential and its material once; the old one stops working.
    rotated = await browser.post(f"{zone_page}/rotate", {}, page=zone_page)
    assert rotated.status_code == 200
    second = _SECRET.search(rotated.text)
    assert second is not None and second.group(0) != first.group(0)
    assert "will not be shown again" in rotated.text and "zone.yaml" in rotated.text
    assert (await browser.store.zones.check_credential(first.group(0))).outcome == "revoked"
    assert (await browser.store.zones.check_credential(second.group(0))).outcome == "ok"
    no_csrf = await browser.client.post(f"{zone_page}/rotate", data={})
    assert no_csrf.status_code == 403

    # Deleting is refused while the zone is online, with the reason; "force" deletes.
    refused = await browser.post(f"{zone_page}/delete", {}, page=zone_page)
    assert refused.status_code == 409
    assert "Zone “edge” is online, so it was not deleted" in refused.text
    assert 'id="delete-error"' in refused.text
    await browser.store.zones.get(org_id, cp_id, "edge")
    deleted = await browser.post(f"{zone_page}/delete", {"force": "on"}, page=zone_page)
    assert deleted.status_code == 303 and deleted.headers["location"] == f"{base}/zones"
    with pytest.raises(NotFound):
        await browser.store.zones.get(org_id, cp_id, "edge")
    assert (await browser.store.zones.check_credential(second.group(0))).outcome == "unknown"
    listing = await browser.get(f"{base}/zones")
    assert "Zone edge deleted." in listing.text and "No zones yet" in listing.text
    # An offline zone is deleted without force.
    await browser.post(
        f"{base}/zones-new", {"environment": "universal", "name": "gone"}, page=f"{base}/zones-new"
    )
    quiet = await browser.post(f"{base}/zones/gone/delete", {}, page=f"{base}/zones/gone")
    assert quiet.status_code == 303


class _Forwarder:
    """Stands in for the KDS server's envoy-admin streams (tested end to end in
    tests/test_kds_envoy_admin.py)."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str, str]] = []

    def connected(self, cp_id: uuid.UUID, zone: str, kind: str) -> bool:
        return True

    async def forward(
        self, cp_id: uuid.UUID, zone: str, kind: str, resource: Any, json_format: bool = False
    ) -> bytes:
        self.asked.append((zone, kind, resource.name))
        if self.answer is None:
            raise ForwardingFailed("zone 'zone-1' did not answer within 15s")
        return self.answer


async def _envoy_admin_through_the_zone(browser: Browser, page: str) -> None:
    offline = await browser.get(f"{page}/envoy/xds")
    assert "is not connected to this server" in offline.text
    forwarder = _Forwarder(b'{"configs": ["<dump>"]}')
    browser.settings.envoy_admin = forwarder
    dump = await browser.get(f"{page}/envoy/xds")
    assert "&lt;dump&gt;" in dump.text and forwarder.asked[0][1:] == ("xds", "dp-00000")
    browser.settings.envoy_admin = _Forwarder(None)
    failed = await browser.get(f"{page}/envoy/stats")
    assert "did not answer within 15s" in failed.text
    await browser.get(f"{page}/envoy/other", status=404)
    browser.settings.envoy_admin = None


async def _zone_proxy_pages(browser: Browser, scope: CpScope, zone_page: str) -> None:
    labels = {"kuma.io/origin": "zone", "kuma.io/zone": "edge"}
    ingress = Resource(
        "ZoneIngress",
        "",
        "ingress-1",
        {
            "zone": "edge",
            "networking": {"address": "10.0.0.9", "port": 10001, "advertisedAddress": "1.2.3.4"},
            "availableServices": [
                {"mesh": "pay", "tags": {"kuma.io/service": "web"}, "instances": 2}
            ],
        },
        labels,
    )
    insight = Resource(
        "ZoneIngressInsight",
        "",
        "ingress-1",
        {"subscriptions": [{"id": "s1", "controlPlaneInstanceId": "edge-cp", "connectTime": "t"}]},
        labels,
    )
    await browser.store.resources.write(scope, [Create(ingress), Create(insight)])
    listing = await browser.get(zone_page)
    assert f"{zone_page}/zoneingresses/ingress-1" in listing.text
    page = await browser.get(f"{zone_page}/zoneingresses/ingress-1")
    assert "Zone Ingress" in page.text and "1.2.3.4" in page.text and "edge-cp" in page.text
    assert "kuma.io/service=web" in page.text and "Online" in page.text
    await browser.get(f"{zone_page}/zoneingresses/missing", status=404)
    await browser.get(f"{zone_page}/dataplanes/ingress-1", status=404)

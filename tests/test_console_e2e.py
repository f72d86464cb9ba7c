"""The console in a real browser (Debian's chromium, driven by Playwright) against a real
server process on PostgreSQL: sign-in, control planes, meshes with mTLS, policies from
YAML with a validation error, affected proxies, tokens. Saves screenshots of the main
pages to docs/screenshots/.

Without chromium or Playwright these tests are skipped locally and fail under CI=true.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import open_store
from meshmanager.store.zones import ZoneSettings
from tests.console_data import dataplane, fleet
from tests.server_process import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CHROMIUM = os.environ.get("MESHMANAGER_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ADMIN_TOKEN = "kpat_" + "E2e" * 15
ADMIN_EMAIL = "admin@acme.example"
PASSWORD = "correct horse battery"


def _need_browser() -> None:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install playwright)")
    if missing:
        message = "the console's browser tests need " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def server(tmp_path: Path, fresh_postgres_url: str) -> Iterator[ServerProcess]:
    _need_browser()
    process = ServerProcess(
        tmp_path, fresh_postgres_url, env={"MESHMANAGER_ADMIN_TOKEN": ADMIN_TOKEN}
    )
    process.env["MESHMANAGER_ADMIN_EMAIL"] = ADMIN_EMAIL
    process.env["MESHMANAGER_ORG_NAME"] = "acme"
    process.start()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "meshmanager",
            "admin",
            "set-password",
            ADMIN_EMAIL,
            "--store",
            fresh_postgres_url,
            "--data-dir",
            str(tmp_path),
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    try:
        yield process
    finally:
        process.terminate()


async def _seed(store_url: str, cp_id: str, items: list[Resource]) -> None:
    store = await open_store(store_url, migrate=False)
    try:
        admin = await store.identity.bootstrap_admin()
        assert admin is not None
        scope = CpScope(admin[0], UUID(cp_id))
        await store.resources.bulk_create(scope, items)
        for zone in (item.name for item in items if item.type == "ZoneInsight"):
            # What the KDS server records of a connected zone, beside its ZoneInsight.
            await store.zones.create(scope.org_id, scope.cp_id, ZoneSettings(zone))
            await store.zones.mark_connected(scope.org_id, scope.cp_id, zone)
    finally:
        await store.close()


def _in_thread(coro: Coroutine[Any, Any, None]) -> None:
    """Playwright's sync API holds an event loop in this thread: run store work in another."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def _zones(names: list[str], online: bool) -> list[Resource]:
    items = []
    for name in names:
        subscription: dict[str, object] = {
            "id": f"kds-{name}",
            "zoneInstanceId": f"{name}-cp-7d9f",
            "connectTime": "2026-01-01T10:00:00Z",
            "version": {"kumaCp": {"version": "2.14.3", "kumaCpGlobalCompatible": True}},
            "config": '{"environment": "kubernetes", "mode": "zone"}',
            "status": {"total": {"responsesSent": "12", "responsesAcknowledged": "12"}},
        }
        if not online:
            subscription["disconnectTime"] = "2026-01-01T11:00:00Z"
        items.append(Resource("Zone", "", name, {"enabled": True}))
        items.append(Resource("ZoneInsight", "", name, {"subscriptions": [subscription]}))
    return items


def _shot(page: object, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SCREENSHOTS / f"{name}.png")
    page.screenshot(path=path, full_page=full_page)  # type: ignore[attr-defined]


def test_console_end_to_end(server: ServerProcess, fresh_postgres_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        base = server.url

        # Sign-in: a wrong password is refused with a message, the right one signs in.
        page.goto(f"{base}/control-planes")
        expect(page).to_have_url(re.compile(r"/login\?next="))
        expect(page).to_have_title("Sign in · meshmanager")
        _shot(page, "sign-in")
        page.get_by_label("Email").fill(ADMIN_EMAIL)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("email or password is not right")
        page.get_by_label("Email").fill(ADMIN_EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_title("Control planes · meshmanager")
        cookie = next(c for c in context.cookies() if c["name"] == "mm_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        # Creating a control plane.
        page.get_by_role("link", name="Create control plane").first.click()
        page.get_by_label("Name", exact=True).fill("prod-us")
        page.get_by_label("Description").fill("Production, US regions")
        page.get_by_label("Labels").fill("env=prod\nteam=platform")
        page.get_by_label("Create the default mesh").check()
        page.get_by_role("button", name="Create control plane").click()
        expect(page.get_by_role("heading", name="prod-us", level=1)).to_be_visible()
        cp_id = page.url.rstrip("/").split("/")[-1]
        UUID(cp_id)
        api_url = f"{base}/v1/mesh/control-planes/{cp_id}"
        expect(page.get_by_text(api_url, exact=True)).to_be_visible()

        # The Connect dialog gives the exact kumactl command.
        page.get_by_role("button", name="Connect").click()
        command = page.locator("#connect-command")
        expect(command).to_contain_text(
            f"kumactl config control-planes add --name prod-us \\\n  --address {api_url}/api"
        )
        expect(command).to_contain_text("--headers 'authorization=Bearer TOKEN'")
        _shot(page, "connect-dialog", full_page=False)
        page.keyboard.press("Escape")

        # A mesh with mTLS, from the form.
        page.get_by_role("link", name="Meshes").first.click()
        page.get_by_role("link", name="Create mesh").first.click()
        page.get_by_label("Name", exact=True).fill("payments")
        page.get_by_label("Enable mTLS").check()
        page.get_by_label("CA backend name").fill("ca-payments")
        page.get_by_role("button", name="Create mesh").click()
        expect(page.get_by_role("status")).to_contain_text("Mesh payments created")
        expect(
            page.get_by_text("mTLS is enabled but the mesh has no MeshTrafficPermission")
        ).to_be_visible()
        expect(page.locator("#mesh-yaml")).to_contain_text("enabledBackend: ca-payments")

        # Zones report dataplanes; the console shows them live, without a reload.
        items = fleet("payments", 60, zones=3, services=6)
        items += dataplane("payments", "legacy-billing", "billing", zone="zone-2", version="2.9.0")
        items += _zones(["zone-1", "zone-2", "zone-3"], online=True)
        _in_thread(_seed(fresh_postgres_url, cp_id, items))
        page.goto(f"{base}/control-planes/{cp_id}/meshes/payments")
        stats = page.locator("#mesh-stats")
        expect(stats).to_contain_text("55/61", timeout=15_000)  # polled every 5 s
        _shot(page, "mesh-overview")

        page.get_by_role("link", name="Data plane proxies").click()
        expect(page.locator("#dp-list tbody tr")).to_have_count(50)
        expect(page.get_by_text("61 of 61 data plane proxies")).to_be_visible()
        _shot(page, "dataplanes", full_page=False)
        page.get_by_label("Status").select_option("offline")
        page.get_by_label("Zone").select_option("zone-1")
        page.get_by_role("button", name="Filter").click()
        expect(page.get_by_text("2 of 61 data plane proxies match")).to_be_visible()
        page.get_by_role("link", name="dp-00000").click()
        expect(page.get_by_role("heading", name="TLS")).to_be_visible()
        expect(page.get_by_text("spiffe://payments/svc-00")).to_be_visible()
        _shot(page, "dataplane")

        # A policy from YAML: a validation error is shown at its field path, then fixed.
        page.goto(f"{base}/control-planes/{cp_id}/apply?type=MeshTrafficPermission&mesh=payments")
        policy = (
            "type: MeshTrafficPermission\n"
            "mesh: payments\n"
            "name: allow-svc-01\n"
            "spec:\n"
            "  targetRef:\n"
            "    kind: MeshSubset\n"
            "    tags:\n"
            "      kuma.io/service: svc-01\n"
            "  from:\n"
            "    - targetRef:\n"
            "        kind: Mesh\n"
            "      default:\n"
            "        action: Allo\n"
        )
        page.get_by_label("YAML").fill(policy)
        page.get_by_role("button", name="Create").click()
        errors = page.locator("#yaml-errors")
        expect(errors).to_contain_text("spec.from[0].default.action")
        expect(errors).to_contain_text("line 13")
        expect(page.locator(".gutter .err")).to_have_text("13")
        _shot(page, "policy-validation-error")
        page.get_by_label("YAML").fill(policy.replace("Allo", "Allow"))
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("status")).to_contain_text(
            "MeshTrafficPermission allow-svc-01 created"
        )
        # The affected proxies: every dataplane of svc-01.
        expect(page.locator("#affected-count")).to_have_text("(10)")
        expect(page.locator("#affected tbody tr")).to_have_count(10)
        _shot(page, "policy")
        page.get_by_role("link", name="Policies").click()
        page.get_by_role("navigation", name="Policy types").get_by_role(
            "link", name=re.compile("^MeshTrafficPermission")
        ).click()
        expect(page.get_by_role("link", name="allow-svc-01")).to_be_visible()
        _shot(page, "policies")

        # Other pages render.
        page.goto(f"{base}/control-planes/{cp_id}")
        expect(page.locator("#cp-live")).to_contain_text("3/3")
        _shot(page, "control-plane-overview")
        page.goto(f"{base}/control-planes/{cp_id}/zones")
        expect(page.locator("#zone-table tbody tr")).to_have_count(3)
        _shot(page, "zones")
        page.goto(f"{base}/control-planes/{cp_id}/rbac")
        expect(page.get_by_role("link", name="admin", exact=True)).to_be_visible()
        _shot(page, "rbac")
        page.goto(f"{base}/control-planes")
        expect(page.get_by_role("link", name="prod-us")).to_be_visible()
        _shot(page, "control-planes")

        # Deleting the control plane is refused while zones are online, with the reason.
        page.goto(f"{base}/control-planes/{cp_id}")
        page.get_by_label("Type prod-us to confirm").fill("prod-us")
        page.get_by_role("button", name="Delete control plane").click()
        expect(page.locator("#delete-error")).to_contain_text("still online")

        # Tokens: created and shown once, then revoked, after which it no longer works.
        page.goto(f"{base}/organization/system-accounts")
        page.get_by_label("Name", exact=True).fill("ci-deployer")
        page.get_by_role("button", name="Create system account").click()
        page.get_by_role("link", name="ci-deployer").click()
        page.get_by_label("Name", exact=True).fill("pipeline")
        page.get_by_role("button", name="Create token").click()
        expect(page.locator("#new-token")).to_contain_text("will not be shown again")
        secret = page.locator("#new-token-secret").inner_text().strip()
        assert secret.startswith("spat_")
        _shot(page, "token-created")
        auth = {"Authorization": f"Bearer {secret}"}
        assert httpx.get(f"{base}/v3/organizations/me", headers=auth).status_code == 200
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke token pipeline").click()
        expect(page.get_by_role("status")).to_contain_text("Token revoked")
        expect(page.locator("#token-list")).to_have_count(0)
        assert httpx.get(f"{base}/v3/organizations/me", headers=auth).status_code == 401

        # Narrow screens: the overview still reads.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/control-planes/{cp_id}")
        expect(page.get_by_role("heading", name="prod-us", level=1)).to_be_visible()
        _shot(page, "narrow-overview")

        # Signing out ends the session.
        page.set_viewport_size({"width": 1280, "height": 860})
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login"))
        page.goto(f"{base}/control-planes")
        expect(page).to_have_url(re.compile(r"/login"))
        browser.close()


def test_sign_in_with_an_access_token(server: ServerProcess) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{server.url}/login")
        page.get_by_role("tab", name="Access token").click()
        page.get_by_label("Access token").fill(ADMIN_TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_title("Control planes · meshmanager")
        expect(page.get_by_role("link", name=ADMIN_EMAIL)).to_be_visible()
        browser.close()


class _SimulatedZone:
    """A simulated Kuma zone (meshmanager.kds.simulator, as `meshmanager zone-sim` runs
    it) on its own event loop thread, dialling the server process over TLS as a real
    zone would, with what the wizard showed: global address, credential, CA."""

    def __init__(self, address: str, name: str, ca_pem: bytes, environment: str) -> None:
        from meshmanager.kds.simulator import ZoneOptions, ZoneSimulator

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        options = ZoneOptions(ca_pem=ca_pem, environment=environment)
        self.zone = ZoneSimulator(address, name, options=options)
        self.zone.add_dataplanes(4, "default")
        self.zone.add_zone_proxies(1, 1)
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)

    async def _start(self) -> None:
        self.zone.start()

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.zone.stop(), self.loop).result(timeout=15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)


def test_zone_wizard_until_the_simulated_zone_is_online(
    server: ServerProcess, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        page = context.new_page()
        base = server.url
        page.goto(f"{base}/login")
        page.get_by_label("Email").fill(ADMIN_EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_title("Control planes · meshmanager")
        page.get_by_role("link", name="Create control plane").first.click()
        page.get_by_label("Name", exact=True).fill("prod-eu")
        page.get_by_label("Create the default mesh").check()
        page.get_by_role("button", name="Create control plane").click()
        expect(page.get_by_role("heading", name="prod-eu", level=1)).to_be_visible()

        # Step 1: environment, a name checked live as it is typed, zone proxies.
        page.get_by_role("link", name="Zones").first.click()
        page.get_by_role("link", name="Create zone").first.click()
        expect(page).to_have_title(re.compile("^Create zone"))
        page.get_by_label("Kubernetes").check()
        name = page.get_by_label("Zone name")
        name.press_sequentially("Eu_West")
        expect(page.locator("#name-check [role=alert]")).to_contain_text("Use lowercase letters")
        name.fill("")
        name.press_sequentially("eu-west-1")
        expect(page.locator("#name-check")).to_contain_text("eu-west-1 is available")
        expect(page.get_by_label("Zone ingress")).to_be_checked()
        page.get_by_label("Zone egress").check()
        _shot(page, "zone-wizard-1-configure")

        # Step 2: the credential, the KDS CA and the Helm values and commands, once.
        page.get_by_role("button", name="Create zone and credential").click()
        expect(page.locator("#credential-warning")).to_contain_text("will not be shown again")
        credential = page.locator("#zone-credential").inner_text().strip()
        assert re.fullmatch(r"mzc_[a-z2-7]{32}", credential)
        values = page.locator("#file-values-yaml").inner_text()
        address = re.search(r"kdsGlobalAddress: (\S+)", values)
        assert address is not None
        assert address.group(1) == f"grpcs://eu-west-1:{credential}@127.0.0.1:{server.kds_port}"
        assert "secretName: kds-ca-certs" in values and "enabled: true" in values
        expect(page.locator("#deploy-commands")).to_contain_text("helm install kuma kuma/kuma")
        ca_file = tmp_path / "kds-ca.pem"
        ca_file.write_text(page.locator("#file-ca").inner_text().strip() + "\n")
        assert ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
        page.get_by_role("button", name="Copy to clipboard").first.click()
        expect(page.get_by_role("button", name="Copy to clipboard").first).to_have_text("Copied")
        expect(page.locator("#zone-wait")).to_contain_text("Waiting for the zone “eu-west-1”")
        _shot(page, "zone-wizard-2-deploy")
        page.locator("#zone-wait").scroll_into_view_if_needed()
        _shot(page, "zone-wizard-2-waiting", full_page=False)

        # Step 3: a simulated zone connects with what the page gave; the page sees it.
        zone = _SimulatedZone(address.group(1), "eu-west-1", ca_file.read_bytes(), "kubernetes")
        try:
            expect(page.locator("#zone-wait")).to_contain_text(
                "Done! The zone “eu-west-1” is now connected.", timeout=30_000
            )
            expect(page.locator("#wizard-steps li.done")).to_have_count(3)
            _shot(page, "zone-wizard-3-connected", full_page=False)
            page.get_by_role("link", name="Go to zone eu-west-1").click()
            expect(page.locator("#zone-status")).to_contain_text("Online")
            expect(page.locator("#zone-status")).to_contain_text("2.14.3")

            # A second zone with the same name is refused next to the name field.
            page.goto(f"{page.url.rsplit('/zones/', 1)[0]}/zones-new")
            page.get_by_label("Zone name").fill("eu-west-1")
            page.get_by_role("button", name="Create zone and credential").click()
            expect(page.locator("#name-check [role=alert]")).to_have_text(
                "A zone named “eu-west-1” already exists in this control plane."
                " Choose another name."
            )
            page.get_by_role("link", name="Zones").first.click()
            expect(page.locator("#zone-table tbody tr")).to_have_count(1)
            expect(page.locator("#zone-table")).to_contain_text("Online")
            _shot(page, "zone-list")

            # Deleting is refused while the zone is online, with the reason.
            page.get_by_role("link", name="eu-west-1").click()
            page.once("dialog", lambda dialog: dialog.accept())
            page.get_by_role("button", name="Delete zone").click()
            expect(page.locator("#delete-error")).to_contain_text("is online, so it was not")
            _shot(page, "zone-detail")

            # Rotating shows a new credential once; the zone's connection is dropped.
            page.once("dialog", lambda dialog: dialog.accept())
            page.get_by_role("button", name="Rotate credential").click()
            expect(page.locator("#credential-warning")).to_contain_text("will not be shown again")
            rotated = page.locator("#zone-credential").inner_text().strip()
            assert rotated != credential and rotated.startswith("mzc_")
            page.get_by_role("link", name="Back to the zone").click()
            expect(page.locator("#zone-status")).to_contain_text("Offline", timeout=20_000)
        finally:
            zone.stop()
        browser.close()

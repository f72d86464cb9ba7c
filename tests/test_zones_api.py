"""The zone API: onboarding a zone hands out its credential and deploy material once;
credentials rotate and revoke; deleting refuses online zones; roles and organizations
are respected. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
import yaml
from sqlalchemy import update

from meshmanager.api.app import create_app
from meshmanager.kds.auth import credential_in_address
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.model.zones import KdsEndpoint
from meshmanager.store.events import Event, ZoneAccessRevoked
from meshmanager.store.resources import Create
from meshmanager.store.schema import zone_credentials, zones
from meshmanager.store.types import utcnow
from tests.conftest import Api
from tests.helpers import (
    assert_problem,
    assign_role,
    create_cp,
    expect,
    my_org_id,
    new_org,
    new_system_account,
)


def _zones(cp: dict[str, Any]) -> str:
    return f"/v1/mesh/control-planes/{cp['id']}/zones"


async def _create(api: Api, cp: dict[str, Any], token: str | None = None, **body: Any) -> Any:
    return await api.call("POST", _zones(cp), token, json={"name": "zone-1", **body})


async def test_creating_a_zone_returns_its_credential_and_universal_config(api: Api) -> None:
    cp = await create_cp(api, "cp")
    created = expect(await _create(api, cp), 201)
    credential = created["credential"]
    assert credential.startswith("mzc_") and len(credential) == 36
    zone = created["zone"]
    assert (zone["name"], zone["environment"], zone["online"]) == ("zone-1", "universal", False)
    assert credential.startswith(zone["credential_prefix"])
    deploy = created["deploy"]
    config = yaml.safe_load(deploy["files"]["zone.yaml"])
    assert config["mode"] == "zone" and config["multizone"]["zone"]["name"] == "zone-1"
    address = config["multizone"]["zone"]["globalAddress"]
    assert credential_in_address(address) == credential
    assert deploy["environment_variables"]["KUMA_MULTIZONE_ZONE_GLOBAL_ADDRESS"] == address
    assert "kuma-cp run --config-file zone.yaml" in deploy["commands"]
    check = await api.store.zones.check_credential(credential)
    assert (check.outcome, check.zone, check.cp_id) == ("ok", "zone-1", UUID(cp["id"]))


async def test_a_kubernetes_zone_gets_helm_values(api: Api) -> None:
    cp = await create_cp(api, "cp")
    created = expect(await _create(api, cp, environment="kubernetes", egress=True), 201)
    values = yaml.safe_load(created["deploy"]["files"]["values.yaml"])
    plane = values["controlPlane"]
    assert (plane["mode"], plane["zone"]) == ("zone", "zone-1")
    assert credential_in_address(plane["kdsGlobalAddress"]) == created["credential"]
    assert values["ingress"] == {"enabled": True} and values["egress"] == {"enabled": True}
    assert any(c.startswith("helm install kuma kuma/kuma") for c in created["deploy"]["commands"])
    assert "tls" not in plane, "no CA of our own: the zone trusts the system roots"


CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


async def _create_with_ca(api: Api, cp: dict[str, Any], environment: str) -> Any:
    """Through an app whose KDS endpoint has our own CA, as `meshmanager run` makes it."""
    endpoint = KdsEndpoint("grpcs://kds.example.com:5685", CA)
    transport = httpx.ASGITransport(app=create_app(api.store, kds_endpoint=endpoint))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            _zones(cp), headers=api.auth(), json={"name": "zone-1", "environment": environment}
        )
    return expect(response, 201)


async def test_universal_material_carries_the_ca_and_the_credential_url(api: Api) -> None:
    cp = await create_cp(api, "cp")
    created = await _create_with_ca(api, cp, "universal")
    deploy, credential = created["deploy"], created["credential"]
    config = yaml.safe_load(deploy["files"]["zone.yaml"])
    zone = config["multizone"]["zone"]
    assert zone["globalAddress"] == deploy["global_address"]
    assert (
        zone["globalAddress"].startswith("grpcs://")
        and "@kds.example.com:5685" in (zone["globalAddress"])
    )
    assert credential_in_address(zone["globalAddress"]) == credential
    assert zone["kds"]["rootCaFile"] == "/etc/kuma/kds-ca.pem"
    assert deploy["files"]["kds-ca.pem"] == CA == deploy["ca_pem"]
    env = deploy["environment_variables"]
    assert env["KUMA_MULTIZONE_ZONE_KDS_ROOT_CA_FILE"] == "/etc/kuma/kds-ca.pem"
    assert (env["KUMA_MODE"], env["KUMA_MULTIZONE_ZONE_NAME"]) == ("zone", "zone-1")
    commands = deploy["commands"]
    assert commands.index("sudo install -D -m 0644 kds-ca.pem /etc/kuma/kds-ca.pem") < (
        commands.index("kuma-cp run --config-file zone.yaml")
    )


async def test_kubernetes_material_creates_the_ca_secret_the_chart_mounts(api: Api) -> None:
    cp = await create_cp(api, "cp")
    created = await _create_with_ca(api, cp, "kubernetes")
    deploy = created["deploy"]
    values = yaml.safe_load(deploy["files"]["values.yaml"])
    plane = values["controlPlane"]
    secret = plane["tls"]["kdsZoneClient"]["secretName"]
    assert credential_in_address(plane["kdsGlobalAddress"]) == created["credential"]
    assert deploy["files"]["kds-ca.pem"] == CA
    commands = deploy["commands"]
    create_secret = next(c for c in commands if c.startswith("kubectl create secret generic"))
    assert secret in create_secret and "--from-file=ca.crt=kds-ca.pem" in create_secret
    assert "--namespace kuma-system" in create_secret
    install = next(c for c in commands if c.startswith("helm install"))
    assert commands.index(create_secret) < commands.index(install)
    assert "--namespace kuma-system" in install and "--values values.yaml" in install
    assert "helm repo add kuma https://kumahq.github.io/charts" in commands


async def test_the_zone_appears_in_the_kuma_api(api: Api) -> None:
    cp = await create_cp(api, "cp")
    expect(await _create(api, cp), 201)
    zone = expect(
        await api.call("GET", f"/v1/mesh/control-planes/{cp['id']}/api/zones/zone-1"), 200
    )
    assert zone["enabled"] is True


async def test_the_first_zone_brings_the_zone_token_signing_key(api: Api) -> None:
    """Made before any zone connects, as Kuma's global makes it on start, so that zones
    joining together do not wait for it."""
    cp = await create_cp(api, "cp")
    secrets = f"/v1/mesh/control-planes/{cp['id']}/api/global-secrets"

    async def signing_keys() -> list[str]:
        items = expect(await api.call("GET", secrets), 200)["items"]
        return [s["name"] for s in items if s["name"].startswith("zone-token-signing-key")]

    assert await signing_keys() == []
    expect(await _create(api, cp), 201)
    assert await signing_keys() == ["zone-token-signing-key-1"]
    expect(await _create(api, cp, name="zone-2"), 201)
    assert await signing_keys() == ["zone-token-signing-key-1"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Zone_1"}, "name"),
        ({"name": "z" * 64}, "name"),
        ({"name": "-zone"}, "name"),
        ({"name": "zone-1", "environment": "docker"}, "environment"),
        ({"name": "zone-1", "ingress": "yes"}, "ingress"),
        ({"name": "zone-1", "extra": 1}, "extra"),
        ({"name": 1}, "name"),
        ({"name": ""}, "name"),
        ({"name": "zone.1"}, "name"),
        ({"name": "zone-"}, "name"),
        ({"name": "1zone"}, "name"),
        ({"name": "zone-1", "environment": None}, "environment"),
        ({"name": "zone-1", "egress": 1}, "egress"),
        ({}, "name"),
    ],
)
async def test_invalid_zones_are_refused_with_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    cp = await create_cp(api, "cp")
    response = await api.call("POST", _zones(cp), json=body)
    params = assert_problem(response, 400)["invalid_parameters"]
    assert any(field in p["field"] for p in params), params


async def test_a_second_zone_with_the_same_name_is_refused(api: Api) -> None:
    cp = await create_cp(api, "cp")
    expect(await _create(api, cp), 201)
    body = assert_problem(await _create(api, cp), 409)
    assert "zone-1" in body["detail"] and "already exists" in body["detail"]


async def test_zones_are_listed_and_read(api: Api) -> None:
    cp = await create_cp(api, "cp")
    for name in ("b-zone", "a-zone"):
        expect(await api.call("POST", _zones(cp), json={"name": name}), 201)
    listed = expect(await api.call("GET", _zones(cp)), 200)
    assert [z["name"] for z in listed["data"]] == ["a-zone", "b-zone"]
    assert listed["meta"]["page"]["total"] == 2
    assert "credential" not in listed["data"][0], "the secret is never shown again"
    one = expect(await api.call("GET", f"{_zones(cp)}/a-zone"), 200)
    assert one["name"] == "a-zone"
    assert_problem(await api.call("GET", f"{_zones(cp)}/missing"), 404)


async def test_rotating_revokes_the_old_credential_and_says_so(api: Api) -> None:
    cp = await create_cp(api, "cp")
    first = expect(await _create(api, cp), 201)["credential"]
    heard: list[Event] = []
    api.store.events.listen(heard.append)
    rotated = expect(await api.call("POST", f"{_zones(cp)}/zone-1/rotate-credential"), 200)
    assert rotated["credential"] != first
    assert (await api.store.zones.check_credential(first)).outcome == "revoked"
    assert (await api.store.zones.check_credential(rotated["credential"])).outcome == "ok"
    assert any(isinstance(e, ZoneAccessRevoked) and e.zone == "zone-1" for e in heard)


async def test_unknown_and_expired_credentials_are_told_apart(api: Api) -> None:
    cp = await create_cp(api, "cp")
    credential = expect(await _create(api, cp), 201)["credential"]
    assert (await api.store.zones.check_credential("mzc_" + "x" * 32)).outcome == "unknown"
    async with api.store.write() as conn:
        await conn.execute(update(zone_credentials).values(expires_at=utcnow()))
    assert (await api.store.zones.check_credential(credential)).outcome == "expired"


async def test_an_online_zone_is_deleted_only_with_force(api: Api) -> None:
    cp = await create_cp(api, "cp")
    credential = expect(await _create(api, cp), 201)["credential"]
    org_id = await my_org_id(api)
    scope = CpScope(org_id, UUID(cp["id"]))
    await api.store.zones.mark_connected(org_id, scope.cp_id, "zone-1")
    synced = Resource(
        "Dataplane", "default", "dp-1", {}, {"kuma.io/origin": "zone", "kuma.io/zone": "zone-1"}
    )
    await api.store.resources.write(
        scope, [Create(Resource("Mesh", "", "default")), Create(synced)]
    )
    body = assert_problem(await api.call("DELETE", f"{_zones(cp)}/zone-1"), 409)
    assert "online" in body["detail"] and "force=true" in body["detail"]
    expect(await api.call("DELETE", f"{_zones(cp)}/zone-1", params={"force": "true"}), 204)
    assert (await api.store.zones.check_credential(credential)).outcome == "unknown"
    assert await api.store.resources.get(scope, "Dataplane", "default", "dp-1") is None
    assert await api.store.resources.get(scope, "Zone", "", "zone-1") is None
    assert await api.store.resources.get(scope, "Mesh", "", "default") is not None


async def test_a_connector_creates_zones_and_a_viewer_cannot(api: Api) -> None:
    cp = await create_cp(api, "cp")
    connector = await new_system_account(api, "ci-connector")
    await assign_role(api, "system-accounts", connector.id, "Connector", cp["id"])
    viewer = await new_system_account(api, "ci-viewer")
    await assign_role(api, "system-accounts", viewer.id, "Viewer", cp["id"])
    expect(await _create(api, cp, connector.token), 201)
    assert_problem(await api.call("POST", _zones(cp), viewer.token, json={"name": "zone-2"}), 403)
    listed = expect(await api.call("GET", _zones(cp), viewer.token), 200)
    assert [z["name"] for z in listed["data"]] == ["zone-1"]
    assert_problem(await api.call("DELETE", f"{_zones(cp)}/zone-1", viewer.token), 403)


async def test_another_organizations_control_plane_is_not_found(api: Api) -> None:
    cp = await create_cp(api, "cp")
    expect(await _create(api, cp), 201)
    _, other_token = await new_org(api, "other")
    assert_problem(await api.call("GET", _zones(cp), other_token), 404)
    assert_problem(await _create(api, cp, other_token), 404)
    assert_problem(await api.call("DELETE", f"{_zones(cp)}/zone-1", other_token), 404)


async def test_a_63_character_name_is_accepted_and_oversized_bodies_are_not(api: Api) -> None:
    cp = await create_cp(api, "cp")
    expect(await api.call("POST", _zones(cp), json={"name": "z" * 63}), 201)
    huge = {"name": "zone-2", "padding": "x" * (3 * 1024 * 1024)}
    assert (await api.call("POST", _zones(cp), json=huge)).status_code == 413
    assert_problem(await api.call("POST", _zones(cp), json=["zone-2"]), 400)


async def test_missing_zones_are_not_found_for_every_operation(api: Api) -> None:
    cp = await create_cp(api, "cp")
    assert_problem(await api.call("POST", f"{_zones(cp)}/nope/rotate-credential"), 404)
    assert_problem(await api.call("DELETE", f"{_zones(cp)}/nope"), 404)
    assert_problem(await api.call("GET", f"{_zones(cp)}/nope"), 404)
    missing_cp = {"id": "00000000-0000-4000-8000-000000000000"}
    assert_problem(await api.call("GET", _zones(missing_cp)), 404)
    assert_problem(await _create(api, missing_cp), 404)


async def test_the_same_zone_name_lives_in_two_control_planes(api: Api) -> None:
    first, second = await create_cp(api, "cp-a"), await create_cp(api, "cp-b")
    a = expect(await _create(api, first), 201)["credential"]
    b = expect(await _create(api, second), 201)["credential"]
    assert (await api.store.zones.check_credential(a)).cp_id == UUID(first["id"])
    assert (await api.store.zones.check_credential(b)).cp_id == UUID(second["id"])


async def test_status_times_version_and_credential_prefix_are_shown(api: Api) -> None:
    cp = await create_cp(api, "cp")
    credential = expect(await _create(api, cp), 201)["credential"]
    org_id = await my_org_id(api)
    scope = CpScope(org_id, UUID(cp["id"]))
    await api.store.zones.mark_connected(org_id, scope.cp_id, "zone-1")
    version = {"kumaCp": {"version": "2.14.3"}}
    insight = Resource("ZoneInsight", "", "zone-1", {"subscriptions": [{"version": version}]})
    await api.store.resources.write(scope, [Create(insight)])
    zone = expect(await api.call("GET", f"{_zones(cp)}/zone-1"), 200)
    assert zone["online"] is True and zone["kuma_version"] == "2.14.3"
    assert zone["connected_at"] and zone["last_seen_at"] and zone["disconnected_at"] is None
    assert credential.startswith(zone["credential_prefix"]) and zone["credential_created_at"]
    assert len(zone["credential_prefix"]) < 12, "only a prefix, never the secret"
    await api.store.zones.mark_disconnected(org_id, scope.cp_id, "zone-1")
    zone = expect(await api.call("GET", f"{_zones(cp)}/zone-1"), 200)
    assert zone["online"] is False and zone["disconnected_at"]
    expect(await api.call("DELETE", f"{_zones(cp)}/zone-1"), 204)
    assert await api.store.resources.get(scope, "ZoneInsight", "", "zone-1") is None


async def test_a_zone_not_seen_for_long_is_offline_until_touched(api: Api) -> None:
    cp = await create_cp(api, "cp")
    expect(await _create(api, cp), 201)
    org_id, cp_id = await my_org_id(api), UUID(cp["id"])
    await api.store.zones.mark_connected(org_id, cp_id, "zone-1")
    async with api.store.write() as conn:
        await conn.execute(
            update(zones)
            .where(zones.c.cp_id == cp_id)
            .values(last_seen_at=utcnow() - timedelta(minutes=6))
        )
    assert expect(await api.call("GET", f"{_zones(cp)}/zone-1"), 200)["online"] is False
    assert await api.store.zones.online_names(org_id, cp_id) == []
    await api.store.zones.touch([(org_id, cp_id, "zone-1")])
    assert expect(await api.call("GET", f"{_zones(cp)}/zone-1"), 200)["online"] is True
    assert await api.store.zones.online_names(org_id, cp_id) == ["zone-1"]
    expect(await api.call("DELETE", f"{_zones(cp)}/zone-1", params={"force": "true"}), 204)


async def test_revocations_name_the_credential_and_deletion_names_none(api: Api) -> None:
    cp = await create_cp(api, "cp")
    first = expect(await _create(api, cp), 201)["credential"]
    first_id = (await api.store.zones.check_credential(first)).credential_id
    assert first_id is not None and await api.store.zones.credential_still_valid(first_id)
    heard: list[Event] = []
    api.store.events.listen(heard.append)
    second = expect(await api.call("POST", f"{_zones(cp)}/zone-1/rotate-credential"), 200)
    org_id, cp_id = await my_org_id(api), UUID(cp["id"])
    assert heard == [ZoneAccessRevoked(org_id, cp_id, "zone-1", first_id)]
    assert not await api.store.zones.credential_still_valid(first_id)
    second_id = (await api.store.zones.check_credential(second["credential"])).credential_id
    assert second_id is not None and await api.store.zones.credential_still_valid(second_id)
    heard.clear()
    expect(await api.call("DELETE", f"{_zones(cp)}/zone-1"), 204)
    assert heard[0] == ZoneAccessRevoked(org_id, cp_id, "zone-1", None)
    assert not await api.store.zones.credential_still_valid(second_id), "gone with its zone"


async def test_an_expired_credential_is_no_longer_valid(api: Api) -> None:
    cp = await create_cp(api, "cp")
    credential = expect(await _create(api, cp), 201)["credential"]
    credential_id = (await api.store.zones.check_credential(credential)).credential_id
    assert credential_id is not None
    async with api.store.write() as conn:
        await conn.execute(update(zone_credentials).values(expires_at=utcnow() - timedelta(1)))
    assert not await api.store.zones.credential_still_valid(credential_id)
    check = await api.store.zones.check_credential(credential)
    assert (check.outcome, check.org_id, check.zone) == ("expired", None, None)


async def test_the_v0_alias_serves_zones(api: Api) -> None:
    cp = await create_cp(api, "cp")
    expect(
        await api.call("POST", f"/v0/mesh/control-planes/{cp['id']}/zones", json={"name": "z"}), 201
    )
    listed = expect(await api.call("GET", f"/v0/mesh/control-planes/{cp['id']}/zones"), 200)
    assert [z["name"] for z in listed["data"]] == ["z"]


async def test_zone_endpoints_are_documented(api: Api) -> None:
    spec = expect(await api.call("GET", "/v1/openapi.json"), 200)
    base = "/v1/mesh/control-planes/{cpId}/zones"
    assert set(spec["paths"][base]) == {"get", "post"}
    assert set(spec["paths"][f"{base}/{{name}}"]) == {"get", "delete"}
    assert set(spec["paths"][f"{base}/{{name}}/rotate-credential"]) == {"post"}
    created = spec["paths"][base]["post"]["responses"]
    assert {"201", "400", "403", "404", "409"} <= set(created)

"""The zone API: onboarding a zone hands out its credential and deploy material once;
credentials rotate and revoke; deleting refuses online zones; roles and organizations
are respected. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
import yaml
from sqlalchemy import update

from meshmanager.kds.auth import credential_in_address
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store.events import Event, ZoneAccessRevoked
from meshmanager.store.resources import Create
from meshmanager.store.schema import zone_credentials
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


async def test_the_zone_appears_in_the_kuma_api(api: Api) -> None:
    cp = await create_cp(api, "cp")
    expect(await _create(api, cp), 201)
    zone = expect(
        await api.call("GET", f"/v1/mesh/control-planes/{cp['id']}/api/zones/zone-1"), 200
    )
    assert zone["enabled"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Zone_1"}, "name"),
        ({"name": "z" * 64}, "name"),
        ({"name": "-zone"}, "name"),
        ({"name": "zone-1", "environment": "docker"}, "environment"),
        ({"name": "zone-1", "ingress": "yes"}, "ingress"),
        ({"name": "zone-1", "extra": 1}, "extra"),
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

"""The Kuma API of a control plane: index, CRUD shapes, write rules, auth, isolation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.helpers import assign_role, create_cp, expect, new_org, new_user

MTP = {
    "type": "MeshTrafficPermission",
    "name": "allow-all",
    "mesh": "default",
    "spec": {
        "targetRef": {"kind": "Mesh"},
        "from": [{"targetRef": {"kind": "Mesh"}, "default": {"action": "Allow"}}],
    },
}


async def kuma_base(api: Api, name: str = "cp", token: str | None = None) -> str:
    cp = await create_cp(api, name, token)
    base = f"/v1/mesh/control-planes/{cp['id']}/api"
    expect(await api.call("PUT", f"{base}/meshes/default", token, json=_mesh("default")), 201)
    return base


def _mesh(name: str, **spec: Any) -> dict[str, Any]:
    return {"type": "Mesh", "name": name, **spec}


def assert_kuma_error(response: Any, status: int, title: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["type"] == "/std-errors" and body["status"] == status
    assert body["title"], "kumactl needs a non-empty title"
    assert body["details"] == body["detail"]
    if title is not None:
        assert body["title"] == title
    return body


async def test_index_answers_kumactl_at_the_bare_prefix_and_with_a_slash(api: Api) -> None:
    cp = await create_cp(api, "idx")
    for path in (
        f"/v1/mesh/control-planes/{cp['id']}/api",
        f"/v0/mesh/control-planes/{cp['id']}/api/",
    ):
        response = await api.client.get(path)  # no token: kumactl's check may send none
        body = expect(response, 200)
        assert body["product"] == "Kuma" and body["version"] == "2.14.3"
        assert body["clusterId"] == cp["id"]
        assert body["meshmanager"]["product"] == "meshmanager"


async def test_put_creates_201_then_updates_200_and_get_returns_kuma_shape(api: Api) -> None:
    base = await kuma_base(api)
    url = f"{base}/meshes/default/meshtrafficpermissions/allow-all"
    assert expect(await api.call("PUT", url, json=MTP), 201) == {}
    updated = {**MTP, "labels": {"team": "core"}}
    assert expect(await api.call("PUT", url, json=updated), 200) == {}
    body = expect(await api.call("GET", url), 200)
    assert list(body)[:4] == ["type", "mesh", "name", "creationTime"]
    assert body["labels"] == {"team": "core", "kuma.io/mesh": "default"}
    assert body["kri"] == "kri_mtp_default___allow-all_"
    assert body["creationTime"].endswith("Z") and body["modificationTime"].endswith("Z")
    assert body["spec"] == MTP["spec"]


async def test_old_style_types_are_flat(api: Api) -> None:
    base = await kuma_base(api)
    mtls = {"enabledBackend": "ca-1", "backends": [{"name": "ca-1", "type": "builtin"}]}
    expect(await api.call("PUT", f"{base}/meshes/secure", json=_mesh("secure", mtls=mtls)), 201)
    body = expect(await api.call("GET", f"{base}/meshes/secure"), 200)
    assert body["mtls"] == mtls and "spec" not in body and "mesh" not in body


async def test_lists_page_with_absolute_next_and_sort_by_mesh_then_name(api: Api) -> None:
    base = await kuma_base(api)
    for name in ("b", "c", "a"):
        expect(await api.call("PUT", f"{base}/meshes/{name}", json=_mesh(name)), 201)
    page = expect(await api.call("GET", f"{base}/meshes", params={"size": 2}), 200)
    assert page["total"] == 4
    assert [m["name"] for m in page["items"]] == ["a", "b"]
    assert page["next"] == f"http://testserver{base}/meshes?offset=2&size=2"
    last = expect(await api.call("GET", f"{base}/meshes", params={"size": 2, "offset": 2}), 200)
    assert [m["name"] for m in last["items"]] == ["c", "default"] and last["next"] is None


async def test_list_parameter_errors_match_kuma(api: Api) -> None:
    base = await kuma_base(api)
    body = assert_kuma_error(await api.call("GET", f"{base}/meshes?size=2000"), 400)
    assert body["invalid_parameters"] == [
        {"field": "size", "reason": "invalid page size of 2000. Maximum page size is 1000"}
    ]
    assert_kuma_error(await api.call("GET", f"{base}/meshes?offset=x"), 400)
    body = assert_kuma_error(
        await api.call("GET", f"{base}/meshes/default/meshtimeouts?filter[labels.a][eq]=b"), 400
    )
    assert body["invalid_parameters"][0]["reason"] == "advanced filters are not supported"


async def test_name_and_label_filters(api: Api) -> None:
    base = await kuma_base(api)
    for name, team in (("web-a", "a"), ("web-b", "b"), ("db", "a")):
        body = {**MTP, "name": name, "labels": {"team": team}}
        url = f"{base}/meshes/default/meshtrafficpermissions/{name}"
        expect(await api.call("PUT", url, json=body), 201)
    lst = f"{base}/meshes/default/meshtrafficpermissions"
    by_name = expect(await api.call("GET", lst, params={"name": "web"}), 200)
    assert [i["name"] for i in by_name["items"]] == ["web-a", "web-b"]
    by_label = expect(await api.call("GET", lst, params={"filter[labels.team]": "a"}), 200)
    assert [i["name"] for i in by_label["items"]] == ["db", "web-a"]


async def test_write_rules_of_the_global(api: Api) -> None:
    base = await kuma_base(api)
    dp = {"type": "Dataplane", "mesh": "default", "name": "dp-1", "networking": {}}
    body = assert_kuma_error(
        await api.call("PUT", f"{base}/meshes/default/dataplanes/dp-1", json=dp), 405
    )
    assert body["detail"].startswith("On global control plane you can not modify")
    url = f"{base}/meshes/default/meshtrafficpermissions/other-name"
    body = assert_kuma_error(await api.call("PUT", url, json=MTP), 400)
    assert {"field": "name", "reason": "name from the URL has to be the same as in body"} in body[
        "invalid_parameters"
    ]
    zone_origin = {**MTP, "labels": {"kuma.io/origin": "zone"}}
    url = f"{base}/meshes/default/meshtrafficpermissions/allow-all"
    body = assert_kuma_error(await api.call("PUT", url, json=zone_origin), 400)
    assert body["invalid_parameters"][0]["field"] == 'labels["kuma.io/origin"]'
    wrong_type = {**MTP, "type": "TrafficPermission"}
    body = assert_kuma_error(await api.call("PUT", url, json=wrong_type), 400)
    assert body["invalid_parameters"][0]["reason"] == (
        "type in body should be one of [MeshTrafficPermission]"
    )


async def test_immutable_labels_and_unknown_mesh(api: Api) -> None:
    base = await kuma_base(api)
    url = f"{base}/meshes/default/meshtrafficpermissions/allow-all"
    first = {**MTP, "labels": {"kuma.io/display-name": "a"}}
    expect(await api.call("PUT", url, json=first), 201)
    changed = {**MTP, "labels": {"kuma.io/display-name": "b"}}
    body = assert_kuma_error(
        await api.call("PUT", url, json=changed), 400, "Could not update a resource"
    )
    assert body["invalid_parameters"][0]["reason"] == (
        'is immutable, cannot be changed from "a" to "b"'
    )
    missing = f"{base}/meshes/nope/meshtrafficpermissions"
    assert_kuma_error(await api.call("GET", missing), 404, "Failed to retrieve Mesh")


async def test_malformed_bodies_are_400_never_500(api: Api) -> None:
    base = await kuma_base(api)
    url = f"{base}/meshes/default/meshtrafficpermissions/allow-all"
    for content in (b"{", b"[1]", b"null", b'"x"'):
        response = await api.call(
            "PUT", url, content=content, headers={"content-type": "application/json"}
        )
        assert_kuma_error(response, 400, "Bad Request")


async def test_delete_answers_200_and_404_with_title(api: Api) -> None:
    base = await kuma_base(api)
    url = f"{base}/meshes/default/meshtrafficpermissions/allow-all"
    expect(await api.call("PUT", url, json=MTP), 201)
    assert expect(await api.call("DELETE", url), 200) == {}
    assert_kuma_error(await api.call("DELETE", url), 404, "Could not delete a resource")
    assert_kuma_error(await api.call("GET", url), 404, "Could not retrieve a resource")


async def test_deleting_a_mesh_deletes_what_it_owns(api: Api) -> None:
    base = await kuma_base(api)
    url = f"{base}/meshes/default/meshtrafficpermissions/allow-all"
    expect(await api.call("PUT", url, json=MTP), 201)
    expect(await api.call("DELETE", f"{base}/meshes/default"), 200)
    expect(await api.call("PUT", f"{base}/meshes/default", json=_mesh("default")), 201)
    assert_kuma_error(await api.call("GET", url), 404)


async def test_viewer_reads_admin_writes_secrets_need_admin(api: Api) -> None:
    cp = await create_cp(api, "rbac")
    base = f"/v1/mesh/control-planes/{cp['id']}/api"
    expect(await api.call("PUT", f"{base}/meshes/default", json=_mesh("default")), 201)
    secret = {"type": "Secret", "name": "s1", "mesh": "default", "data": "c2VjcmV0"}
    expect(await api.call("PUT", f"{base}/meshes/default/secrets/s1", json=secret), 201)
    viewer = await new_user(api, "viewer@acme.example")
    await assign_role(api, "users", viewer.id, "Viewer", cp["id"])
    expect(await api.call("GET", f"{base}/meshes/default", viewer.token), 200)
    assert_kuma_error(
        await api.call("PUT", f"{base}/meshes/m2", viewer.token, json=_mesh("m2")), 403
    )
    assert_kuma_error(await api.call("GET", f"{base}/meshes/default/secrets/s1", viewer.token), 403)
    assert_kuma_error(await api.call("GET", f"{base}/meshes/default/secrets", viewer.token), 403)
    admin = await new_user(api, "cpadmin@acme.example")
    await assign_role(api, "users", admin.id, "Admin", cp["id"])
    got = expect(await api.call("GET", f"{base}/meshes/default/secrets/s1", admin.token), 200)
    assert got["data"] == "c2VjcmV0"


@pytest.mark.parametrize(
    "token, status", [(None, 401), ("kpat_" + "x" * 48, 401), ("Basic abc", 401)]
)
async def test_unauthenticated_calls_are_401(api: Api, token: str | None, status: int) -> None:
    base = await kuma_base(api)
    headers = (
        {} if token is None else {"Authorization": token if " " in token else f"Bearer {token}"}
    )
    response = await api.client.get(f"{base}/meshes", headers=headers)
    assert_kuma_error(response, status, "Invalid authentication data")


async def test_control_planes_are_isolated_whatever_the_url(api: Api) -> None:
    mine = await kuma_base(api, "mine")
    other_cp = await create_cp(api, "other")
    other = f"/v1/mesh/control-planes/{other_cp['id']}/api"
    expect(
        await api.call("PUT", f"{mine}/meshes/default/meshtrafficpermissions/allow-all", json=MTP),
        201,
    )
    assert expect(await api.call("GET", f"{other}/meshes"), 200)["total"] == 0
    assert_kuma_error(await api.call("GET", f"{other}/meshes/default"), 404)
    assert expect(await api.call("GET", f"{other}/meshtrafficpermissions"), 200)["total"] == 0
    for trick in ("/../" + other_cp["id"] + "/api/meshes", "%2F..%2Fmeshes"):
        response = await api.call("GET", f"{mine}{trick}")
        assert response.status_code in (400, 404), response.text
    org2, token2 = await new_org(api, "globex")
    assert_kuma_error(await api.call("GET", f"{mine}/meshes", token2), 404)
    assert_kuma_error(await api.call("PUT", f"{mine}/meshes/evil", token2, json=_mesh("evil")), 404)
    assert org2["organization"]["name"] == "globex"


async def test_a_new_mesh_gets_kumas_default_policies_and_signing_key(api: Api) -> None:
    base = await kuma_base(api)
    names = {
        i["name"]
        for path in ("meshtimeouts", "meshretries", "meshcircuitbreakers", "secrets")
        for i in expect(await api.call("GET", f"{base}/meshes/default/{path}"), 200)["items"]
    }
    assert names == {
        "mesh-timeout-all-default",
        "mesh-gateways-timeout-all-default",
        "mesh-retry-all-default",
        "mesh-circuit-breaker-all-default",
        "dataplane-token-signing-key-default-1",
    }
    bare = _mesh("bare", skipCreatingInitialPolicies=["*"])
    expect(await api.call("PUT", f"{base}/meshes/bare", json=bare), 201)
    assert expect(await api.call("GET", f"{base}/meshes/bare/meshtimeouts"), 200)["total"] == 0


async def test_control_plane_features_decide_the_default_mesh(api: Api) -> None:
    features = [
        {"type": "MeshCreation", "meshCreation": {"enabled": True}},
        {"type": "HostnameGeneratorCreation", "hostnameGeneratorCreation": {"enabled": True}},
    ]
    with_defaults = await create_cp(api, "with-defaults", features=features)
    base = f"/v1/mesh/control-planes/{with_defaults['id']}/api"
    expect(await api.call("GET", f"{base}/meshes/default"), 200)
    assert expect(await api.call("GET", f"{base}/hostnamegenerators"), 200)["total"] > 0
    plain = await create_cp(api, "plain")
    base = f"/v1/mesh/control-planes/{plain['id']}/api"
    assert expect(await api.call("GET", f"{base}/meshes"), 200)["total"] == 0
    assert expect(await api.call("GET", f"{base}/hostnamegenerators"), 200)["total"] == 0

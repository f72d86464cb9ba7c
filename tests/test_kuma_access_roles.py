"""Kong Mesh RBAC inside a control plane: AccessRoles and AccessRoleBindings."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.helpers import assign_role, create_cp, expect, new_user
from tests.test_kuma_api import MTP, assert_kuma_error

TIMEOUT = {
    "type": "MeshTimeout",
    "name": "t",
    "mesh": "default",
    "spec": {
        "targetRef": {"kind": "Mesh"},
        "to": [{"targetRef": {"kind": "Mesh"}, "default": {"idleTimeout": "1h"}}],
    },
}


async def _setup(api: Api) -> tuple[str, Any]:
    cp = await create_cp(api, "rbac")
    base = f"/v1/mesh/control-planes/{cp['id']}/api"
    expect(
        await api.call("PUT", f"{base}/meshes/default", json={"type": "Mesh", "name": "default"}),
        201,
    )
    operator = await new_user(api, "operator@acme.example")
    await assign_role(api, "users", operator.id, "Admin", cp["id"])
    return base, operator


async def test_a_new_control_plane_has_kong_mesh_default_rbac(api: Api) -> None:
    base, operator = await _setup(api)
    role = expect(await api.call("GET", f"{base}/access-roles/admin"), 200)
    assert "CREATE" in role["rules"][0]["access"]
    binding = expect(await api.call("GET", f"{base}/access-role-bindings/default"), 200)
    assert binding["roles"] == ["admin"]
    assert {"type": "Group", "name": "mesh-system:authenticated"} in binding["subjects"]
    url = f"{base}/meshes/default/meshtrafficpermissions/allow-all"
    expect(await api.call("PUT", url, operator.token, json=MTP), 201)


async def test_narrowing_the_default_binding_restricts_writers(api: Api) -> None:
    base, operator = await _setup(api)
    narrowed = {
        "type": "AccessRoleBinding",
        "name": "default",
        "subjects": [{"type": "Group", "name": "platform"}],
        "roles": ["admin"],
    }
    expect(await api.call("PUT", f"{base}/access-role-bindings/default", json=narrowed), 200)
    url = f"{base}/meshes/default/meshtrafficpermissions/allow-all"
    body = assert_kuma_error(
        await api.call("PUT", url, operator.token, json=MTP), 403, "Access Denied"
    )
    assert "operator@acme.example" in body["detail"]
    expect(await api.call("GET", f"{base}/meshes/default", operator.token), 200)
    team = expect(await api.call("POST", "/v3/teams", json={"name": "platform"}), 201)
    expect(await api.call("POST", f"/v3/teams/{team['id']}/users", json={"id": operator.id}), 201)
    expect(await api.call("PUT", url, operator.token, json=MTP), 201)
    expect(await api.call("DELETE", url, operator.token), 200)


async def test_a_role_limited_to_types_and_a_user(api: Api) -> None:
    base, operator = await _setup(api)
    role = {
        "type": "AccessRole",
        "name": "mtp-editor",
        "rules": [{"types": ["MeshTrafficPermission"], "access": ["CREATE", "UPDATE", "DELETE"]}],
    }
    binding = {
        "type": "AccessRoleBinding",
        "name": "default",
        "subjects": [{"type": "User", "name": "operator@acme.example"}],
        "roles": ["mtp-editor"],
    }
    expect(await api.call("PUT", f"{base}/access-roles/mtp-editor", json=role), 201)
    expect(await api.call("PUT", f"{base}/access-role-bindings/default", json=binding), 200)
    mtp = f"{base}/meshes/default/meshtrafficpermissions/allow-all"
    expect(await api.call("PUT", mtp, operator.token, json=MTP), 201)
    timeout = f"{base}/meshes/default/meshtimeouts/t"
    assert_kuma_error(await api.call("PUT", timeout, operator.token, json=TIMEOUT), 403)
    # Organization admins are never locked out of a control plane's RBAC.
    expect(await api.call("PUT", timeout, json=TIMEOUT), 201)

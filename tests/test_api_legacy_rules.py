"""The legacy `/dataplanes/{name}/rules` endpoint beyond Kuma's vectors: its errors, and
a builtin gateway, whose listeners have no inbound to name a client subset after."""

from __future__ import annotations

from tests.conftest import Api
from tests.test_api_inspect import control_plane, dataplane, gateway, get, kuma_error, mtp


async def test_legacy_rules_of_an_unknown_mesh_or_proxy(api: Api) -> None:
    cp = await control_plane(api, dataplane("backend-1", "backend"))
    body = await get(api, cp, "/meshes/default/dataplanes/none/rules", 404)
    kuma_error(body, 404, "Could not get MatchedPolicies", "Not found")
    body = await get(api, cp, "/meshes/nope/dataplanes/backend-1/rules", 404)
    kuma_error(body, 404, "Could not build MeshContext", "Not found")


async def test_legacy_rules_of_a_builtin_gateway_leave_out_its_listeners(api: Api) -> None:
    cp = await control_plane(
        api,
        dataplane("gateway-1", gateway="edge-gw"),
        gateway("edge", "edge-gw", 80),
        mtp("all", {"kind": "Mesh"}),
    )
    body = await get(api, cp, "/meshes/default/dataplanes/gateway-1/rules")
    assert body == {"total": 0, "items": []}


async def test_legacy_rules_of_a_sidecar_name_its_inbound_by_its_tags(api: Api) -> None:
    cp = await control_plane(api, dataplane("backend-1", "backend"), mtp("all", {"kind": "Mesh"}))
    body = await get(api, cp, "/meshes/default/dataplanes/backend-1/rules")
    assert body == {
        "total": 1,
        "items": [
            {
                "type": "ClientSubset",
                "name": "backend",
                "addresses": ["127.0.0.1:80"],
                "service": "backend",
                "tags": {"kuma.io/service": "backend"},
                "policyType": "MeshTrafficPermission",
                "subset": {},
                "conf": {"action": "Allow"},
                "origins": [{"mesh": "default", "name": "all"}],
            }
        ],
    }

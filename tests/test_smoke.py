from tests.conftest import Api


async def test_create_and_get(api: Api) -> None:
    r = await api.call("POST", "/v1/mesh/control-planes", json={"name": "prod"})
    assert r.status_code == 201, r.text
    cp = r.json()
    r = await api.call("GET", f"/v1/mesh/control-planes/{cp['id']}")
    assert r.status_code == 200, r.text
    assert r.json() == cp

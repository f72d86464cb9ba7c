"""Kuma v2.14.3 api-server vectors for the inspection endpoints (every
`resources/inspect/...` entry: `_resources/dataplanes`, `_dataplanes`, `_rules`,
`_policies` of a dataplane and of its inbounds, outbounds and routes, `_routes`,
`_layout`, `_hostnames`), replayed against a fresh control plane whose store holds each
entry's input resources."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.api_vectors import (
    Call,
    ControlPlane,
    Entry,
    api_entries,
    fresh_control_plane,
    normalise,
)
from tests.conftest import Api


def _relevant(raw: dict[str, Any]) -> bool:
    return str(raw["id"]).startswith("resources/inspect/")


ENTRIES = api_entries(_relevant)

_GLOBAL_CONFIG = (
    "`_config` is the proxy's xDS config, generated only by a zone control plane; Kuma's"
    " global answers 405 `Not allowed on global CP` (resource_endpoints.go:178-182), and so"
    " does meshmanager. The vector comes from a zone CP."
)
_ZONE_HOSTNAMES = (
    "a zone CP tries each HostnameGenerator with the service's own origin only; a global,"
    " which meshmanager is, tries it with the service seen as zone- and as global-originated"
    " (inspect_mesh_service.go:143-152), so a generator selecting the other origin adds a"
    " hostname. The vector comes from a zone CP; its global twin passes."
)
# Entry id -> why meshmanager answers differently on purpose.
DIVERGENCES: dict[str, str] = {
    **{
        f"resources/inspect/dataplanes/_rules/proxyconfig_{case}": _GLOBAL_CONFIG
        for case in (
            "badrequest_1",
            "badrequest_2",
            "shadow-false",
            "shadow-false_diff",
            "shadow-true",
            "shadow-true_diff",
        )
    },
    **{
        f"resources/inspect/services/_resources/hostnames/zone/{case}": _ZONE_HOSTNAMES
        for case in ("meshservice_hostnames_for_global", "meshservice_hostnames_zone_synced")
    },
}


async def _mismatch(api: Api, cp: ControlPlane, call: Call) -> str | None:
    response = await api.call(call.method, cp.base + call.url)
    if response.status_code != call.expected_status:
        return f"{call.url}: status {response.status_code}, expected {call.expected_status}"
    body = normalise(response.json(), cp.address)
    expected = normalise(call.expected_body, cp.address)
    return None if body == expected else f"{call.url}: {body}\n  expected {expected}"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
async def test_vector(api: Api, entry: Entry) -> None:
    cp = await fresh_control_plane(api)
    await cp.load(entry.resources)
    problems = [p for call in entry.calls if (p := await _mismatch(api, cp, call))]
    if entry.id in DIVERGENCES:
        assert problems, f"{entry.id} now matches Kuma: drop it from DIVERGENCES"
    else:
        assert not problems, "\n".join(problems)


def test_the_selection_holds_every_vector_of_these_endpoints() -> None:
    assert len(ENTRIES) == 15 + 2 + 5 + 22 + 10 + 9 + 7 + 9 + 8 + 14 + 8 + 9
    assert all(call.expected_body is not None for entry in ENTRIES for call in entry.calls)
    assert set(DIVERGENCES) <= {entry.id for entry in ENTRIES}

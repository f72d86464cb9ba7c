"""Kuma v2.14.3 api-server vectors for the inspection endpoints built on policy matching
(`_resources/dataplanes`, `_dataplanes`, `_rules`, `_policies` of a dataplane and of its
inbounds, outbounds and routes, `_routes`, `_layout`), replayed against a fresh control plane whose
store holds each entry's input resources."""

from __future__ import annotations

import re
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

_ENDPOINTS = re.compile(
    r"^resources/inspect/("
    r"policies/_resources/dataplanes/|meshservices/_dataplanes/|dataplanes/_policies/[^/]+$"
    r"|dataplanes/_rules/|meshgateways/_rules/|dataplanes/_policies/|dataplanes/_routes/"
    r"|dataplanes/_layout/)"
)


def _relevant(raw: dict[str, Any]) -> bool:
    return bool(_ENDPOINTS.match(raw["id"]))


ENTRIES = api_entries(_relevant)

_GLOBAL_CONFIG = (
    "`_config` is the proxy's xDS config, generated only by a zone control plane; Kuma's"
    " global answers 405 `Not allowed on global CP` (resource_endpoints.go:178-182), and so"
    " does meshmanager. The vector comes from a zone CP."
)
# Entry id -> why meshmanager answers differently on purpose.
DIVERGENCES: dict[str, str] = {
    f"resources/inspect/dataplanes/_rules/proxyconfig_{case}": _GLOBAL_CONFIG
    for case in (
        "badrequest_1",
        "badrequest_2",
        "shadow-false",
        "shadow-false_diff",
        "shadow-true",
        "shadow-true_diff",
    )
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
    assert len(ENTRIES) == 15 + 2 + 5 + 22 + 10 + 9 + 7 + 9 + 8 + 14
    assert all(call.expected_body is not None for entry in ENTRIES for call in entry.calls)
    assert set(DIVERGENCES) <= {entry.id for entry in ENTRIES}

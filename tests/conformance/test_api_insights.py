"""Kuma v2.14.3 api-server vectors for the insight and overview endpoints, replayed
against a fresh control plane whose store holds each entry's input resources."""

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

_INSIGHT_URL = re.compile(r"_overview|\+insights|insights?\b|zoneegressoverviews")
# Kuma's Go setup fixes the creation times of these entries; our store stamps them when
# written, so only the meta times are normalised where Kuma compares timestamps as they are.
META_TIMES = frozenset({"creationTime", "modificationTime"})
_NEXT_NOTE = re.compile(r'next == "([^"]+)"')


def _relevant(raw: dict[str, Any]) -> bool:
    return any(_INSIGHT_URL.search((call["url"] or "").split("?")[0]) for call in raw["calls"])


ENTRIES = api_entries(_relevant)

# Entry id -> why meshmanager answers differently on purpose.
DIVERGENCES: dict[str, str] = {}


def _normalised(entry: Entry, body: Any, cp: ControlPlane) -> Any:
    keys = None if entry.normalised_by_kuma else META_TIMES
    return normalise(body, cp.address, keys=keys)


async def _mismatch(api: Api, cp: ControlPlane, entry: Entry, call: Call) -> str | None:
    response = await api.call(call.method, cp.base + call.url, json=call.request_body)
    if response.status_code != call.expected_status:
        return f"{call.url}: status {response.status_code}, expected {call.expected_status}"
    body = _normalised(entry, response.json(), cp)
    if call.expected_body is not None:
        expected = _normalised(entry, call.expected_body, cp)
        return None if body == expected else f"{call.url}: {body}\n  expected {expected}"
    wanted = _NEXT_NOTE.search(call.note or "")
    if wanted and body["next"] != wanted.group(1):
        return f"{call.url}: next {body['next']}, expected {wanted.group(1)}"
    return None


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
async def test_vector(api: Api, entry: Entry) -> None:
    cp = await fresh_control_plane(api)
    await cp.load(entry.resources)
    problems = [p for call in entry.calls if (p := await _mismatch(api, cp, entry, call))]
    if entry.id in DIVERGENCES:
        assert problems, f"{entry.id} now matches Kuma: drop it from DIVERGENCES"
    else:
        assert not problems, "\n".join(problems)


def test_the_selection_holds_every_insight_and_overview_vector() -> None:
    prefixes = ("service-insights/", "insights/", "dataplane-overview/")
    assert len(ENTRIES) == 25
    assert all(entry.id.startswith(prefixes) for entry in ENTRIES)
    assert set(DIVERGENCES) <= {entry.id for entry in ENTRIES}

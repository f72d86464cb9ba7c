"""Kuma v2.14.3 api-server vectors for the insight and overview endpoints, replayed
against a fresh control plane whose store holds each entry's input resources."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conformance.api_vectors import Entry, api_entries, fresh_control_plane, replay
from tests.conftest import Api

_INSIGHT_URL = re.compile(r"_overview|\+insights|insights?\b|zoneegressoverviews")
# Kuma's Go setup fixes the creation times of these entries; our store stamps them when
# written, so only the meta times are normalised where Kuma compares timestamps as they are.
META_TIMES = frozenset({"creationTime", "modificationTime"})


def _relevant(raw: dict[str, Any]) -> bool:
    return any(_INSIGHT_URL.search((call["url"] or "").split("?")[0]) for call in raw["calls"])


ENTRIES = api_entries(_relevant)

# Entry id -> why meshmanager answers differently on purpose.
DIVERGENCES: dict[str, str] = {}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
async def test_vector(api: Api, entry: Entry) -> None:
    cp = await fresh_control_plane(api)
    await cp.load(entry.resources)
    problems = await replay(api, cp, entry, META_TIMES)
    if entry.id in DIVERGENCES:
        assert problems, f"{entry.id} now matches Kuma: drop it from DIVERGENCES"
    else:
        assert not problems, "\n".join(problems)


def test_the_selection_holds_every_insight_and_overview_vector() -> None:
    prefixes = ("service-insights/", "insights/", "dataplane-overview/")
    assert len(ENTRIES) == 25
    assert all(entry.id.startswith(prefixes) for entry in ENTRIES)
    assert set(DIVERGENCES) <= {entry.id for entry in ENTRIES}

"""Kuma v2.14.3 api-server vectors for resource CRUD and lists, replayed against a fresh
control plane whose store holds each entry's input resources.

Most of these vectors come from a zone control plane (Kuma's test default); where a
global answers otherwise, Kuma's global rules win and the entry is listed below.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.api_vectors import Entry, api_entries, fresh_control_plane, replay
from tests.conftest import Api


def _crud(raw: dict[str, Any]) -> bool:
    return str(raw["id"]).startswith("resources/crud/")


ENTRIES = api_entries(_crud)

ZONE_LABELS = (
    "Kuma's test runs a zone control plane, which labels what it stores with"
    " kuma.io/origin: zone, kuma.io/zone and kuma.io/env (and puts the zone in the KRI);"
    " a global adds none of them (kuma-rest-api.md §4.4)"
)
ZONE_WRITES = (
    "a zone may write this type through its API; on a global it is read-only and PUT or"
    " DELETE answers 405 (kuma-rest-api.md §4.2)"
)
ZONE_ORIGIN = (
    "the request writes kuma.io/origin: zone or changes zone labels, which a global refuses"
    " with 400 before the immutability check (kuma-rest-api.md §4.3)"
)
KRI_OF_ZONE = (
    "the KRI names zone 'default', local on Kuma's zone control plane; on a global it names"
    " a resource synced from that zone, stored under its hash-suffixed name"
)
GO_ZERO_VALUES = (
    "Kuma serializes specs from its Go structs, adding zero-valued fields that lack"
    " omitempty (state: Unavailable, status.tls: {}, omitEmptyValues: false); meshmanager"
    " returns the spec as written"
)

# Entry id -> why meshmanager, a global control plane, answers differently on purpose.
DIVERGENCES: dict[str, str] = {
    "resources/crud/delete_dataplanes": ZONE_WRITES,
    "resources/crud/put_dataplanes": ZONE_WRITES,
    "resources/crud/put_update_dataplanes": ZONE_WRITES,
    "resources/crud/put_meshservice": ZONE_WRITES,
    "resources/crud/put_meshservice_with_status": ZONE_WRITES,
    "resources/crud/put_workload_with_status": ZONE_WRITES,
    "resources/crud/workload_label_validation": ZONE_WRITES,
    "resources/crud/get_dp_by_kri": KRI_OF_ZONE,
    "resources/crud/get_resource_by_kri": KRI_OF_ZONE,
    "resources/crud/get_zone-ingress_by_kri": KRI_OF_ZONE,
    "resources/crud/put_globalsecret": ZONE_LABELS,
    "resources/crud/put_secret": ZONE_LABELS,
    "resources/crud/put_meshaccesslog": ZONE_LABELS + "; and " + GO_ZERO_VALUES,
    "resources/crud/put_meshtrust": ZONE_LABELS,
    "resources/crud/put_meshexternalservice": ZONE_ORIGIN,
    "resources/crud/put_immutable_displayname": ZONE_ORIGIN,
    "resources/crud/put_immutable_origin": ZONE_ORIGIN,
    "resources/crud/put_immutable_zone": ZONE_ORIGIN,
    "resources/crud/list_meshservices": GO_ZERO_VALUES,
}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
async def test_vector(api: Api, entry: Entry) -> None:
    cp = await fresh_control_plane(api)
    await cp.load(entry.resources)
    problems = await replay(api, cp, entry)
    if entry.id in DIVERGENCES:
        assert problems, f"{entry.id} now matches Kuma: drop it from DIVERGENCES"
    else:
        assert not problems, "\n".join(problems)


def test_divergences_name_real_entries() -> None:
    assert set(DIVERGENCES) <= {entry.id for entry in ENTRIES}
    assert len(ENTRIES) == 50

"""The in-memory form of a Kuma resource: immutable, with its spec kept as JSON bytes
of exactly their length (a control plane may hold 200,000 of them)."""

from __future__ import annotations

import tracemalloc

import pytest

from meshmanager.model.resources.stored import Resource

SPEC = {
    "networking": {
        "address": "10.0.0.1",
        "inbound": [{"port": 8080, "tags": {"kuma.io/service": "web", "version": "v1"}}],
    }
}


def _traced_bytes_per_resource(make: int = 200) -> float:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [
            Resource("Dataplane", "default", f"web-{n}", SPEC, status={"n": n}) for n in range(make)
        ]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(kept) == make
    return (after - before) / make


def test_specs_are_kept_as_json_of_their_own_size() -> None:
    # orjson's output keeps its 4 KiB buffer; a kept spec must not.
    json_size = len(Resource("Dataplane", "default", "web", SPEC).spec_json)
    assert json_size < 200
    assert _traced_bytes_per_resource() < 1500


def test_changes_make_a_new_resource_with_a_compact_spec() -> None:
    original = Resource("Dataplane", "default", "web", SPEC)
    changed = original.with_changes(spec={**SPEC, "probes": {"port": 9000}}, status={"a": 1})
    assert original.spec == SPEC
    assert changed.spec["probes"] == {"port": 9000}
    assert changed.status == {"a": 1}
    with pytest.raises(AttributeError, match="immutable"):
        changed.name = "other"  # type: ignore[misc]

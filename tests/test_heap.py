"""The server's garbage-collection policy: long-lived objects are frozen out of Python's
automatic collections and scanned only on growth or age."""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from meshmanager.cli.heap import HeapCollector


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_a_scan_freezes_what_survives_and_is_due_again_only_with_age() -> None:
    clock = Clock()
    heap = HeapCollector(max_age_seconds=3600, clock=clock)
    assert heap.scan_due()
    heap.scan()
    assert gc.get_freeze_count() > 0
    clock.now = 3599
    assert not heap.scan_due()
    clock.now = 3600
    assert heap.scan_due()


def test_young_survivors_are_frozen_and_the_heap_growing_makes_a_scan_due() -> None:
    heap = HeapCollector(growth_share=0.05, clock=Clock())
    heap.scan()
    frozen = gc.get_freeze_count()
    kept = [[index] for index in range(int(0.05 * sys.getallocatedblocks()) + 1)]
    heap.freeze_young()
    assert gc.get_freeze_count() > frozen
    assert not gc.get_objects(generation=2), "the survivors left the collected generations"
    assert heap.scan_due()
    del kept
    assert not heap.scan_due(), "freed objects no longer count as growth"


def test_young_garbage_is_collected_without_a_scan() -> None:
    heap = HeapCollector(clock=Clock())
    heap.scan()
    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    del first, second
    assert heap.freeze_young() >= 2
    assert alive() is None


def test_a_cycle_among_frozen_objects_waits_for_the_next_scan() -> None:
    heap = HeapCollector(clock=Clock())
    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    heap.scan()  # reachable now, so frozen
    del first, second
    heap.freeze_young()
    gc.collect()
    assert alive() is not None, "collections of young objects skip frozen ones"
    assert heap.scan() >= 2
    assert alive() is None


async def test_stopping_the_collector_unfreezes_the_heap() -> None:
    heap = HeapCollector(clock=Clock())
    task = asyncio.create_task(heap.run_forever(check_seconds=60))
    await asyncio.sleep(0)  # the first scan runs at once
    assert gc.get_freeze_count() > 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gc.get_freeze_count() == 0

"""The change feed: committed writes wake the streams of the control plane they touched,
so a change reaches zones as soon as it is durable, with no polling interval."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from uuid import UUID

from meshmanager.store.events import Event, ResourcesChanged


class Watcher:
    """What changed since the stream last looked: a set of types, or None for any."""

    def __init__(self, interest: Collection[str] | None = None) -> None:
        self.changed: set[str] | None = set()
        self.wakeup = asyncio.Event()
        # The types the stream cares about (its live subscriptions), None for all: a
        # write of anything else (zone insights, dataplanes) must not wake it.
        self.interest = interest

    def notify(self, types: frozenset[str] | None) -> None:
        if types is not None and self.interest is not None and "Zone" not in types:
            types = frozenset(t for t in types if t in self.interest)
            if not types:
                return
        if types is None or self.changed is None:
            self.changed = None
        else:
            self.changed |= types
        self.wakeup.set()

    def take(self) -> set[str] | None:
        """The changes so far, resetting them."""
        changed, self.changed = self.changed, set()
        self.wakeup.clear()
        return changed


class ChangeFeed:
    def __init__(self) -> None:
        self._watchers: dict[UUID, set[Watcher]] = {}

    def watch(self, cp_id: UUID, interest: Collection[str] | None = None) -> Watcher:
        watcher = Watcher(interest)
        self._watchers.setdefault(cp_id, set()).add(watcher)
        return watcher

    def unwatch(self, cp_id: UUID, watcher: Watcher) -> None:
        watchers = self._watchers.get(cp_id, set())
        watchers.discard(watcher)
        if not watchers:
            self._watchers.pop(cp_id, None)

    def on_store_event(self, event: Event) -> None:
        if isinstance(event, ResourcesChanged):
            for watcher in self._watchers.get(event.cp_id, ()):
                watcher.notify(event.types)

    def poke_all(self) -> None:
        """The safety net: every stream re-checks every type."""
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.notify(None)

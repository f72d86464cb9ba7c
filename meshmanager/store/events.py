"""In-process notifications of committed store changes.

Writers publish after their transaction committed; listeners (the KDS server's change
feed, the console's live status) react without polling. Listeners are plain callables
that must not block: they typically set an `asyncio.Event` or put on a queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from meshmanager.observability import log_fields

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourcesChanged:
    """A control plane's Kuma resources reached `revision`. `types` names the resource
    types written, or is None when unknown (every type may have changed)."""

    cp_id: UUID
    revision: int
    types: frozenset[str] | None = None


@dataclass(frozen=True)
class ZoneAccessRevoked:
    """A zone's credential was revoked or rotated, or the zone was deleted: its live KDS
    connections must end. `credential_id` is None when every credential of the zone
    goes (zone deleted, forced)."""

    org_id: UUID
    cp_id: UUID
    zone: str
    credential_id: UUID | None = None


Event = ResourcesChanged | ZoneAccessRevoked
Listener = Callable[[Event], None]


class StoreEvents:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Adds a listener; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # one broken listener must not stop the others
                log.exception("store event listener failed", extra=log_fields(event=repr(event)))

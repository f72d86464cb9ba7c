"""What every KDS handler shares: the store and the server's in-memory registries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import cast

from meshmanager.kds.admin import EnvoyAdminStreams
from meshmanager.kds.auth import Authenticator, CredentialStore
from meshmanager.kds.connections import Connections
from meshmanager.kds.feed import ChangeFeed
from meshmanager.kds.status import StatusRecorder
from meshmanager.store.base import Store
from meshmanager.tenancy.signing_keys import SigningKeys


@dataclass
class KdsServices:
    store: Store
    auth: Authenticator
    status: StatusRecorder
    signing_keys: SigningKeys
    connections: Connections = field(default_factory=Connections)
    feed: ChangeFeed = field(default_factory=ChangeFeed)
    admin: EnvoyAdminStreams = field(default_factory=EnvoyAdminStreams)
    # Zone responses decoded and written at once, over all zones: CPU-bound work gains
    # nothing from more, and each holds a decoded message in memory.
    applying: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))

    @classmethod
    def for_store(cls, store: Store) -> KdsServices:
        credentials = cast(CredentialStore, store.zones)
        services = cls(
            store,
            Authenticator(credentials),
            StatusRecorder(store),
            SigningKeys(store),
        )
        store.events.listen(services.feed.on_store_event)
        store.events.listen(services.connections.on_store_event)
        return services

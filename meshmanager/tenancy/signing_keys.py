"""The zone-token signing key whose public half every zone of a control plane receives
(spec §12). Kuma's global makes it on start; ours is made with the control plane's first
zone (the zone API and the console's wizard), or when a zone made otherwise connects.

Once per control plane, however many of its zones connect at the same moment: an RSA
key costs 50 ms to over a second of CPU, and when each of 10 zones made its own, the
joins of 10,000 zones queued behind thousands of them.
"""

from __future__ import annotations

import asyncio
import contextlib

from meshmanager.model.errors import Conflict
from meshmanager.model.resources import signing
from meshmanager.model.resources.stored import CpScope
from meshmanager.store.base import Store
from meshmanager.store.resources import Create, ResourceQuery

PREFIX = signing.ZONE_TOKEN_SIGNING_KEY_PREFIX


class ZoneTokenSigningKeys:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._making: dict[CpScope, asyncio.Task[None]] = {}

    async def ensure(self, scope: CpScope) -> None:
        if await self._exists(scope):
            return
        making = self._making.get(scope)
        if making is None:
            making = self._making[scope] = asyncio.create_task(self._make(scope))
            making.add_done_callback(lambda done: self._forget(scope, done))
        await asyncio.shield(making)  # a waiter's RPC ending does not stop the others'

    def _forget(self, scope: CpScope, done: asyncio.Task[None]) -> None:
        if self._making.get(scope) is done:
            del self._making[scope]

    async def _exists(self, scope: CpScope) -> bool:
        secrets, _ = await self.store.resources.find(scope, ResourceQuery("GlobalSecret"))
        return signing.latest_signing_key(secrets, PREFIX) is not None

    async def _make(self, scope: CpScope) -> None:
        if await self._exists(scope):  # made since the caller looked
            return
        key = await asyncio.to_thread(signing.new_signing_key_secret, PREFIX)
        with contextlib.suppress(Conflict):  # another replica made it first
            await self.store.resources.write(scope, [Create(key)])

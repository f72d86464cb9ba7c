"""Signing keys (spec §12): each control plane's zone-token signing key, whose public
half every zone receives, and each mesh's dataplane-token signing key. Found, or made
if there is none.

Kuma's global makes the zone-token key on start; ours is made with the control plane's
first zone (the zone API and the console's wizard), or when a zone made otherwise
connects. A key is made once, however many callers ask for it at the same moment: an
RSA key costs 50 ms to over a second of CPU, and when each of 10 zones joining together
made its own, the joins of 10,000 zones queued behind thousands of them.
"""

from __future__ import annotations

import asyncio
import contextlib

from meshmanager.model.errors import Conflict
from meshmanager.model.resources import signing
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store.base import Store
from meshmanager.store.resources import Create, ResourceQuery

ZONE_TOKEN_PREFIX = signing.ZONE_TOKEN_SIGNING_KEY_PREFIX
_Key = tuple[CpScope, str, str]  # control plane, mesh ("" for a GlobalSecret), prefix


class SigningKeys:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._making: dict[_Key, asyncio.Task[None]] = {}

    async def ensure(self, scope: CpScope, prefix: str, mesh: str = "") -> Resource | None:
        """The newest key with `prefix`, made first if there is none. None only if it was
        deleted right after being made."""
        found = await self.latest(scope, prefix, mesh)
        if found is not None:
            return found
        key = (scope, mesh, prefix)
        making = self._making.get(key)
        if making is None:
            making = self._making[key] = asyncio.create_task(self._make(key))
            making.add_done_callback(lambda done: self._forget(key, done))
        await asyncio.shield(making)  # a waiter's RPC ending does not stop the others'
        return await self.latest(scope, prefix, mesh)

    async def ensure_zone_token_key(self, scope: CpScope) -> Resource | None:
        return await self.ensure(scope, ZONE_TOKEN_PREFIX)

    async def latest(self, scope: CpScope, prefix: str, mesh: str = "") -> Resource | None:
        kind = "Secret" if mesh else "GlobalSecret"
        query = ResourceQuery(kind, mesh=mesh, name_contains=prefix)
        secrets, _ = await self.store.resources.find(scope, query)
        return signing.latest_signing_key(secrets, prefix)

    def _forget(self, key: _Key, done: asyncio.Task[None]) -> None:
        if self._making.get(key) is done:
            del self._making[key]

    async def _make(self, key: _Key) -> None:
        scope, mesh, prefix = key
        if await self.latest(scope, prefix, mesh) is not None:  # made since the caller looked
            return
        secret = await asyncio.to_thread(signing.new_signing_key_secret, prefix, mesh)
        with contextlib.suppress(Conflict):  # another replica made it first
            await self.store.resources.write(scope, [Create(secret)])

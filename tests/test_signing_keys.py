"""The zone-token signing key of a control plane is made once, however many of its zones
connect at the same moment."""

from __future__ import annotations

import asyncio

import pytest

from meshmanager.model.resources import signing
from meshmanager.model.resources.stored import CpScope, Resource
from meshmanager.store import Store
from meshmanager.store.resources import ResourceQuery
from meshmanager.tenancy.signing_keys import ZONE_TOKEN_PREFIX as PREFIX
from meshmanager.tenancy.signing_keys import SigningKeys
from tests.test_store import _fields, _org


async def _scope(store: Store, name: str = "cp") -> CpScope:
    org_id = await _org(store) if name == "cp" else (await store.identity.bootstrap_admin())[0]
    cp_id = (await store.control_planes.create_owned(org_id, _fields(name))).item.id
    return CpScope(org_id, cp_id)


async def _keys(store: Store, scope: CpScope) -> list[Resource]:
    secrets, _ = await store.resources.find(scope, ResourceQuery("GlobalSecret"))
    return [s for s in secrets if s.name.startswith(PREFIX)]


async def test_zones_connecting_together_make_one_key(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    new_key = signing.new_signing_key_secret

    def counted(prefix: str, mesh: str = "") -> Resource:
        made.append(prefix)
        return new_key(prefix, mesh)

    monkeypatch.setattr(signing, "new_signing_key_secret", counted)
    keys, scope = SigningKeys(store), await _scope(store)
    await asyncio.gather(*(keys.ensure_zone_token_key(scope) for _ in range(10)))
    assert made == [PREFIX]
    assert [k.name for k in await _keys(store, scope)] == [
        signing.signing_key_name(PREFIX, signing.DEFAULT_KEY_ID)
    ]
    await keys.ensure_zone_token_key(scope)  # already there: nothing made
    other = await _scope(store, "cp-2")
    await keys.ensure_zone_token_key(other)
    assert made == [PREFIX, PREFIX]
    assert len(await _keys(store, other)) == 1


async def test_a_waiter_cancelled_does_not_stop_the_key_the_others_wait_for(
    store: Store,
) -> None:
    keys, scope = SigningKeys(store), await _scope(store)
    first = asyncio.create_task(keys.ensure_zone_token_key(scope))
    second = asyncio.create_task(keys.ensure_zone_token_key(scope))
    await asyncio.sleep(0.01)  # both are waiting on the one key being made
    first.cancel()
    await second
    assert first.cancelled()
    assert len(await _keys(store, scope)) == 1


async def test_a_failed_attempt_is_retried_by_the_next_zone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_key = signing.new_signing_key_secret

    def failing(prefix: str, mesh: str = "") -> Resource:
        raise OSError("no entropy")

    monkeypatch.setattr(signing, "new_signing_key_secret", failing)
    keys, scope = SigningKeys(store), await _scope(store)
    with pytest.raises(OSError, match="no entropy"):
        await keys.ensure_zone_token_key(scope)
    monkeypatch.setattr(signing, "new_signing_key_secret", new_key)
    await keys.ensure_zone_token_key(scope)
    assert len(await _keys(store, scope)) == 1

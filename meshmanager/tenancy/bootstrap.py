"""First start: an organization, its admin user and an admin token, exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from meshmanager.model.identity import TokenOwner
from meshmanager.store import Store
from meshmanager.store.types import utcnow
from meshmanager.tenancy.tokens import check_provided_secret, new_token

BOOTSTRAP_TOKEN_LIFETIME = timedelta(days=365)


@dataclass(frozen=True)
class Bootstrap:
    org_name: str
    admin_email: str
    token: str
    token_was_provided: bool


async def bootstrap(
    store: Store, org_name: str, admin_email: str, provided_token: str | None
) -> Bootstrap | None:
    """Creates the first organization on an empty store; None if it exists already."""
    if provided_token:
        check_provided_secret(provided_token)
    if await store.identity.bootstrap_admin() is not None:
        return None
    secret, token = new_token(
        "bootstrap admin token",
        TokenOwner.USER,
        utcnow() + BOOTSTRAP_TOKEN_LIFETIME,
        secret=provided_token,
    )
    created = await store.identity.create_organization(
        org_name, admin_email, token, platform_operator=True, bootstrap=True
    )
    if created is None:
        return None
    return Bootstrap(org_name, admin_email, secret, token_was_provided=bool(provided_token))


async def mint_admin_token(store: Store, name: str, lifetime: timedelta) -> str:
    """A new token for the first organization's admin, for a locked-out operator."""
    admin = await store.identity.bootstrap_admin()
    if admin is None:
        raise LookupError("the store has not been initialised: run 'meshmanager run' first")
    org_id, user_id = admin
    secret, token = new_token(name, TokenOwner.USER, utcnow() + lifetime)
    await store.identity.create_token(org_id, TokenOwner.USER, user_id, token)
    return secret

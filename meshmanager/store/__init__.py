"""Store layer: one interface over SQLite and PostgreSQL (see `dialects/`)."""

from meshmanager.store.base import Store, open_store

__all__ = ["Store", "open_store"]

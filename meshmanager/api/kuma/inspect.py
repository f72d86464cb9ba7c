"""Placeholder module; routes are added by the inspect work."""

from __future__ import annotations

from starlette.routing import Route


def routes() -> list[Route]:
    return []

"""Envoy admin data of a proxy (config dump, stats, clusters), which a global control
plane fetches from the proxy's zone. The KDS layer provides the forwarder; this layer
only defines what it must do, so the API does not depend on KDS."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from meshmanager.model.resources.stored import Resource


class ForwardingFailed(Exception):
    """The zone could not answer; the message says why (offline, timeout, Envoy error)."""


class EnvoyAdminForwarder(Protocol):
    def connected(self, cp_id: UUID, zone: str, kind: str) -> bool: ...

    async def forward(
        self, cp_id: UUID, zone: str, kind: str, resource: Resource, json_format: bool = False
    ) -> bytes: ...

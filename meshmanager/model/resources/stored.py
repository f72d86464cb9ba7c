"""A Kuma resource as meshmanager keeps it, independent of its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class CpScope:
    """The tenant a Kuma resource belongs to: an organization's control plane."""

    org_id: UUID
    cp_id: UUID


@dataclass(frozen=True)
class Resource:
    type: str
    mesh: str  # "" for global-scoped types
    name: str
    spec: Any = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    status: Any = None
    creation_time: datetime | None = None
    modification_time: datetime | None = None
    version: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type, self.mesh, self.name)

    def with_changes(self, **changes: Any) -> Resource:
        return replace(self, **changes)

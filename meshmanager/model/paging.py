"""Page requests and list filters, independent of HTTP and of the store."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from uuid import UUID

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    number: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


class LabelOp(enum.StrEnum):
    EQ = "eq"
    NEQ = "neq"
    OEQ = "oeq"
    OCONTAINS = "ocontains"


@dataclass(frozen=True)
class LabelFilter:
    key: str
    op: LabelOp
    values: tuple[str, ...]


@dataclass(frozen=True)
class ControlPlaneQuery:
    page: PageRequest = PageRequest()
    name_eq: str | None = None
    name_contains: str | None = None
    labels: tuple[LabelFilter, ...] = ()
    only_ids: frozenset[UUID] | None = None  # None: every control plane of the organization

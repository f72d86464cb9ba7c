"""A Kuma resource as meshmanager keeps it, independent of its REST or KDS form.

Specs are held as compact JSON bytes: a control plane may keep 100,000 dataplanes and
their insights in memory, and bytes cost a fraction of the equivalent dicts. They are
decoded on access and spliced as they are into API responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson


@dataclass(frozen=True)
class CpScope:
    """The tenant a Kuma resource belongs to: an organization's control plane."""

    org_id: UUID
    cp_id: UUID


_UNSET: Any = object()


def _kept_json(value: Any) -> bytes:
    """JSON bytes of exactly their length. orjson hands back its whole output buffer
    (4 KiB at least, 7 times a typical dataplane spec), which a cache of 200,000 specs
    would keep."""
    return memoryview(orjson.dumps(value)).tobytes()


_FIELDS = (
    "type",
    "mesh",
    "name",
    "labels",
    "spec_json",
    "status_json",
    "creation_time",
    "modification_time",
    "version",
)


class Resource:
    """Immutable; `memo` holds renderings of it that upper layers computed once, which
    stay right because any change makes a new Resource."""

    __slots__ = (*_FIELDS, "memo")

    type: str
    mesh: str  # "" for global-scoped types
    name: str
    labels: dict[str, str]
    spec_json: bytes
    status_json: bytes | None
    creation_time: datetime | None
    modification_time: datetime | None
    version: int
    memo: dict[str, Any]

    def __init__(
        self,
        type: str,
        mesh: str,
        name: str,
        spec: Any = _UNSET,
        labels: dict[str, str] | None = None,
        status: Any = None,
        creation_time: datetime | None = None,
        modification_time: datetime | None = None,
        version: int = 0,
        *,
        spec_json: bytes | None = None,
        status_json: bytes | None = None,
    ) -> None:
        setter = object.__setattr__
        setter(self, "type", type)
        setter(self, "mesh", mesh)
        setter(self, "name", name)
        setter(self, "labels", labels if labels is not None else {})
        if spec_json is None:
            spec_json = _kept_json({} if spec is _UNSET or spec is None else spec)
        setter(self, "spec_json", spec_json)
        if status_json is None and status is not None:
            status_json = _kept_json(status)
        setter(self, "status_json", status_json)
        setter(self, "creation_time", creation_time)
        setter(self, "modification_time", modification_time)
        setter(self, "version", version)
        setter(self, "memo", {})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Resource is immutable: use with_changes()")

    @property
    def spec(self) -> Any:
        return orjson.loads(self.spec_json)

    @property
    def status(self) -> Any:
        return None if self.status_json is None else orjson.loads(self.status_json)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.type, self.mesh, self.name)

    def with_changes(self, **changes: Any) -> Resource:
        values = {f: getattr(self, f) for f in _FIELDS}
        if "spec" in changes:
            values["spec_json"] = _kept_json(changes.pop("spec"))
        if "status" in changes:
            status = changes.pop("status")
            values["status_json"] = None if status is None else _kept_json(status)
        values.update(changes)
        spec_json, status_json = values.pop("spec_json"), values.pop("status_json")
        return Resource(**values, spec_json=spec_json, status_json=status_json)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resource):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _FIELDS)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Resource({self.type}/{self.mesh}/{self.name} v{self.version})"

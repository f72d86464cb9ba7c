"""Schema pieces several policies share (integer enums, HTTP headers, backend refs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.schema import AnyValue, Arr, Map, Node, Obj, Str, check

HEADER_NAME = Str(pattern=r"^[a-z0-9!#$%&'*+\-.^_`|~]+$", min_length=1, max_length=256)
HEADER_MATCH_TYPES = ("Exact", "Present", "RegularExpression", "Absent", "Prefix")
HEADER_MATCH = Obj(
    {"type": Str(enum=HEADER_MATCH_TYPES), "name": HEADER_NAME, "value": Str()},
    required=["name"],
)
_HEADER_KEY_VALUE = Obj({"name": HEADER_NAME, "value": Str()}, required=["name", "value"])
HEADERS_TO_SET = Arr(_HEADER_KEY_VALUE, max_items=16)

OTEL_BACKEND_REF = Obj(
    {"kind": Str(enum=("MeshOpenTelemetryBackend",)), "labels": Map(Str())}, required=["kind"]
)


@dataclass
class IntEnum(Node):
    """An integer out of a fixed set (an OpenAPI integer enum)."""

    values: tuple[int, ...] = field(default_factory=tuple)
    schema_type: ClassVar[str] = "integer"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            self._type_error(value, path, out)
        elif value not in self.values:
            out.add(path, f"in body should be one of [{' '.join(map(str, self.values))}]")


@dataclass
class WithoutNullListItems(Node):
    """A policy's schema, which also rejects null list items: the schema takes null as
    "not set", which a list item cannot be; Kuma's schema check rejects them as values of
    the wrong type."""

    schema: Node
    schema_type: ClassVar[str] = "object"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        out.extend(check(self.schema, value, path))
        _null_list_items(self.schema, value, path, out)


def _null_list_items(node: Node, value: Any, path: Path, out: Violations) -> None:
    if isinstance(node, Arr) and isinstance(value, list):
        for index, item in enumerate(value):
            if item is None and not isinstance(node.items, AnyValue):
                out.add(
                    path.index(index),
                    f'in body must be of type {node.items.schema_type}: "null"',
                )
            else:
                _null_list_items(node.items, item, path.index(index), out)
    elif isinstance(node, Obj) and isinstance(value, dict):
        for key, item in value.items():
            if key in node.fields:
                _null_list_items(node.fields[key], item, path.field(key), out)
    elif isinstance(node, Map) and isinstance(value, dict):
        for key, item in value.items():
            _null_list_items(node.values, item, path.field(str(key)), out)

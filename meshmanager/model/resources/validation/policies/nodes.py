"""Schema pieces several policies share (Go integer widths, HTTP headers, backend refs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.schema import (
    AnyValue,
    Arr,
    Bool,
    Int,
    IntOrStr,
    Map,
    Node,
    Num,
    Obj,
    Str,
)

UINT32 = Int(minimum=0, maximum=2**32 - 1)
INT32 = Int(minimum=-(2**31), maximum=2**31 - 1)
INT64 = Int(minimum=-(2**63), maximum=2**63 - 1)

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

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            self._type_error("integer", value, path, out)
        elif value not in self.values:
            out.add(path, f"in body should be one of [{' '.join(map(str, self.values))}]")


def _json_type_name(node: Node) -> str:
    if isinstance(node, Obj | Map):
        return "object"
    if isinstance(node, Arr):
        return "array"
    if isinstance(node, Int | IntEnum):
        return "integer"
    if isinstance(node, IntOrStr):
        return "integer,string"
    if isinstance(node, Num):
        return "number"
    if isinstance(node, Bool):
        return "boolean"
    return "string"


def null_list_items(node: Node, value: Any, path: Path, out: Violations) -> None:
    """Report null list items. The schema takes null as "not set", which a list item cannot
    be; Kuma's schema check rejects them as values of the wrong type."""
    if isinstance(node, Arr) and isinstance(value, list):
        for index, item in enumerate(value):
            if item is None and not isinstance(node.items, AnyValue):
                out.add(
                    path.index(index),
                    f'in body must be of type {_json_type_name(node.items)}: "null"',
                )
            else:
                null_list_items(node.items, item, path.index(index), out)
    elif isinstance(node, Obj) and isinstance(value, dict):
        for key, item in value.items():
            if key in node.fields:
                null_list_items(node.fields[key], item, path.field(key), out)
    elif isinstance(node, Map) and isinstance(value, dict):
        for key, item in value.items():
            null_list_items(node.values, item, path.field(str(key)), out)

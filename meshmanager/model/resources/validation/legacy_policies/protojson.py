"""Schema nodes for protojson bodies, and their decoding as Kuma's jsonpb decoder does it.

Kuma reads old-style specs with the legacy `jsonpb` unmarshaler, which:
* accepts every field under its proto name (`tag_key`) and its JSON name (`tagKey`);
* reads integers and floats from JSON numbers or from quoted numbers;
* reads a Duration with Go's `time.ParseDuration` ("10s", "1h30m", "0");
* treats `null` as "not set", an empty list as no list, and an empty object as a set
  (empty) message or map; a `null` map value or list element is its type's zero value;
* keeps only the last member (in declaration order) of a oneof given several times.

`validate_decoded()` checks a body against a `message()` schema and runs a type's rules on
its canonical form: JSON field names, unset fields left out, numbers as numbers and
durations as nanoseconds.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.golang.durations import parse_duration
from meshmanager.model.resources.validation.schema import (
    Arr,
    Base64Bytes,
    Bool,
    Map,
    Message,
    Node,
    ProtoDuration,
    Str,
    check,
    json_name,
)

_JSON_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
FLOAT32_MAX = 3.4028234663852886e38


def message(fields: Mapping[str, Node], oneofs: Sequence[Sequence[str]] = ()) -> Message:
    """A message as jsonpb reads it, from its fields named as in the .proto file, in its
    order."""
    return Message(fields, oneofs, jsonpb=True)


class Scalar(Node):
    """A protobuf scalar with a JSON form of its own; `decode` gives its canonical value."""

    zero: Any = None

    def decode(self, value: Any) -> Any:
        return value


@dataclass
class Integer(Scalar):
    """(u)int32 / (u)int64, or their wrappers: a JSON number or a quoted one."""

    bits: int = 32
    signed: bool = False
    zero: Any = 0
    schema_type: ClassVar[str] = "integer"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        number = _integer(value)
        if number is None:
            self._type_error(value, path, out)
            return
        low = -(1 << (self.bits - 1)) if self.signed else 0
        high = (1 << (self.bits - 1 if self.signed else self.bits)) - 1
        if number < low:
            out.add(path, f"in body should be greater than or equal to {low}")
        elif number > high:
            out.add(path, f"in body should be less than or equal to {high}")

    def decode(self, value: Any) -> Any:
        return _integer(value)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _JSON_INTEGER.fullmatch(value):
        return int(value)
    return None


@dataclass
class Floating(Scalar):
    """double / float, or their wrappers: a JSON number, a quoted one, or "NaN"/"Infinity"."""

    bits: int = 64
    zero: Any = 0.0
    schema_type: ClassVar[str] = "number"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        number = _floating(value)
        if number is None:
            self._type_error(value, path, out)
        elif self.bits == 32 and number > FLOAT32_MAX:
            out.add(path, f"in body should be less than or equal to {FLOAT32_MAX}")
        elif self.bits == 32 and number < -FLOAT32_MAX:
            out.add(path, f"in body should be greater than or equal to {-FLOAT32_MAX}")

    def decode(self, value: Any) -> Any:
        number = _floating(value)
        if self.bits == 32 and number is not None and math.isfinite(number):
            # a float field keeps only float32 precision, which the range checks then see
            return float(struct.unpack("<f", struct.pack("<f", number))[0])
        return number


def _floating(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        if _JSON_NUMBER.fullmatch(value):
            return float(value)
    return None


@dataclass
class Enum(Scalar):
    """A proto3 enum whose numbers are 0..n-1: its value name, or a number."""

    names: Sequence[str] = ()
    schema_type: ClassVar[str] = "string"

    def __post_init__(self) -> None:
        self.zero = self.names[0]

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            Integer(bits=32, signed=True).check(value, path, out)
        elif not isinstance(value, str):
            self._type_error(value, path, out)
        elif value not in self.names:
            out.add(path, f"in body should be one of [{' '.join(self.names)}]")

    def decode(self, value: Any) -> Any:
        if isinstance(value, int) and 0 <= value < len(self.names):
            return self.names[value]
        return value


STRING = Str()
BOOL = Bool()
UINT32 = Integer(bits=32)
UINT64 = Integer(bits=64)
DOUBLE = Floating(bits=64)
FLOAT = Floating(bits=32)
DURATION = ProtoDuration()
BYTES = Base64Bytes(strict=True)


DecodedRules = Callable[[dict[str, Any]], Violations]


def validate_decoded(schema: Message, body: Any, rules: DecodedRules) -> Violations:
    """The violations of `body` against `schema` if any; else those `rules` find in its
    canonical form."""
    body = {} if body is None else body
    problems = check(schema, body, Path())
    if problems:
        return problems
    decoded: dict[str, Any] = _decode(schema, body)
    return rules(decoded)


def _decode(node: Node, value: Any) -> Any:
    if isinstance(node, Message):
        return _decode_message(node, value)
    if isinstance(node, Arr):
        return [_decode_element(node.items, item) for item in value]
    if isinstance(node, Map):
        return {key: _decode_element(node.values, item) for key, item in value.items()}
    if isinstance(node, Scalar):
        return node.decode(value)
    if isinstance(node, ProtoDuration):
        return parse_duration(value)
    return value


def _decode_element(node: Node, value: Any) -> Any:
    """A map value or list element: `null` there is the zero value, not "unset"."""
    return _zero(node) if value is None else _decode(node, value)


def _zero(node: Node) -> Any:
    if isinstance(node, Message | Map):
        return {}
    if isinstance(node, Arr):
        return []
    if isinstance(node, Scalar):
        return node.zero
    if isinstance(node, ProtoDuration):
        return 0
    if isinstance(node, Bool):
        return False
    return ""


def _decode_message(schema: Message, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for proto_name, node in schema.fields.items():
        name = json_name(proto_name)
        raw = value[name] if name in value else value.get(proto_name)
        if raw is None or raw == []:
            continue
        out[name] = _decode(node, raw)
    for group in schema.oneofs:
        for member in [json_name(m) for m in group if json_name(m) in out][:-1]:
            del out[member]
    return out


def sub(container: Mapping[str, Any] | None, name: str) -> dict[str, Any] | None:
    """A decoded sub-message, or None when not set (Go's nil-safe getters)."""
    if container is None:
        return None
    value: dict[str, Any] | None = container.get(name)
    return value

"""Schema nodes for protojson bodies, and their decoding as Kuma's jsonpb decoder does it.

Kuma reads old-style specs with the legacy `jsonpb` unmarshaler, which:
* accepts every field under its proto name (`tag_key`) and its JSON name (`tagKey`);
* reads integers and floats from JSON numbers or from quoted numbers;
* reads a Duration with Go's `time.ParseDuration` ("10s", "1h30m", "0");
* treats `null` as "not set", an empty list as no list, and an empty object as a set
  (empty) message or map; a `null` map value or list element is its type's zero value;
* keeps only the last member (in declaration order) of a oneof given several times.

`decode()` checks a body against a `message()` schema and returns its canonical form:
JSON field names, unset fields left out, numbers as numbers and durations as nanoseconds.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.legacy_policies.golang import (
    go_quote,
    parse_duration,
)
from meshmanager.model.resources.validation.schema import (
    Arr,
    Bool,
    Map,
    Node,
    Obj,
    Str,
    check,
)

_JSON_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
FLOAT32_MAX = 3.4028234663852886e38


def lower_camel(proto_name: str) -> str:
    """The JSON name protoc gives a field: `max_ejection_percent` -> `maxEjectionPercent`."""
    parts = proto_name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])


@dataclass
class Message(Obj):
    """A protobuf message; build it with `message()`."""

    declared: Sequence[tuple[str, str]] = ()  # (proto name, JSON name), in declaration order
    oneofs: Sequence[Sequence[str]] = ()  # JSON names of each oneof, in declaration order


def message(fields: Mapping[str, Node], oneofs: Sequence[Sequence[str]] = ()) -> Message:
    """A message schema from its fields, named as in the .proto file, in its order."""
    accepted: dict[str, Node] = {}
    declared = []
    for proto_name, node in fields.items():
        accepted[proto_name] = node
        accepted[lower_camel(proto_name)] = node
        declared.append((proto_name, lower_camel(proto_name)))
    groups = [tuple(lower_camel(name) for name in group) for group in oneofs]
    return Message(fields=accepted, declared=declared, oneofs=groups)


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

    def check(self, value: Any, path: Path, out: Violations) -> None:
        number = _integer(value)
        if number is None:
            self._type_error("integer", value, path, out)
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

    def check(self, value: Any, path: Path, out: Violations) -> None:
        number = _floating(value)
        if number is None:
            self._type_error("number", value, path, out)
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
class Duration(Scalar):
    """google.protobuf.Duration: a Go duration string; decoded to nanoseconds."""

    zero: Any = 0

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, str):
            self._type_error("string", value, path, out)
            return
        try:
            parse_duration(value)
        except ValueError:
            out.add(path, f"in body must be of type duration: {go_quote(value)}")

    def decode(self, value: Any) -> Any:
        return parse_duration(value)


@dataclass
class Bytes(Scalar):
    """bytes / BytesValue: standard base64 with padding; decoded to bytes."""

    zero: Any = b""

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, str):
            self._type_error("string", value, path, out)
        elif _base64(value) is None:
            out.add(path, f"in body must be of type byte: {go_quote(value)}")

    def decode(self, value: Any) -> Any:
        return _base64(value)


def _base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass
class Enum(Scalar):
    """A proto3 enum whose numbers are 0..n-1: its value name, or a number."""

    names: Sequence[str] = ()

    def __post_init__(self) -> None:
        self.zero = self.names[0]

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            Integer(bits=32, signed=True).check(value, path, out)
        elif not isinstance(value, str):
            self._type_error("string", value, path, out)
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
DURATION = Duration()
BYTES = Bytes()
STRING_MAP = Map(Str())


def decode(schema: Message, body: Any) -> tuple[Violations, dict[str, Any]]:
    """Check `body` against `schema`; when it is sound, also return its canonical form."""
    body = {} if body is None else body
    problems = check(schema, body, Path())
    if problems:
        return problems, {}
    decoded: dict[str, Any] = _decode(schema, body)
    return problems, decoded


def _decode(node: Node, value: Any) -> Any:
    if isinstance(node, Message):
        return _decode_message(node, value)
    if isinstance(node, Arr):
        return [_decode_element(node.items, item) for item in value]
    if isinstance(node, Map):
        return {key: _decode_element(node.values, item) for key, item in value.items()}
    if isinstance(node, Scalar):
        return node.decode(value)
    return value


def _decode_element(node: Node, value: Any) -> Any:
    """A map value or list element: `null` there is the zero value, not "unset"."""
    return _zero(node) if value is None else _decode(node, value)


def _zero(node: Node) -> Any:
    if isinstance(node, Obj | Map):
        return {}
    if isinstance(node, Arr):
        return []
    if isinstance(node, Scalar):
        return node.zero
    if isinstance(node, Bool):
        return False
    return ""


def _decode_message(schema: Message, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for proto_name, json_name in schema.declared:
        raw = value[json_name] if json_name in value else value.get(proto_name)
        if raw is None or raw == []:
            continue
        out[json_name] = _decode(schema.fields[json_name], raw)
    for group in schema.oneofs:
        for name in [member for member in group if member in out][:-1]:
            del out[name]
    return out


def sub(container: Mapping[str, Any] | None, name: str) -> dict[str, Any] | None:
    """A decoded sub-message, or None when not set (Go's nil-safe getters)."""
    if container is None:
        return None
    value: dict[str, Any] | None = container.get(name)
    return value

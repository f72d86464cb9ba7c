"""Structural (schema) checks of a spec, with the messages Kuma's OpenAPI validation gives.

A schema is built from the node types below, e.g.

    TARGET_REF = Obj({"kind": Str(enum=KINDS), "name": Str(), "tags": Map(Str())},
                     required=["kind"])

`check(schema, value, Path("spec"))` reports wrong types, values outside an enum,
missing required fields and unknown fields (which Kuma ignores; we reject them, so that
a typo in a policy is an error instead of a silently dropped setting).
`validate_with_schema` runs a type's own rules once its spec has passed the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.golang.durations import DurationError, parse_duration
from meshmanager.model.resources.validation.golang.encoding import (
    is_protojson_base64,
    is_std_base64,
)
from meshmanager.model.resources.validation.golang.strconv import go_quote


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Node:
    nullable: bool = False
    schema_type: ClassVar[str]  # the JSON type a value must have, as type errors name it

    def check(self, value: Any, path: Path, out: Violations) -> None:
        raise NotImplementedError

    def _type_error(self, value: Any, path: Path, out: Violations) -> None:
        out.add(path, f'in body must be of type {self.schema_type}: "{json_type(value)}"')


@dataclass
class AnyValue(Node):
    schema_type: ClassVar[str] = "any"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        return None


@dataclass
class Str(Node):
    enum: Sequence[str] | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    schema_type: ClassVar[str] = "string"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, str):
            self._type_error(value, path, out)
            return
        if self.enum is not None and value not in self.enum:
            out.add(path, f"in body should be one of [{' '.join(self.enum)}]")
        if self.min_length is not None and len(value) < self.min_length:
            out.add(path, f"in body should be at least {self.min_length} chars long")
        if self.max_length is not None and len(value) > self.max_length:
            out.add(path, f"in body should be at most {self.max_length} chars long")
        if self.pattern is not None and not re.search(self.pattern, value):
            out.add(path, f"in body should match '{self.pattern}'")


@dataclass
class Int(Node):
    minimum: int | None = None
    maximum: int | None = None
    schema_type: ClassVar[str] = "integer"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        ):
            self._type_error(value, path, out)
            return
        _bounds(value, self.minimum, self.maximum, path, out)


@dataclass
class Num(Node):
    minimum: float | None = None
    maximum: float | None = None
    schema_type: ClassVar[str] = "number"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._type_error(value, path, out)
            return
        _bounds(value, self.minimum, self.maximum, path, out)


@dataclass
class Bool(Node):
    schema_type: ClassVar[str] = "boolean"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, bool):
            self._type_error(value, path, out)


@dataclass
class IntOrStr(Node):
    """Kubernetes' IntOrString: `50` or `"50%"`."""

    schema_type: ClassVar[str] = "integer,string"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, bool) or not isinstance(value, int | str):
            self._type_error(value, path, out)


@dataclass
class Arr(Node):
    items: Node = field(default_factory=AnyValue)
    min_items: int | None = None
    max_items: int | None = None
    schema_type: ClassVar[str] = "array"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, list):
            self._type_error(value, path, out)
            return
        if self.min_items is not None and len(value) < self.min_items:
            out.add(path, f"in body should have at least {self.min_items} items")
        if self.max_items is not None and len(value) > self.max_items:
            out.add(path, f"in body should have at most {self.max_items} items")
        for i, item in enumerate(value):
            _check(self.items, item, path.index(i), out)


@dataclass
class Map(Node):
    """An object whose keys are free and whose values share one schema."""

    values: Node = field(default_factory=AnyValue)
    schema_type: ClassVar[str] = "object"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, dict):
            self._type_error(value, path, out)
            return
        for key, item in value.items():
            _check(self.values, item, path.field(str(key)), out)


@dataclass
class Obj(Node):
    fields: Mapping[str, Node] = field(default_factory=dict)
    required: Sequence[str] = ()
    open: bool = False  # True: unknown fields are allowed (free-form sub-objects)
    schema_type: ClassVar[str] = "object"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, dict):
            self._type_error(value, path, out)
            return
        for name in self.required:
            if value.get(name) is None:
                out.add(path.field(name), "in body is required")
        for key, item in value.items():
            node = self.fields.get(key)
            if node is None:
                if not self.open:
                    out.add(path.field(str(key)), "in body is a forbidden property")
                continue
            _check(node, item, path.field(key), out)


def json_name(proto_name: str) -> str:
    """protoc's JSON name of a field: `query_parameters` -> `queryParameters`."""
    head, *rest = proto_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass
class Message(Node):
    """A protobuf message in protojson. `fields` are keyed by proto name (`tag_key`), in
    the .proto file's order; the JSON name (`tagKey`) is accepted too. A field given under
    both names, or several members of a `oneofs` group, is an error, unless `jsonpb`: the
    legacy jsonpb decoder takes those and keeps the JSON name's value and the last member."""

    fields: Mapping[str, Node] = field(default_factory=dict)
    oneofs: Sequence[Sequence[str]] = ()
    jsonpb: bool = False
    names: dict[str, str] = field(init=False, repr=False)  # either spelling: proto name
    schema_type: ClassVar[str] = "object"

    def __post_init__(self) -> None:
        self.names = {json_name(name): name for name in self.fields} | {n: n for n in self.fields}

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, dict):
            self._type_error(value, path, out)
            return
        given: dict[str, str] = {}  # proto name: the key it is given under
        for key, item in value.items():
            name = self.names.get(key)
            if name is None:
                out.add(path.field(str(key)), "in body is a forbidden property")
            elif name in given and not self.jsonpb:
                out.add(path.field(key), f'in body is the same field as "{given[name]}"')
            else:
                given.setdefault(name, key)
                _check(self.fields[name], item, path.field(key), out)
        if not self.jsonpb:
            self._check_oneofs(value, given, path, out)

    def _check_oneofs(
        self, value: dict[str, Any], given: dict[str, str], path: Path, out: Violations
    ) -> None:
        for group in self.oneofs:
            keys = [key for name, key in given.items() if name in group and value[key] is not None]
            for key in keys[1:]:
                out.add(path.field(key), f'in body cannot be set together with "{keys[0]}"')


@dataclass
class GoDuration(Node):
    """A string Go's time.ParseDuration accepts ("10s", "1h30m"), as a Kubernetes
    metav1.Duration is; a bad one gets Go's error message."""

    schema_type: ClassVar[str] = "string"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, str):
            self._type_error(value, path, out)
            return
        try:
            parse_duration(value)
        except DurationError as error:
            out.add(path, self._invalid(value, error))

    def _invalid(self, value: str, error: DurationError) -> str:
        return str(error)


@dataclass
class ProtoDuration(GoDuration):
    """A google.protobuf.Duration in protojson, which Kuma's decoder reads with Go's
    time.ParseDuration too; a bad one is reported as a value of the wrong type."""

    def _invalid(self, value: str, error: DurationError) -> str:
        return f"in body must be of type duration: {go_quote(value)}"


@dataclass
class Base64Bytes(Node):
    """A bytes field in JSON: a base64 string (`strict`: Go's encoding/json rules, else
    protojson's, which also take the URL alphabet and missing padding)."""

    strict: bool = False
    schema_type: ClassVar[str] = "string"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, str):
            self._type_error(value, path, out)
            return
        valid = is_std_base64(value) if self.strict else is_protojson_base64(value)
        if not valid:
            out.add(path, f"in body must be of type byte: {go_quote(value)}")


UINT32 = Int(minimum=0, maximum=2**32 - 1)
INT32 = Int(minimum=-(2**31), maximum=2**31 - 1)
INT64 = Int(minimum=-(2**63), maximum=2**63 - 1)
STRING_MAP = Map(Str())


def _check(node: Node, value: Any, path: Path, out: Violations) -> None:
    if value is None and node.nullable:
        return
    if value is None and not isinstance(node, AnyValue):
        # An explicit null is what JSON clients send for "not set": treat it so.
        return
    node.check(value, path, out)


def _bounds(
    value: float, minimum: float | None, maximum: float | None, path: Path, out: Violations
) -> None:
    if minimum is not None and value < minimum:
        out.add(path, f"in body should be greater than or equal to {minimum}")
    if maximum is not None and value > maximum:
        out.add(path, f"in body should be less than or equal to {maximum}")


def check(schema: Node, value: Any, path: Path) -> Violations:
    out = Violations()
    _check(schema, value, path, out)
    return out


# Reading a value that has passed its schema: any field may still be absent or null, which
# reads as the zero value.


def as_dict(value: Any) -> dict[str, Any]:
    """An object field; absent or null is empty (Go's zero struct)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """A list field; absent or null is empty."""
    return value if isinstance(value, list) else []


def as_dicts(value: Any) -> list[dict[str, Any]]:
    """A list of objects; a null element reads as an empty object."""
    return [as_dict(item) for item in as_list(value)]


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def as_float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def as_tags(value: Any) -> dict[str, str]:
    """A map of strings; a null value reads as the empty string."""
    return {str(k): as_str(v) for k, v in as_dict(value).items()}


Rules = Callable[[dict[str, Any], Violations], None]


def validate_with_schema(
    schema: Node, spec: Any, path: Path, rules: Rules, shape_checked: bool = False
) -> Violations:
    """The schema's violations of `spec` if it has any; else those `rules` find in it.
    The rules run only on a spec of the right shape, so they may trust its types."""
    structural = Violations() if shape_checked else check(schema, spec, path)
    if structural:
        return structural
    out = Violations()
    rules(as_dict(spec), out)
    return out

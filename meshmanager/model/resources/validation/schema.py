"""Structural (schema) checks of a spec, with the messages Kuma's OpenAPI validation gives.

A schema is built from the node types below, e.g.

    TARGET_REF = Obj({"kind": Str(enum=KINDS), "name": Str(), "tags": Map(Str())},
                     required=["kind"])

`check(schema, value, Path("spec"))` reports wrong types, values outside an enum,
missing required fields and unknown fields (which Kuma ignores; we reject them, so that
a typo in a policy is an error instead of a silently dropped setting).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations


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

    def check(self, value: Any, path: Path, out: Violations) -> None:
        raise NotImplementedError

    def _type_error(self, expected: str, value: Any, path: Path, out: Violations) -> None:
        out.add(path, f'in body must be of type {expected}: "{json_type(value)}"')


@dataclass
class AnyValue(Node):
    def check(self, value: Any, path: Path, out: Violations) -> None:
        return None


@dataclass
class Str(Node):
    enum: Sequence[str] | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, str):
            self._type_error("string", value, path, out)
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

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        ):
            self._type_error("integer", value, path, out)
            return
        _bounds(value, self.minimum, self.maximum, path, out)


@dataclass
class Num(Node):
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._type_error("number", value, path, out)
            return
        _bounds(value, self.minimum, self.maximum, path, out)


@dataclass
class Bool(Node):
    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, bool):
            self._type_error("boolean", value, path, out)


@dataclass
class IntOrStr(Node):
    """Kubernetes' IntOrString: `50` or `"50%"`."""

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if isinstance(value, bool) or not isinstance(value, int | str):
            self._type_error("integer,string", value, path, out)


@dataclass
class Arr(Node):
    items: Node = field(default_factory=AnyValue)
    min_items: int | None = None
    max_items: int | None = None

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, list):
            self._type_error("array", value, path, out)
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

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, dict):
            self._type_error("object", value, path, out)
            return
        for key, item in value.items():
            _check(self.values, item, path.field(str(key)), out)


@dataclass
class Obj(Node):
    fields: Mapping[str, Node] = field(default_factory=dict)
    required: Sequence[str] = ()
    open: bool = False  # True: unknown fields are allowed (free-form sub-objects)

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, dict):
            self._type_error("object", value, path, out)
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

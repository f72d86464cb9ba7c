"""Schema pieces of the core types' protobuf messages, and `pick` to read a field by its
proto name whichever spelling the input used."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.schema import (
    STRING_MAP,
    Bool,
    Message,
    Node,
    Obj,
    Str,
    check,
    json_name,
)


@dataclass
class TypedConf(Node):
    """A backend whose free-form `conf` (a google.protobuf.Struct) has a known shape for
    some values of its `type`."""

    backend: Node
    conf_by_type: Mapping[str, Node]
    schema_type: ClassVar[str] = "object"

    def check(self, value: Any, path: Path, out: Violations) -> None:
        backend_violations = check(self.backend, value, path)
        out.extend(backend_violations)
        if backend_violations or not isinstance(value, dict):
            return
        conf_schema = self.conf_by_type.get(str(value.get("type")))
        if conf_schema is not None:
            out.extend(check(conf_schema, value.get("conf"), path.field("conf")))


def enum(*names: str) -> Str:
    return Str(enum=list(names))


STRUCT = Obj(open=True)
BOOL = Bool()
SELECTOR = Message({"match": STRING_MAP})
DATA_SOURCE = Message(
    {"secret": Str(), "file": Str(), "inline": Str(), "inlineString": Str()},
    oneofs=[("secret", "file", "inline", "inlineString")],
)


def pick(obj: Mapping[str, Any], proto_name: str) -> Any:
    """A field by proto name, whichever of its two spellings the input used."""
    value = obj.get(proto_name)
    return obj.get(json_name(proto_name)) if value is None else value

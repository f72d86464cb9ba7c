"""Schema nodes for protobuf messages decoded from protojson, and typed accessors for
the semantic rules that run once the schema has passed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.mesh_core.golang import parse_duration
from meshmanager.model.resources.validation.schema import (
    Bool,
    Int,
    Map,
    Node,
    Obj,
    Str,
    check,
)

UINT32_MAX = 2**32 - 1


def json_name(proto_name: str) -> str:
    """protoc's JSON name of a field: `query_parameters` -> `queryParameters`."""
    head, *rest = proto_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass
class Message(Node):
    """A protobuf message. `fields` are keyed by proto name; the JSON name is accepted
    too. Members of a `oneofs` group exclude each other."""

    fields: Mapping[str, Node] = field(default_factory=dict)
    oneofs: Sequence[Sequence[str]] = ()

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, dict):
            self._type_error("object", value, path, out)
            return
        spellings = {json_name(name): name for name in self.fields} | {n: n for n in self.fields}
        used: dict[str, str] = {}
        for key, item in value.items():
            name = spellings.get(key)
            if name is None:
                out.add(path.field(str(key)), "in body is a forbidden property")
                continue
            if name in used:
                out.add(path.field(key), f'in body is the same field as "{used[name]}"')
                continue
            used[name] = key
            out.extend(check(self.fields[name], item, path.field(key)))
        for group in self.oneofs:
            present = [
                key for name, key in used.items() if name in group and value[key] is not None
            ]
            for key in present[1:]:
                out.add(path.field(key), f'in body cannot be set together with "{present[0]}"')


@dataclass
class Duration(Node):
    """google.protobuf.Duration, which Kuma's decoder reads with Go's time.ParseDuration."""

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, str):
            self._type_error("string", value, path, out)
        elif parse_duration(value) is None:
            out.add(path, f'in body must be of type duration: "{value}"')


@dataclass
class TypedConf(Node):
    """A backend whose free-form `conf` (a google.protobuf.Struct) has a known shape for
    some values of its `type`."""

    backend: Node
    conf_by_type: Mapping[str, Node]

    def check(self, value: Any, path: Path, out: Violations) -> None:
        backend_violations = check(self.backend, value, path)
        out.extend(backend_violations)
        if backend_violations or not isinstance(value, dict):
            return
        conf_schema = self.conf_by_type.get(str(value.get("type")))
        if conf_schema is not None:
            out.extend(check(conf_schema, value.get("conf"), path.field("conf")))


def message(fields: Mapping[str, Node], oneofs: Sequence[Sequence[str]] = ()) -> Message:
    return Message(fields=fields, oneofs=oneofs)


def uint32() -> Int:
    return Int(minimum=0, maximum=UINT32_MAX)


def enum(*names: str) -> Str:
    return Str(enum=list(names))


STRING_MAP = Map(Str())
STRUCT = Obj(open=True)
BOOL = Bool()
SELECTOR = message({"match": STRING_MAP})
DATA_SOURCE = message(
    {"secret": Str(), "file": Str(), "inline": Str(), "inlineString": Str()},
    oneofs=[("secret", "file", "inline", "inlineString")],
)


# Accessors for the semantic rules: the schema has passed, but any field may be absent
# or an explicit null, which protobuf reads as the zero value.


def pick(obj: Mapping[str, Any], proto_name: str) -> Any:
    """A field by proto name, whichever of its two spellings the input used."""
    value = obj.get(proto_name)
    return obj.get(json_name(proto_name)) if value is None else value


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dicts(value: Any) -> list[dict[str, Any]]:
    """A repeated message; a null element reads as an empty message."""
    return [as_dict(item) for item in as_list(value)]


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def as_float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def as_tags(value: Any) -> dict[str, str]:
    """A map<string, string>; a null value reads as the empty string."""
    return {str(k): as_str(v) for k, v in as_dict(value).items()}

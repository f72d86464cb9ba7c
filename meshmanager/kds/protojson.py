"""Protobuf messages to ProtoJSON dicts: what `json_format.MessageToDict` returns, with
each message type's field conversions worked out once instead of per value.

A zone's sync sends up to thousands of dataplanes and insights at once, and the
generic printer spends most of its time rediscovering, for every field of every
message, what kind of field it is. Well-known types other than the wrappers,
Timestamp and Duration are rare here and still go through `json_format`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message

Convert = Callable[[Any], Any]

_AS_JSON_STRING = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)
_WRAPPERS = frozenset(
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
)
_INT64 = frozenset({FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64})
_FLOATS = frozenset({FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE})

_converters: dict[str, Convert] = {}


def message_to_dict(message: Message) -> Any:
    """`json_format.MessageToDict(message)`, with its defaults."""
    return _converter(message.DESCRIPTOR)(message)


def _converter(descriptor: Any) -> Convert:
    found = _converters.get(descriptor.full_name)
    if found is None:
        found = _converters[descriptor.full_name] = _new_converter(descriptor)
    return found


def _new_converter(descriptor: Descriptor) -> Convert:
    name = descriptor.full_name
    if name in _AS_JSON_STRING:
        return lambda message: message.ToJsonString()
    if name in _WRAPPERS:
        value = _scalar(descriptor.fields_by_name["value"])
        return lambda message: value(message.value)
    if name.startswith("google.protobuf."):
        return json_format.MessageToDict
    return _RegularMessage(descriptor)


class _RegularMessage:
    """Converts the fields a message has set, by field number: (JSON name, conversion)."""

    def __init__(self, descriptor: Descriptor) -> None:
        self.descriptor = descriptor
        self.fields: dict[int, tuple[str, Convert]] = {}

    def __call__(self, message: Message) -> dict[str, Any]:
        out: dict[str, Any] = {}
        fields = self.fields
        for field, value in message.ListFields():
            plan = fields.get(field.number)
            if plan is None:
                if field.is_extension:
                    return json_format.MessageToDict(message)
                plan = fields[field.number] = (field.json_name, _field(field))
            out[plan[0]] = plan[1](value)
        return out


def _field(field: FieldDescriptor) -> Convert:
    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        return _map(message_type.fields_by_name["key"], message_type.fields_by_name["value"])
    item = _scalar(field)
    if field.is_repeated:
        return lambda values: [item(value) for value in values]
    return item


def _map(key_field: FieldDescriptor, value_field: FieldDescriptor) -> Convert:
    value = _scalar(value_field)
    if key_field.cpp_type == FieldDescriptor.CPPTYPE_BOOL:
        return lambda entries: {("true" if k else "false"): value(v) for k, v in entries.items()}
    return lambda entries: {str(k): value(v) for k, v in entries.items()}


def _scalar(field: FieldDescriptor) -> Convert:
    kind = field.cpp_type
    if kind == FieldDescriptor.CPPTYPE_MESSAGE:
        return _converter(field.message_type)
    if kind == FieldDescriptor.CPPTYPE_ENUM:
        return _enum(field)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return lambda value: base64.b64encode(value).decode("utf-8")
    if kind in _INT64:
        return str
    if kind in _FLOATS:
        return _float(single=kind == FieldDescriptor.CPPTYPE_FLOAT)
    return _same


def _same(value: Any) -> Any:
    return value


def _enum(field: FieldDescriptor) -> Convert:
    enum_type = field.enum_type
    assert enum_type is not None
    if enum_type.full_name == "google.protobuf.NullValue":
        return lambda _value: None
    names = {number: value.name for number, value in enum_type.values_by_number.items()}
    if not enum_type.is_closed:
        return lambda value: names.get(value, value)

    def closed(value: int) -> str:
        if value not in names:
            raise json_format.SerializeToJsonError(
                "Enum field contains an integer value which can not mapped to an enum value."
            )
        return names[value]

    return closed


def _float(single: bool) -> Convert:
    def convert(value: float) -> float | str:
        if math.isinf(value):
            return "-Infinity" if value < 0 else "Infinity"
        if math.isnan(value):
            return "NaN"
        return type_checkers.ToShortestFloat(value) if single else value

    return convert

"""`meshmanager.kds.protojson` against `json_format.MessageToDict`: the same dict for
random messages of every type KDS carries packed, and for realistic resources."""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from meshmanager.kds import envelope
from meshmanager.kds.generated.kuma.system.v1alpha1 import zone_insight_pb2
from meshmanager.kds.protojson import message_to_dict
from meshmanager.kds.simulator import generate

MAX_DEPTH = 4
F = FieldDescriptor


def _scalar(field: FieldDescriptor, rng: random.Random) -> Any:
    kind = field.type
    if kind == F.TYPE_ENUM:
        assert field.enum_type is not None
        numbers = list(field.enum_type.values_by_number)
        return rng.choice(numbers) if rng.random() < 0.8 or field.enum_type.is_closed else 99
    if kind == F.TYPE_STRING:
        return rng.choice(["", "a", "kuma.io/service", "ünïcødé", "x" * 40])
    if kind == F.TYPE_BYTES:
        return base64.b64decode("a3VtYQ==") if rng.random() < 0.5 else b"\x00\xff"
    if kind == F.TYPE_BOOL:
        return rng.random() < 0.5
    if kind in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return rng.choice([0.0, 1.5, -2.25, 0.1, 1e300 if kind == F.TYPE_DOUBLE else 3.4e38,
                           float("inf"), float("-inf"), float("nan")])  # fmt: skip
    if kind in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32):
        return rng.choice([0, 1, -1, 2**31 - 1, -(2**31)])
    if kind in (F.TYPE_UINT32, F.TYPE_FIXED32):
        return rng.choice([0, 1, 2**32 - 1])
    if kind in (F.TYPE_UINT64, F.TYPE_FIXED64):
        return rng.choice([0, 1, 2**64 - 1, 2**53 + 1])
    return rng.choice([0, -1, 2**63 - 1, -(2**63), 2**53 + 1])  # the other 64-bit kinds


def _fill_well_known(message: Message, rng: random.Random) -> bool:
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        message.seconds = rng.choice([0, 1_764_000_000, -62_135_596_800, 253_402_300_799])
        message.nanos = rng.choice([0, 1_000_000, 1_000, 1, 999_999_999])
    elif name == "google.protobuf.Duration":
        message.seconds = rng.choice([0, 1, 315_576_000_000, -5])
        message.nanos = 0 if message.seconds < 0 else rng.choice([0, 500_000_000, 1])
    elif name == "google.protobuf.Struct":
        message.update({"a": 1.5, "b": [True, None, "s"], "c": {"d": "e"}})
    elif name == "google.protobuf.Any":
        pass  # empty: a filled Any needs its type in the pool, which json_format prints
    elif name.startswith("google.protobuf.") and name.endswith("Value"):
        field = message.DESCRIPTOR.fields_by_name.get("value")
        if field is not None:
            message.value = _scalar(field, rng)
    else:
        return False
    return True


def _fill(message: Message, rng: random.Random, depth: int = 0) -> None:
    if _fill_well_known(message, rng):
        return
    descriptor: Descriptor = message.DESCRIPTOR
    for field in descriptor.fields:
        if rng.random() < 0.4:
            continue
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field = field.message_type.fields_by_name["key"]
            value_field = field.message_type.fields_by_name["value"]
            for _ in range(rng.randint(0, 3)):
                key = _scalar(key_field, rng)
                if value_field.message_type is not None:
                    if depth < MAX_DEPTH:
                        _fill(value[key], rng, depth + 1)
                else:
                    value[key] = _scalar(value_field, rng)
        elif field.message_type is not None:
            if depth >= MAX_DEPTH:
                continue
            if field.is_repeated:
                for _ in range(rng.randint(0, 2)):
                    _fill(value.add(), rng, depth + 1)
            else:
                _fill(value, rng, depth + 1)
                value.SetInParent()
        elif field.is_repeated:
            value.extend(_scalar(field, rng) for _ in range(rng.randint(0, 3)))
        else:
            setattr(message, field.name, _scalar(field, rng))


def _comparable(value: Any) -> Any:
    return repr(value)  # NaN != NaN; both printers turn it into the string "NaN" anyway


@pytest.mark.parametrize("type_name", sorted(envelope.SPEC_MESSAGES))
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_random_messages_convert_as_json_format_does(type_name: str, seed: int) -> None:
    message = envelope.SPEC_MESSAGES[type_name]()
    _fill(message, random.Random(seed))
    assert _comparable(message_to_dict(message)) == _comparable(json_format.MessageToDict(message))


def test_simulated_dataplanes_and_insights_convert_as_json_format_does() -> None:
    rng = random.Random(7)
    for index in range(50):
        dataplane = generate.dataplane("zone-1", "default", index, rng, gateway=index % 10 == 9)
        state = generate.ProxyState(online=index % 3 != 0)
        insight = generate.dataplane_insight(dataplane, state, rng, "cp-1")
        for resource in (dataplane, insight):
            message = envelope.SPEC_MESSAGES[resource.type]()
            json_format.ParseDict(resource.spec, message)
            converted = message_to_dict(message)
            assert converted == json_format.MessageToDict(message)
            assert converted  # something was set


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_random_kds_subscriptions_convert_as_json_format_does(seed: int) -> None:
    """The zone insight's subscriptions are written with `message_to_dict` too."""
    message = zone_insight_pb2.KDSSubscription()
    _fill(message, random.Random(seed))
    assert _comparable(message_to_dict(message)) == _comparable(json_format.MessageToDict(message))

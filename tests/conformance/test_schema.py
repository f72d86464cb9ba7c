"""The schema nodes the validators share (validation/schema): protobuf messages, Go
durations and base64 bytes, and the schema-then-rules frame."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.schema import (
    Base64Bytes,
    GoDuration,
    Int,
    Message,
    Node,
    ProtoDuration,
    Str,
    as_tags,
    check,
    json_name,
    validate_with_schema,
)

ONEOF = (("exact", "regex_match"),)
FIELDS = {"tag_key": Str(), "exact": Str(), "regex_match": Str(), "count": Int()}


def pairs(schema: Node, value: Any) -> set[tuple[str, str]]:
    return {(v.field, v.message) for v in check(schema, value, Path("x"))}


def test_json_names() -> None:
    assert json_name("query_parameters") == "queryParameters"
    assert json_name("RSAbits") == "RSAbits"


def test_message_takes_both_spellings_and_rejects_unknown_fields() -> None:
    message = Message(FIELDS, ONEOF)
    assert pairs(message, {"tagKey": "a", "regex_match": "b", "count": "1"}) == {
        ("x.count", 'in body must be of type integer: "string"')
    }
    assert pairs(message, {"tagkey": "a"}) == {("x.tagkey", "in body is a forbidden property")}


def test_message_conflicts() -> None:
    value = {"tag_key": "a", "tagKey": "b", "exact": "c", "regexMatch": "d"}
    assert pairs(Message(FIELDS, ONEOF), value) == {
        ("x.tagKey", 'in body is the same field as "tag_key"'),
        ("x.regexMatch", 'in body cannot be set together with "exact"'),
    }


def test_jsonpb_messages_take_conflicting_input() -> None:
    value = {"tag_key": "a", "tagKey": 1, "exact": "c", "regexMatch": "d"}
    assert pairs(Message(FIELDS, ONEOF, jsonpb=True), value) == {
        ("x.tagKey", 'in body must be of type string: "number"')
    }


def test_oneof_members_set_to_null_do_not_conflict() -> None:
    assert pairs(Message(FIELDS, ONEOF), {"exact": "c", "regex_match": None}) == set()


def test_durations() -> None:
    assert pairs(GoDuration(), "1d") == {("x", 'time: unknown unit "d" in duration "1d"')}
    assert pairs(ProtoDuration(), 'a"b') == {("x", 'in body must be of type duration: "a\\"b"')}
    assert pairs(ProtoDuration(), 10) == {("x", 'in body must be of type string: "number"')}
    assert pairs(GoDuration(), "-1h30m") == set()


def test_base64_bytes() -> None:
    assert pairs(Base64Bytes(), "YQ") == set()
    assert pairs(Base64Bytes(strict=True), "YQ") == {("x", 'in body must be of type byte: "YQ"')}


def test_rules_run_only_on_a_spec_of_the_right_shape() -> None:
    def rules(spec: dict[str, Any], out: Violations) -> None:
        out.add(Path("rule"), f"saw {sorted(spec)}")

    schema = Message({"name": Str()})
    broken = validate_with_schema(schema, {"name": 1}, Path(), rules)
    assert [(v.field, v.message) for v in broken] == [
        ("name", 'in body must be of type string: "number"')
    ]
    assert [v.message for v in validate_with_schema(schema, None, Path(), rules)] == ["saw []"]


def test_tags_read_null_values_as_empty() -> None:
    assert as_tags({"a": None, "b": "c"}) == {"a": "", "b": "c"}
    assert as_tags(None) == {}

"""Kuma's rules for tag maps (a Dataplane's or an ExternalService's tags) and tag
selectors (the `match` of old-style policies and gateways), and for the protocol tag."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.schema import as_dict, as_tags

SERVICE_TAG = "kuma.io/service"
PROTOCOL_TAG = "kuma.io/protocol"
ZONE_TAG = "kuma.io/zone"
EXTERNAL_SERVICE_TAG = "kuma.io/external-service-name"

# What Kuma recognises, which is more than it advertises in messages.
KNOWN_PROTOCOLS = frozenset({"http", "http2", "tcp", "tls", "grpc", "kafka", "mysql"})
SUPPORTED_PROTOCOLS = ("grpc", "http", "http2", "kafka", "tcp")

_TAG_NAME = re.compile(r"[a-zA-Z0-9.\-_:/]*")
_TAG_VALUE = re.compile(r"[a-zA-Z0-9.\-_:]*")
_SELECTOR_VALUE = re.compile(r"[a-zA-Z0-9.\-_:/]*|\*")

MapCheck = Callable[[Path, Mapping[str, str], Violations], None]
KeyCheck = Callable[[Path, str, Violations], None]
ValueCheck = Callable[[Path, str, str, Violations], None]


@dataclass(frozen=True)
class TagRules:
    """What a place requires of its tags beyond their characters."""

    require_at_least_one_tag: bool = False
    require_service: bool = False
    map_checks: Sequence[MapCheck] = ()
    key_checks: Sequence[KeyCheck] = ()
    value_checks: Sequence[ValueCheck] = ()


NO_RULES = TagRules()


def tag_path(path: Path, key: str) -> Path:
    """`path["key"]`, the key quoted like Go's `%q`."""
    return path.key(go_quote(key)[1:-1])


def is_tag_name(text: str) -> bool:
    return _TAG_NAME.fullmatch(text) is not None


def validate_tags(path: Path, tags: Mapping[str, str], rules: TagRules, out: Violations) -> None:
    """Tags that describe a proxy or a service: values are plain (no "*", no slash)."""
    _validate_key_values(path, tags, rules, _check_tag_value, out)


def validate_selector(
    path: Path, tags: Mapping[str, str], rules: TagRules, out: Violations
) -> None:
    """A tag selector: a value may also be "*" and contain slashes."""
    _validate_key_values(path, tags, rules, _check_selector_value, out)


def validate_selectors(
    path: Path,
    selectors: Sequence[Any],
    rules: TagRules,
    out: Violations,
    at_least_one: bool = False,
    at_most_one: bool = False,
) -> None:
    """A list of selectors, each with its tags under `match`."""
    if at_least_one and not selectors:
        out.add(path, "must have at least one element")
    for i, selector in enumerate(selectors):
        match = as_tags(as_dict(selector).get("match"))
        validate_selector(path.index(i).field("match"), match, rules, out)
        if i > 0 and at_most_one:
            out.add(path.index(i), "there can be at most one selector")


def key_not_in(names: Collection[str]) -> KeyCheck:
    def check(path: Path, key: str, out: Violations) -> None:
        if key in names:
            out.add(tag_path(path, key), f"tag name must not be {go_quote(key)}")

    return check


def parse_protocol(value: str) -> str | None:
    """Kuma's ParseProtocol: the protocol `value` names (case-insensitive), or None when
    Kuma does not know it."""
    protocol = value.lower()
    return protocol if protocol in KNOWN_PROTOCOLS else None


def check_protocol_tag(path: Path, tags: Mapping[str, str], out: Violations) -> None:
    """The protocol tag, when set, names a protocol Kuma knows."""
    value = tags.get(PROTOCOL_TAG)
    if value is not None and parse_protocol(value) is None:
        out.add(
            tag_path(path, PROTOCOL_TAG),
            f"tag {go_quote(PROTOCOL_TAG)} has an invalid value {go_quote(value)}. "
            + msg.allowed_values_hint(*SUPPORTED_PROTOCOLS),
        )


def _check_tag_value(path: Path, key: str, value: str, out: Violations) -> None:
    if not _TAG_VALUE.fullmatch(value):
        out.add(
            tag_path(path, key),
            "tag value must consist of alphanumeric characters, dots, dashes and underscores",
        )


def _check_selector_value(path: Path, key: str, value: str, out: Violations) -> None:
    if not _SELECTOR_VALUE.fullmatch(value):
        out.add(
            tag_path(path, key),
            "tag value must consist of alphanumeric characters, dots, dashes, slashes "
            'and underscores or be "*"',
        )


def _validate_key_values(
    path: Path, tags: Mapping[str, str], rules: TagRules, value_rule: ValueCheck, out: Violations
) -> None:
    if rules.require_at_least_one_tag and not tags:
        out.add(path, "must have at least one tag")
    for map_check in rules.map_checks:
        map_check(path, tags, out)
    for key in sorted(tags):
        if key == "":
            out.add(path, "tag name must be non-empty")
        if not is_tag_name(key):
            out.add(
                tag_path(path, key),
                "tag name must consist of alphanumeric characters, dots, dashes, slashes and "
                "underscores",
            )
        for key_check in rules.key_checks:
            key_check(path, key, out)
        value = tags[key]
        if value == "":
            out.add(tag_path(path, key), "tag value must be non-empty")
        for value_check in (value_rule, *rules.value_checks):
            value_check(path, key, value, out)
    if rules.require_service and SERVICE_TAG not in tags:
        out.add(path, f"mandatory tag {go_quote(SERVICE_TAG)} is missing")

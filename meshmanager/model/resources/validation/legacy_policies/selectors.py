"""Source/destination selectors and tag maps of old-style policies, checked as Kuma does."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.legacy_policies.golang import go_quote
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    STRING_MAP,
    message,
)
from meshmanager.model.resources.validation.schema import Arr

SERVICE_TAG = "kuma.io/service"
PROTOCOL_TAG = "kuma.io/protocol"

SELECTOR = message({"match": STRING_MAP})
SELECTORS = Arr(SELECTOR)

_TAG_NAME = re.compile(r"[a-zA-Z0-9.\-_:/]*")
_TAG_VALUE = re.compile(r"[a-zA-Z0-9.\-_:]*")
_SELECTOR_VALUE = re.compile(r"[a-zA-Z0-9.\-_:/]*|\*")

TagsCheck = Callable[[Path, Mapping[str, str]], Violations]
TagKeyCheck = Callable[[Path, str], Violations]
TagValueCheck = Callable[[Path, str, str], Violations]


@dataclass(frozen=True)
class TagRules:
    at_least_one_tag: bool = False
    require_service: bool = False
    tags_checks: Sequence[TagsCheck] = ()
    key_checks: Sequence[TagKeyCheck] = ()
    value_checks: Sequence[TagValueCheck] = ()


@dataclass(frozen=True)
class SelectorRules:
    tags: TagRules
    at_least_one_selector: bool = True


def tag_path(path: Path, key: str) -> Path:
    """`path["key"]`, quoted like Go's `%q`."""
    return Path(f"{path}[{go_quote(key)}]")


def validate_selectors(
    path: Path, selectors: Sequence[Any] | None, rules: SelectorRules
) -> Violations:
    out = Violations()
    if rules.at_least_one_selector and not selectors:
        out.add(path, "must have at least one element")
    for i, selector in enumerate(selectors or []):
        out.extend(
            validate_selector(path.index(i).field("match"), selector.get("match"), rules.tags)
        )
    return out


def validate_selector(path: Path, tags: Mapping[str, str] | None, rules: TagRules) -> Violations:
    """Tags that select: a value may also be "*"."""
    return _validate_tags(path, tags or {}, rules, _selector_value)


def validate_tags(path: Path, tags: Mapping[str, str] | None, rules: TagRules) -> Violations:
    """Tags that describe (an external service): no wildcard, no slash in values."""
    return _validate_tags(path, tags or {}, rules, _tag_value)


def _selector_value(path: Path, key: str, value: str) -> Violations:
    out = Violations()
    if not _SELECTOR_VALUE.fullmatch(value):
        out.add(
            tag_path(path, key),
            "tag value must consist of alphanumeric characters, dots, dashes, slashes and "
            'underscores or be "*"',
        )
    return out


def _tag_value(path: Path, key: str, value: str) -> Violations:
    out = Violations()
    if not _TAG_VALUE.fullmatch(value):
        out.add(
            tag_path(path, key),
            "tag value must consist of alphanumeric characters, dots, dashes and underscores",
        )
    return out


def _validate_tags(
    path: Path, tags: Mapping[str, str], rules: TagRules, value_charset: TagValueCheck
) -> Violations:
    out = Violations()
    if rules.at_least_one_tag and not tags:
        out.add(path, "must have at least one tag")
    for check_tags in rules.tags_checks:
        out.extend(check_tags(path, tags))
    for key in sorted(tags):
        out.extend(_validate_tag(path, key, tags[key], rules, value_charset))
    if rules.require_service and SERVICE_TAG not in tags:
        out.add(path, f"mandatory tag {go_quote(SERVICE_TAG)} is missing")
    return out


def _validate_tag(
    path: Path, key: str, value: str, rules: TagRules, value_charset: TagValueCheck
) -> Violations:
    out = Violations()
    if key == "":
        out.add(path, "tag name must be non-empty")
    if not _TAG_NAME.fullmatch(key):
        out.add(
            tag_path(path, key),
            "tag name must consist of alphanumeric characters, dots, dashes, slashes and "
            "underscores",
        )
    for check_key in rules.key_checks:
        out.extend(check_key(path, key))
    if value == "":
        out.add(tag_path(path, key), "tag value must be non-empty")
    for check_value in (value_charset, *rules.value_checks):
        out.extend(check_value(path, key, value))
    return out


def is_tag_name(text: str) -> bool:
    return _TAG_NAME.fullmatch(text) is not None


def _exactly_the_service_tag(path: Path, tags: Mapping[str, str]) -> Violations:
    out = Violations()
    if len(tags) != 1 or SERVICE_TAG not in tags:
        out.add(path, f"must consist of exactly one tag {go_quote(SERVICE_TAG)}")
    return out


def _only_the_service_key(path: Path, key: str) -> Violations:
    out = Violations()
    if key != SERVICE_TAG:
        out.add(tag_path(path, key), f"tag {go_quote(key)} is not allowed")
    return out


HTTP_BASED_PROTOCOLS = ("http", "http2", "grpc")
KNOWN_PROTOCOLS = ("http", "http2", "tcp", "tls", "grpc", "kafka", "mysql")
SUPPORTED_PROTOCOLS = ("grpc", "http", "http2", "kafka", "tcp")  # the ones Kuma lists to users


def parse_protocol(value: str) -> str | None:
    """Kuma's `ParseProtocol`: the protocol, or None when unknown."""
    lowered = value.lower()
    return lowered if lowered in KNOWN_PROTOCOLS else None


def protocol_among(protocols: Sequence[str]) -> TagsCheck:
    """Kuma's `ProtocolValidator`: the protocol tag is set to one of `protocols`."""

    def check(path: Path, tags: Mapping[str, str]) -> Violations:
        out = Violations()
        if PROTOCOL_TAG not in tags:
            out.add(path, "protocol must be specified")
        elif parse_protocol(tags[PROTOCOL_TAG]) not in protocols:
            out.add(tag_path(path, PROTOCOL_TAG), f"must be one of the [{', '.join(protocols)}]")
        return out

    return check


ANY_TAGS = SelectorRules(TagRules(at_least_one_tag=True))
WITH_SERVICE = SelectorRules(TagRules(at_least_one_tag=True, require_service=True))
# Kuma's OnlyServiceTagAllowed
ONLY_SERVICE = SelectorRules(
    TagRules(
        require_service=True,
        tags_checks=(_exactly_the_service_tag,),
        key_checks=(_only_the_service_key,),
    )
)

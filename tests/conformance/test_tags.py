"""Kuma's tag and selector rules as the validators share them (validation/tags)."""

from __future__ import annotations

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.tags import (
    NO_RULES,
    TagRules,
    check_protocol_tag,
    validate_selector,
    validate_selectors,
    validate_tags,
)


def run(check: str, tags: dict[str, str], rules: TagRules = NO_RULES) -> set[tuple[str, str]]:
    out = Violations()
    (validate_selector if check == "selector" else validate_tags)(Path("t"), tags, rules, out)
    return {(v.field, v.message) for v in out}


def test_keys_in_paths_are_quoted_like_go() -> None:
    assert run("tags", {'a"b': "v"}) == {
        (
            't["a\\"b"]',
            "tag name must consist of alphanumeric characters, dots, dashes, slashes and "
            "underscores",
        )
    }


def test_selectors_take_wildcards_and_slashes_and_tags_do_not() -> None:
    assert run("selector", {"k": "*", "l": "a/b"}) == set()
    assert run("tags", {"k": "*"}) == {
        (
            't["k"]',
            "tag value must consist of alphanumeric characters, dots, dashes and underscores",
        )
    }


def test_required_tags_and_protocol() -> None:
    rules = TagRules(require_service=True, map_checks=[check_protocol_tag])
    assert run("tags", {"kuma.io/protocol": "udp"}, rules) == {
        (
            't["kuma.io/protocol"]',
            'tag "kuma.io/protocol" has an invalid value "udp". Allowed values: grpc, http, '
            "http2, kafka, tcp",
        ),
        ("t", 'mandatory tag "kuma.io/service" is missing'),
    }


def test_selector_lists() -> None:
    out = Violations()
    selectors = [{"match": {"kuma.io/service": "a"}}, {"match": {"kuma.io/service": None}}]
    validate_selectors(Path("s"), selectors, NO_RULES, out, at_most_one=True)
    assert {(v.field, v.message) for v in out} == {
        ('s[1].match["kuma.io/service"]', "tag value must be non-empty"),
        ("s[1]", "there can be at most one selector"),
    }

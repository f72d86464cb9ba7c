"""Source and destination selectors of old-style policies, and the tag rules they use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.validation import tags
from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.legacy_policies.protojson import message
from meshmanager.model.resources.validation.schema import STRING_MAP, Arr
from meshmanager.model.resources.validation.tags import (
    PROTOCOL_TAG,
    SERVICE_TAG,
    MapCheck,
    TagRules,
    parse_protocol,
    tag_path,
)

SELECTOR = message({"match": STRING_MAP})
SELECTORS = Arr(SELECTOR)
HTTP_BASED_PROTOCOLS = ("http", "http2", "grpc")


@dataclass(frozen=True)
class SelectorRules:
    tags: TagRules
    at_least_one_selector: bool = True


def validate_selectors(
    path: Path, selectors: Sequence[Any] | None, rules: SelectorRules
) -> Violations:
    out = Violations()
    tags.validate_selectors(
        path, selectors or [], rules.tags, out, at_least_one=rules.at_least_one_selector
    )
    return out


def protocol_among(protocols: Sequence[str]) -> MapCheck:
    """Kuma's `ProtocolValidator`: the protocol tag is set to one of `protocols`."""

    def check(path: Path, selected: Mapping[str, str], out: Violations) -> None:
        if PROTOCOL_TAG not in selected:
            out.add(path, "protocol must be specified")
        elif parse_protocol(selected[PROTOCOL_TAG]) not in protocols:
            out.add(tag_path(path, PROTOCOL_TAG), f"must be one of the [{', '.join(protocols)}]")

    return check


def _exactly_the_service_tag(path: Path, selected: Mapping[str, str], out: Violations) -> None:
    if len(selected) != 1 or SERVICE_TAG not in selected:
        out.add(path, f"must consist of exactly one tag {go_quote(SERVICE_TAG)}")


def _only_the_service_key(path: Path, key: str, out: Violations) -> None:
    if key != SERVICE_TAG:
        out.add(tag_path(path, key), f"tag {go_quote(key)} is not allowed")


ANY_TAGS = SelectorRules(TagRules(require_at_least_one_tag=True))
WITH_SERVICE = SelectorRules(TagRules(require_at_least_one_tag=True, require_service=True))
# Kuma's OnlyServiceTagAllowed
ONLY_SERVICE = SelectorRules(
    TagRules(
        require_service=True,
        map_checks=(_exactly_the_service_tag,),
        key_checks=(_only_the_service_key,),
    )
)

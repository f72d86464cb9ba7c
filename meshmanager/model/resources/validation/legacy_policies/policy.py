"""The frame of the old-style policies that connect sources to destinations: schema first,
then Kuma's rules on the decoded policy, its selectors and its `conf`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.legacy_policies.protojson import validate_decoded
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    ONLY_SERVICE,
    WITH_SERVICE,
    SelectorRules,
    validate_selectors,
)
from meshmanager.model.resources.validation.schema import Message

ConfRules = Callable[[Path, dict[str, Any]], Violations]


def validate_connection_policy(
    schema: Message,
    spec: Any,
    conf_rules: ConfRules | None = None,
    missing_conf: str | None = None,
    sources: SelectorRules = WITH_SERVICE,
    destinations: SelectorRules = ONLY_SERVICE,
) -> Violations:
    """A policy's schema violations, or else those of its `sources` and `destinations`
    selectors and of its `conf`: `missing_conf` when it is unset and that is an error,
    else those of `conf_rules`, which take an unset conf as an empty one."""

    def rules(policy: dict[str, Any]) -> Violations:
        out = validate_selectors(Path("sources"), policy.get("sources"), sources)
        out.extend(
            validate_selectors(Path("destinations"), policy.get("destinations"), destinations)
        )
        conf = policy.get("conf")
        if conf is None and missing_conf is not None:
            out.add(Path("conf"), missing_conf)
        elif conf_rules is not None:
            out.extend(conf_rules(Path("conf"), conf or {}))
        return out

    return validate_decoded(schema, spec, rules)

"""FaultInjection (api/mesh/v1alpha1/fault_injection.proto)."""

from __future__ import annotations

import re
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.httpstatus import has_status_text
from meshmanager.model.resources.validation.golang.regexp import SPACE
from meshmanager.model.resources.validation.legacy_policies.policy import validate_connection_policy
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    DOUBLE,
    DURATION,
    STRING,
    UINT32,
    message,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    ANY_TAGS,
    HTTP_BASED_PROTOCOLS,
    SELECTORS,
    SelectorRules,
    protocol_among,
)
from meshmanager.model.resources.validation.tags import TagRules

CONF = message(
    {
        "delay": message({"percentage": DOUBLE, "value": DURATION}),
        "abort": message({"percentage": DOUBLE, "httpStatus": UINT32}),
        "response_bandwidth": message({"percentage": DOUBLE, "limit": STRING}),
    }
)
FAULT_INJECTION = message({"sources": SELECTORS, "destinations": SELECTORS, "conf": CONF})

DESTINATIONS = SelectorRules(
    TagRules(require_at_least_one_tag=True, map_checks=(protocol_among(HTTP_BASED_PROTOCOLS),))
)
# unanchored, as Kuma matches it; [0-9] and SPACE are Go's \d and \s
_BANDWIDTH = re.compile(rf"[0-9]*{SPACE}?[gmk]bps")
CANNOT_BE_EMPTY = "cannot be empty"


@validator("FaultInjection")
def validate_fault_injection(spec: Any, ctx: Context) -> Violations:
    return validate_connection_policy(
        FAULT_INJECTION, spec, _validate_conf, sources=ANY_TAGS, destinations=DESTINATIONS
    )


def _validate_conf(path: Path, conf: dict[str, Any]) -> Violations:
    out = Violations()
    # A fault given as an empty message counts as not configured.
    delay, abort, bandwidth = (conf.get(name) for name in ("delay", "abort", "responseBandwidth"))
    if not delay and not abort and not bandwidth:
        out.add(path, "must have at least one of the faults configured")
    if delay:
        out.extend(_validate_percentage(path.field("delay"), delay))
        if "value" not in delay:
            out.add(path.field("delay").field("value"), CANNOT_BE_EMPTY)
    if abort:
        out.extend(_validate_percentage(path.field("abort"), abort))
        out.extend(_validate_http_status(path.field("abort").field("httpStatus"), abort))
    if bandwidth:
        out.extend(_validate_percentage(path.field("responseBandwidth"), bandwidth))
        out.extend(_validate_limit(path.field("responseBandwidth").field("limit"), bandwidth))
    return out


def _validate_percentage(path: Path, fault: dict[str, Any]) -> Violations:
    out = Violations()
    percentage = fault.get("percentage")
    if percentage is None:
        out.add(path.field("percentage"), CANNOT_BE_EMPTY)
    elif percentage < 0.0 or percentage > 100.0:
        out.add(path.field("percentage"), "has to be in [0.0 - 100.0] range")
    return out


def _validate_http_status(path: Path, abort: dict[str, Any]) -> Violations:
    out = Violations()
    status = abort.get("httpStatus")
    if status is None:
        out.add(path, CANNOT_BE_EMPTY)
    elif not has_status_text(status):
        out.add(path, "http status code is incorrect")
    return out


def _validate_limit(path: Path, bandwidth: dict[str, Any]) -> Violations:
    out = Violations()
    limit = bandwidth.get("limit")
    if limit is None:
        out.add(path, CANNOT_BE_EMPTY)
    elif not _BANDWIDTH.search(limit):
        out.add(path, "has to be in kbps/mbps/gbps units")
    return out

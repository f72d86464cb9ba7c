"""RateLimit (api/mesh/v1alpha1/rate_limit.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.policy import validate_connection_policy
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    BOOL,
    DURATION,
    STRING,
    UINT32,
    message,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import (
    ANY_TAGS,
    SELECTORS,
)
from meshmanager.model.resources.validation.schema import Arr
from meshmanager.model.resources.validation.tags import tag_path

ON_RATE_LIMIT = message(
    {
        "status": UINT32,
        "headers": Arr(message({"key": STRING, "value": STRING, "append": BOOL})),
    }
)
HTTP = message({"requests": UINT32, "interval": DURATION, "onRateLimit": ON_RATE_LIMIT})
RATE_LIMIT = message(
    {"sources": SELECTORS, "destinations": SELECTORS, "conf": message({"http": HTTP})}
)


@validator("RateLimit")
def validate_rate_limit(spec: Any, ctx: Context) -> Violations:
    return validate_connection_policy(
        RATE_LIMIT, spec, _validate_conf, "must have conf", sources=ANY_TAGS, destinations=ANY_TAGS
    )


def _validate_conf(path: Path, conf: dict[str, Any]) -> Violations:
    if "http" not in conf:
        return Violations()
    return _validate_http(path.field("http"), conf["http"])


def _validate_http(path: Path, http: dict[str, Any]) -> Violations:
    out = Violations()
    if not http.get("requests"):
        out.add(path.field("requests"), "requests must be set")
    if "interval" not in http:
        out.add(path.field("interval"), "interval must be set")
    on_rate_limit = http.get("onRateLimit") or {}
    for i, header in enumerate(on_rate_limit.get("headers", [])):
        # Kuma names this path `header["<index>"]`, not `headers[<index>]`.
        header_path = tag_path(path.field("onRateLimit").field("header"), str(i))
        if not header.get("key"):
            out.add(header_path, "key must be set")
        if not header.get("value"):
            out.add(header_path, "value must be set")
    return out

"""HealthCheck (api/mesh/v1alpha1/health_check.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.durations import (
    HAS_TO_BE_DEFINED,
    positive_duration,
)
from meshmanager.model.resources.validation.legacy_policies.policy import validate_connection_policy
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    BOOL,
    BYTES,
    DURATION,
    FLOAT,
    STRING,
    UINT32,
    message,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import SELECTORS
from meshmanager.model.resources.validation.schema import Arr

HTTP = message(
    {
        "path": STRING,
        "request_headers_to_add": Arr(
            message(
                {"header": message({"key": STRING, "value": STRING}), "append": BOOL},
            )
        ),
        "expected_statuses": Arr(UINT32),
    }
)
CONF = message(
    {
        "interval": DURATION,
        "timeout": DURATION,
        "unhealthy_threshold": UINT32,
        "healthy_threshold": UINT32,
        "initial_jitter": DURATION,
        "interval_jitter": DURATION,
        "interval_jitter_percent": UINT32,
        "healthy_panic_threshold": FLOAT,
        "fail_traffic_on_panic": BOOL,
        "event_log_path": STRING,
        "always_log_health_check_failures": BOOL,
        "no_traffic_interval": DURATION,
        "tcp": message({"send": BYTES, "receive": Arr(BYTES)}),
        "http": HTTP,
        "reuse_connection": BOOL,
    }
)
HEALTH_CHECK = message({"sources": SELECTORS, "destinations": SELECTORS, "conf": CONF})


@validator("HealthCheck")
def validate_health_check(spec: Any, ctx: Context) -> Violations:
    return validate_connection_policy(HEALTH_CHECK, spec, _validate_conf, HAS_TO_BE_DEFINED)


def _validate_conf(path: Path, conf: dict[str, Any]) -> Violations:
    out = Violations()
    for name in ("interval", "timeout"):
        out.extend(positive_duration(path.field(name), conf.get(name)))
    for name in ("unhealthyThreshold", "healthyThreshold"):
        if not conf.get(name):
            out.add(path.field(name), "must have a positive value")
    for name in ("initialJitter", "intervalJitter", "noTrafficInterval"):
        if name in conf:
            out.extend(positive_duration(path.field(name), conf[name]))
    panic_threshold = conf.get("healthyPanicThreshold", 0.0)
    if panic_threshold < 0.0 or panic_threshold > 100.0:  # NaN passes, as in Go
        out.add(path.field("healthyPanicThreshold"), "must be in range [0.0 - 100.0]")
    if "http" in conf:
        out.extend(_validate_http(path.field("http"), conf["http"]))
    if "tcp" in conf and "http" in conf:
        out.add(path, "http and tcp cannot be defined at the same time")
    return out


def _validate_http(path: Path, http: dict[str, Any]) -> Violations:
    out = Violations()
    if not http.get("path"):
        out.add(path.field("path"), "has to be defined and cannot be empty")
    for i, status in enumerate(http.get("expectedStatuses", [])):
        if not 100 <= status < 600:
            out.add(path.field("expectedStatuses").index(i), "must be in range [100, 600)")
    for i, header_option in enumerate(http.get("requestHeadersToAdd", [])):
        header_path = path.field("requestHeadersToAdd").index(i).field("header")
        if "header" not in header_option:
            out.add(header_path, HAS_TO_BE_DEFINED)
        elif not header_option["header"].get("key"):
            out.add(header_path.field("key"), "cannot be empty")
    return out

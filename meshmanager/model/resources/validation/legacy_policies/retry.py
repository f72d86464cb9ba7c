"""Retry (api/mesh/v1alpha1/retry.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.legacy_policies.durations import (
    HAS_TO_BE_DEFINED,
    greater_than_0,
    greater_than_0_when_defined,
)
from meshmanager.model.resources.validation.legacy_policies.policy import validate_connection_policy
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    DURATION,
    UINT32,
    Enum,
    message,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import SELECTORS
from meshmanager.model.resources.validation.schema import Arr

HTTP_METHOD = Enum(
    names=("NONE", "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE")
)
HTTP_RETRY_ON = Enum(
    names=(
        "all_5xx",
        "gateway_error",
        "reset",
        "connect_failure",
        "envoy_ratelimited",
        "retriable_4xx",
        "refused_stream",
        "retriable_status_codes",
        "retriable_headers",
        "http3_post_connect_failure",
    )
)
GRPC_RETRY_ON = Enum(
    names=("cancelled", "deadline_exceeded", "internal", "resource_exhausted", "unavailable")
)
BACK_OFF = message({"base_interval": DURATION, "max_interval": DURATION})
HTTP = message(
    {
        "num_retries": UINT32,
        "per_try_timeout": DURATION,
        "back_off": BACK_OFF,
        "retriable_status_codes": Arr(UINT32),
        "retriable_methods": Arr(HTTP_METHOD),
        "retry_on": Arr(HTTP_RETRY_ON),
    }
)
GRPC = message(
    {
        "retry_on": Arr(GRPC_RETRY_ON),
        "num_retries": UINT32,
        "per_try_timeout": DURATION,
        "back_off": BACK_OFF,
    }
)
CONF = message({"http": HTTP, "tcp": message({"max_connect_attempts": UINT32}), "grpc": GRPC})
RETRY = message({"sources": SELECTORS, "destinations": SELECTORS, "conf": CONF})
FIELD_CANNOT_BE_EMPTY = "field cannot be empty"


@validator("Retry")
def validate_retry(spec: Any, ctx: Context) -> Violations:
    return validate_connection_policy(RETRY, spec, _validate_conf, HAS_TO_BE_DEFINED)


def _validate_conf(path: Path, conf: dict[str, Any]) -> Violations:
    out = Violations()
    if not conf:
        out.add(path, "missing protocol [grpc|http|tcp] configuration")
        return out
    if "http" in conf:
        out.extend(_validate_http(path.field("http"), conf["http"]))
    if "grpc" in conf:
        out.extend(_validate_grpc(path.field("grpc"), conf["grpc"]))
    if "tcp" in conf and not conf["tcp"].get("maxConnectAttempts"):
        out.add(path.field("tcp").field("maxConnectAttempts"), "has to be greater than 0")
    return out


def _validate_http(path: Path, http: dict[str, Any]) -> Violations:
    out = Violations()
    if not http:
        out.add(path, FIELD_CANNOT_BE_EMPTY)
    out.extend(_validate_common(path, http))
    for i, method in enumerate(http.get("retriableMethods", [])):
        if method == "NONE":
            out.add(path.field("retriableMethods").index(i), FIELD_CANNOT_BE_EMPTY)
    for i, retry_on in enumerate(http.get("retryOn", [])):
        if retry_on == "retriable_status_codes" and "retriableStatusCodes" not in http:
            out.add(
                path.field("retryOn").index(i),
                "retriableStatusCodes cannot be empty when this option is specified",
            )
    return out


def _validate_grpc(path: Path, grpc: dict[str, Any]) -> Violations:
    out = Violations()
    if not grpc:
        out.add(path, FIELD_CANNOT_BE_EMPTY)
    for repeated in _repeated_values(grpc.get("retryOn", [])):
        out.add(path.field("retryOn"), repeated)
    out.extend(_validate_common(path, grpc))
    return out


def _repeated_values(values: list[Any]) -> list[str]:
    indexes: dict[str, list[int]] = {}
    for i, value in enumerate(values):
        indexes.setdefault(str(value), []).append(i)
    return sorted(
        f"repeated value {go_quote(value)} at indexes [{', '.join(map(str, where))}]"
        for value, where in indexes.items()
        if len(where) > 1
    )


def _validate_common(path: Path, conf: dict[str, Any]) -> Violations:
    out = greater_than_0_when_defined(path.field("numRetries"), conf, "numRetries")
    out.extend(greater_than_0_when_defined(path.field("perTryTimeout"), conf, "perTryTimeout"))
    back_off = conf.get("backOff")
    if back_off is None:
        return out
    back_off_path = path.field("backOff")
    if "baseInterval" not in back_off:
        out.add(back_off_path.field("baseInterval"), HAS_TO_BE_DEFINED)
    elif back_off["baseInterval"] == 0:
        out.extend(greater_than_0(back_off_path.field("baseInterval"), 0))
    else:
        out.extend(
            greater_than_0_when_defined(back_off_path.field("maxInterval"), back_off, "maxInterval")
        )
    return out

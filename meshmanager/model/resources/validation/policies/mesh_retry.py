"""MeshRetry: TCP, HTTP and gRPC retry policies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.httpstatus import has_status_text
from meshmanager.model.resources.validation.golang.strconv import parse_int
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies import values as check
from meshmanager.model.resources.validation.policies.nodes import HEADER_MATCH
from meshmanager.model.resources.validation.policies.policy import (
    Spec,
    each,
    role_target_ref_rules,
    targeted,
    top_kind,
    validate_policy,
    validate_targeted,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.schema import (
    INT32,
    INT64,
    UINT32,
    Arr,
    GoDuration,
    Map,
    Obj,
    Str,
)

HTTP_RETRY_ON = (
    "5xx",
    "GatewayError",
    "Reset",
    "Retriable4xx",
    "ConnectFailure",
    "EnvoyRatelimited",
    "RefusedStream",
    "Http3PostConnectFailure",
    *(
        f"HttpMethod{method}"
        for method in (
            "Connect",
            "Delete",
            "Get",
            "Head",
            "Options",
            "Patch",
            "Post",
            "Put",
            "Trace",
        )
    ),
)
GRPC_RETRY_ON = ("Canceled", "DeadlineExceeded", "Internal", "ResourceExhausted", "Unavailable")
_BACK_OFF = Obj({"baseInterval": GoDuration(), "maxInterval": GoDuration()})
# Reset header names and retryOn items are checked by Validate(), with its messages.
_RATE_LIMITED_BACK_OFF = Obj(
    {
        "resetHeaders": Arr(
            Obj(
                {"name": Str(), "format": Str(enum=("Seconds", "UnixTimestamp"))},
                required=["format"],
            )
        ),
        "maxInterval": GoDuration(),
    }
)
_HTTP = Obj(
    {
        "numRetries": UINT32,
        "perTryTimeout": GoDuration(),
        "backOff": _BACK_OFF,
        "rateLimitedBackOff": _RATE_LIMITED_BACK_OFF,
        "retryOn": Arr(Str()),
        "retriableResponseHeaders": Arr(HEADER_MATCH),
        "retriableRequestHeaders": Arr(HEADER_MATCH),
        "hostSelection": Arr(
            Obj({"predicate": Str(), "tags": Map(Str()), "updateFrequency": INT32})
        ),
        "hostSelectionMaxAttempts": INT64,
    }
)
_GRPC = Obj(
    {
        "numRetries": UINT32,
        "perTryTimeout": GoDuration(),
        "backOff": _BACK_OFF,
        "rateLimitedBackOff": _RATE_LIMITED_BACK_OFF,
        "retryOn": Arr(Str()),
    }
)
_CONF = Obj({"tcp": Obj({"maxConnectAttempt": UINT32}), "http": _HTTP, "grpc": _GRPC})
SCHEMA = Obj({"targetRef": ref.TARGET_REF, "to": targeted(_CONF)})

_HTTP_FIELDS = (
    "numRetries",
    "perTryTimeout",
    "backOff",
    "retryOn",
    "retriableRequestHeaders",
    "retriableResponseHeaders",
    "rateLimitedBackOff",
    "hostSelection",
)
_GRPC_FIELDS = ("numRetries", "perTryTimeout", "backOff", "retryOn", "rateLimitedBackOff")


# Operators' (System role) policies may also target gateways and routes.
_SYSTEM_KINDS = (ref.MESH_GATEWAY, ref.MESH_HTTP_ROUTE)


def _known_http_retry_on(item: str) -> bool:
    if item in HTTP_RETRY_ON:
        return True
    code = parse_int(item)  # Kuma reads it with strconv.Atoi
    return code is not None and has_status_text(code)


def _validate_back_offs(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    back_off = conf.get("backOff")
    if back_off is not None and all(
        back_off.get(f) is None for f in ("baseInterval", "maxInterval")
    ):
        out.add(path.field("backOff"), msg.MUST_NOT_BE_EMPTY)
    limited = conf.get("rateLimitedBackOff")
    if limited is None:
        return
    limited_path = path.field("rateLimitedBackOff")
    if limited.get("maxInterval") is not None:
        max_path = limited_path.field("maxInterval")
        check.duration_greater_than_zero(out, max_path, limited["maxInterval"])
    if limited.get("resetHeaders") is None:
        out.add(limited_path.field("resetHeaders"), msg.MUST_BE_DEFINED)
    for header_path, header in each(limited, "resetHeaders", limited_path):
        if not header.get("name"):
            out.add(header_path.field("name"), msg.MUST_BE_DEFINED)


def _validate_host_selection(out: Violations, path: Path, http: Mapping[str, Any]) -> None:
    priority_set = False
    for predicate_path, predicate in each(http, "hostSelection", path):
        kind = predicate.get("predicate") or ""
        if kind == "OmitHostsWithTags":
            if predicate.get("tags") is None:
                out.add(predicate_path.field("tags"), msg.MUST_BE_DEFINED)
        elif kind == "OmitPreviousPriorities":
            if priority_set:
                out.add(predicate_path.field("predicate"), f"{kind} must only be specified once")
            if (predicate.get("updateFrequency") or 0) <= 0:
                out.add(
                    predicate_path.field("updateFrequency"),
                    msg.MUST_BE_DEFINED_AND_GREATER_THAN_ZERO,
                )
            priority_set = True
        elif kind != "OmitPreviousHosts":
            out.add(predicate_path.field("predicate"), f"unknown predicate type '{kind}'")


def _validate_retry_on(out: Violations, path: Path, conf: Mapping[str, Any], grpc: bool) -> None:
    for item_path, item in each(conf, "retryOn", path):
        known = item in GRPC_RETRY_ON if grpc else _known_http_retry_on(item)
        if not known:
            out.add(item_path, f"unknown item '{item}'")


def _validate_default(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    # Kuma puts the protocols under `conf`: default.conf.http.
    path = path.field("conf")
    tcp, http, grpc = conf.get("tcp"), conf.get("http"), conf.get("grpc")
    if tcp is None and http is None and grpc is None:
        out.add(path, "at least one of the 'tcp', 'http', 'grpc' must be specified")
    if tcp is not None:
        attempts = tcp.get("maxConnectAttempt")
        if attempts is None:
            out.add(path.field("tcp"), msg.MUST_NOT_BE_EMPTY)
        elif attempts == 0:
            out.add(path.field("tcp").field("maxConnectAttempt"), msg.MUST_BE_GREATER_THAN_ZERO)
    if http is not None:
        http_path = path.field("http")
        if all(http.get(field) is None for field in _HTTP_FIELDS):
            out.add(http_path, msg.MUST_NOT_BE_EMPTY)
        _validate_back_offs(out, http_path, http)
        _validate_retry_on(out, http_path, http, grpc=False)
        _validate_host_selection(out, http_path, http)
    if grpc is not None:
        grpc_path = path.field("grpc")
        if all(grpc.get(field) is None for field in _GRPC_FIELDS):
            out.add(grpc_path, msg.MUST_NOT_BE_EMPTY)
        _validate_back_offs(out, grpc_path, grpc)
        _validate_retry_on(out, grpc_path, grpc, grpc=True)


_TO_KINDS = (ref.MESH, *ref.DESTINATION_KINDS, ref.MESH_HTTP_ROUTE)


def _rules(ctx: Context, spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, role_target_ref_rules(ctx, _SYSTEM_KINDS))
    on_route = top_kind(spec) in (ref.MESH_GATEWAY, ref.MESH_HTTP_ROUTE)
    to_kinds = (ref.MESH, ref.MESH_EXTERNAL_SERVICE) if on_route else _TO_KINDS
    validate_targeted(out, spec, "to", to_kinds, _validate_default)


@validator("MeshRetry")
def validate_mesh_retry(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, lambda checked, out: _rules(ctx, checked, out))

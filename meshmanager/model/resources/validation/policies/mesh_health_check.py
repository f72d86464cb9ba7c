"""MeshHealthCheck: active HTTP, TCP and gRPC health checks of destinations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies import values as check
from meshmanager.model.resources.validation.policies.nodes import HEADERS_TO_SET
from meshmanager.model.resources.validation.policies.policy import (
    Spec,
    each,
    targeted,
    validate_policy,
    validate_targeted,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.policies.targetref import TargetRefRules
from meshmanager.model.resources.validation.schema import (
    INT32,
    Arr,
    Bool,
    GoDuration,
    IntOrStr,
    Obj,
    Str,
)

_POSITIVE_DURATIONS = ("interval", "timeout", "initialJitter", "intervalJitter")
_CONF = Obj(
    {
        **{name: GoDuration() for name in (*_POSITIVE_DURATIONS, "noTrafficInterval")},
        "unhealthyThreshold": INT32,
        "healthyThreshold": INT32,
        "intervalJitterPercent": INT32,
        "healthyPanicThreshold": IntOrStr(),
        "failTrafficOnPanic": Bool(),
        "eventLogPath": Str(),
        "alwaysLogHealthCheckFailures": Bool(),
        "reuseConnection": Bool(),
        "tcp": Obj({"disabled": Bool(), "send": Str(), "receive": Arr(Str())}),
        "http": Obj(
            {
                "disabled": Bool(),
                "path": Str(),
                "requestHeadersToAdd": Obj({"set": HEADERS_TO_SET, "add": HEADERS_TO_SET}),
                "expectedStatuses": Arr(INT32),
            }
        ),
        "grpc": Obj({"disabled": Bool(), "serviceName": Str(), "authority": Str()}),
    }
)
SCHEMA = Obj({"targetRef": ref.TARGET_REF, "to": targeted(_CONF)})


def _validate_default(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    for name in ("interval", "timeout"):
        check.duration_greater_than_zero_or_nil(out, path.field(name), conf.get(name))
    for name in ("unhealthyThreshold", "healthyThreshold"):
        check.value_greater_than_zero_or_nil(out, path.field(name), conf.get(name))
    for name in ("initialJitter", "intervalJitter"):
        check.duration_greater_than_zero_or_nil(out, path.field(name), conf.get(name))
    jitter_percent = conf.get("intervalJitterPercent")
    check.uint_percentage_or_nil(out, path.field("intervalJitterPercent"), jitter_percent)
    panic_threshold = conf.get("healthyPanicThreshold")
    check.percentage_or_nil(out, path.field("healthyPanicThreshold"), panic_threshold)
    no_traffic = conf.get("noTrafficInterval")
    check.duration_greater_than_zero_or_nil(out, path.field("noTrafficInterval"), no_traffic)
    check.file_path_or_nil(out, path.field("eventLogPath"), conf.get("eventLogPath"))
    http = conf.get("http")
    if http is not None:
        if http.get("path") == "":
            out.add(path.field("http").field("path"), msg.MUST_BE_DEFINED)
        for status_path, status in each(http, "expectedStatuses", path.field("http")):
            check.status_code(out, status_path, status)
    if http is None and conf.get("tcp") is None and conf.get("grpc") is None:
        out.add(path, msg.must_have_at_least_one("http", "tcp", "grpc"))


_TOP_KINDS = (*ref.PROXY_KINDS, ref.MESH_GATEWAY)
_TO_KINDS = (ref.MESH, *ref.DESTINATION_KINDS)


def _rules(spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, TargetRefRules(_TOP_KINDS, gateway_listener_tags=True))
    validate_targeted(out, spec, "to", _TO_KINDS, _validate_default)


@validator("MeshHealthCheck")
def validate_mesh_health_check(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, _rules)

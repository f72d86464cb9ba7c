"""Timeout (api/mesh/v1alpha1/timeout.proto)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.legacy_policies.durations import (
    HAS_TO_BE_DEFINED,
    greater_than_0,
    greater_than_0_when_defined,
)
from meshmanager.model.resources.validation.legacy_policies.policy import validate_connection_policy
from meshmanager.model.resources.validation.legacy_policies.protojson import (
    DURATION,
    message,
)
from meshmanager.model.resources.validation.legacy_policies.selectors import SELECTORS

CONF = message(
    {
        "connect_timeout": DURATION,
        "tcp": message({"idle_timeout": DURATION}),
        "http": message(
            {
                "request_timeout": DURATION,
                "idle_timeout": DURATION,
                "stream_idle_timeout": DURATION,
                "max_stream_duration": DURATION,
            }
        ),
        "grpc": message({"stream_idle_timeout": DURATION, "max_stream_duration": DURATION}),
    }
)
TIMEOUT = message({"sources": SELECTORS, "destinations": SELECTORS, "conf": CONF})
NO_TIMEOUT_IN_SECTION = "at least one timeout in section has to be defined"


@validator("Timeout")
def validate_timeout(spec: Any, ctx: Context) -> Violations:
    return validate_connection_policy(TIMEOUT, spec, _validate_conf, HAS_TO_BE_DEFINED)


def _validate_conf(path: Path, conf: dict[str, Any]) -> Violations:
    out = Violations()
    if (tcp := conf.get("tcp")) is not None:
        if "idleTimeout" not in tcp:
            out.add(path.field("tcp"), NO_TIMEOUT_IN_SECTION)
        else:
            out.extend(greater_than_0(path.field("tcp").field("idleTimeout"), tcp["idleTimeout"]))
    out.extend(
        _validate_section(path.field("http"), conf.get("http"), ("requestTimeout", "idleTimeout"))
    )
    out.extend(
        _validate_section(
            path.field("grpc"), conf.get("grpc"), ("streamIdleTimeout", "maxStreamDuration")
        )
    )
    return out


def _validate_section(
    path: Path, section: dict[str, Any] | None, names: tuple[str, str]
) -> Violations:
    out = Violations()
    if section is None:
        return out
    if not any(name in section for name in names):
        out.add(path, NO_TIMEOUT_IN_SECTION)
        return out
    for name in names:
        out.extend(greater_than_0_when_defined(path.field(name), section, name))
    return out

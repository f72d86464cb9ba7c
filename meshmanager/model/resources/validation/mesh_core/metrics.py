"""Metrics backends, shared by Mesh (`metrics.backends[]`) and Dataplane (`metrics`)."""

from __future__ import annotations

from typing import Any

from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.golang.regexp import regexp_error
from meshmanager.model.resources.validation.mesh_core.proto import BOOL, STRUCT, TypedConf, enum
from meshmanager.model.resources.validation.schema import (
    STRING_MAP,
    UINT32,
    Arr,
    Message,
    Str,
    as_dict,
    as_list,
    as_str,
)

PROMETHEUS = "prometheus"

PROMETHEUS_CONF = Message(
    {
        "port": UINT32,
        "path": Str(),
        "tags": STRING_MAP,
        "skipMTLS": BOOL,
        "aggregate": Arr(
            Message(
                {
                    "name": Str(),
                    "port": UINT32,
                    "path": Str(),
                    "enabled": BOOL,
                    "address": Str(),
                }
            )
        ),
        "envoy": Message({"filterRegex": Str(), "usedOnly": BOOL}),
        "tls": Message({"mode": enum("activeMTLSBackend", "providedTLS", "disabled")}),
    }
)

METRICS_BACKEND = TypedConf(
    backend=Message({"name": Str(), "type": Str(), "conf": STRUCT}),
    conf_by_type={PROMETHEUS: PROMETHEUS_CONF},
)


UNKNOWN_METRICS_TYPE = f'unknown backend type. Available backends: "{PROMETHEUS}"'


def validate_prometheus_conf(path: Path, conf: Any, out: Violations) -> None:
    conf = as_dict(conf)
    skip_mtls, tls = conf.get("skipMTLS"), conf.get("tls")
    if skip_mtls is not None and tls is not None and not _same_mtls_choice(skip_mtls, tls):
        out.add(path, "skipMTLS and tls configuration cannot be defined together")
        return
    error = regexp_error(as_str(as_dict(conf.get("envoy")).get("filterRegex")))
    if error is not None:
        out.add(path.field("envoy").field("filterRegex"), f"provided regexp isn't correct: {error}")
        return
    seen: set[str] = set()
    for i, entry in enumerate(as_list(conf.get("aggregate"))):
        name = as_str(as_dict(entry).get("name"))
        if name in seen:
            out.add(
                path.field("aggregate").index(i).field("name"),
                f"duplicate entry: {name}, values have to be unique",
            )
        seen.add(name)


def _same_mtls_choice(skip_mtls: bool, tls: Any) -> bool:
    """skipMTLS and tls may both be given only when they say the same thing."""
    mode = as_str(as_dict(tls).get("mode")) or "activeMTLSBackend"
    return (not skip_mtls and mode == "activeMTLSBackend") or (skip_mtls and mode == "disabled")

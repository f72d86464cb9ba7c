"""Mesh: mTLS, logging, tracing and metrics backends, constraints and routing."""

from __future__ import annotations

import re
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.mesh_core.checks import (
    allowed_values_hint,
    validate_port,
)
from meshmanager.model.resources.validation.mesh_core.golang import (
    parse_request_uri,
    quote,
    split_host_port,
)
from meshmanager.model.resources.validation.mesh_core.metrics import (
    METRICS_BACKEND,
    PROMETHEUS,
    UNKNOWN_METRICS_TYPE,
    validate_prometheus_conf,
)
from meshmanager.model.resources.validation.mesh_core.proto import (
    BOOL,
    DATA_SOURCE,
    STRING_MAP,
    STRUCT,
    Duration,
    TypedConf,
    as_dict,
    as_dicts,
    as_float,
    as_int,
    as_str,
    as_tags,
    enum,
    message,
    uint32,
)
from meshmanager.model.resources.validation.mesh_core.tags import TagRules, validate_selector
from meshmanager.model.resources.validation.schema import Arr, Num, Str, check

MAX_MTLS_BACKENDS = 1
ZIPKIN_API_VERSIONS = ("httpJsonV1", "httpJson", "httpProto")

CA_BACKEND = TypedConf(
    backend=message(
        {
            "name": Str(),
            "type": Str(),
            "dpCert": message(
                {
                    "rotation": message({"expiration": Str()}),
                    "requestTimeout": Duration(),
                }
            ),
            "conf": STRUCT,
            "mode": enum("STRICT", "PERMISSIVE"),
            "rootChain": message({"requestTimeout": Duration()}),
        }
    ),
    conf_by_type={
        "builtin": message({"caCert": message({"RSAbits": uint32(), "expiration": Str()})}),
        "provided": message({"cert": DATA_SOURCE, "key": DATA_SOURCE}),
    },
)
LOGGING_BACKEND = TypedConf(
    backend=message({"name": Str(), "format": Str(), "type": Str(), "conf": STRUCT}),
    conf_by_type={"file": message({"path": Str()}), "tcp": message({"address": Str()})},
)
TRACING_BACKEND = TypedConf(
    backend=message({"name": Str(), "sampling": Num(), "type": Str(), "conf": STRUCT}),
    conf_by_type={
        "zipkin": message(
            {"url": Str(), "traceId128bit": BOOL, "apiVersion": Str(), "sharedSpanContext": BOOL}
        ),
        "datadog": message({"address": Str(), "port": uint32(), "splitService": BOOL}),
    },
)
CONSTRAINT_RULES = Arr(message({"tags": STRING_MAP}))

MESH = message(
    {
        "mtls": message(
            {"enabledBackend": Str(), "backends": Arr(CA_BACKEND), "skipValidation": BOOL}
        ),
        "tracing": message({"defaultBackend": Str(), "backends": Arr(TRACING_BACKEND)}),
        "logging": message({"defaultBackend": Str(), "backends": Arr(LOGGING_BACKEND)}),
        "metrics": message({"enabledBackend": Str(), "backends": Arr(METRICS_BACKEND)}),
        "networking": message({"outbound": message({"passthrough": BOOL})}),
        "routing": message(
            {
                "localityAwareLoadBalancing": BOOL,
                "zoneEgress": BOOL,
                "defaultForbidMeshExternalServiceAccess": BOOL,
            }
        ),
        "constraints": message(
            {
                "dataplaneProxy": message(
                    {"requirements": CONSTRAINT_RULES, "restrictions": CONSTRAINT_RULES}
                )
            }
        ),
        "skipCreatingInitialPolicies": Arr(Str()),
        "meshServices": message(
            {"mode": enum("Disabled", "Everywhere", "ReachableBackends", "Exclusive")}
        ),
    }
)

# Kuma's own duration format for certificate lifetimes, with days, weeks and years.
_CERT_DURATION = re.compile(r"[0-9]+(y|w|d|h|m|s|ms)")


@validator("Mesh")
def validate_mesh(spec: Any, ctx: Context) -> Violations:
    violations = check(MESH, spec, Path())
    if violations:
        return violations
    spec = as_dict(spec)
    out = Violations()
    _validate_mtls(Path("mtls"), spec.get("mtls"), out)
    _validate_logging(Path("logging"), spec.get("logging"), out)
    _validate_tracing(Path("tracing"), spec.get("tracing"), out)
    _validate_metrics(Path("metrics"), spec.get("metrics"), out)
    _validate_constraints(Path("constraints"), spec.get("constraints"), out)
    _validate_zone_egress(spec, out)
    return out


def _validate_mtls(path: Path, mtls: Any, out: Violations) -> None:
    if mtls is None:
        return
    backends = as_dicts(mtls.get("backends"))
    if len(backends) > MAX_MTLS_BACKENDS:
        out.add(path.field("backends"), f"cannot have more than {MAX_MTLS_BACKENDS} backends")
    used: set[str] = set()
    for i, backend in enumerate(backends):
        name = as_str(backend.get("name"))
        _check_unique_name(path.field("backends").index(i), name, used, out)
        dp_cert = backend.get("dpCert")
        if dp_cert is not None:
            expiration = as_str(as_dict(as_dict(dp_cert).get("rotation")).get("expiration"))
            if expiration != "0" and not _CERT_DURATION.fullmatch(expiration):
                # Kuma reports this one without the backend's index.
                out.add(path.field("dpcert.rotation.expiration"), "has to be a valid format")
    enabled = as_str(mtls.get("enabledBackend"))
    if enabled and enabled not in used:
        out.add(path.field("enabledBackend"), "has to be set to one of the backends in the mesh")


def _check_unique_name(path: Path, name: str, used: set[str], out: Violations) -> None:
    if name in used:
        out.add(path.field("name"), f"{quote(name)} name is already used for another backend")
    used.add(name)


def _validate_logging(path: Path, logging: Any, out: Violations) -> None:
    if logging is None:
        return
    used: set[str] = set()
    for i, backend in enumerate(as_dicts(logging.get("backends"))):
        at = path.field("backends").index(i)
        _validate_logging_backend(at, backend, out)
        _check_unique_name(at, as_str(backend.get("name")), used, out)
    default = as_str(logging.get("defaultBackend"))
    if default and default not in used:
        out.add(path.field("defaultBackend"), "has to be set to one of the logging backend in mesh")


def _validate_logging_backend(path: Path, backend: dict[str, Any], out: Violations) -> None:
    if not as_str(backend.get("name")):
        out.add(path.field("name"), "cannot be empty")
    conf, config_path = as_dict(backend.get("conf")), path.field("config")
    match backend.get("type"):
        case "file":
            if not as_str(conf.get("path")):
                out.add(config_path.field("path"), "cannot be empty")
        case "tcp":
            address = as_str(conf.get("address"))
            host_port = split_host_port(address)
            if not address:
                out.add(config_path.field("address"), "cannot be empty")
            elif host_port is None or not all(host_port):
                out.add(config_path.field("address"), "has to be in format of HOST:PORT")
        case _:
            out.add(path.field("type"), 'unknown backend type. Available backends: "tcp", "file"')


def _validate_tracing(path: Path, tracing: Any, out: Violations) -> None:
    if tracing is None:
        return
    used: set[str] = set()
    for i, backend in enumerate(as_dicts(tracing.get("backends"))):
        at = path.field("backends").index(i)
        _validate_tracing_backend(at, backend, out)
        _check_unique_name(at, as_str(backend.get("name")), used, out)
    default = as_str(tracing.get("defaultBackend"))
    if default and default not in used:
        out.add(path.field("defaultBackend"), "has to be set to one of the tracing backend in mesh")


def _validate_tracing_backend(path: Path, backend: dict[str, Any], out: Violations) -> None:
    if not as_str(backend.get("name")):
        out.add(path.field("name"), "cannot be empty")
    if not 0.0 <= as_float(backend.get("sampling")) <= 100.0:
        out.add(path.field("sampling"), "has to be in [0.0 - 100.0] range")
    conf, config_path = as_dict(backend.get("conf")), path.field("config")
    match backend.get("type"):
        case "zipkin":
            _validate_zipkin(config_path, conf, out)
        case "datadog":
            if not as_str(conf.get("address")):
                out.add(config_path.field("address"), "cannot be empty")
            validate_port(config_path.field("port"), as_int(conf.get("port")), out)
        case _:
            out.add(
                path.field("type"),
                'unknown backend type. Available backends: "zipkin", "datadog"',
            )


def _validate_zipkin(path: Path, conf: dict[str, Any], out: Violations) -> None:
    api_version = as_str(conf.get("apiVersion"))
    if api_version and api_version not in ZIPKIN_API_VERSIONS:
        out.add(
            path.field("apiVersion"),
            f"has invalid value. {allowed_values_hint(*ZIPKIN_API_VERSIONS)}",
        )
    url = as_str(conf.get("url"))
    if not url:
        out.add(path.field("url"), "cannot be empty")
        return
    parsed = parse_request_uri(url)
    if parsed is None:
        out.add(path.field("url"), "invalid URL")
    elif not parsed.port:
        out.add(path.field("url"), "port has to be explicitly specified")


def _validate_metrics(path: Path, metrics: Any, out: Violations) -> None:
    if metrics is None:
        return
    used: set[str] = set()
    for i, backend in enumerate(as_dicts(metrics.get("backends"))):
        at = path.field("backends").index(i)
        name = as_str(backend.get("name"))
        if name in used:
            out.add(at.field("name"), f"{quote(name)} name is already used for another backend")
        if backend.get("type") != PROMETHEUS:
            out.add(at.field("type"), UNKNOWN_METRICS_TYPE)
        else:
            validate_prometheus_conf(at.field("conf"), backend.get("conf"), out)
        used.add(name)
    enabled = as_str(metrics.get("enabledBackend"))
    if enabled and enabled not in used:
        out.add(path.field("enabledBackend"), "has to be set to one of the backends in the mesh")


def _validate_constraints(path: Path, constraints: Any, out: Violations) -> None:
    proxy = as_dict(as_dict(constraints).get("dataplaneProxy"))
    path = path.field("dataplaneProxy")
    rules = TagRules(require_at_least_one_tag=True)
    for kind in ("requirements", "restrictions"):
        for i, rule in enumerate(as_dicts(proxy.get(kind))):
            tags = as_tags(rule.get("tags"))
            validate_selector(path.field(kind).index(i).field("tags"), tags, rules, out)


def _validate_zone_egress(spec: dict[str, Any], out: Violations) -> None:
    routing, mtls = as_dict(spec.get("routing")), as_dict(spec.get("mtls"))
    if routing.get("zoneEgress") and not as_str(mtls.get("enabledBackend")):
        out.add(Path("mtls"), "has to be set when zoneEgress enabled")

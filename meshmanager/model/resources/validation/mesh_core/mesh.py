"""Mesh: mTLS, logging, tracing and metrics backends, constraints and routing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.net import AddressError, split_host_port
from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.golang.url import URLError, parse_request_uri
from meshmanager.model.resources.validation.mesh_core.checks import (
    validate_port,
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
    STRUCT,
    TypedConf,
    enum,
)
from meshmanager.model.resources.validation.schema import (
    STRING_MAP,
    UINT32,
    Arr,
    Message,
    Num,
    ProtoDuration,
    Str,
    as_dict,
    as_dicts,
    as_float,
    as_int,
    as_str,
    as_tags,
    validate_with_schema,
)
from meshmanager.model.resources.validation.tags import TagRules, validate_selector

MAX_MTLS_BACKENDS = 1
ZIPKIN_API_VERSIONS = ("httpJsonV1", "httpJson", "httpProto")

CA_BACKEND = TypedConf(
    backend=Message(
        {
            "name": Str(),
            "type": Str(),
            "dpCert": Message(
                {
                    "rotation": Message({"expiration": Str()}),
                    "requestTimeout": ProtoDuration(),
                }
            ),
            "conf": STRUCT,
            "mode": enum("STRICT", "PERMISSIVE"),
            "rootChain": Message({"requestTimeout": ProtoDuration()}),
        }
    ),
    conf_by_type={
        "builtin": Message({"caCert": Message({"RSAbits": UINT32, "expiration": Str()})}),
        "provided": Message({"cert": DATA_SOURCE, "key": DATA_SOURCE}),
    },
)
LOGGING_BACKEND = TypedConf(
    backend=Message({"name": Str(), "format": Str(), "type": Str(), "conf": STRUCT}),
    conf_by_type={"file": Message({"path": Str()}), "tcp": Message({"address": Str()})},
)
TRACING_BACKEND = TypedConf(
    backend=Message({"name": Str(), "sampling": Num(), "type": Str(), "conf": STRUCT}),
    conf_by_type={
        "zipkin": Message(
            {"url": Str(), "traceId128bit": BOOL, "apiVersion": Str(), "sharedSpanContext": BOOL}
        ),
        "datadog": Message({"address": Str(), "port": UINT32, "splitService": BOOL}),
    },
)
CONSTRAINT_RULES = Arr(Message({"tags": STRING_MAP}))

MESH = Message(
    {
        "mtls": Message(
            {"enabledBackend": Str(), "backends": Arr(CA_BACKEND), "skipValidation": BOOL}
        ),
        "tracing": Message({"defaultBackend": Str(), "backends": Arr(TRACING_BACKEND)}),
        "logging": Message({"defaultBackend": Str(), "backends": Arr(LOGGING_BACKEND)}),
        "metrics": Message({"enabledBackend": Str(), "backends": Arr(METRICS_BACKEND)}),
        "networking": Message({"outbound": Message({"passthrough": BOOL})}),
        "routing": Message(
            {
                "localityAwareLoadBalancing": BOOL,
                "zoneEgress": BOOL,
                "defaultForbidMeshExternalServiceAccess": BOOL,
            }
        ),
        "constraints": Message(
            {
                "dataplaneProxy": Message(
                    {"requirements": CONSTRAINT_RULES, "restrictions": CONSTRAINT_RULES}
                )
            }
        ),
        "skipCreatingInitialPolicies": Arr(Str()),
        "meshServices": Message(
            {"mode": enum("Disabled", "Everywhere", "ReachableBackends", "Exclusive")}
        ),
    }
)

# Kuma's own duration format for certificate lifetimes, with days, weeks and years.
_CERT_DURATION = re.compile(r"[0-9]+(y|w|d|h|m|s|ms)")


@validator("Mesh")
def validate_mesh(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(MESH, spec, Path(), _validate_mesh)


def _validate_mesh(spec: dict[str, Any], out: Violations) -> None:
    _validate_mtls(Path("mtls"), spec.get("mtls"), out)
    _validate_backends(Path("logging"), spec.get("logging"), _validate_logging_backend, out)
    _validate_backends(Path("tracing"), spec.get("tracing"), _validate_tracing_backend, out)
    _validate_metrics(Path("metrics"), spec.get("metrics"), out)
    _validate_constraints(Path("constraints"), spec.get("constraints"), out)
    _validate_zone_egress(spec, out)


def _validate_mtls(path: Path, mtls: Any, out: Violations) -> None:
    if mtls is None:
        return
    backends = as_dicts(mtls.get("backends"))
    if len(backends) > MAX_MTLS_BACKENDS:
        out.add(path.field("backends"), f"cannot have more than {MAX_MTLS_BACKENDS} backends")
    used: set[str] = set()
    for i, backend in enumerate(backends):
        _check_unique_name(path.field("backends").index(i), as_str(backend.get("name")), used, out)
        dp_cert = backend.get("dpCert")
        if dp_cert is not None:
            expiration = as_str(as_dict(as_dict(dp_cert).get("rotation")).get("expiration"))
            if expiration != "0" and not _CERT_DURATION.fullmatch(expiration):
                # Kuma reports this one without the backend's index.
                out.add(path.field("dpcert.rotation.expiration"), "has to be a valid format")
    _check_enabled_backend(path, mtls, used, out)


def _check_unique_name(path: Path, name: str, used: set[str], out: Violations) -> None:
    if name in used:
        out.add(path.field("name"), f"{go_quote(name)} name is already used for another backend")
    used.add(name)


def _check_enabled_backend(
    path: Path, section: dict[str, Any], used: set[str], out: Violations
) -> None:
    enabled = as_str(section.get("enabledBackend"))
    if enabled and enabled not in used:
        out.add(path.field("enabledBackend"), "has to be set to one of the backends in the mesh")


BackendCheck = Callable[[Path, dict[str, Any], Violations], None]


def _validate_backends(
    path: Path, section: Any, validate_backend: BackendCheck, out: Violations
) -> None:
    """The logging or tracing section (named by `path`): each backend valid and named
    uniquely, and the default one of them."""
    if section is None:
        return
    used: set[str] = set()
    for i, backend in enumerate(as_dicts(section.get("backends"))):
        at = path.field("backends").index(i)
        validate_backend(at, backend, out)
        _check_unique_name(at, as_str(backend.get("name")), used, out)
    default = as_str(section.get("defaultBackend"))
    if default and default not in used:
        out.add(path.field("defaultBackend"), f"has to be set to one of the {path} backend in mesh")


def _validate_logging_backend(path: Path, backend: dict[str, Any], out: Violations) -> None:
    if not as_str(backend.get("name")):
        out.add(path.field("name"), "cannot be empty")
    conf, config_path = as_dict(backend.get("conf")), path.field("config")
    match backend.get("type"):
        case "file":
            if not as_str(conf.get("path")):
                out.add(config_path.field("path"), "cannot be empty")
        case "tcp":
            _validate_tcp_address(config_path.field("address"), as_str(conf.get("address")), out)
        case _:
            out.add(path.field("type"), 'unknown backend type. Available backends: "tcp", "file"')


def _validate_tcp_address(path: Path, address: str, out: Violations) -> None:
    if not address:
        out.add(path, "cannot be empty")
        return
    try:
        host, port = split_host_port(address)
    except AddressError:
        host = port = ""
    if not host or not port:
        out.add(path, "has to be in format of HOST:PORT")


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
            f"has invalid value. {msg.allowed_values_hint(*ZIPKIN_API_VERSIONS)}",
        )
    url = as_str(conf.get("url"))
    if not url:
        out.add(path.field("url"), "cannot be empty")
        return
    try:
        parsed = parse_request_uri(url)
    except URLError:
        out.add(path.field("url"), "invalid URL")
        return
    if not parsed.port():
        out.add(path.field("url"), "port has to be explicitly specified")


def _validate_metrics(path: Path, metrics: Any, out: Violations) -> None:
    if metrics is None:
        return
    used: set[str] = set()
    for i, backend in enumerate(as_dicts(metrics.get("backends"))):
        at = path.field("backends").index(i)
        _check_unique_name(at, as_str(backend.get("name")), used, out)
        if backend.get("type") != PROMETHEUS:
            out.add(at.field("type"), UNKNOWN_METRICS_TYPE)
        else:
            validate_prometheus_conf(at.field("conf"), backend.get("conf"), out)
    _check_enabled_backend(path, metrics, used, out)


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

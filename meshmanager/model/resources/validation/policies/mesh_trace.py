"""MeshTrace: tracing backend (Zipkin, Datadog or OpenTelemetry), sampling and span tags."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.govalidator import is_url
from meshmanager.model.resources.validation.golang.url import URLError, parse_request_uri
from meshmanager.model.resources.validation.policies import targetref as ref
from meshmanager.model.resources.validation.policies import values as check
from meshmanager.model.resources.validation.policies.nodes import OTEL_BACKEND_REF
from meshmanager.model.resources.validation.policies.policy import (
    SPEC,
    Spec,
    each,
    obj,
    role_target_ref_rules,
    validate_policy,
    validate_top_target_ref,
)
from meshmanager.model.resources.validation.schema import Arr, Bool, IntOrStr, Obj, Str

# Looser than the CRD where Kuma's Validate() has its own message or its tests omit a
# field: a backend's type is not required and the list has no maximum (Validate() reports a
# second backend itself, whatever its content), and a header tag's name is not required.
_BACKEND = Obj(
    {
        "type": Str(enum=("Zipkin", "Datadog", "OpenTelemetry")),
        "zipkin": Obj(
            {
                "url": Str(),
                "traceId128bit": Bool(),
                "apiVersion": Str(enum=("httpJson", "httpProto")),
                "sharedSpanContext": Bool(),
            }
        ),
        "datadog": Obj({"url": Str(), "splitService": Bool()}),
        "openTelemetry": Obj({"endpoint": Str(), "backendRef": OTEL_BACKEND_REF}),
    }
)
_CONF = Obj(
    {
        "backends": Arr(_BACKEND),
        "sampling": Obj({"overall": IntOrStr(), "client": IntOrStr(), "random": IntOrStr()}),
        "tags": Arr(
            Obj(
                {
                    "name": Str(),
                    "literal": Str(),
                    "header": Obj({"name": Str(), "default": Str()}),
                }
            )
        ),
    }
)
SCHEMA = Obj({"targetRef": ref.TARGET_REF, "default": _CONF})


def _validate_datadog_url(out: Violations, path: Path, url_text: str) -> None:
    try:
        url = parse_request_uri(url_text)
    except URLError:
        out.add(path, "must be a valid url")
        return
    if url.scheme != "http":
        out.add(path, "scheme must be http")
    port = url.port()
    if port == "":
        out.add(path, f"port {msg.MUST_BE_DEFINED}")
    elif not 0 < int(port) <= 65535:
        out.add(path, msg.INVALID_PORT)
    # Only scheme, host and port locate the agent.
    extras = {
        "opaque": url.opaque,
        "user": url.has_user,
        "path": url.path,
        "query": url.raw_query,
        "fragment": url.fragment,
    }
    for name, value in extras.items():
        if value:
            out.add(path, f"{name} {msg.MUST_NOT_BE_DEFINED}")


def _validate_backend(out: Violations, path: Path, backend: Mapping[str, Any]) -> None:
    backend_type = backend.get("type")
    field = {"Zipkin": "zipkin", "Datadog": "datadog"}.get(backend_type or "", "openTelemetry")
    conf, conf_path = backend.get(field), path.field(field)
    if backend_type is None:
        out.add(path.field("type"), "in body is required")
    elif conf is None:
        out.add(conf_path, msg.MUST_BE_DEFINED)
    elif field == "datadog":
        _validate_datadog_url(out, conf_path.field("url"), conf.get("url") or "")
    elif field == "zipkin":
        url = conf.get("url") or ""
        if url == "":
            out.add(conf_path.field("url"), msg.MUST_NOT_BE_EMPTY)
        elif not is_url(url):
            out.add(conf_path.field("url"), "must be a valid url")
    else:
        check.otel_endpoint_or_backend_ref(out, conf_path, conf)


def _validate_sampling(out: Violations, path: Path, value: int | str) -> None:
    number = check.parse_decimal(value)
    if number is None:
        out.add(path, "string is not a number")
    # Kuma goes on with zero when the string is not a number.
    if number is not None and not 0 <= number <= 100:
        out.add(path, "must be between 0 and 100")


def _validate_default(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    backends_path, backends = path.field("backends"), conf.get("backends")
    if backends is None:
        out.add(backends_path, msg.MUST_BE_DEFINED)
    elif len(backends) == 1:
        _validate_backend(out, backends_path.index(0), backends[0])
    elif len(backends) > 1:
        out.add(backends_path, "must have zero or one backend defined")
    for tag_path, tag in each(conf, "tags", path):
        if not tag.get("name"):
            out.add(tag_path.field("name"), msg.MUST_NOT_BE_EMPTY)
        if (tag.get("header") is not None) == (tag.get("literal") is not None):
            out.add(tag_path, msg.must_have_only_one("tag", "header", "literal"))
    sampling = conf.get("sampling")
    for name in ("client", "random", "overall"):
        if sampling is not None and sampling.get(name) is not None:
            _validate_sampling(out, path.field("sampling").field(name), sampling[name])


def _rules(ctx: Context, spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, role_target_ref_rules(ctx, (ref.MESH_GATEWAY,), False))
    _validate_default(out, SPEC.field("default"), obj(spec, "default"))


@validator("MeshTrace")
def validate_mesh_trace(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, lambda checked, out: _rules(ctx, checked, out))

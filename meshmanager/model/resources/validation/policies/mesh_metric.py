"""MeshMetric: which proxy and application metrics to expose, and where to send them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.golang.net import AddressError, split_host_port
from meshmanager.model.resources.validation.golang.regexp import regexp_error
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
from meshmanager.model.resources.validation.schema import UINT32, Arr, Bool, GoDuration, Obj, Str

# Selectors and profiles are left to Validate(), which names the supported values.
_SELECTORS = Arr(Obj({"type": Str(), "match": Str()}))
_CONF = Obj(
    {
        "sidecar": Obj(
            {
                "profiles": Obj(
                    {
                        "appendProfiles": Arr(Obj({"name": Str()})),
                        "exclude": _SELECTORS,
                        "include": _SELECTORS,
                    }
                ),
                "includeUnused": Bool(),
            }
        ),
        "applications": Arr(
            Obj({"name": Str(), "path": Str(), "address": Str(), "port": UINT32}, required=["port"])
        ),
        "backends": Arr(
            Obj(
                {
                    "type": Str(enum=("Prometheus", "OpenTelemetry")),
                    "prometheus": Obj(
                        {
                            "clientId": Str(),
                            "port": UINT32,
                            "path": Str(),
                            "tls": Obj(
                                {"mode": Str(enum=("Disabled", "ProvidedTLS", "ActiveMTLSBackend"))}
                            ),
                        }
                    ),
                    "openTelemetry": Obj(
                        {
                            "endpoint": Str(),
                            "backendRef": OTEL_BACKEND_REF,
                            "refreshInterval": GoDuration(),
                        }
                    ),
                },
                required=["type"],
            )
        ),
    }
)
SCHEMA = Obj({"targetRef": ref.TARGET_REF, "default": _CONF})


def _validate_selectors(
    out: Violations, path: Path, profiles: Mapping[str, Any], field: str
) -> None:
    for selector_path, selector in each(profiles, field, path):
        selector_type = selector.get("type")
        if selector_type == "Regex":
            if regexp_error(selector.get("match") or "") is not None:
                out.add(selector_path.field("match"), "invalid regex")
        elif selector_type not in ("Prefix", "Exact", "Contains"):
            out.add(
                selector_path.field("type"),
                f"unrecognized type '{selector_type}' - 'Regex', 'Prefix', 'Exact' are supported",
            )


def _validate_sidecar(out: Violations, path: Path, sidecar: Mapping[str, Any]) -> None:
    profiles = sidecar.get("profiles")
    if profiles is None:
        return
    profiles_path = path.field("profiles")
    _validate_selectors(out, profiles_path, profiles, "exclude")
    _validate_selectors(out, profiles_path, profiles, "include")
    for profile_path, profile in each(profiles, "appendProfiles", profiles_path):
        name = profile.get("name")
        if name not in ("All", "None", "Basic"):
            out.add(
                profile_path.field("name"),
                f"unrecognized profile name '{name}' - 'All', 'None', 'Basic' are supported",
            )


def _host_port(out: Violations, path: Path, endpoint: str) -> None:
    """MeshMetric has always needed host:port endpoints, unlike the other OTel policies."""
    try:
        split_host_port(endpoint)
    except AddressError:
        out.add(path, "must be in host:port format")


def _validate_backends(out: Violations, path: Path, conf: Mapping[str, Any]) -> None:
    # Kuma puts each backend under `backend`, inside `backends`: backends.backend[0].
    for index, backend in enumerate(conf.get("backends") or []):
        backend_path = path.field("backends").field("backend").index(index)
        if backend["type"] == "Prometheus":
            prometheus = backend.get("prometheus")
            if prometheus is None:
                out.add(backend_path.field("prometheus"), msg.MUST_BE_DEFINED)
            else:
                check.port(out, backend_path.field("port"), prometheus.get("port") or 0)
        else:
            otel = backend.get("openTelemetry")
            if otel is None:
                out.add(backend_path.field("openTelemetry"), msg.MUST_BE_DEFINED)
            else:
                otel_path = backend_path.field("openTelemetry")
                check.otel_endpoint_or_backend_ref(out, otel_path, otel, _host_port)


def _rules(ctx: Context, spec: Spec, out: Violations) -> None:
    validate_top_target_ref(out, spec, role_target_ref_rules(ctx, (ref.MESH_GATEWAY,)))
    path, conf = SPEC.field("default"), obj(spec, "default")
    if conf.get("sidecar") is not None:
        _validate_sidecar(out, path.field("sidecar"), conf["sidecar"])
    for index, application in enumerate(conf.get("applications") or []):
        # Kuma's path: applications.application[0], on the application itself.
        app_path = path.field("applications").field("application").index(index)
        check.port(out, app_path, application.get("port") or 0)
    _validate_backends(out, path, conf)


@validator("MeshMetric")
def validate_mesh_metric(spec: Any, ctx: Context) -> Violations:
    return validate_policy(SCHEMA, spec, lambda checked, out: _rules(ctx, checked, out))

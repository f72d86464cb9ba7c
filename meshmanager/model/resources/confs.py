"""Policy confs as Kuma v2.14.3 merges them: JSON merge patches of their Go types'
JSON, which `Shape` reproduces for the types whose JSON differs from the stored spec
(defaults, durations, `append...` lists)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.validation.golang.durations import (
    DurationError,
    parse_duration,
)

_ABSENT: Any = object()


@dataclass(frozen=True)
class Field:
    """A field of a conf struct: `shape` for a nested struct (a list of them when
    `many`), and `default`, written when the field is missing (a kubebuilder default, or
    the zero value of a field Kuma's Go type serialises even when empty)."""

    shape: Shape | None = None
    many: bool = False
    default: Any = _ABSENT
    duration: bool = False


@dataclass(frozen=True)
class Shape:
    """The JSON a conf struct round-trips to through Kuma's Go types: unknown fields
    dropped, defaults filled in. Fields named `append...` are concatenated on merge."""

    fields: Mapping[str, Field]

    def normalise(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        result: dict[str, Any] = {}
        for key, spec in self.fields.items():
            item = value.get(key)
            if item is None:
                if spec.default is not _ABSENT:
                    result[key] = spec.default
                continue
            result[key] = self._normalise_field(spec, item)
        return result

    @staticmethod
    def _normalise_field(spec: Field, item: Any) -> Any:
        if spec.duration:
            return go_duration(item)
        if spec.shape is None:
            return item
        if spec.many and isinstance(item, list):
            return [spec.shape.normalise(element) for element in item]
        return spec.shape.normalise(item)

    def append(self, merged: dict[str, Any], confs: Sequence[Any]) -> dict[str, Any]:
        """Kuma's appendSlices: `append...` lists collect the items of every conf."""
        for key, spec in self.fields.items():
            if key not in merged:
                continue
            parts = [conf[key] for conf in confs if isinstance(conf, dict) and key in conf]
            if key.startswith("append") and spec.many:
                merged[key] = [item for part in parts if part for item in part]
            elif spec.shape is not None and not spec.many and isinstance(merged[key], dict):
                merged[key] = spec.shape.append(merged[key], parts)
        return merged


def _nanoseconds(text: str) -> int | None:
    """Go's time.ParseDuration, or None for text it would reject."""
    try:
        return parse_duration(text)
    except DurationError:
        return None


def _fraction(value: int, digits: int) -> str:
    whole, rest = divmod(value, 10**digits)
    return f"{whole}.{rest:0{digits}d}".rstrip("0").rstrip(".")


def go_duration(value: Any) -> Any:
    """A duration as Go's time.Duration.String() writes it (`90s` becomes `1m30s`);
    anything Go could not parse is left as it is."""
    nanos = _nanoseconds(value) if isinstance(value, str) else None
    if nanos is None:
        return value
    sign, nanos = ("-" if nanos < 0 else ""), abs(nanos)
    if nanos == 0:
        return "0s"
    if nanos < 1_000:
        return f"{sign}{nanos}ns"
    if nanos < 1_000_000:
        return f"{sign}{_fraction(nanos, 3)}µs"
    if nanos < 1_000_000_000:
        return f"{sign}{_fraction(nanos, 6)}ms"
    text = f"{_fraction(nanos % 60_000_000_000, 9)}s"
    minutes, hours = (nanos // 60_000_000_000) % 60, nanos // 3_600_000_000_000
    if nanos >= 60_000_000_000:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def merge_confs(confs: Sequence[Any], shape: Shape | None) -> Any:
    """Kuma's merge.Confs for confs without `mergeValues` fields: a JSON merge patch of
    the confs in order, then the `append...` lists of all of them."""
    structs = [conf if isinstance(conf, dict) else {} for conf in confs]  # Go structs
    if shape is None:
        return functools.reduce(merge_patch, structs, {})
    normalised = [shape.normalise(conf) for conf in structs]
    merged = shape.normalise(functools.reduce(merge_patch, normalised, {}))
    result: Any = shape.append(merged, normalised)
    return result


_NAME = Field(default="")
_ZIPKIN = Shape(
    {
        "url": _NAME,
        "traceId128bit": Field(default=False),
        "apiVersion": Field(default="httpJson"),
        "sharedSpanContext": Field(default=True),
    }
)
_OTEL_TRACE = Shape({"endpoint": Field(default=""), "backendRef": Field()})
_TRACE_BACKEND = Shape(
    {
        "type": _NAME,
        "zipkin": Field(_ZIPKIN),
        "datadog": Field(Shape({"url": _NAME, "splitService": Field(default=False)})),
        "openTelemetry": Field(_OTEL_TRACE),
    }
)
_TRACE_TAG = Shape(
    {"name": _NAME, "literal": Field(), "header": Field(Shape({"name": _NAME, "default": Field()}))}
)
_METRIC_SELECTOR = Shape({"type": _NAME, "match": _NAME})
_PROFILES = Shape(
    {
        "appendProfiles": Field(Shape({"name": _NAME}), many=True),
        "exclude": Field(_METRIC_SELECTOR, many=True),
        "include": Field(_METRIC_SELECTOR, many=True),
    }
)
_APPLICATION = Shape(
    {
        "name": Field(),
        "path": Field(default="/metrics"),
        "address": Field(),
        "port": Field(default=0),
    }
)
_PROMETHEUS = Shape(
    {
        "clientId": Field(),
        "port": Field(default=5670),
        "path": Field(default="/metrics"),
        "tls": Field(Shape({"mode": Field(default="Disabled")})),
    }
)
_METRIC_BACKEND = Shape(
    {
        "type": _NAME,
        "prometheus": Field(_PROMETHEUS),
        "openTelemetry": Field(
            Shape(
                {"endpoint": Field(default=""), "backendRef": Field(), "refreshInterval": Field()}
            )
        ),
    }
)
_PASSTHROUGH_MATCH = Shape(
    {"type": _NAME, "value": _NAME, "port": Field(), "protocol": Field(default="tcp")}
)


def _modification(match_default: Any = _ABSENT) -> Field:
    return Field(
        Shape(
            {
                "match": Field(default=match_default),
                "operation": _NAME,
                "value": Field(),
                "jsonPatches": Field(),
            }
        )
    )


# The confs of the policies that apply to the proxy as a whole (`spec.default`).
SINGLE_ITEM_SHAPES: dict[str, Shape] = {
    "MeshPassthrough": Shape(
        {"passthroughMode": Field(), "appendMatch": Field(_PASSTHROUGH_MATCH, many=True)}
    ),
    "MeshTrace": Shape(
        {
            "backends": Field(_TRACE_BACKEND, many=True),
            "sampling": Field(),
            "tags": Field(_TRACE_TAG, many=True),
        }
    ),
    "MeshMetric": Shape(
        {
            "sidecar": Field(Shape({"profiles": Field(_PROFILES), "includeUnused": Field()})),
            "applications": Field(_APPLICATION, many=True),
            "backends": Field(_METRIC_BACKEND, many=True),
        }
    ),
    "MeshProxyPatch": Shape(
        {
            "appendModifications": Field(
                Shape(
                    {
                        "cluster": _modification(),
                        "listener": _modification(),
                        "networkFilter": _modification(),
                        "httpFilter": _modification(),
                        "virtualHost": _modification(match_default=None),
                    }
                ),
                many=True,
            )
        }
    ),
}


_FORMAT = Shape(
    {
        "type": _NAME,
        "plain": Field(),
        "json": Field(Shape({"key": _NAME, "value": _NAME}), many=True),
        "omitEmptyValues": Field(default=False),
    }
)
_LOG_BACKEND = Shape(
    {
        "type": _NAME,
        "tcp": Field(Shape({"format": Field(_FORMAT), "address": _NAME})),
        "file": Field(Shape({"format": Field(_FORMAT), "path": _NAME})),
        "openTelemetry": Field(
            Shape(
                {
                    "attributes": Field(Shape({"key": _NAME, "value": _NAME}), many=True),
                    "body": Field(),
                    "endpoint": Field(default=""),
                    "backendRef": Field(),
                }
            )
        ),
    }
)
_TIMEOUT = Field(duration=True)
_BACK_OFF = Field(Shape({"baseInterval": _TIMEOUT, "maxInterval": _TIMEOUT}))
_RATE_LIMITED_BACK_OFF = Field(
    Shape(
        {
            "resetHeaders": Field(Shape({"name": _NAME, "format": _NAME}), many=True),
            "maxInterval": _TIMEOUT,
        }
    )
)
_GRPC_RETRY = Shape(
    {
        "numRetries": Field(),
        "perTryTimeout": _TIMEOUT,
        "backOff": _BACK_OFF,
        "rateLimitedBackOff": _RATE_LIMITED_BACK_OFF,
        "retryOn": Field(),
    }
)
_HTTP_RETRY = Shape(
    {
        **_GRPC_RETRY.fields,
        "retriableResponseHeaders": Field(),
        "retriableRequestHeaders": Field(),
        "hostSelection": Field(
            Shape({"predicate": _NAME, "tags": Field(), "updateFrequency": Field(default=2)}),
            many=True,
        ),
        "hostSelectionMaxAttempts": Field(),
    }
)

# Routes: a backendRef's weight defaults to 1 (Kuma applies schema defaults on load).

_TARGET_REF_FIELDS = ("kind", "name", "namespace", "labels", "sectionName", "tags", "mesh")
_BACKEND_REF = Shape(
    {
        **{key: Field() for key in (*_TARGET_REF_FIELDS, "proxyTypes")},
        "weight": Field(default=1),
        "port": Field(),
    }
)
_FILTER = Shape(
    {
        "type": _NAME,
        "requestHeaderModifier": Field(),
        "responseHeaderModifier": Field(),
        "requestRedirect": Field(),
        "urlRewrite": Field(),
        "requestMirror": Field(Shape({"percentage": Field(), "backendRef": Field(_BACKEND_REF)})),
    }
)
_BACKENDS = Field(_BACKEND_REF, many=True)
_HTTP_RULE_CONF = Shape({"filters": Field(_FILTER, many=True), "backendRefs": _BACKENDS})
_HTTP_RULE = Shape({"matches": Field(default=None), "default": Field(_HTTP_RULE_CONF, default={})})
_TCP_RULE = Shape({"default": Field(Shape({"backendRefs": _BACKENDS}), default={})})
_ROUTE_DEFAULT = Shape({"rules": Field(_HTTP_RULE, many=True), "hostnames": Field()})

# The confs of `from`, `to` and `rules` entries whose Go types need more than a plain
# JSON merge patch (defaults, durations); the others merge as they are.
ENTRY_SHAPES: dict[str, Shape] = {
    "MeshTCPRoute": _TCP_RULE,
    "MeshAccessLog": Shape({"backends": Field(_LOG_BACKEND, many=True)}),
    "MeshRetry": Shape(
        {
            "tcp": Field(Shape({"maxConnectAttempt": Field()})),
            "http": Field(_HTTP_RETRY),
            "grpc": Field(_GRPC_RETRY),
        }
    ),
    "MeshTimeout": Shape(
        {
            "connectionTimeout": _TIMEOUT,
            "idleTimeout": _TIMEOUT,
            "http": Field(
                Shape(
                    {
                        "requestTimeout": _TIMEOUT,
                        "streamIdleTimeout": _TIMEOUT,
                        "maxStreamDuration": _TIMEOUT,
                        "maxConnectionDuration": _TIMEOUT,
                        "requestHeadersTimeout": _TIMEOUT,
                    }
                )
            ),
        }
    ),
}


def merge_entries(policy_type: str, confs: Sequence[Any]) -> list[Any]:
    """Kuma's merge.Confs: one conf, except for MeshHTTPRoute, whose confs merge per
    hostname (`mergeValues`) and whose rules merge per set of matches
    (`mergeValuesByKey`)."""
    if policy_type != "MeshHTTPRoute":
        return [merge_confs(confs, ENTRY_SHAPES.get(policy_type))]
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for conf in confs:
        conf = _ROUTE_DEFAULT.normalise(conf if isinstance(conf, dict) else {})
        for hostname in conf.get("hostnames") or [""]:
            groups.setdefault(hostname, []).append(conf)
    return [_merged_route(hostname, group) for hostname, group in groups.items()]


def _merged_route(hostname: str, confs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    rules = _merged_by_matches([rule for conf in confs for rule in conf.get("rules") or []])
    rules.reverse()  # PolicyDefault.Transform: the rules were reversed to merge
    merged: dict[str, Any] = {"rules": rules} if rules else {}
    return merged | ({"hostnames": [hostname]} if hostname else {})


def _merged_by_matches(rules: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules with equal matches merge into the place of the last of them."""
    merged: list[tuple[Any, list[Any]] | None] = []
    for rule in rules:
        defaults = [rule.get("default")]
        for index, earlier in enumerate(merged):
            if earlier is not None and earlier[0] == rule.get("matches"):
                defaults = earlier[1] + defaults
                merged[index] = None
        merged.append((rule.get("matches"), defaults))
    return [
        {"matches": matches, "default": merge_confs(defaults, _HTTP_RULE_CONF)}
        for matches, defaults in filter(None, merged)
    ]

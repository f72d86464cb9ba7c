"""Conformance of the new-style targetRef policies' validators (MeshTimeout, MeshRetry, ...)
and of their shared targetRef and JSON patch validators with Kuma v2.14.3's test tables,
plus our own tests of the schema part and of the Go-compatible value checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml

from meshmanager.model.resources.validation.base import Context, Path, Violations, validate_spec
from meshmanager.model.resources.validation.golang import govalidator, net
from meshmanager.model.resources.validation.golang.durations import DurationError, parse_duration
from meshmanager.model.resources.validation.policies.jsonpatch import validate_json_patch_blocks
from meshmanager.model.resources.validation.policies.matches import spiffe_id_error
from meshmanager.model.resources.validation.policies.targetref import (
    TargetRefRules,
    validate_target_ref,
)
from meshmanager.model.resources.validation.schema import GoDuration
from tests.conformance.vectors import ValidationCase, validation_cases

POLICY_TYPES = (
    "MeshAccessLog",
    "MeshCircuitBreaker",
    "MeshFaultInjection",
    "MeshHealthCheck",
    "MeshHTTPRoute",
    "MeshLoadBalancingStrategy",
    "MeshMetric",
    "MeshPassthrough",
    "MeshProxyPatch",
    "MeshRateLimit",
    "MeshRetry",
    "MeshTCPRoute",
    "MeshTimeout",
    "MeshTrace",
    "MeshTrafficPermission",
    "MeshTLS",
)

# Kuma's tables decode their YAML straight into the Go structs, skipping the OpenAPI schema
# check that Kuma's own API server (and kumactl) run first on the untyped document. The Go
# decoder turns a YAML number into a string when the Go field is a string; a JSON body
# keeps it a number, which the schema rejects (ours, like Kuma's API server).
_NUMBER_FOR_STRING = (
    "the Go test's YAML decoder turns the number into a string for the Go string field; as a"
    " JSON body it is a number, which the schema rejects, as Kuma's own API server does"
)
_LIMIT_NUMBER = f"responseBandwidth.limit: 1000 — {_NUMBER_FOR_STRING}"
DIVERGENCES: dict[str, str] = {
    "MeshCircuitBreaker[0] full example": (
        "outlierDetection.detectors has a `healthyPanicThreshold` key, which is not a "
        "Detectors field (it belongs to outlierDetection): Kuma ignores it, we reject "
        "unknown fields"
    ),
    "MeshFaultInjection[5] incorrect values": _LIMIT_NUMBER,
    "MeshFaultInjection[6] incorrect values with rules": _LIMIT_NUMBER,
    "MeshFaultInjection[9] empty values": _LIMIT_NUMBER,
    "MeshFaultInjection[10] sectionName with outbound policy": _LIMIT_NUMBER,
    "MeshFaultInjection[11] incorrect value in percentage": _LIMIT_NUMBER,
    "MeshHealthCheck[0] full example": (
        "default.http has `set` and `add` keys, which are not HttpHealthCheck fields (they "
        "belong under requestHeadersToAdd): Kuma ignores them, we reject unknown fields"
    ),
    "MeshPassthrough[1] full failing example": (
        f"appendMatch[0].protocol: 1 — {_NUMBER_FOR_STRING}; with the string '1' every "
        "violation is Kuma's"
    ),
    "MeshRetry[0] full example": (
        f"http.retryOn holds 500, 409, 503 — {_NUMBER_FOR_STRING}. Its retriable header "
        "matches also use the types PREFIX, REGULAR_EXPRESSION and EXACT, outside the CRD's "
        "enum (Exact, Present, RegularExpression, Absent, Prefix) that Kuma's API server "
        "checks and Validate() does not"
    ),
    "MeshRetry[6] http.retryOn with status codes": (
        f"http.retryOn holds 500 and 409 — {_NUMBER_FOR_STRING}"
    ),
    "MeshRetry[7] target MeshHTTPRoute": f"http.retryOn holds 500 and 409 — {_NUMBER_FOR_STRING}",
    "MeshRetry[17] http.retryOn with not allowed values": (
        f"http.retryOn holds numbers (123, 952) — {_NUMBER_FOR_STRING}"
    ),
    "MeshRetry[18] grpc.retryOn with not allowed values": (
        f"grpc.retryOn holds 500 — {_NUMBER_FOR_STRING}"
    ),
    "MeshTCPRoute[7] accepts MeshGateway with listener tags targeted route": (
        f"targetRef.tags.port: 8080 — {_NUMBER_FOR_STRING}"
    ),
    "MeshTrafficPermission[9] sectionName without from or rules": (
        "the spec has a `to` list, which MeshTrafficPermission does not have: Kuma ignores "
        "it, we reject unknown fields"
    ),
    "MeshTLS[4] sectionName without from or rules": (
        "the spec has a `to` list, which MeshTLS does not have: Kuma ignores it, we reject "
        "unknown fields"
    ),
}

ENVELOPE = ("type", "name", "mesh")
CASES = [case for kuma_type in POLICY_TYPES for case in validation_cases(kuma_type)]


def pairs(violations: list[Any] | Violations) -> set[tuple[str, str]]:
    return {(v.field, v.message) for v in violations}


def spec_of(case: ValidationCase) -> Any:
    """The spec of a case. The tables that go through Kuma's generic validation entry point
    write whole universal resources (`type`, `name`, `mesh` beside the spec fields); the Go
    decoder ignores those three envelope keys, and so does the API, which takes them from
    the resource, so they are dropped here."""
    spec = case.spec
    if isinstance(spec, dict) and spec.get("type") == case.kuma_type:
        return {key: value for key, value in spec.items() if key not in ENVELOPE}
    return spec


def run(case: ValidationCase) -> set[tuple[str, str]]:
    context = Context(mesh=case.mesh, name=case.resource_name, extra=case.context)
    return pairs(validate_spec(case.kuma_type, spec_of(case), context))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_kuma_vector(case: ValidationCase) -> None:
    expected = set(case.violations)
    if case.id in DIVERGENCES:
        assert run(case) != expected, f"no longer diverges: {DIVERGENCES[case.id]}"
    elif case.valid:
        assert run(case) == set()
    else:
        assert run(case) == expected


def test_divergences_name_real_cases() -> None:
    assert set(DIVERGENCES) <= {case.id for case in CASES}


# --- shared validators against Kuma's helper tables ------------------------------------

TARGET_REF_CASES = validation_cases("TargetRef", folder="validation/helpers")


def target_ref_rules(options: dict[str, Any]) -> TargetRefRules:
    return TargetRefRules(
        kinds=tuple(options.get("SupportedKinds") or ()),
        kinds_error=options.get("SupportedKindsError") or "",
        gateway_listener_tags=bool(options.get("GatewayListenerTagsAllowed")),
        allowed_invalid_names=tuple(options.get("AllowedInvalidNames") or ()),
        inbound=bool(options.get("IsInboundPolicy")),
    )


@pytest.mark.parametrize("case", TARGET_REF_CASES, ids=[c.id for c in TARGET_REF_CASES])
def test_target_ref_vector(case: ValidationCase) -> None:
    out = Violations()
    rules = target_ref_rules(case.context["ValidateTargetRefOpts"])
    validate_target_ref(out, Path(case.context["violation_root"]), case.spec, rules)
    assert pairs(out) == set(case.violations)


JSON_PATCH_CASES = validation_cases("JsonPatchBlock", folder="validation/helpers")


@pytest.mark.parametrize("case", JSON_PATCH_CASES, ids=[c.id for c in JSON_PATCH_CASES])
def test_json_patch_block_vector(case: ValidationCase) -> None:
    blocks = [yaml.safe_load(block) for block in case.spec]
    out = Violations()
    validate_json_patch_blocks(out, Path(case.context["violation_root"]), blocks)
    assert pairs(out) == set(case.violations)


# --- our own tests of the schema part ---------------------------------------------------

MESH_TO: dict[str, Any] = {"targetRef": {"kind": "Mesh"}}
NUMBER = 'in body must be of type string: "number"'

SCHEMA_CASES: list[tuple[str, str, Any, set[tuple[str, str]]]] = [
    (
        "MeshTimeout",
        "duration as a number",
        {"to": [{**MESH_TO, "default": {"idleTimeout": 10}}]},
        {("spec.to[0].default.idleTimeout", NUMBER)},
    ),
    (
        "MeshTimeout",
        "duration Go cannot parse",
        {"to": [{**MESH_TO, "default": {"idleTimeout": "10 seconds"}}]},
        {
            (
                "spec.to[0].default.idleTimeout",
                'time: unknown unit " seconds" in duration "10 seconds"',
            )
        },
    ),
    (
        "MeshTimeout",
        "unknown field hides Kuma's rules",
        {"timeouts": {}},
        {("spec.timeouts", "in body is a forbidden property")},
    ),
    (
        "MeshAccessLog",
        "backend type outside the enum",
        {"from": [{**MESH_TO, "default": {"backends": [{"type": "Syslog"}]}}]},
        {
            (
                "spec.from[0].default.backends[0].type",
                "in body should be one of [Tcp File OpenTelemetry]",
            )
        },
    ),
    (
        "MeshCircuitBreaker",
        "negative unsigned limit",
        {"to": [{**MESH_TO, "default": {"connectionLimits": {"maxConnections": -1}}}]},
        {
            (
                "spec.to[0].default.connectionLimits.maxConnections",
                "in body should be greater than or equal to 0",
            )
        },
    ),
    (
        "MeshFaultInjection",
        "fractional percentage as a number",
        {"to": [{**MESH_TO, "default": {"http": [{"delay": {"percentage": 50.5}}]}}]},
        {
            (
                "spec.to[0].default.http[0].delay.percentage",
                'in body must be of type integer,string: "number"',
            )
        },
    ),
    (
        "MeshHealthCheck",
        "misspelled field",
        {"to": [{**MESH_TO, "default": {"intervall": "10s"}}]},
        {("spec.to[0].default.intervall", "in body is a forbidden property")},
    ),
    (
        "MeshHTTPRoute",
        "redirect status and method outside their enums",
        {
            "to": [
                {
                    "targetRef": {"kind": "MeshService", "name": "backend"},
                    "rules": [
                        {
                            "matches": [{"method": "FETCH"}],
                            "default": {
                                "filters": [
                                    {
                                        "type": "RequestRedirect",
                                        "requestRedirect": {"statusCode": 304},
                                    }
                                ]
                            },
                        }
                    ],
                }
            ]
        },
        {
            (
                "spec.to[0].rules[0].matches[0].method",
                "in body should be one of [CONNECT DELETE GET HEAD OPTIONS PATCH POST PUT TRACE]",
            ),
            (
                "spec.to[0].rules[0].default.filters[0].requestRedirect.statusCode",
                "in body should be one of [301 302 303 307 308]",
            ),
        },
    ),
    (
        "MeshLoadBalancingStrategy",
        "load balancer without a type",
        {"to": [{**MESH_TO, "default": {"loadBalancer": {"random": {}}}}]},
        {("spec.to[0].default.loadBalancer.type", "in body is required")},
    ),
    (
        "MeshMetric",
        "backend type outside the enum",
        {"default": {"backends": [{"type": "Statsd"}]}},
        {
            (
                "spec.default.backends[0].type",
                "in body should be one of [Prometheus OpenTelemetry]",
            )
        },
    ),
    (
        "MeshPassthrough",
        "passthrough mode outside the enum",
        {"default": {"passthroughMode": "Some"}},
        {("spec.default.passthroughMode", "in body should be one of [All Matched None]")},
    ),
    (
        "MeshProxyPatch",
        "no default",
        {"targetRef": {"kind": "Mesh"}},
        {("spec.default", "in body is required")},
    ),
    (
        "MeshRateLimit",
        "rate interval as a number",
        {
            "to": [
                {
                    **MESH_TO,
                    "default": {"local": {"tcp": {"connectionRate": {"num": 5, "interval": 1}}}},
                }
            ]
        },
        {("spec.to[0].default.local.tcp.connectionRate.interval", NUMBER)},
    ),
    (
        "MeshRetry",
        "reset header format outside the enum",
        {
            "to": [
                {
                    **MESH_TO,
                    "default": {
                        "http": {
                            "rateLimitedBackOff": {
                                "resetHeaders": [{"name": "retry-after", "format": "Minutes"}]
                            }
                        }
                    },
                }
            ]
        },
        {
            (
                "spec.to[0].default.http.rateLimitedBackOff.resetHeaders[0].format",
                "in body should be one of [Seconds UnixTimestamp]",
            )
        },
    ),
    (
        "MeshTCPRoute",
        "empty to",
        {"to": []},
        {("spec.to", "in body should have at least 1 items")},
    ),
    (
        "MeshTrace",
        "fractional sampling as a number",
        {"default": {"sampling": {"overall": 1.5}}},
        {("spec.default.sampling.overall", 'in body must be of type integer,string: "number"')},
    ),
    (
        "MeshTrafficPermission",
        "action outside the enum",
        {"from": [{**MESH_TO, "default": {"action": "Permit"}}]},
        {
            (
                "spec.from[0].default.action",
                "in body should be one of [Allow Deny AllowWithShadowDeny]",
            )
        },
    ),
    (
        "MeshTLS",
        "ciphers as a string",
        {"from": [{**MESH_TO, "default": {"tlsCiphers": "ECDHE-RSA-AES128-GCM-SHA256"}}]},
        {("spec.from[0].default.tlsCiphers", 'in body must be of type array: "string"')},
    ),
]
for _kuma_type in POLICY_TYPES:
    SCHEMA_CASES += [
        (
            _kuma_type,
            "spec not an object",
            [],
            {("spec", 'in body must be of type object: "array"')},
        ),
        (
            _kuma_type,
            "proxy type outside the enum",
            {"targetRef": {"kind": "Mesh", "proxyTypes": ["Ingress"]}},
            {("spec.targetRef.proxyTypes[0]", "in body should be one of [Sidecar Gateway]")}
            | (
                {("spec.default", "in body is required")}
                if _kuma_type == "MeshProxyPatch"
                else set()
            ),
        ),
    ]


@pytest.mark.parametrize(
    ("kuma_type", "spec", "expected"),
    [(t, s, e) for t, _, s, e in SCHEMA_CASES],
    ids=[f"{t} {name}" for t, name, _, _ in SCHEMA_CASES],
)
def test_schema(kuma_type: str, spec: Any, expected: set[tuple[str, str]]) -> None:
    assert pairs(validate_spec(kuma_type, spec, Context(mesh="default", name="p"))) == expected


def test_null_spec_is_an_empty_one() -> None:
    assert pairs(validate_spec("MeshTimeout", None)) == {
        ("spec", "at least one of 'from', 'to' or 'rules' has to be defined")
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, set()),
        ("System", set()),
        ("Consumer", {("spec.targetRef.kind", "value 'MeshGateway' is not supported")}),
    ],
)
def test_policy_role_label_limits_top_level_kinds(
    role: str | None, expected: set[tuple[str, str]]
) -> None:
    spec = {
        "targetRef": {"kind": "MeshGateway", "name": "edge"},
        "to": [{**MESH_TO, "default": {"idleTimeout": "1h"}}],
    }
    labels = {} if role is None else {"kuma.io/policy-role": role}
    context = Context(mesh="default", name="p", extra={"labels": labels})
    assert pairs(validate_spec("MeshTimeout", spec, context)) == expected


# --- Go-compatible value checks ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10s", Decimal(10)),
        ("1h30m", Decimal(5400)),
        ("-1.5s", Decimal("-1.5")),
        ("+5ms", Decimal("0.005")),
        ("0", Decimal(0)),
        (".5s", Decimal("0.5")),
        ("1.s", Decimal(1)),
        ("1\u00b5s", Decimal("0.000001")),
        ("1", None),
        ("", None),
        (".s", None),
        ("1d", None),
        ("10 s", None),
        ("3000000h", None),
    ],
)
def test_go_duration(text: str, seconds: Decimal | None) -> None:
    try:
        nanoseconds: int | None = parse_duration(text)
    except DurationError:
        nanoseconds = None
    assert nanoseconds == (None if seconds is None else seconds * 10**9)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1", 'time: missing unit in duration "1"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("abc", 'time: invalid duration "abc"'),
        ("1\u00e9s", 'time: unknown unit "\\xc3\\xa9s" in duration "1\\xc3\\xa9s"'),
    ],
)
def test_go_duration_messages(text: str, message: str) -> None:
    out = Violations()
    GoDuration().check(text, Path("d"), out)
    assert pairs(out) == {("d", message)}


# A selection of govalidator's own IsURL cases.
@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("http://foobar.com", True),
        ("foobar.com", True),
        ("http://foobar.中文网/", True),
        ("http://user:pass@www.foobar.com/path/file", True),
        ("http://localhost:3000/", True),
        ("http://foo_bar.com", True),
        ("mailto:someone@example.com", True),
        ("http://[2001:db8:a0b:12f0::1]/index.html", True),
        ("aio1_alertmanager_container-63376c45:9093", True),
        ("http://foobar.c_o_m", False),
        ("http://_foobar.com", False),
        ("xyz://foobar.com", False),
        ("http://www.-foobar.com/", False),
        ("http://foo bar.org", False),
        ("foo", False),
        ("http://.foo.com", False),
        ("http://[::1]:909388", False),
        ("foo_bar-fizz-buzz:13:13", False),
        ("127.0.0.1:5000", True),
        ("not_valid_url", False),
    ],
)
def test_is_url(text: str, valid: bool) -> None:
    assert govalidator.is_url(text) is valid


def test_is_url_stays_fast_on_long_hostile_input() -> None:
    # Backtracking blow-ups of the URL pattern take minutes on these; they must not.
    import time

    for text in ("a" * 1000 + "." + "a" * 1000 + " ", "a-a" * 690 + ".-", "a." * 1000 + "1 "):
        started = time.monotonic()
        assert not govalidator.is_url(text)
        assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("otel-collector:4317", None),
        ("[::1]:4317", None),
        ("otel-collector", "missing port in address"),
        ("a:b:c", "too many colons in address"),
        ("[::1", "missing ']' in address"),
    ],
)
def test_split_host_port(text: str, error: str | None) -> None:
    try:
        net.split_host_port(text)
    except net.AddressError as failure:
        assert str(failure) == error
    else:
        assert error is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("spiffe://trust.domain/ns/default/sa/web", None),
        ("spiffe://trust.domain", None),
        ("", "cannot be empty"),
        ("http://trust.domain/a", "scheme is missing or invalid"),
        ("spiffe:///a", "trust domain is missing"),
        (
            "spiffe://Trust/a",
            "trust domain characters are limited to lowercase letters, numbers, dots, dashes,"
            " and underscores",
        ),
        ("spiffe://td/a//b", "path cannot contain empty segments"),
        ("spiffe://td/a/", "path cannot have a trailing slash"),
        ("spiffe://td/a/../b", "path cannot contain dot segments"),
        (
            "spiffe://td/a b",
            "path segment characters are limited to letters, numbers, dots, dashes, and"
            " underscores",
        ),
    ],
)
def test_spiffe_id(text: str, error: str | None) -> None:
    assert spiffe_id_error(text) == error


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1.2.3.0/24", True),
        ("2001:db8::/32", True),
        ("1.2.3.4", False),
        ("1.2.3.4/33", False),
        ("1.2.3.4/255.255.255.0", False),
    ],
)
def test_is_cidr(text: str, valid: bool) -> None:
    assert net.is_cidr(text) is valid

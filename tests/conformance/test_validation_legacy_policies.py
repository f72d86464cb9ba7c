"""Conformance of the old-style policy validators with Kuma v2.14.3, plus our own schema tests."""

from __future__ import annotations

from typing import Any

import pytest

from meshmanager.model.resources.validation import gotemplate
from meshmanager.model.resources.validation.base import Context, Violation, validate_spec
from meshmanager.model.resources.validation.golang.durations import parse_duration
from meshmanager.model.resources.validation.golang.net import AddressError, split_host_port
from meshmanager.model.resources.validation.golang.strconv import go_quote
from tests.conformance.vectors import ValidationCase, validation_cases

TYPES = (
    "TrafficRoute",
    "ProxyTemplate",
    "ExternalService",
    "VirtualOutbound",
    "Retry",
    "FaultInjection",
    "CircuitBreaker",
    "TrafficTrace",
    "RateLimit",
    "HealthCheck",
    "TrafficPermission",
    "TrafficLog",
    "Timeout",
)
CASES = [case for kuma_type in TYPES for case in validation_cases(kuma_type)]

UNKNOWN_FIELD = "the input has a field the message does not define; Kuma ignores it, we reject it"
DIVERGENCES: dict[str, str] = {
    "TrafficRoute[2] example with http": (
        f"{UNKNOWN_FIELD} (`host` is indented under `modify.path`)"
    ),
    "TrafficRoute[18] http - not allow some headers to be modified": (
        f"{UNKNOWN_FIELD} (`value` in a header `remove` entry)"
    ),
    "ProxyTemplate[6] virtual host modifications": (
        f"{UNKNOWN_FIELD} (`routeConfigurationName` in a cluster match)"
    ),
}


def run(kuma_type: str, spec: Any, extra: dict[str, Any] | None = None) -> set[tuple[str, str]]:
    found = validate_spec(kuma_type, spec, Context(mesh="default", name="p", extra=extra or {}))
    return {(v.field, v.message) for v in found}


def _violations(case: ValidationCase) -> list[Violation]:
    context = Context(mesh=case.mesh, name=case.resource_name, extra=case.context)
    return validate_spec(case.kuma_type, case.spec, context)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_kuma_vector(case: ValidationCase) -> None:
    found = frozenset((v.field, v.message) for v in _violations(case))
    agrees = not found if case.valid else found == case.violations
    if case.id in DIVERGENCES:
        assert not agrees, f"listed as a divergence but agrees with Kuma: {case.id}"
    elif case.valid:
        assert not found
    else:
        assert found == case.violations


def test_divergences_name_existing_cases() -> None:
    assert set(DIVERGENCES) <= {case.id for case in CASES}


def test_every_type_has_cases() -> None:
    assert {case.kuma_type for case in CASES} == set(TYPES)


SERVICE = [{"match": {"kuma.io/service": "web"}}]
BACKEND = [{"match": {"kuma.io/service": "backend"}}]


# --- selector-only policies: TrafficPermission, TrafficLog, TrafficTrace --------------------


@pytest.mark.parametrize("kuma_type", ["TrafficPermission", "TrafficLog"])
def test_selector_policies_reject_unknown_fields_and_wrong_types(kuma_type: str) -> None:
    spec = {"sources": [{"match": {"kuma.io/service": 1}, "extra": True}], "destinations": BACKEND}
    assert run(kuma_type, spec) == {
        ("sources[0].match.kuma.io/service", 'in body must be of type string: "number"'),
        ("sources[0].extra", "in body is a forbidden property"),
    }


def test_selectors_must_be_a_list() -> None:
    assert run("TrafficTrace", {"selectors": {"match": {}}}) == {
        ("selectors", 'in body must be of type array: "object"')
    }


def test_schema_errors_come_alone() -> None:
    # a semantic problem (no destinations) is not reported while the schema is broken
    assert run("TrafficPermission", {"sources": "web"}) == {
        ("sources", 'in body must be of type array: "string"')
    }


def test_tag_keys_in_paths_are_quoted_like_go() -> None:
    spec = {"selectors": [{"match": {'a"b': "x"}}]}
    assert run("TrafficTrace", spec) == {
        (
            'selectors[0].match["a\\"b"]',
            "tag name must consist of alphanumeric characters, "
            "dots, dashes, slashes and underscores",
        )
    }


def test_null_tag_values_are_empty_tags() -> None:
    spec = {"selectors": [{"match": {"kuma.io/service": None}}]}
    assert run("TrafficTrace", spec) == {
        ('selectors[0].match["kuma.io/service"]', "tag value must be non-empty")
    }


# --- policies with durations, counters and enums --------------------------------------------


def test_proto_names_and_json_names_are_both_accepted() -> None:
    conf = {"http": {"request_timeout": "0s"}, "grpc": {"streamIdleTimeout": "1s"}}
    assert run("Timeout", {"sources": SERVICE, "destinations": BACKEND, "conf": conf}) == {
        ("conf.http.requestTimeout", "has to be greater than 0 when defined")
    }


def test_durations_follow_go_parse_duration() -> None:
    conf = {"http": {"requestTimeout": "1h30m", "idleTimeout": "1.5d"}}
    assert run("Timeout", {"sources": SERVICE, "destinations": BACKEND, "conf": conf}) == {
        ("conf.http.idleTimeout", 'in body must be of type duration: "1.5d"')
    }


def test_duration_must_be_a_string() -> None:
    conf = {"interval": 5, "timeout": "1s", "unhealthyThreshold": 1, "healthyThreshold": 1}
    assert run("HealthCheck", {"sources": SERVICE, "destinations": BACKEND, "conf": conf}) == {
        ("conf.interval", 'in body must be of type string: "number"')
    }


def test_integers_may_be_quoted_but_must_fit() -> None:
    thresholds = {"maxConnections": "2", "maxRetries": -1, "maxRequests": "x"}
    spec = {"sources": SERVICE, "destinations": BACKEND, "conf": {"thresholds": thresholds}}
    assert run("CircuitBreaker", spec) == {
        ("conf.thresholds.maxRetries", "in body should be greater than or equal to 0"),
        ("conf.thresholds.maxRequests", 'in body must be of type integer: "string"'),
    }


def test_quoted_integers_are_read_as_numbers() -> None:
    conf = {"http": {"requests": "0", "interval": "1s"}}
    assert run("RateLimit", {"sources": SERVICE, "destinations": BACKEND, "conf": conf}) == {
        ("conf.http.requests", "requests must be set")
    }


def test_enum_values_are_checked() -> None:
    conf = {"http": {"retryOn": ["all_5xx", "sometimes"]}}
    found = run("Retry", {"sources": SERVICE, "destinations": BACKEND, "conf": conf})
    assert found == {
        (
            "conf.http.retryOn[1]",
            "in body should be one of [all_5xx gateway_error reset connect_failure "
            "envoy_ratelimited retriable_4xx refused_stream retriable_status_codes "
            "retriable_headers http3_post_connect_failure]",
        )
    }


def test_enum_numbers_are_read_as_names() -> None:
    conf = {"http": {"retriableMethods": [0]}}  # 0 is NONE
    found = run("Retry", {"sources": SERVICE, "destinations": BACKEND, "conf": conf})
    assert found == {("conf.http.retriableMethods[0]", "field cannot be empty")}


def test_empty_list_counts_as_unset() -> None:
    conf = {"http": {"retriableStatusCodes": [], "retryOn": ["retriable_status_codes"]}}
    found = run("Retry", {"sources": SERVICE, "destinations": BACKEND, "conf": conf})
    assert found == {
        (
            "conf.http.retryOn[0]",
            "retriableStatusCodes cannot be empty when this option is specified",
        )
    }


def test_doubles_accept_quoted_numbers() -> None:
    conf = {"delay": {"percentage": "150", "value": "1s"}, "abort": {"percentage": "x"}}
    spec = {"sources": SERVICE, "destinations": BACKEND, "conf": conf}
    assert run("FaultInjection", spec) == {
        ("conf.abort.percentage", 'in body must be of type number: "string"')
    }


# --- TrafficRoute ---------------------------------------------------------------------------


def test_traffic_route_schema() -> None:
    conf = {"split": [{"weight": -1, "destination": {"kuma.io/service": "a"}}], "lb": {}}
    spec = {"sources": SERVICE, "destinations": BACKEND, "conf": conf}
    assert run("TrafficRoute", spec) == {
        ("conf.split[0].weight", "in body should be greater than or equal to 0"),
        ("conf.lb", "in body is a forbidden property"),
    }


def test_traffic_route_last_oneof_member_wins() -> None:
    # jsonpb keeps the last declared member of a oneof: here `regex`, which is empty
    match = {"path": {"prefix": "/a", "regex": ""}}
    conf = {
        "http": [{"match": match, "destination": {"kuma.io/service": "a"}}],
        "destination": {"kuma.io/service": "b"},
    }
    spec = {"sources": SERVICE, "destinations": BACKEND, "conf": conf}
    assert run("TrafficRoute", spec) == {("conf.http[0].match.path.regex", "cannot be empty")}


# --- ExternalService ------------------------------------------------------------------------


def test_external_service_schema() -> None:
    tls = {"enabled": "yes", "caCert": {"inline": "not base64!"}}
    spec = {"networking": {"address": "a.com:443", "tls": tls}, "tags": {"kuma.io/service": "a"}}
    assert run("ExternalService", spec) == {
        ("networking.tls.enabled", 'in body must be of type boolean: "string"'),
        ("networking.tls.caCert.inline", 'in body must be of type byte: "not base64!"'),
    }


def test_external_service_inline_data_source() -> None:
    tls = {"caCert": {"inline": "Y2E="}, "clientCert": {"inline": ""}}
    spec = {"networking": {"address": "a.com:443", "tls": tls}, "tags": {"kuma.io/service": "a"}}
    assert run("ExternalService", spec) == {
        ("networking.tls.clientCert", "data source cannot be empty")
    }


# --- VirtualOutbound ------------------------------------------------------------------------


def _virtual_outbound(host: str, port: str) -> dict[str, Any]:
    parameters = [{"name": "service", "tagKey": "kuma.io/service"}, {"name": "port"}]
    return {"selectors": SERVICE, "conf": {"host": host, "port": port, "parameters": parameters}}


def test_virtual_outbound_schema() -> None:
    spec = _virtual_outbound("a.mesh", "80")
    spec["conf"]["parameters"][0]["tag"] = "x"
    spec["conf"]["port"] = 80
    assert run("VirtualOutbound", spec) == {
        ("conf.parameters[0].tag", "in body is a forbidden property"),
        ("conf.port", 'in body must be of type string: "number"'),
    }


def test_virtual_outbound_templates_are_evaluated() -> None:
    spec = _virtual_outbound("{{ .service }}.{{.port}}.mesh", "{{.port}}0000000")
    assert run("VirtualOutbound", spec) == {
        (
            "conf.port",
            'template pre evaluation failed with error="evaluation of template returned a '
            'port outside of the range [1..65535] result=10000000"',
        )
    }


def test_virtual_outbound_execution_errors() -> None:
    spec = _virtual_outbound("{{.service.name}}.mesh", "80")
    expected = (
        'template: :1:10: executing "" at <.service.name>: can\'t evaluate field name in '
        "type string"
    )
    message = "template pre evaluation failed with error=" + go_quote(
        "pre evaluation of template with parameters failed with error=" + go_quote(expected)
    )
    assert run("VirtualOutbound", spec) == {("conf.host", message)}


def test_virtual_outbound_accepts_templates_beyond_our_interpreter() -> None:
    spec = _virtual_outbound("{{range .}}{{end}}svc.mesh", "80")
    assert run("VirtualOutbound", spec) == set()


# --- ProxyTemplate --------------------------------------------------------------------------


def test_proxy_template_schema() -> None:
    conf = {"modifications": [{"route": {"operation": "add"}}], "imports": "default-proxy"}
    assert run("ProxyTemplate", {"selectors": SERVICE, "conf": conf}) == {
        ("conf.modifications[0].route", "in body is a forbidden property"),
        ("conf.imports", 'in body must be of type array: "string"'),
    }


def test_proxy_template_default_profiles() -> None:
    conf = {"imports": ["gateway-proxy", "mine"]}
    assert run("ProxyTemplate", {"selectors": SERVICE, "conf": conf}) == {
        (
            "conf.imports[1]",
            "profile not found. Available profiles: "
            "default-proxy,egress-proxy,gateway-proxy,ingress-proxy",
        )
    }


def test_proxy_template_envoy_resources() -> None:
    resources = [
        {"name": "a", "version": "1", "resource": "name: x"},
        {"name": "b", "version": "1", "resource": "'@type': type.googleapis.com/x.Y"},
    ]
    modifications = [
        {"virtualHost": {"operation": "add", "value": "name: vh"}},
        {"httpFilter": {"operation": "addLast", "value": "[1"}},
    ]
    conf = {"resources": resources, "modifications": modifications}
    prefix = "native Envoy resource is not valid: "
    assert run("ProxyTemplate", {"selectors": SERVICE, "conf": conf}) == {
        ("conf.resources[0].resource", prefix + "Any JSON doesn't have '@type'"),
        (
            "conf.resources[1].resource",
            prefix + "could not resolve Any message type: type.googleapis.com/x.Y",
        ),
        (
            "conf.modifications[0].virtualHost.value",
            prefix + "invalid VirtualHost.Domains: value must contain at least 1 item(s)",
        ),
        ("conf.modifications[1].httpFilter.value", prefix + "unexpected EOF"),
    }


# --- Go behaviour the messages depend on ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("0", 0),
        ("1h30m", 5_400_000_000_000),
        ("1.5s", 1_500_000_000),
        ("-2ms", -2_000_000),
        ("1\u00b5s", 1_000),
        ("2562047h", 9_223_369_200_000_000_000),
    ],
)
def test_go_durations(text: str, nanoseconds: int) -> None:
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize("text", ["", "1", ".s", "1d", "2562048h", "+", "1e3s"])
def test_go_duration_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("hostport", "parts"),
    [
        ("a.com:80", ("a.com", "80")),
        ("[::1]:80", ("::1", "80")),
        ("a:b:80", None),
        ("a.com", None),
        ("[::1]80", None),
        (":80", ("", "80")),
    ],
)
def test_go_split_host_port(hostport: str, parts: tuple[str, str] | None) -> None:
    try:
        assert split_host_port(hostport) == parts
    except AddressError:
        assert parts is None


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{{.a", "template: :1: unclosed action"),
        ("x\n{{nope}}", 'template: :2: function "nope" not defined'),
        ("{{}}", "template: :1: missing value for command"),
        ("{{if .a}}", "template: :1: unexpected EOF"),
        ("{{end}}", "template: :1: unexpected {{end}}"),
        ("{{.a}", "template: :1: bad character U+007D '}'"),
        ("{{1 | 2}}", "template: :1: non executable command in pipeline stage 2"),
    ],
)
def test_go_template_parse_errors(template: str, error: str) -> None:
    with pytest.raises(gotemplate.TemplateError) as raised:
        gotemplate.parse(template)
    assert str(raised.value) == error


@pytest.mark.parametrize(
    ("template", "output"),
    [
        ("{{.a}}.{{ .b }}", "1.2"),
        ("{{.missing}}", "<no value>"),
        ("x {{- /* c */ -}} y", "xy"),
        ('{{if eq .a "1"}}one{{else}}other{{end}}', "one"),
        ('{{printf "%s-%s" .a .b}}', "1-2"),
        ("{{with .a}}{{.}}{{end}}", "1"),
    ],
)
def test_go_template_execution(template: str, output: str) -> None:
    assert gotemplate.parse(template).execute({"a": "1", "b": "2"}) == output

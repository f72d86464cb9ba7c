"""Kuma v2.14.3 conformance of the core-type validators (MeshService, MeshExternalService,
HostnameGenerator, ...), plus schema checks of the types without vectors (MeshZoneAddress,
Secret, GlobalSecret, Zone and Kong Mesh's AccessRole, AccessRoleBinding, AccessAudit)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from meshmanager.model.resources.validation.base import Context, has_validator, validate_spec
from meshmanager.model.resources.validation.golang.durations import parse_duration
from meshmanager.model.resources.validation.golang.encoding import is_protojson_base64
from meshmanager.model.resources.validation.golang.govalidator import is_dns_name
from meshmanager.model.resources.validation.golang.net import is_ip
from tests.conformance.vectors import VECTORS, ValidationCase, validation_cases

VECTOR_TYPES = (
    "MeshService",
    "MeshMultiZoneService",
    "MeshExternalService",
    "HostnameGenerator",
    "MeshIdentity",
    "MeshTrust",
    "Workload",
    "MeshOpenTelemetryBackend",
)
SCHEMA_ONLY_TYPES = (
    "MeshZoneAddress",
    "Secret",
    "GlobalSecret",
    "Zone",
    "AccessRole",
    "AccessRoleBinding",
    "AccessAudit",
)
CASES = [case for kuma_type in VECTOR_TYPES for case in validation_cases(kuma_type)]

# Case id -> why our result differs from Kuma's on purpose.
DIVERGENCES: dict[str, str] = {}


def run(case: ValidationCase) -> set[tuple[str, str]]:
    context = Context(mesh=case.mesh, name=case.resource_name, extra=case.context)
    return {(v.field, v.message) for v in validate_spec(case.kuma_type, case.spec, context)}


def violations(kuma_type: str, spec: Any, name: str | None = "name") -> set[tuple[str, str]]:
    context = Context(mesh="default", name=name)
    return {(v.field, v.message) for v in validate_spec(kuma_type, spec, context)}


def test_every_vector_file_is_covered() -> None:
    assert len(CASES) == 6 + 4 + 10 + 13 + 10 + 2 + 3 + 18


@pytest.mark.parametrize("kuma_type", VECTOR_TYPES + SCHEMA_ONLY_TYPES)
def test_validator_is_registered(kuma_type: str) -> None:
    assert has_validator(kuma_type)


def test_divergences_name_real_cases() -> None:
    assert set(DIVERGENCES) <= {case.id for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_conformance(case: ValidationCase) -> None:
    result = run(case)
    expected = set() if case.valid else set(case.violations)
    if case.id in DIVERGENCES:
        assert result != expected, f"no longer diverges: {DIVERGENCES[case.id]}"
    else:
        assert result == expected


def _ordered_expectations() -> list[tuple[ValidationCase, list[tuple[str, str]]]]:
    """Cases whose Go test asserted the order of the violations, with that order."""
    result = []
    for kuma_type in VECTOR_TYPES:
        document = yaml.safe_load((VECTORS / "validation" / f"{kuma_type}.yaml").read_text())
        for case, raw in zip(validation_cases(kuma_type), document["cases"], strict=True):
            if raw.get("violations_order_asserted") and case.id not in DIVERGENCES:
                result.append((case, [(v["field"], v["message"]) for v in raw["violations"]]))
    return result


ORDERED = _ordered_expectations()


@pytest.mark.parametrize(("case", "ordered"), ORDERED, ids=[case.id for case, _ in ORDERED])
def test_violation_order(case: ValidationCase, ordered: list[tuple[str, str]]) -> None:
    context = Context(mesh=case.mesh, name=case.resource_name, extra=case.context)
    result = validate_spec(case.kuma_type, case.spec, context)
    assert [(v.field, v.message) for v in result] == ordered


# -- schema: wrong types, unknown fields, bad enums ----------------------------------


@pytest.mark.parametrize(
    ("kuma_type", "spec", "expected"),
    [
        (
            "MeshService",
            {"ports": [{"port": "80"}]},
            {("spec.ports[0].port", 'in body must be of type integer: "string"')},
        ),
        (
            "MeshService",
            {"state": "Up"},
            {("spec.state", "in body should be one of [Available Unavailable]")},
        ),
        (
            "MeshService",
            {"identities": [{"type": "Name"}]},
            {
                ("spec.identities[0].value", "in body is required"),
                ("spec.identities[0].type", "in body should be one of [ServiceTag SpiffeID]"),
            },
        ),
        (
            "MeshService",
            {"selector": {"dataplaneTag": {"app": "x"}}},
            {("spec.selector.dataplaneTag", "in body is a forbidden property")},
        ),
        (
            "MeshMultiZoneService",
            {"ports": [{"name": "http"}], "selector": {"meshService": {"matchLabels": []}}},
            {
                ("spec.ports[0].port", "in body is required"),
                (
                    "spec.selector.meshService.matchLabels",
                    'in body must be of type object: "array"',
                ),
            },
        ),
        (
            "MeshExternalService",
            {"match": {"port": 80, "protocol": "tcp"}, "endpoint": []},
            {("spec.endpoint", "in body is a forbidden property")},
        ),
        (
            "MeshExternalService",
            {
                "match": {"port": 80},
                "tls": {"verification": {"caCert": {"inline": "not base64!"}}},
            },
            {
                (
                    "spec.tls.verification.caCert.inline",
                    'in body must be of type byte: "not base64!"',
                )
            },
        ),
        (
            "MeshExternalService",
            {"match": {"port": 80}, "endpoints": [{"address": "a.b", "port": 1, "priority": 200}]},
            {("spec.endpoints[0].priority", "in body should be less than or equal to 128")},
        ),
        (
            "HostnameGenerator",
            {"selector": {"meshService": {}}},
            {("spec.template", "in body is required")},
        ),
        (
            "HostnameGenerator",
            {"template": 7, "selector": {"meshService": {}}},
            {("spec.template", 'in body must be of type string: "number"')},
        ),
        (
            "MeshIdentity",
            {
                "provider": {
                    "type": "Bundled",
                    "bundled": {"certificateParameters": {"expiry": "1d"}},
                }
            },
            {
                (
                    "spec.provider.bundled.certificateParameters.expiry",
                    'time: unknown unit "d" in duration "1d"',
                )
            },
        ),
        (
            "MeshIdentity",
            {"spiffeId": {}},
            {("spec.spiffeId", "in body is a forbidden property")},
        ),
        (
            "MeshTrust",
            {"trustDomain": "a", "caBundles": {}},
            {("spec.caBundles", 'in body must be of type array: "object"')},
        ),
        (
            "MeshOpenTelemetryBackend",
            {"endpoint": {"port": 4317, "host": "x"}},
            {("spec.endpoint.host", "in body is a forbidden property")},
        ),
        (
            "MeshOpenTelemetryBackend",
            {"env": {"allowSignalOverrides": "yes"}},
            {("spec.env.allowSignalOverrides", 'in body must be of type boolean: "string"')},
        ),
        ("Workload", {"replicas": 3}, {("spec.replicas", "in body is a forbidden property")}),
    ],
)
def test_schema_of_vector_types(kuma_type: str, spec: Any, expected: set[tuple[str, str]]) -> None:
    assert violations(kuma_type, spec) == expected


@pytest.mark.parametrize(
    ("kuma_type", "spec", "expected"),
    [
        ("MeshZoneAddress", {"address": "1.2.3.4", "port": 10001}, set()),
        (
            "MeshZoneAddress",
            {},
            {("spec.address", "in body is required"), ("spec.port", "in body is required")},
        ),
        (
            "MeshZoneAddress",
            {"address": "", "port": 0},
            {
                ("spec.address", "in body should be at least 1 chars long"),
                ("spec.port", "in body should be greater than or equal to 1"),
            },
        ),
        (
            "MeshZoneAddress",
            {"address": "a", "port": 70000, "zone": "z"},
            {
                ("spec.port", "in body should be less than or equal to 65535"),
                ("spec.zone", "in body is a forbidden property"),
            },
        ),
        ("Secret", {"data": "c2VjcmV0"}, set()),
        ("Secret", {"data": ""}, set()),
        ("Secret", {"data": "c2VjcmV0Cg"}, set()),  # protojson accepts missing padding
        ("Secret", {}, {("data", "in body is required")}),
        ("Secret", {"data": 12}, {("data", 'in body must be of type string: "number"')}),
        ("Secret", {"data": "%%%"}, {("data", 'in body must be of type byte: "%%%"')}),
        ("Secret", {"data": "YQ==", "value": "x"}, {("value", "in body is a forbidden property")}),
        ("GlobalSecret", {"data": "YWRtaW4="}, set()),
        ("GlobalSecret", {}, {("data", "in body is required")}),
        ("Zone", {}, set()),
        ("Zone", {"enabled": False}, set()),
        ("Zone", {"enabled": "false"}, {("enabled", 'in body must be of type boolean: "string"')}),
        ("Zone", {"enable": True}, {("enable", "in body is a forbidden property")}),
    ],
)
def test_schema_only_types(kuma_type: str, spec: Any, expected: set[tuple[str, str]]) -> None:
    assert violations(kuma_type, spec) == expected


DOCUMENTED_ACCESS_ROLE = {
    "rules": [
        {
            "types": ["MeshTrafficPermission", "MeshTrace", "MeshAccessLog"],
            "names": ["res-1"],
            "mesh": "default",
            "access": ["CREATE", "UPDATE", "DELETE"],
            "when": [
                {"targetRef": {"kind": "MeshService", "name": "backend"}},
                {"targetRef": {"kind": "MeshSubset", "tags": {"k8s.kuma.io/namespace": "demo"}}},
                {
                    "targetRef": {"kind": "MeshService", "name": "web"},
                    "to": {"targetRef": {"kind": "MeshService", "name": "backend"}},
                },
                {
                    "targetRef": {"kind": "MeshService", "name": "web"},
                    "from": {"targetRef": {"kind": "Mesh"}},
                },
                {
                    "sources": {"match": {"kuma.io/service": "web"}},
                    "destinations": {"match": {"kuma.io/service": "backend"}},
                },
                {"selectors": {"match": {"kuma.io/service": "web"}}},
                {"dpToken": {"tags": [{"name": "kuma.io/service", "value": "web"}]}},
            ],
        }
    ]
}


@pytest.mark.parametrize(
    ("kuma_type", "spec", "expected"),
    [
        ("AccessRole", DOCUMENTED_ACCESS_ROLE, set()),
        ("AccessRole", {"rules": [{"access": ["VIEW_CONFIG_DUMP", "GENERATE_ZONE_TOKEN"]}]}, set()),
        (
            "AccessRole",
            {"rules": [{"access": ["READ"]}]},
            {
                (
                    "rules[0].access[0]",
                    "in body should be one of [CREATE UPDATE DELETE GENERATE_DATAPLANE_TOKEN "
                    "GENERATE_USER_TOKEN GENERATE_ZONE_CP_TOKEN GENERATE_ZONE_TOKEN "
                    "VIEW_CONFIG_DUMP VIEW_STATS VIEW_CLUSTERS]",
                )
            },
        ),
        (
            "AccessRole",
            {"rules": [{"types": "Mesh", "when": [{"targetRef": {"kind": "Pod"}}]}]},
            {
                ("rules[0].types", 'in body must be of type array: "string"'),
                (
                    "rules[0].when[0].targetRef.kind",
                    "in body should be one of [Mesh MeshSubset MeshGateway MeshService "
                    "MeshExternalService MeshMultiZoneService MeshServiceSubset MeshHTTPRoute "
                    "Dataplane]",
                ),
            },
        ),
        (
            "AccessRole",
            {"rule": []},
            {("rule", "in body is a forbidden property")},
        ),
        (
            "AccessRoleBinding",
            {
                "subjects": [
                    {"type": "User", "name": "john.doe@example.com"},
                    {"type": "Group", "name": "team-a"},
                ],
                "roles": ["role-1"],
            },
            set(),
        ),
        (
            "AccessRoleBinding",
            {"subjects": [{"type": "Team", "name": "a"}], "roles": "admin"},
            {
                ("subjects[0].type", "in body should be one of [User Group]"),
                ("roles", 'in body must be of type array: "string"'),
            },
        ),
        (
            "AccessAudit",
            {
                "rules": [
                    {"types": ["Mesh"], "mesh": "default", "access": ["CREATE"], "accessAll": True}
                ]
            },
            set(),
        ),
        (
            "AccessAudit",
            {"rules": [{"accessAll": "yes", "when": []}]},
            {
                ("rules[0].accessAll", 'in body must be of type boolean: "string"'),
                ("rules[0].when", "in body is a forbidden property"),
            },
        ),
    ],
)
def test_kong_mesh_access_types(kuma_type: str, spec: Any, expected: set[tuple[str, str]]) -> None:
    assert violations(kuma_type, spec) == expected


# -- semantic rules beyond the vectors ---------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"match": {"port": 80}},  # the protocol defaults to tcp, as in Kuma's CRD
            set(),
        ),
        (
            {"match": {"port": -1, "protocol": "tcp"}},
            {("spec.match.port", "port must be a valid (1-65535)")},
        ),
        (
            {"match": {"port": 80}, "tls": {"verification": {"subjectAltNames": [{"value": "a"}]}}},
            set(),  # the SAN type defaults to Exact
        ),
        (
            {"match": {"port": 80}, "extension": {"type": "x"}, "endpoints": [{"address": "!"}]},
            set(),  # with an extension, endpoints are the extension's business
        ),
        (
            {"match": {"port": 443, "protocol": "tls"}},
            {("spec.match.protocol", '"protocol" must be one of ["tcp", "grpc", "http", "http2"]')},
        ),
    ],
)
def test_mesh_external_service_rules(spec: Any, expected: set[tuple[str, str]]) -> None:
    assert violations("MeshExternalService", spec, name="ext") == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ .Name }}.mesh", None),
        ('{{ if eq .Zone "zone" }}{{ .Name }}{{ else }}x{{ end }}.svc', None),
        ('{{ printf "%s-%s" .Name .Mesh }}.mesh', None),
        (
            "{{ .Port }}.mesh",
            'couldn\'t render template with stub values: template: :1:3: executing "" at '
            "<.Port>: can't evaluate field Port in type struct { Name string; DisplayName "
            "string; Namespace string; Mesh string; Zone string }",
        ),
        (
            "{{ label }}.mesh",
            'couldn\'t render template with stub values: template: :1:3: executing "" at '
            "<label>: wrong number of args for label: want 1 got 0",
        ),
        ("{{ .Name }", 'couldn\'t parse template: template: :1: unexpected "}" in operand'),
        (
            "{{ upper .Name }}",
            'couldn\'t parse template: template: :1: function "upper" not defined',
        ),
        ("{{ .Name ", "couldn't parse template: template: :1: unclosed action"),
        ("{{ end }}", "couldn't parse template: template: :1: unexpected {{end}}"),
    ],
)
def test_hostname_templates(template: str, message: str | None) -> None:
    spec = {"template": template, "selector": {"meshService": {}}}
    expected = set() if message is None else {("spec.template", message)}
    assert violations("HostnameGenerator", spec) == expected


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ({"type": "Spire"}, {("spec.provider.spire", "configuration needs to be defined")}),
        (
            {"type": "Vault"},
            {("spec.provider.type", '"Vault" must be one of ["Bundled", "Spire", "Extension"]')},
        ),
        (
            {"type": "Bundled", "bundled": {}},
            {("spec.provider.bundled.ca", "must be defined")},
        ),
        (
            {
                "type": "Bundled",
                "bundled": {
                    "ca": {
                        "certificate": {"type": "File", "file": {"path": "../cert"}},
                        "privateKey": {"type": "Secret", "secretRef": {"kind": "Other"}},
                    }
                },
            },
            {
                (
                    "spec.provider.bundled.ca.certificate.file.path",
                    "file path contains directory traversal sequence: ../cert",
                ),
                (
                    "spec.provider.bundled.ca.privateKey.secretRef.kind",
                    "Other must be one of: Secret",
                ),
                ("spec.provider.bundled.ca.privateKey.secretRef.name", "must be defined"),
            },
        ),
        (
            {"type": "Spire", "spire": {"agent": {"timeout": "-1s"}}},
            {
                (
                    "spec.provider.spire.agent.spire.agent.timeout",
                    "must not be negative when defined",
                )
            },
        ),
    ],
)
def test_mesh_identity_provider_rules(provider: Any, expected: set[tuple[str, str]]) -> None:
    assert violations("MeshIdentity", {"provider": provider}) == expected


def test_mesh_trust_rejects_a_private_key_and_unknown_bundle_type() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nYWJj\n-----END PRIVATE KEY-----\n"
    spec = {
        "trustDomain": "",
        "caBundles": [{"type": "Pem", "pem": {"value": key}}, {"type": "Der"}],
    }
    assert violations("MeshTrust", spec) == {
        ("spec.caBundles[0].pem.value", "provided certificate has incorrect format"),
        ("spec.caBundles.type", "Der must be one of: Pem"),
        ("spec.trustDomain", "trustDomain needs to be defined"),
    }


def test_mesh_trust_needs_bundles() -> None:
    assert violations("MeshTrust", {"trustDomain": "td"}) == {
        ("spec.caBundles", "must not be empty")
    }


def test_multi_zone_service_port_protocol_defaults_to_tcp() -> None:
    spec = {"selector": {"meshService": {"matchLabels": {"a": "b"}}}, "ports": [{"port": 80}]}
    assert violations("MeshMultiZoneService", spec) == set()


def test_open_telemetry_backend_port_and_http_path() -> None:
    spec = {"endpoint": {"address": "::1", "port": 0, "path": "/x#y"}, "protocol": "http"}
    assert violations("MeshOpenTelemetryBackend", spec) == {
        ("spec.endpoint.port", "port must be a valid (1-65535)"),
        ("spec.endpoint.path", "must not contain query or fragment"),
    }


def test_name_length_uses_bytes() -> None:
    assert violations("Workload", {}, name="é" * 127) == {
        ("name", "must not be longer than 253 characters")
    }


# -- Go-compatible helpers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.2.3.4", True), ("::1", True), ("01.2.3.4", False), ("fe80::1%eth0", False), ("a", False)],
)
def test_is_ip(text: str, expected: bool) -> None:
    assert is_ip(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", True),
        ("example.com.", True),
        ("under_score.local", True),
        ("1.1.1.1", False),
        ("not[]valid", False),
        ("trailing\n", False),
        ("a" * 64, False),
    ],
)
def test_is_dns_name(text: str, expected: bool) -> None:
    assert is_dns_name(text) is expected


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [("0", 0), ("1s", 10**9), ("1h30m", 5400 * 10**9), ("-1.5ms", -1_500_000), (".5us", 500)],
)
def test_go_durations(text: str, nanoseconds: int) -> None:
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("1", 'time: missing unit in duration "1"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("s", 'time: invalid duration "s"'),
        ("3000000h", 'time: invalid duration "3000000h"'),
    ],
)
def test_bad_go_durations(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_duration(text)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("YQ==", True), ("YQ", True), ("-_-_", True), ("YQ=", False), ("Y", False), ("Y===", False)],
)
def test_protojson_base64(text: str, expected: bool) -> None:
    assert is_protojson_base64(text) is expected

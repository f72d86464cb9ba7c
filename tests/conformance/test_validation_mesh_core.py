"""Conformance of the old-style core types' validators (Mesh, Dataplane, ZoneIngress,
ZoneEgress, MeshGateway, MeshGatewayRoute) and of the meta and selector-key helpers with
Kuma v2.14.3's own test tables."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Any

import pytest
import yaml
from google.protobuf import json_format

from meshmanager.kds.envelope import SPEC_MESSAGES
from meshmanager.model.resources.validation.base import Context, Path, Violations, validate_spec
from meshmanager.model.resources.validation.mesh_core.meta import validate_meta
from meshmanager.model.resources.validation.tags import TagRules, key_not_in, validate_selector
from tests.conformance.vectors import VECTORS, ValidationCase, validation_cases

KUMA_TYPES = (
    "Mesh",
    "Dataplane",
    "ZoneIngress",
    "ZoneEgress",
    "MeshGateway",
    "MeshGatewayRoute",
)

DIVERGENCES: dict[str, str] = {
    "Mesh[23] multiple errors": (
        "logging.backends[2] has a `path` key, which is not a LoggingBackend field, and "
        "the file backend's conf has an `address`, which is not a file conf field: Kuma "
        "ignores both, we reject unknown fields"
    ),
    "MeshGatewayRoute[27] redirect prevents other filters": (
        "filters[1] has a `backends` key, which is not a Filter field: Kuma ignores it, "
        "we reject unknown fields"
    ),
}

CASES = [case for kuma_type in KUMA_TYPES for case in validation_cases(kuma_type)]


def pairs(violations: list[Any] | Violations) -> set[tuple[str, str]]:
    return {(v.field, v.message) for v in violations}


def run(case: ValidationCase) -> set[tuple[str, str]]:
    context = Context(mesh=case.mesh, name=case.resource_name, extra=case.context)
    return pairs(validate_spec(case.kuma_type, case.spec, context))


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


def helper_cases(name: str) -> list[dict[str, Any]]:
    document = yaml.safe_load((VECTORS / "validation" / "helpers" / f"{name}.yaml").read_text())
    cases: list[dict[str, Any]] = document["cases"]
    return cases


META_CASES = helper_cases("ResourceMeta")


@pytest.mark.parametrize("case", META_CASES, ids=[c["name"] for c in META_CASES])
def test_resource_meta(case: dict[str, Any]) -> None:
    given = case["input"]
    result = validate_meta(given["name"], given["mesh"], scope_is_mesh=given["scope"] == "Mesh")
    expected = {(v["field"], v["message"]) for v in case.get("violations") or []}
    assert pairs(result) == expected


SELECTOR_CASES = helper_cases("SelectorTagKeys")


@pytest.mark.parametrize("case", SELECTOR_CASES, ids=[c["name"] for c in SELECTOR_CASES])
def test_selector_tag_keys(case: dict[str, Any]) -> None:
    extra = case["context"]["extra_tag_key_validator"]
    forbidden = extra["SelectorKeyNotInSet"] if isinstance(extra, dict) else []
    out = Violations()
    validate_selector(
        Path("given"), case["input"], TagRules(key_checks=[key_not_in(forbidden)]), out
    )
    expected = {(v["field"], v["message"]) for v in case.get("violations") or []}
    assert pairs(out) == expected


# Schema checks of our own: wrong JSON types, unknown fields and enum values outside the
# proto's are reported before any semantic rule runs.

VALID_DATAPLANE = {
    "networking": {
        "address": "192.168.0.1",
        "inbound": [{"port": 8080, "tags": {"kuma.io/service": "backend"}}],
    }
}
VALID_GATEWAY = {
    "selectors": [{"match": {"kuma.io/service": "gateway"}}],
    "conf": {"listeners": [{"port": 80, "protocol": "HTTP"}]},
}
VALID_ROUTE = {
    "selectors": [{"match": {"kuma.io/service": "gateway"}}],
    "conf": {
        "http": {
            "rules": [
                {
                    "matches": [{"path": {"match": "PREFIX", "value": "/"}}],
                    "backends": [{"weight": 1, "destination": {"kuma.io/service": "web"}}],
                }
            ]
        }
    },
}

SCHEMA_CASES: list[tuple[str, str, Any, set[tuple[str, str]]]] = [
    (
        "mesh-wrong-type",
        "Mesh",
        {"mtls": {"enabledBackend": 1}},
        {("mtls.enabledBackend", 'in body must be of type string: "number"')},
    ),
    (
        "mesh-unknown-field",
        "Mesh",
        {"routing": {"zoneEgres": True}},
        {("routing.zoneEgres", "in body is a forbidden property")},
    ),
    (
        "mesh-bad-enum",
        "Mesh",
        {"meshServices": {"mode": "Sometimes"}},
        {
            (
                "meshServices.mode",
                "in body should be one of [Disabled Everywhere ReachableBackends Exclusive]",
            )
        },
    ),
    (
        "mesh-typed-backend-conf",
        "Mesh",
        {"logging": {"backends": [{"name": "f", "type": "file", "conf": {"pth": "/x"}}]}},
        {("logging.backends[0].conf.pth", "in body is a forbidden property")},
    ),
    (
        "mesh-bad-duration",
        "Mesh",
        {
            "mtls": {
                "backends": [
                    {"name": "b", "type": "builtin", "rootChain": {"requestTimeout": "1x"}}
                ]
            }
        },
        {("mtls.backends[0].rootChain.requestTimeout", 'in body must be of type duration: "1x"')},
    ),
    (
        "dataplane-wrong-type",
        "Dataplane",
        {"networking": {"address": "1.1.1.1", "inbound": {"port": 1}}},
        {("networking.inbound", 'in body must be of type array: "object"')},
    ),
    (
        "dataplane-unknown-field",
        "Dataplane",
        {"networking": {**VALID_DATAPLANE["networking"], "inbounds": []}},
        {("networking.inbounds", "in body is a forbidden property")},
    ),
    (
        "dataplane-bad-enum",
        "Dataplane",
        {"networking": {"address": "1.1.1.1", "gateway": {"type": "EXTERNAL"}}},
        {("networking.gateway.type", "in body should be one of [DELEGATED BUILTIN]")},
    ),
    (
        "dataplane-negative-port",
        "Dataplane",
        {"networking": {"address": "1.1.1.1", "admin": {"port": -1}}},
        {("networking.admin.port", "in body should be greater than or equal to 0")},
    ),
    (
        "dataplane-both-spellings",
        "Dataplane",
        {
            "networking": {
                "address": "1.1.1.1",
                "transparentProxying": {},
                "transparent_proxying": {},
            }
        },
        {
            (
                "networking.transparent_proxying",
                'in body is the same field as "transparentProxying"',
            )
        },
    ),
    (
        "zone-ingress-wrong-type",
        "ZoneIngress",
        {"networking": {"port": "10001"}},
        {("networking.port", 'in body must be of type integer: "string"')},
    ),
    (
        "zone-egress-unknown-field",
        "ZoneEgress",
        {"networking": {"port": 10001, "advertisedPort": 1}},
        {("networking.advertisedPort", "in body is a forbidden property")},
    ),
    (
        "gateway-bad-enum",
        "MeshGateway",
        {**VALID_GATEWAY, "conf": {"listeners": [{"port": 80, "protocol": "UDP"}]}},
        {("conf.listeners[0].protocol", "in body should be one of [NONE TCP TLS HTTP HTTPS]")},
    ),
    (
        "gateway-datasource-oneof",
        "MeshGateway",
        {
            **VALID_GATEWAY,
            "conf": {
                "listeners": [
                    {
                        "port": 443,
                        "protocol": "HTTPS",
                        "tls": {
                            "mode": "TERMINATE",
                            "certificates": [{"secret": "a", "inlineString": "b"}],
                        },
                    }
                ]
            },
        },
        {
            (
                "conf.listeners[0].tls.certificates[0].inlineString",
                'in body cannot be set together with "secret"',
            )
        },
    ),
    (
        "route-unknown-field",
        "MeshGatewayRoute",
        {**VALID_ROUTE, "conf": {"https": {}}},
        {("conf.https", "in body is a forbidden property")},
    ),
    (
        "route-filter-oneof",
        "MeshGatewayRoute",
        {
            **VALID_ROUTE,
            "conf": {
                "http": {
                    "rules": [
                        {
                            "matches": [{"path": {"value": "/"}}],
                            "filters": [{"redirect": {"status_code": 301}, "mirror": {}}],
                        }
                    ]
                }
            },
        },
        {
            (
                "conf.http.rules[0].filters[0].mirror",
                'in body cannot be set together with "redirect"',
            )
        },
    ),
    (
        "route-bad-enum",
        "MeshGatewayRoute",
        {
            **VALID_ROUTE,
            "conf": {"http": {"rules": [{"matches": [{"method": "FETCH"}], "backends": []}]}},
        },
        {
            (
                "conf.http.rules[0].matches[0].method",
                "in body should be one of [NONE CONNECT DELETE GET HEAD OPTIONS PATCH POST PUT "
                "TRACE]",
            )
        },
    ),
]


@pytest.mark.parametrize(
    ("kuma_type", "spec", "expected"),
    [case[1:] for case in SCHEMA_CASES],
    ids=[case[0] for case in SCHEMA_CASES],
)
def test_schema(kuma_type: str, spec: Any, expected: set[tuple[str, str]]) -> None:
    assert pairs(validate_spec(kuma_type, spec, Context())) == expected


@pytest.mark.parametrize(
    ("kuma_type", "spec"),
    [
        ("Dataplane", VALID_DATAPLANE),
        ("MeshGateway", VALID_GATEWAY),
        ("MeshGatewayRoute", VALID_ROUTE),
    ],
)
def test_schema_baselines_are_valid(kuma_type: str, spec: Any) -> None:
    assert validate_spec(kuma_type, spec, Context()) == []


def test_snake_case_names_reach_the_semantic_rules() -> None:
    spec = {
        "networking": {
            "address": "192.168.0.1",
            "transparent_proxying": {
                "reachable_backends": {"refs": [{"kind": "Other", "name": "a"}]}
            },
        }
    }
    assert pairs(validate_spec("Dataplane", spec, Context())) == {
        (
            "networking.transparentProxing.reachableBackends.refs[0].kind",
            "invalid value. Available values are: MeshExternalService,MeshMultiZoneService,"
            "MeshService",
        )
    }


def test_json_names_get_kumas_fixed_paths() -> None:
    rule = {
        "matches": [{"queryParameters": [{"value": "v"}]}],
        "filters": [{"redirect": {"statusCode": 200}}],
    }
    spec = {**VALID_ROUTE, "conf": {"http": {"rules": [rule]}}}
    assert pairs(validate_spec("MeshGatewayRoute", spec, Context())) == {
        ("conf.http.rules[0].matches[0].query_parameters[0].name", "cannot be empty"),
        ("conf.http.rules[0].filters[0].redirect.status_code", "must be in the range [300, 308]"),
    }


def test_vectors_are_present() -> None:
    assert FilePath(VECTORS).is_dir()
    assert len(CASES) == 32 + 80 + 7 + 4 + 21 + 30


def _through_protobuf(kuma_type: str, spec: Any) -> Any:
    """The spec as KDS delivers it: packed into its message and decoded again; None
    when the spec cannot be a message of that type (wrong field names or types)."""
    message = SPEC_MESSAGES[kuma_type]()
    try:
        json_format.ParseDict(spec, message)
    except (json_format.ParseError, TypeError, ValueError):
        return None
    return json_format.MessageToDict(message)


PACKED_CASES = [
    (case, decoded)
    for case in CASES
    if case.kuma_type in ("Dataplane", "ZoneIngress", "ZoneEgress")
    and case.input_kind in ("spec", "resource")
    and (decoded := _through_protobuf(case.kuma_type, case.spec)) is not None
]


@pytest.mark.parametrize(("case", "decoded"), PACKED_CASES, ids=[c.id for c, _ in PACKED_CASES])
def test_a_spec_decoded_from_protobuf_needs_no_shape_check(
    case: ValidationCase, decoded: Any
) -> None:
    """KDS skips the schema for packed specs (`Context.shape_checked`): over Kuma's
    vectors, that gives the very violations a full check gives."""
    full = Context(mesh=case.mesh, name=case.resource_name, extra=case.context)
    trusted = Context(
        mesh=case.mesh, name=case.resource_name, extra=case.context, shape_checked=True
    )
    assert pairs(validate_spec(case.kuma_type, decoded, trusted)) == pairs(
        validate_spec(case.kuma_type, decoded, full)
    )


def test_most_core_vectors_survive_the_protobuf_round_trip() -> None:
    assert len(PACKED_CASES) >= 80
    assert any(case.violations for case, _ in PACKED_CASES)

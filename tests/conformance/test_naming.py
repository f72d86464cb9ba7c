"""Kuma v2.14.3 naming vectors: hash-suffixed names, KRI core names, the KDS mapper."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from meshmanager.model.resources.naming import (
    MAX_DISPLAY_NAME_BYTES,
    SAFE_ALPHABET,
    Kri,
    KriError,
    core_name_for_kri,
    fnv1a_64,
    global_to_zone_name,
    hashed_name,
    kri,
    parse_kri,
)
from tests.conformance.vectors import VECTORS

NAMING = VECTORS / "naming"


def _vectors(file: str) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = yaml.safe_load((NAMING / file).read_text())["vectors"]
    return vectors


HASH_VECTORS = _vectors("hash-names.yaml")
KRI_VECTORS = _vectors("kri-core-names.yaml")
MAPPER_VECTORS = _vectors("kds-global-mapper-names.yaml")


def test_all_vectors_are_loaded() -> None:
    assert (len(HASH_VECTORS), len(KRI_VECTORS), len(MAPPER_VECTORS)) == (105, 9, 4)


@pytest.mark.parametrize("vector", HASH_VECTORS, ids=[v["expected"] for v in HASH_VECTORS])
def test_hashed_name(vector: dict[str, Any]) -> None:
    inputs = vector["inputs"]
    name = hashed_name(inputs["mesh"], inputs["name"], inputs["zone"], inputs["namespace"])
    assert name == vector["expected"]


@pytest.mark.parametrize("vector", KRI_VECTORS, ids=[v["name"] for v in KRI_VECTORS])
def test_core_name_for_kri(vector: dict[str, Any]) -> None:
    name = core_name_for_kri(
        vector["kri"],
        cp_mode=vector["cp_mode"],
        cp_zone=vector["cp_zone"],
        environment=vector["environment"],
        system_namespace=vector["system_namespace"],
    )
    assert name == vector["expected_core_name"]


@pytest.mark.parametrize("vector", KRI_VECTORS, ids=[v["name"] for v in KRI_VECTORS])
def test_kri_round_trips(vector: dict[str, Any]) -> None:
    identifier = parse_kri(vector["kri"])
    assert str(identifier) == vector["kri"]
    assert (
        kri(
            identifier.short_name,
            identifier.mesh,
            identifier.zone,
            identifier.namespace,
            identifier.name,
            identifier.section,
        )
        == vector["kri"]
    )


HASHED_KRI_VECTORS = [v for v in KRI_VECTORS if "hash_inputs" in v]


@pytest.mark.parametrize("vector", HASHED_KRI_VECTORS, ids=[v["name"] for v in HASHED_KRI_VECTORS])
def test_kri_hash_inputs_agree_with_hashed_name(vector: dict[str, Any]) -> None:
    inputs = vector["hash_inputs"]
    values = inputs["values"]
    identifier = parse_kri(vector["kri"])
    zone = identifier.zone or None
    namespace = identifier.namespace or None
    assert [v for v in (zone, namespace) if v] == values
    expected = hashed_name(inputs["mesh"], inputs["name"], zone, namespace)
    assert vector["expected_core_name"].split(".")[0] == expected


@pytest.mark.parametrize("vector", MAPPER_VECTORS, ids=[v["name"] for v in MAPPER_VECTORS])
def test_global_to_zone_name(vector: dict[str, Any]) -> None:
    labels = dict(vector["extra_labels"])
    if vector["display_name"]:
        labels["kuma.io/display-name"] = vector["display_name"]
    name = global_to_zone_name(
        vector["resource_type"],
        vector["resource_name"],
        mesh="",
        labels=labels,
        zone_features=vector["zone_features"],
        kubernetes_system_namespace=(
            vector["k8s_system_namespace"] if vector["store_type"] == "kubernetes" else None
        ),
    )
    assert name == vector["expected_name"]


def test_fnv1a_64_known_values() -> None:
    assert fnv1a_64(b"") == 0xCBF29CE484222325
    assert fnv1a_64(b"a") == 0xAF63DC4C8601EC8C


def test_hash_uses_only_the_safe_alphabet() -> None:
    suffix = hashed_name("m", "n", "z", "ns").rsplit("-", 1)[1]
    assert len(suffix) == 16
    assert set(suffix) <= set(SAFE_ALPHABET)


def test_long_display_name_is_cut_but_hashed_in_full() -> None:
    long_name = "a" * 300
    name = hashed_name("default", long_name, None, None)
    prefix, suffix = name.rsplit("-", 1)
    assert prefix == "a" * MAX_DISPLAY_NAME_BYTES
    assert len(name) == 253
    assert suffix != hashed_name("default", "a" * 236, None, None).rsplit("-", 1)[1]


def test_name_of_exactly_236_characters_is_kept() -> None:
    assert hashed_name("", "b" * 236, None, None).startswith("b" * 236 + "-")


def test_only_the_order_of_hashed_values_matters() -> None:
    # The values are concatenated, so the role of a value does not matter, only the order.
    assert hashed_name("m", "n", "z", None) == hashed_name("m", "n", None, "z")
    assert hashed_name("m", "n", "a", "b") != hashed_name("m", "n", "b", "a")


def test_section_name_parts_are_joined() -> None:
    assert parse_kri("kri_msvc_default_zone_ns_backend_http_8080") == Kri(
        "msvc", "default", "zone", "ns", "backend", "http8080"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kri_mt_a_b_c", 'invalid identifier string: "kri_mt_a_b_c"'),
        ("kro_mt_a_b_c_d_", "identifier must start with 'kri': \"kro_mt_a_b_c_d_\""),
        ("kri_nope_a_b_c_d_", 'unknown short name of resource type: "nope"'),
        ("kri__a_b_c_d_", 'unknown short name of resource type: ""'),
    ],
)
def test_bad_kris_are_rejected(text: str, message: str) -> None:
    with pytest.raises(KriError) as error:
        parse_kri(text)
    assert str(error.value) == message


def test_local_universal_resource_keeps_its_name() -> None:
    name = core_name_for_kri(
        "kri_mt_default_zone-1_ns_policy_",
        cp_mode="zone",
        cp_zone="zone-1",
        environment="universal",
        system_namespace="kuma-system",
    )
    assert name == "policy"


def test_mesh_never_gets_a_hash_on_sync() -> None:
    name = global_to_zone_name("Mesh", "default", mesh="", labels={}, zone_features=["hash-suffix"])
    assert name == "default"

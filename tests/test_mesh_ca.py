"""Mesh CAs as a Kuma v2.14.3 global handles them: the builtin CA secrets it makes
(pkg/plugins/ca/builtin/{manager,ca}.go, pkg/core/resources/apis/system/constants.go) and
its checks of provided CAs (pkg/plugins/ca/provided/{manager,ca_cert_validator}.go,
pkg/core/datasource), through the model and through the Kuma API."""

from __future__ import annotations

import base64
import hashlib
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from meshmanager.model.resources import mesh_ca, provided_ca
from meshmanager.model.resources.builtin_ca import (
    BuiltinCaConfig,
    BuiltinCaConfigError,
    builtin_ca_config,
    builtin_ca_secrets,
    new_root_ca,
    parse_kuma_duration,
)
from tests.conftest import Api
from tests.helpers import create_cp, expect

NO_PEM = "tls: failed to find any PEM data in certificate input"
NOT_FOUND_K = 'could not load data: resource not found: type="Secret" name="k" mesh="m"'
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _load(pem: bytes) -> x509.Certificate:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # serial 0, as Kuma writes it
        return x509.load_pem_x509_certificate(pem)


# The builtin CA


def test_builtin_ca_is_kumas_root_ca() -> None:
    pair = new_root_ca("payments", now=NOW)
    cert = _load(pair.cert_pem)
    key = serialization.load_pem_private_key(pair.key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert pair.key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")  # PKCS#1
    assert pair.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----\n")
    assert all(len(line) <= 64 for line in pair.cert_pem.splitlines())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography frowns on Kuma's serial 0
        assert cert.serial_number == 0 and cert.version == x509.Version.v3
    expected_name = [
        (NameOID.ORGANIZATION_NAME, "Kuma"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Mesh"),
        (NameOID.COMMON_NAME, "payments"),
    ]
    for name in (cert.subject, cert.issuer):
        assert [(a.oid, a.value) for a in name] == expected_name
        assert len(name.rdns) == 3
        assert all(a._type.name == "PrintableString" for a in name)
    assert cert.not_valid_before_utc == NOW - timedelta(seconds=10)
    assert cert.not_valid_after_utc == NOW + timedelta(hours=87600)
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)

    extensions = list(cert.extensions)
    assert [e.oid for e in extensions] == [
        ExtensionOID.KEY_USAGE,
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ]
    assert [e.critical for e in extensions] == [True, True, False, False]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert not (usage.digital_signature or usage.key_encipherment or usage.key_agreement)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca and constraints.path_length is None
    public = key.public_key()
    pkcs1 = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    skid = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert skid.digest == hashlib.sha256(pkcs1).digest()[:20]  # Go 1.25+
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["spiffe://payments"]
    assert cert.public_key().public_numbers() == public.public_numbers()
    public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA256())
    # And it passes Kuma's own check of a provided CA.
    assert provided_ca.validate_ca_cert(pair.cert_pem, pair.key_pem) == []


def test_builtin_ca_honours_rsa_bits_and_expiration() -> None:
    config = builtin_ca_config({"caCert": {"RSAbits": 1024, "expiration": "2d"}})
    assert config == BuiltinCaConfig(1024, 2 * DAY)
    pair = new_root_ca("default", config, now=NOW)
    cert = _load(pair.cert_pem)
    key = serialization.load_pem_private_key(pair.key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 1024
    assert cert.not_valid_after_utc == NOW + 2 * DAY
    assert cert.not_valid_before_utc == NOW - timedelta(seconds=10)


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        (None, BuiltinCaConfig()),
        ({}, BuiltinCaConfig()),
        ({"caCert": {}}, BuiltinCaConfig()),
        ({"caCert": {"RSAbits": 0}}, BuiltinCaConfig()),
        ({"caCert": {"RSAbits": "4096"}}, BuiltinCaConfig(4096)),
        ({"caCert": {"expiration": ""}}, BuiltinCaConfig()),
        ({"caCert": {"expiration": "0"}}, BuiltinCaConfig(expiration=timedelta(0))),
        ({"caCert": {"expiration": "1y"}}, BuiltinCaConfig(expiration=365 * DAY)),
    ],
)
def test_builtin_ca_config(conf: Any, expected: BuiltinCaConfig) -> None:
    assert builtin_ca_config(conf) == expected


@pytest.mark.parametrize(
    ("conf", "field", "message"),
    [
        (
            {"caCert": {"RSAbits": 512}},
            "caCert.RSAbits",
            "crypto/rsa: 512-bit keys are insecure"
            " (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)",
        ),
        (
            {"caCert": {"expiration": "1 day"}},
            "caCert.expiration",
            'not a valid duration string: "1 day"',
        ),
        (
            {"caCert": {"expiration": "1h30m"}},
            "caCert.expiration",
            'not a valid duration string: "1h30m"',
        ),
    ],
)
def test_builtin_ca_config_kuma_cannot_use(conf: Any, field: str, message: str) -> None:
    with pytest.raises(BuiltinCaConfigError) as error:
        builtin_ca_config(conf)
    assert (error.value.field, error.value.message) == (field, message)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", timedelta(0)),
        ("10ms", timedelta(milliseconds=10)),
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("36h", timedelta(hours=36)),
        ("2w", timedelta(weeks=2)),
        ("10y", timedelta(days=3650)),
    ],
)
def test_kuma_durations(text: str, expected: timedelta) -> None:
    assert parse_kuma_duration(text) == expected


def test_builtin_ca_secrets_are_named_and_encoded_as_kumas() -> None:
    cert, key = builtin_ca_secrets("web", "ca-1", now=NOW)
    assert (cert.type, cert.mesh, cert.name, cert.labels) == (
        "Secret",
        "web",
        "web.ca-builtin-cert-ca-1",
        {},
    )
    assert (key.type, key.mesh, key.name, key.labels) == (
        "Secret",
        "web",
        "web.ca-builtin-key-ca-1",
        {},
    )
    cert_pem = base64.b64decode(cert.spec["data"])
    key_pem = base64.b64decode(key.spec["data"])
    assert provided_ca.x509_key_pair(cert_pem, key_pem)
    only_key = builtin_ca_secrets("web", "ca-1", missing=(False, True))
    assert [s.name for s in only_key] == ["web.ca-builtin-key-ca-1"]


# Provided CAs: Go's tls.X509KeyPair and Kuma's CA checks


def _cert(
    key: Any,
    *,
    ca: bool | None = True,
    usage: dict[str, bool] | None = None,
    not_after: datetime | None = None,
    issuer_key: Any = None,
) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - 30 * DAY)
        .not_valid_after(not_after or NOW + 365 * DAY)
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    flags = {"key_cert_sign": True, "crl_sign": True, **(usage or {})}
    if usage != {}:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=flags.get("digital_signature", False),
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=flags.get("key_agreement", False),
                key_cert_sign=flags["key_cert_sign"],
                crl_sign=flags["crl_sign"],
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Any, pkcs8: bool = False) -> bytes:
    fmt = (
        serialization.PrivateFormat.PKCS8
        if pkcs8
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    return {
        "a": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "b": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
    }


def _reasons(violations: list[Any]) -> list[tuple[str, str]]:
    return [(v.field, v.message) for v in violations]


def test_a_valid_provided_ca_passes(keys: dict[str, Any]) -> None:
    for key, pkcs8 in ((keys["a"], False), (keys["a"], True), (keys["ec"], False)):
        assert provided_ca.validate_ca_cert(_cert(key), _key_pem(key, pkcs8)) == []


def test_an_expired_provided_ca_passes_as_in_kuma(keys: dict[str, Any]) -> None:
    # Kuma checks neither notBefore nor notAfter of a provided CA.
    expired = _cert(keys["a"], not_after=NOW - DAY)
    assert provided_ca.validate_ca_cert(expired, _key_pem(keys["a"])) == []


def test_provided_ca_key_pair_errors_are_gos(keys: dict[str, Any]) -> None:
    cert, key = _cert(keys["a"]), _key_pem(keys["a"])
    prefix = "not a valid TLS key pair: "
    cases = [
        (b"test", key, "tls: failed to find any PEM data in certificate input"),
        (
            key,
            cert,
            "tls: failed to find certificate PEM data in certificate input, but did find a"
            " private key; PEM inputs may have been switched",
        ),
        (cert, b"", "tls: failed to find any PEM data in key input"),
        (cert, cert, "tls: found a certificate rather than a key in the PEM for the private key"),
        (cert, _key_pem(keys["b"]), "tls: private key does not match public key"),
        (cert, _key_pem(keys["ec"]), "tls: private key type does not match public key type"),
        (
            cert,
            b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
            "tls: failed to parse private key",
        ),
    ]
    for cert_pem, key_pem, message in cases:
        assert _reasons(provided_ca.validate_ca_cert(cert_pem, key_pem)) == [
            ("cert", prefix + message)
        ], message


def test_provided_ca_must_be_a_signing_ca(keys: dict[str, Any]) -> None:
    key = _key_pem(keys["a"])
    leaf = _cert(keys["a"], ca=False, usage={"key_cert_sign": False, "digital_signature": True})
    assert _reasons(provided_ca.validate_ca_cert(leaf, key)) == [
        ("cert[0]", provided_ca.NOT_CA),
        ("cert[0]", provided_ca.NO_CERT_SIGN),
    ]
    no_usage = _cert(keys["a"], usage={})
    assert _reasons(provided_ca.validate_ca_cert(no_usage, key)) == [
        ("cert[0]", provided_ca.NO_CERT_SIGN)
    ]
    agreement = _cert(keys["ec"], usage={"key_agreement": True})
    assert _reasons(provided_ca.validate_ca_cert(agreement, _key_pem(keys["ec"]))) == [
        ("cert[0]", provided_ca.KEY_AGREEMENT)
    ]
    # Every certificate of the chain is checked, the key only against the first.
    chain = _cert(keys["a"]) + _cert(keys["b"], ca=None, issuer_key=keys["a"])
    assert _reasons(provided_ca.validate_ca_cert(chain, key)) == [("cert[1]", provided_ca.NOT_CA)]


@pytest.mark.parametrize(
    ("conf", "expected"),
    [
        (
            {},
            [("cert", "has to be defined"), ("key", "has to be defined")],
        ),
        (
            {"cert": {}, "key": {"secret": None}},
            [("cert", provided_ca.CHOOSE_SOURCE), ("key", provided_ca.CHOOSE_SOURCE)],
        ),
        (
            {"cert": {"secret": ""}, "key": {"inline": ""}},
            [("cert.secret", "cannot be empty"), ("key.inline", "cannot be empty")],
        ),
        (
            {"cert": {"secret": "c"}, "key": {"secret": "k"}},
            [("cert", NOT_FOUND_K), ("key", NOT_FOUND_K)],
        ),
        (
            {"cert": {"inlineString": "x"}, "key": {"inline": "dGVzdA=="}},
            [
                (
                    "cert",
                    "not a valid TLS key pair: " + NO_PEM,
                )
            ],
        ),
    ],
)
def test_provided_backend_conf(conf: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert _reasons(provided_ca.validate_provided_backend(conf, "m", lambda _: None)) == expected


def test_enabled_backend_may_not_change_while_mtls_is_on() -> None:
    def spec(enabled: str) -> dict[str, Any]:
        return {"mtls": {"enabledBackend": enabled}}

    assert _reasons(mesh_ca.validate_backend_change(spec("a"), spec("b"))) == [
        ("mtls.enabledBackend", mesh_ca.CA_CHANGE)
    ]
    assert mesh_ca.validate_backend_change(spec("a"), spec("")) == []
    assert mesh_ca.validate_backend_change(spec(""), spec("b")) == []
    assert mesh_ca.validate_backend_change(spec("a"), spec("a")) == []


# Through the Kuma API


async def _base(api: Api, name: str = "ca") -> str:
    cp = await create_cp(api, name)
    return f"/v1/mesh/control-planes/{cp['id']}/api"


def _mesh(name: str, *backends: dict[str, Any], enabled: str = "", **mtls: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "Mesh", "name": name}
    if backends or mtls:
        body["mtls"] = {"enabledBackend": enabled, "backends": list(backends), **mtls}
    return body


def _builtin(name: str = "ca-1", **conf: Any) -> dict[str, Any]:
    backend: dict[str, Any] = {"name": name, "type": "builtin"}
    if conf:
        backend["conf"] = conf
    return backend


def _provided(cert: dict[str, Any] | None, key: dict[str, Any] | None) -> dict[str, Any]:
    conf = {k: v for k, v in (("cert", cert), ("key", key)) if v is not None}
    return {"name": "ca-p", "type": "provided", "conf": conf}


def _secret_body(mesh: str, name: str, data: bytes) -> dict[str, Any]:
    return {"type": "Secret", "mesh": mesh, "name": name, "data": base64.b64encode(data).decode()}


async def _secret_names(api: Api, base: str, mesh: str) -> list[str]:
    body = expect(await api.call("GET", f"{base}/meshes/{mesh}/secrets"), 200)
    return sorted(item["name"] for item in body["items"])


async def _ca_pems(api: Api, base: str, mesh: str, backend: str) -> tuple[bytes, bytes]:
    pems = []
    for kind in ("cert", "key"):
        url = f"{base}/meshes/{mesh}/secrets/{mesh}.ca-builtin-{kind}-{backend}"
        body = expect(await api.call("GET", url), 200)
        assert (body["type"], body["mesh"]) == ("Secret", mesh)
        assert body.get("labels", {}) in ({}, {"kuma.io/mesh": mesh})
        pems.append(base64.b64decode(body["data"]))
    return pems[0], pems[1]


def _problem(response: Any, title: str) -> list[tuple[str, str]]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["title"], body["detail"]) == (title, "Resource is not valid")
    return [(p["field"], p["reason"]) for p in body["invalid_parameters"]]


async def test_a_mesh_with_a_builtin_backend_gets_its_ca_secrets(api: Api) -> None:
    base = await _base(api)
    mesh = _mesh("secure", _builtin("ca-1"), enabled="ca-1")
    expect(await api.call("PUT", f"{base}/meshes/secure", json=mesh), 201)
    names = await _secret_names(api, base, "secure")
    assert "secure.ca-builtin-cert-ca-1" in names and "secure.ca-builtin-key-ca-1" in names
    cert_pem, key_pem = await _ca_pems(api, base, "secure", "ca-1")
    assert provided_ca.validate_ca_cert(cert_pem, key_pem) == []
    cert = _load(cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "secure"
    assert cert_pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")

    # Updating keeps the CA; replacing the backend makes the new one's pair and keeps the old.
    mesh["logging"] = {"backends": []}
    expect(await api.call("PUT", f"{base}/meshes/secure", json=mesh), 200)
    assert await _ca_pems(api, base, "secure", "ca-1") == (cert_pem, key_pem)
    disabled = _mesh("secure", _builtin("ca-2", caCert={"RSAbits": 1024, "expiration": "30d"}))
    expect(await api.call("PUT", f"{base}/meshes/secure", json=disabled), 200)
    assert await _ca_pems(api, base, "secure", "ca-1") == (cert_pem, key_pem)
    cert2, key2 = await _ca_pems(api, base, "secure", "ca-2")
    assert cert2 != cert_pem and provided_ca.validate_ca_cert(cert2, key2) == []
    new_cert = _load(cert2)
    assert new_cert.not_valid_after_utc - new_cert.not_valid_before_utc == timedelta(
        days=30, seconds=10
    )

    # Deleting the mesh deletes them; a new mesh of that name gets a new CA.
    expect(await api.call("DELETE", f"{base}/meshes/secure"), 200)
    expect(await api.call("PUT", f"{base}/meshes/secure", json=_mesh("secure")), 201)
    assert not [n for n in await _secret_names(api, base, "secure") if "ca-builtin" in n]
    expect(await api.call("PUT", f"{base}/meshes/secure", json=mesh), 200)
    again, _ = await _ca_pems(api, base, "secure", "ca-1")
    assert again != cert_pem


async def test_an_existing_ca_secret_is_kept(api: Api) -> None:
    base = await _base(api)
    expect(await api.call("PUT", f"{base}/meshes/m1", json=_mesh("m1")), 201)
    own = new_root_ca("m1")
    for kind, pem in (("cert", own.cert_pem), ("key", own.key_pem)):
        name = f"m1.ca-builtin-{kind}-ca-1"
        body = _secret_body("m1", name, pem)
        expect(await api.call("PUT", f"{base}/meshes/m1/secrets/{name}", json=body), 201)
    expect(await api.call("PUT", f"{base}/meshes/m1", json=_mesh("m1", _builtin())), 200)
    assert await _ca_pems(api, base, "m1", "ca-1") == (own.cert_pem, own.key_pem)


async def test_builtin_backend_checks(api: Api) -> None:
    base = await _base(api)
    bad_name = _mesh("m2", _builtin("CA-1"))
    assert _problem(
        await api.call("PUT", f"{base}/meshes/m2", json=bad_name), "Failed to create a resource"
    ) == [("mtls.backends[0].conf.mtls.backends.name", '"CA-1" name must be valid dns name')]
    bad_expiration = _mesh("m2", _builtin(caCert={"expiration": "1h30m"}))
    assert _problem(
        await api.call("PUT", f"{base}/meshes/m2", json=bad_expiration),
        "Failed to create a resource",
    ) == [("mtls.backends[0].conf.caCert.expiration", 'not a valid duration string: "1h30m"')]
    # Nothing was stored.
    expect(await api.call("GET", f"{base}/meshes/m2"), 404)
    unknown = _mesh("m2", {"name": "x", "type": "mystery"})
    assert _problem(
        await api.call("PUT", f"{base}/meshes/m2", json=unknown), "Failed to create a resource"
    ) == [("mtls.backends[0].type", mesh_ca.NO_PLUGIN)]


async def test_enabled_backend_change_is_refused(api: Api) -> None:
    base = await _base(api)
    url = f"{base}/meshes/m3"
    expect(await api.call("PUT", url, json=_mesh("m3", _builtin("ca-1"), enabled="ca-1")), 201)
    response = await api.call("PUT", url, json=_mesh("m3", _builtin("ca-2"), enabled="ca-2"))
    assert _problem(response, "Failed to update a resource") == [
        ("mtls.enabledBackend", mesh_ca.CA_CHANGE)
    ]
    assert "m3.ca-builtin-cert-ca-2" not in await _secret_names(api, base, "m3")


async def test_provided_ca_is_checked_against_the_meshs_secrets(
    api: Api, keys: dict[str, Any]
) -> None:
    base = await _base(api)
    url = f"{base}/meshes/pm"
    expect(await api.call("PUT", url, json=_mesh("pm")), 201)
    secrets = {
        "ca-cert": _cert(keys["a"]),
        "ca-key": _key_pem(keys["a"]),
        "other-key": _key_pem(keys["b"]),
        "leaf-cert": _cert(keys["a"], ca=False, usage={"key_cert_sign": False}),
        "expired-cert": _cert(keys["a"], not_after=datetime.now(UTC) - DAY),
    }
    for name, pem in secrets.items():
        body = _secret_body("pm", name, pem)
        expect(await api.call("PUT", f"{base}/meshes/pm/secrets/{name}", json=body), 201)
    title = "Failed to update a resource"

    def provided(cert: str, key: str) -> dict[str, Any]:
        return _mesh("pm", _provided({"secret": cert}, {"secret": key}), enabled="ca-p")

    missing = 'could not load data: resource not found: type="Secret" name="nope" mesh="pm"'
    assert _problem(await api.call("PUT", url, json=provided("nope", "ca-key")), title) == [
        ("mtls.backends[0].conf.cert", missing),
        ("mtls.backends[0].conf.key", missing),
    ]
    assert _problem(await api.call("PUT", url, json=provided("ca-cert", "other-key")), title) == [
        (
            "mtls.backends[0].conf.cert",
            "not a valid TLS key pair: tls: private key does not match public key",
        )
    ]
    assert _problem(await api.call("PUT", url, json=provided("leaf-cert", "ca-key")), title) == [
        ("mtls.backends[0].conf.cert[0]", provided_ca.NOT_CA),
        ("mtls.backends[0].conf.cert[0]", provided_ca.NO_CERT_SIGN),
    ]
    no_conf = _mesh("pm", _provided(None, None))
    assert _problem(await api.call("PUT", url, json=no_conf), title) == [
        ("mtls.backends[0].conf.cert", "has to be defined"),
        ("mtls.backends[0].conf.key", "has to be defined"),
    ]
    # mtls.skipValidation skips the plugin's checks, as in Kuma.
    skipped = {**provided("nope", "nope")}
    skipped["mtls"]["skipValidation"] = True
    expect(await api.call("PUT", url, json=skipped), 200)
    # Kuma does not look at the validity period of a provided CA.
    expect(await api.call("PUT", url, json=provided("expired-cert", "ca-key")), 200)
    expect(await api.call("PUT", url, json=provided("ca-cert", "ca-key")), 200)
    assert not [n for n in await _secret_names(api, base, "pm") if "ca-builtin" in n]


async def test_a_valid_inline_provided_ca_creates_the_mesh(api: Api, keys: dict[str, Any]) -> None:
    base = await _base(api)
    cert = {"inlineString": _cert(keys["ec"]).decode()}
    key = {"inline": base64.b64encode(_key_pem(keys["ec"], pkcs8=True)).decode()}
    mesh = _mesh("inl", _provided(cert, key), enabled="ca-p")
    expect(await api.call("PUT", f"{base}/meshes/inl", json=mesh), 201)
    body = expect(await api.call("GET", f"{base}/meshes/inl"), 200)
    assert body["mtls"]["backends"][0]["conf"] == {"cert": cert, "key": key}
    wrong = _mesh("inl2", _provided(cert, {"inlineString": _key_pem(keys["a"]).decode()}))
    assert _problem(
        await api.call("PUT", f"{base}/meshes/inl2", json=wrong), "Failed to create a resource"
    ) == [
        (
            "mtls.backends[0].conf.cert",
            "not a valid TLS key pair: tls: private key type does not match public key type",
        )
    ]
    file_source = _mesh("inl2", _provided({"file": "/etc/passwd"}, {"file": "/etc/passwd"}))
    reasons = _problem(
        await api.call("PUT", f"{base}/meshes/inl2", json=file_source),
        "Failed to create a resource",
    )
    assert [field for field, _ in reasons] == [
        "mtls.backends[0].conf.cert",
        "mtls.backends[0].conf.key",
    ]
    assert all(
        reason.startswith("could not load data: open /etc/passwd: ") for _, reason in reasons
    )

"""The KDS server's own CA and certificate: generated once, reused, renewed when the
hosts change; operator files checked."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from meshmanager.addresses import HostPort
from meshmanager.cli.settings import Settings
from meshmanager.kds import tls
from meshmanager.kds.tls import TlsError, load_files, load_or_create


def _sans(pem: bytes) -> set[str]:
    cert = x509.load_pem_x509_certificate(pem)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(n.value) for n in names}


def test_a_ca_and_a_server_certificate_are_made_for_the_hosts(tmp_path: Path) -> None:
    material = load_or_create(tmp_path, ["kds.example.com", "10.0.0.7"])
    assert material.ca_pem is not None
    assert _sans(material.cert_pem) == {"kds.example.com", "localhost", "127.0.0.1", "10.0.0.7"}
    ca = x509.load_pem_x509_certificate(material.ca_pem)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    server = x509.load_pem_x509_certificate(material.cert_pem)
    assert server.issuer == ca.subject
    server.verify_directly_issued_by(ca)
    ip_sans = (
        x509.load_pem_x509_certificate(material.cert_pem)
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value.get_values_for_type(x509.IPAddress)
    )
    assert ipaddress.ip_address("127.0.0.1") in ip_sans
    key_mode = (tmp_path / "kds-tls" / "server-key.pem").stat().st_mode
    assert stat.S_IMODE(key_mode) == 0o600


def test_material_is_reused_and_renewed_when_hosts_change(tmp_path: Path) -> None:
    first = load_or_create(tmp_path, ["kds.example.com"])
    assert load_or_create(tmp_path, ["kds.example.com"]) == first
    moved = load_or_create(tmp_path, ["kds.example.org"])
    assert moved.ca_pem == first.ca_pem, "zones keep trusting the same CA"
    assert moved.cert_pem != first.cert_pem
    assert "kds.example.org" in _sans(moved.cert_pem)


def test_a_certificate_near_expiry_is_renewed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tls, "CERT_VALIDITY", tls.RENEW_BEFORE - dt.timedelta(days=1))
    short = load_or_create(tmp_path, ["kds.example.com"])
    monkeypatch.undo()
    renewed = load_or_create(tmp_path, ["kds.example.com"])
    assert renewed.cert_pem != short.cert_pem and renewed.ca_pem == short.ca_pem
    cert = x509.load_pem_x509_certificate(renewed.cert_pem)
    assert cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > dt.timedelta(days=365)
    assert load_or_create(tmp_path, ["kds.example.com"]) == renewed


def test_the_certificates_are_fit_for_a_kds_server(tmp_path: Path) -> None:
    material = load_or_create(tmp_path, [])
    assert material.ca_pem is not None
    ca = x509.load_pem_x509_certificate(material.ca_pem)
    assert ca.not_valid_after_utc - dt.datetime.now(dt.UTC) > dt.timedelta(days=3600)
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    server = x509.load_pem_x509_certificate(material.cert_pem)
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert server.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert _sans(material.cert_pem) == {"localhost", "127.0.0.1"}, "always these two"
    for key in ("ca-key.pem", "server-key.pem"):
        assert stat.S_IMODE((tmp_path / "kds-tls" / key).stat().st_mode) == 0o600


def test_operator_files_are_checked(tmp_path: Path) -> None:
    made = load_or_create(tmp_path / "made", ["h"])
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(made.cert_pem)
    key.write_bytes(made.key_pem)
    assert load_files(cert, key).ca_pem is None
    key.write_text("not a key")
    with pytest.raises(TlsError, match="not valid PEM"):
        load_files(cert, key)
    with pytest.raises(TlsError, match="cannot read"):
        load_files(tmp_path / "missing.pem", key)


@pytest.mark.parametrize(
    ("listen", "public", "plaintext", "expected"),
    [
        (":5685", None, False, "grpcs://127.0.0.1:5685"),
        ("10.0.0.7:7000", None, False, "grpcs://10.0.0.7:7000"),
        (":5685", None, True, "grpc://127.0.0.1:5685"),
        (":5685", "kds.example.com:443", False, "grpcs://kds.example.com:443"),
        (":5685", "grpcs://kds.example.com", False, "grpcs://kds.example.com"),
    ],
)
def test_the_address_zones_dial(
    listen: str, public: str | None, plaintext: bool, expected: str
) -> None:
    settings = Settings(
        http_address=HostPort.parse(":5681"),
        kds_address=HostPort.parse(listen),
        metrics_address=HostPort.parse(":5680"),
        data_dir=Path("/tmp"),
        store="sqlite://",
        org_name="o",
        admin_email="a@b.c",
        admin_token=None,
        kds_public_address=public,
        kds_plaintext=plaintext,
    )
    assert settings.kds_url() == expected

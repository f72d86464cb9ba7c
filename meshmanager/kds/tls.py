"""The KDS server's TLS material: the operator's certificate and key, or a CA and server
certificate of our own, generated into the data dir and reused across restarts. Zones
verify the latter with the CA, which the zone API hands out with the deploy material."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DIRECTORY = "kds-tls"
CA_VALIDITY = dt.timedelta(days=3650)
CERT_VALIDITY = dt.timedelta(days=825)
RENEW_BEFORE = dt.timedelta(days=30)
ALWAYS = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class TlsMaterial:
    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes | None  # None: the operator's certificate, trusted by other means


class TlsError(Exception):
    pass


def load_files(cert_path: Path, key_path: Path) -> TlsMaterial:
    try:
        cert, key = cert_path.read_bytes(), key_path.read_bytes()
        x509.load_pem_x509_certificate(cert)
        serialization.load_pem_private_key(key, password=None)
    except OSError as error:
        raise TlsError(f"cannot read the KDS certificate or key: {error}") from error
    except ValueError as error:
        raise TlsError(f"the KDS certificate or key is not valid PEM: {error}") from error
    return TlsMaterial(cert, key, None)


def _names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys([*hosts, *ALWAYS]):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    signer: ec.EllipticCurvePrivateKey,
    validity: dt.timedelta,
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
        )
    )


def _new_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = _cert("meshmanager KDS CA", key, None, key, CA_VALIDITY)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    return builder.add_extension(usage, True).sign(key, hashes.SHA256()), key


def _new_server_cert(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, hosts: Sequence[str]
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = _cert("meshmanager KDS", key, ca, ca_key, CERT_VALIDITY)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    usage = x509.KeyUsage(True, False, True, False, False, False, False, False, False)
    builder = builder.add_extension(usage, True)
    builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
    builder = builder.add_extension(x509.SubjectAlternativeName(_names(hosts)), False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _current(cert_pem: bytes, hosts: Sequence[str]) -> bool:
    cert = x509.load_pem_x509_certificate(cert_pem)
    if cert.not_valid_after_utc - dt.datetime.now(dt.UTC) < RENEW_BEFORE:
        return False
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(sans) == set(_names(hosts))


def load_or_create(data_dir: Path, hosts: Sequence[str]) -> TlsMaterial:
    """A CA (made once) and a server certificate for `hosts`, renewed when the hosts
    change or it nears expiry. Keys are written readable by the owner only."""
    folder = data_dir.expanduser() / DIRECTORY
    folder.mkdir(parents=True, exist_ok=True)
    ca_file, ca_key_file = folder / "ca.pem", folder / "ca-key.pem"
    cert_file, key_file = folder / "server.pem", folder / "server-key.pem"
    if not (ca_file.exists() and ca_key_file.exists()):
        ca, ca_key = _new_ca()
        _write(ca_key_file, _key_pem(ca_key))
        _write(ca_file, ca.public_bytes(serialization.Encoding.PEM))
    ca_pem = ca_file.read_bytes()
    if not (cert_file.exists() and key_file.exists() and _current(cert_file.read_bytes(), hosts)):
        ca = x509.load_pem_x509_certificate(ca_pem)
        loaded = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise TlsError(f"{ca_key_file} is not the EC key meshmanager made")
        cert, key = _new_server_cert(ca, loaded, hosts)
        _write(key_file, _key_pem(key))
        _write(cert_file, cert.public_bytes(serialization.Encoding.PEM))
    return TlsMaterial(cert_file.read_bytes(), key_file.read_bytes(), ca_pem)


def _write(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.touch(mode=0o600)
    temporary.write_bytes(data)
    temporary.replace(path)

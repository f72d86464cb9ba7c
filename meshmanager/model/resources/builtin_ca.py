"""The root CA a Kuma v2.14.3 global makes for each `builtin` mTLS backend of a mesh.

Kuma's builtin CA manager (`pkg/plugins/ca/builtin/manager.go`, `ca.go`) stores the CA of
backend `<backend>` of mesh `<mesh>` as two Secrets in that mesh,
`<mesh>.ca-builtin-cert-<backend>` (PEM `CERTIFICATE`) and `<mesh>.ca-builtin-key-<backend>`
(PEM `RSA PRIVATE KEY`, PKCS#1), each the `data` (base64 in REST JSON) of the secret, with
no labels. Zones receive them over KDS and sign their proxies' certificates with them, so
the certificate here is the one Go's `x509.CreateCertificate` makes from Kuma's template:
serial 0, subject and issuer `O=Kuma, OU=Mesh, CN=<mesh>` (PrintableStrings), valid from
now - 10 s until now + 10 * 365 days (or now + `conf.caCert.expiration`), RSA of
`conf.caCert.RSAbits` bits (2048 if unset or 0) signed with SHA-256, and the extensions
in Go's order: KeyUsage certSign + cRLSign (critical), BasicConstraints CA:TRUE (critical,
no path length), SubjectKeyIdentifier (Go 1.26: the first 20 bytes of the SHA-256 of the
public key), SubjectAltName URI `spiffe://<mesh>`. See docs/kuma-defaults.md.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from meshmanager.model.resources.stored import Resource

SECRET_NAME_PART = "ca-builtin-"
DEFAULT_RSA_BITS = 2048
MIN_RSA_BITS = 1024  # Go's crypto/rsa refuses smaller keys
# Ours, not Kuma's: generating a 16384-bit key takes minutes of a shared server's CPU.
MAX_RSA_BITS = 8192
RSA_PUBLIC_EXPONENT = 65537
ALLOWED_CLOCK_SKEW = timedelta(seconds=10)
DEFAULT_VALIDITY = timedelta(hours=10 * 365 * 24)
MAX_SECRET_NAME_LENGTH = 255  # MaxBackendNameLength, checked on the cert secret's name

_TRUST_DOMAIN = re.compile(r"[a-z0-9._-]+")
_KUMA_DURATION = re.compile(r"([0-9]+)(y|w|d|h|m|s|ms)")
_MS_PER_UNIT = {
    "y": 1000 * 60 * 60 * 24 * 365,
    "w": 1000 * 60 * 60 * 24 * 7,
    "d": 1000 * 60 * 60 * 24,
    "h": 1000 * 60 * 60,
    "m": 1000 * 60,
    "s": 1000,
    "ms": 1,
}
_INT64_MAX = 2**63 - 1
_NS_PER_MS = 1_000_000


def cert_secret_name(mesh: str, backend: str) -> str:
    """`BuiltinCertSecretName`: `<mesh>.ca-builtin-cert-<backend>`."""
    return f"{mesh}.{SECRET_NAME_PART}cert-{backend}"


def key_secret_name(mesh: str, backend: str) -> str:
    """`BuiltinKeySecretName`: `<mesh>.ca-builtin-key-<backend>`."""
    return f"{mesh}.{SECRET_NAME_PART}key-{backend}"


class BuiltinCaConfigError(ValueError):
    """A `conf` Kuma would fail to make a CA from; `field` is relative to the backend's
    `conf` (Kuma answers these with a 500 after storing the mesh; we refuse with a 400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class BuiltinCaConfig:
    """`BuiltinCertificateAuthorityConfig`: the key size and the CA's lifetime (None:
    Kuma's default of ten years)."""

    rsa_bits: int = DEFAULT_RSA_BITS
    expiration: timedelta | None = None


def parse_kuma_duration(text: str) -> timedelta:
    """Kuma's `mesh.ParseDuration`: `0`, or digits and one unit of y, w, d, h, m, s, ms.
    Like Go, a number past int64 saturates and the product wraps around int64."""
    if text == "0":
        return timedelta(0)
    match = _KUMA_DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"not a valid duration string: {_go_quote(text)}")
    n = min(int(match.group(1)), _INT64_MAX)
    nanoseconds = _wrap_int64(_wrap_int64(n * _NS_PER_MS) * _MS_PER_UNIT[match.group(2)])
    return timedelta(microseconds=nanoseconds // 1000)


def _wrap_int64(value: int) -> int:
    value &= 2**64 - 1
    return value - 2**64 if value >= 2**63 else value


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def builtin_ca_config(conf: Any) -> BuiltinCaConfig:
    """The backend's `conf` (already checked against the schema) read as Kuma reads it."""
    ca_cert = conf.get("caCert") if isinstance(conf, Mapping) else None
    if not isinstance(ca_cert, Mapping):
        return BuiltinCaConfig()
    bits = _uint(ca_cert.get("RSAbits", ca_cert.get("r_s_abits")))
    if bits == 0:
        bits = DEFAULT_RSA_BITS
    if bits < MIN_RSA_BITS:
        raise BuiltinCaConfigError(
            "caCert.RSAbits",
            f"crypto/rsa: {bits}-bit keys are insecure"
            " (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)",
        )
    if bits > MAX_RSA_BITS:
        raise BuiltinCaConfigError(
            "caCert.RSAbits", f"must be at most {MAX_RSA_BITS} on this control plane"
        )
    expiration_text = ca_cert.get("expiration")
    expiration = None
    if isinstance(expiration_text, str) and expiration_text:
        try:
            expiration = parse_kuma_duration(expiration_text)
        except ValueError as error:
            raise BuiltinCaConfigError("caCert.expiration", str(error)) from None
        if expiration < -ALLOWED_CLOCK_SKEW:
            raise BuiltinCaConfigError(
                "caCert.expiration", "the CA would expire before it becomes valid"
            )
    return BuiltinCaConfig(bits, expiration)


def _uint(value: Any) -> int:
    """A UInt32Value as protojson reads it from a Struct: a number or a numeric string."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


@dataclass(frozen=True)
class CaKeyPair:
    cert_pem: bytes
    key_pem: bytes


def new_root_ca(
    mesh: str, config: BuiltinCaConfig | None = None, now: datetime | None = None
) -> CaKeyPair:
    """A new root CA for `mesh`, as Kuma's `newRootCa` makes it. Generating the key takes
    from tens of milliseconds to seconds: call this off the event loop."""
    config = config or BuiltinCaConfig()
    if not _TRUST_DOMAIN.fullmatch(mesh):
        # spiffeid.TrustDomainFromString; Kuma's mesh names always pass.
        raise ValueError(
            "trust domain characters are limited to lowercase letters, numbers, dots,"
            " dashes, and underscores"
        )
    key = rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=config.rsa_bits)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    not_before = now - ALLOWED_CLOCK_SKEW
    not_after = now + DEFAULT_VALIDITY if config.expiration is None else now + config.expiration
    der = _self_signed_der(key, mesh, not_before, not_after)
    cert_pem = pem_block("CERTIFICATE", der)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # "RSA PRIVATE KEY", PKCS#1
        serialization.NoEncryption(),
    )
    return CaKeyPair(cert_pem, key_pem)


def pem_block(kind: str, der: bytes) -> bytes:
    """Go's `pem.Encode` without headers: base64 in lines of 64 characters."""
    text = base64.b64encode(der).decode("ascii")
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return f"-----BEGIN {kind}-----\n{chr(10).join(lines)}\n-----END {kind}-----\n".encode()


def _name(mesh: str) -> x509.Name:
    # Go's pkix.Name order (O, OU, CN), one attribute per RDN, PrintableString when the
    # value allows it (as Go's asn1 does), UTF8String otherwise.
    def attribute(oid: x509.ObjectIdentifier, value: str) -> x509.RelativeDistinguishedName:
        kind = _ASN1Type.PrintableString if _printable(value) else _ASN1Type.UTF8String
        return x509.RelativeDistinguishedName([x509.NameAttribute(oid, value, _type=kind)])

    return x509.Name(
        [
            attribute(NameOID.ORGANIZATION_NAME, "Kuma"),
            attribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Mesh"),
            attribute(NameOID.COMMON_NAME, mesh),
        ]
    )


_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?*&]*")


def _printable(value: str) -> bool:
    return _PRINTABLE.fullmatch(value) is not None


def _subject_key_id(key: rsa.RSAPrivateKey) -> bytes:
    # Go 1.25+ (x509sha256skid): the leftmost 160 bits of the SHA-256 of the subjectPublicKey
    # bit string, which for RSA is the PKCS#1 RSAPublicKey.
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )
    return hashlib.sha256(public).digest()[:20]


# The start of a v3 TBSCertificate's content with serial number 1: version [0] EXPLICIT
# INTEGER 2, then INTEGER 1.
_VERSION_AND_SERIAL_1 = b"\xa0\x03\x02\x01\x02\x02\x01\x01"
_VERSION_AND_SERIAL_0 = b"\xa0\x03\x02\x01\x02\x02\x01\x00"


def _self_signed_der(
    key: rsa.RSAPrivateKey, mesh: str, not_before: datetime, not_after: datetime
) -> bytes:
    name = _name(mesh)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)  # replaced by 0 below: cryptography refuses a zero serial
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier(_subject_key_id(key)), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"spiffe://{mesh}")]),
            critical=False,
        )
    )
    draft = builder.sign(key, hashes.SHA256())
    return _with_serial_zero(draft, key)


def _with_serial_zero(draft: x509.Certificate, key: rsa.RSAPrivateKey) -> bytes:
    """Kuma's template has serial number 0, which cryptography will not write: the draft's
    serial 1 is swapped for 0 in its TBSCertificate (same length, so no length changes),
    which is signed again. An RSA PKCS#1 v1.5 signature is as long as the modulus, so the
    new one takes the old one's place at the end of the certificate."""
    der = draft.public_bytes(serialization.Encoding.DER)
    tbs = draft.tbs_certificate_bytes
    header = _der_header_length(tbs)
    if tbs[header : header + len(_VERSION_AND_SERIAL_1)] != _VERSION_AND_SERIAL_1:
        raise AssertionError("unexpected TBSCertificate layout")
    new_tbs = tbs[:header] + _VERSION_AND_SERIAL_0 + tbs[header + len(_VERSION_AND_SERIAL_0) :]
    signature = key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA256())
    if len(signature) != len(draft.signature) or not der.endswith(draft.signature):
        raise AssertionError("unexpected signature layout")
    start = der.index(tbs)
    rebuilt = (
        der[:start] + new_tbs + der[start + len(tbs) : len(der) - len(draft.signature)] + signature
    )
    return rebuilt


def _der_header_length(element: bytes) -> int:
    """Bytes of a DER element's tag and length."""
    first = element[1]
    return 2 if first < 0x80 else 2 + (first & 0x7F)


def builtin_ca_secrets(
    mesh: str,
    backend: str,
    config: BuiltinCaConfig | None = None,
    missing: tuple[bool, bool] = (True, True),
    now: datetime | None = None,
) -> list[Resource]:
    """The Secrets of a new CA of `backend` in `mesh`: the certificate's, then the key's.
    `missing` says which of the two to make: Kuma generates a pair when either is absent
    and stores only the absent ones, keeping an existing one."""
    pair = new_root_ca(mesh, config, now)
    secrets = []
    if missing[0]:
        secrets.append(_secret(mesh, cert_secret_name(mesh, backend), pair.cert_pem))
    if missing[1]:
        secrets.append(_secret(mesh, key_secret_name(mesh, backend), pair.key_pem))
    return secrets


def _secret(mesh: str, name: str, data: bytes) -> Resource:
    return Resource("Secret", mesh, name, {"data": base64.b64encode(data).decode("ascii")})

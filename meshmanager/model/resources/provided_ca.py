"""Kuma v2.14.3's checks of a `provided` mTLS backend, whose CA the user supplies.

`pkg/plugins/ca/provided/manager.go` `ValidateBackend`: `conf.cert` and `conf.key` are data
sources (`pkg/core/datasource`: a secret of the mesh, inline base64, an inline string or a
file of the control plane); each must be chosen and non-empty, then both are loaded (the key
first) and must form a TLS key pair as Go's `tls.X509KeyPair` reads one, whose every
certificate is a CA (`ca_cert_validator.go`). Kuma does not check the validity period.

Fields of the violations here are relative to the backend's `conf`; the caller roots them at
`mtls.backends[<i>].conf`. Messages are Kuma's (Go's for the TLS errors), except where the
Python parser cannot know Go's exact wording (a malformed certificate or key), noted below.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from meshmanager.model.resources.validation.base import Violation

CHOOSE_SOURCE = "data source has to be chosen. Available sources: secret, file, inline"
NOT_CA = "basic constraint 'CA' must be set to 'true' (see X509-SVID: 4.1. Basic Constraints)"
NO_CERT_SIGN = "key usage extension 'keyCertSign' must be set (see X509-SVID: 4.3. Key Usage)"
KEY_AGREEMENT = (
    "key usage extension 'keyAgreement' must NOT be set"
    " (see X509-SVID: Appendix A. X.509 Field Reference)"
)
# Not Go's wording, which depends on where its parser stopped.
MALFORMED_CERTIFICATE = "x509: malformed certificate"
_GO_CURVES = (ec.SECP224R1, ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)


class LoadError(Exception):
    """A data source that could not be loaded; the message is Kuma's."""


# A secret lookup: the `data` bytes of a Secret of the mesh, or None if there is none.
SecretLookup = Callable[[str], bytes | None]


def data_source_kind(source: Any) -> tuple[str, Any] | None:
    """The chosen member of a DataSource oneof and its value, as protojson reads a Struct:
    a null member is unset; `inline_string` is the proto spelling of `inlineString`."""
    if not isinstance(source, Mapping):
        return None
    for key in ("secret", "file", "inline", "inlineString", "inline_string"):
        value = source.get(key)
        if value is not None:
            return ("inlineString" if key == "inline_string" else key), value
    return None


def validate_data_source(source: Any) -> list[tuple[str, str]]:
    """`datasource.Validate`: (field relative to the source, message)."""
    chosen = data_source_kind(source)
    if chosen is None:
        return [("", CHOOSE_SOURCE)]
    kind, value = chosen
    if kind in ("secret", "file", "inline") and value == "":
        return [(kind, "cannot be empty")]
    return []


def secret_reference(source: Any) -> str | None:
    chosen = data_source_kind(source)
    if chosen is not None and chosen[0] == "secret" and isinstance(chosen[1], str):
        return chosen[1]
    return None


def decode_bytes_value(text: str) -> bytes:
    """protojson's reading of a `bytes` value: standard or URL-safe base64, padded or not."""
    normalized = text.replace("-", "+").replace("_", "/").rstrip("=")
    return base64.b64decode(normalized + "=" * (-len(normalized) % 4), validate=True)


def load_data_source(source: Any, mesh: str, secret: SecretLookup) -> bytes:
    """`dynamicLoader.Load`. A file source is not read: a global serving many tenants does
    not hand out its own files (Kuma reads the file on the control plane's host)."""
    chosen = data_source_kind(source)
    if chosen is None:
        raise LoadError("unsupported type of the DataSource")
    kind, value = chosen
    if kind == "secret":
        data = secret(str(value))
        if data is None:
            raise LoadError(
                f'could not load data: resource not found: type="Secret" name="{value}"'
                f' mesh="{mesh}"'
            )
        return data
    if kind == "inline":
        return decode_bytes_value(str(value))
    if kind == "inlineString":
        return str(value).encode()
    raise LoadError(f"could not load data: open {value}: files are not read by this global")


def invalid_inline(conf: Any) -> str | None:
    """The protojson error converting `conf` when an inline source is not base64, which Kuma
    reports as `could not convert backend config: ...` (wording approximated)."""
    if not isinstance(conf, Mapping):
        return None
    for field in ("cert", "key"):
        chosen = data_source_kind(conf.get(field))
        if chosen is None or chosen[0] != "inline":
            continue
        try:
            decode_bytes_value(str(chosen[1]))
        except (binascii.Error, ValueError):
            return (
                "could not convert backend config: proto: invalid value for bytes field"
                f" inline: {chosen[1]!r}"
            )
    return None


def validate_provided_backend(conf: Any, mesh: str, secret: SecretLookup) -> list[Violation]:
    """`providedCaManager.ValidateBackend` for a backend's `conf` (already checked against
    the schema)."""
    conversion = invalid_inline(conf)
    if conversion is not None:
        return [Violation("", conversion)]
    conf = conf if isinstance(conf, Mapping) else {}
    out: list[Violation] = []
    for field in ("cert", "key"):
        source = conf.get(field)
        if source is None:
            out.append(Violation(field, "has to be defined"))
            continue
        for sub, message in validate_data_source(source):
            out.append(Violation(f"{field}.{sub}" if sub else field, message))
    if out:
        return out
    try:
        key = load_data_source(conf["key"], mesh, secret)
        cert = load_data_source(conf["cert"], mesh, secret)
    except LoadError as error:
        return [Violation("cert", str(error)), Violation("key", str(error))]
    return validate_ca_cert(cert, key)


# Go's encoding/pem, closely enough: a block starts a line with `-----BEGIN <type>-----`,
# may carry `Key: value` headers, and ends with `-----END <type>-----`; a malformed one is
# skipped and the search goes on after its BEGIN line.
_PEM_BEGIN = re.compile(rb"(?:\A|\n)-----BEGIN ([^\n]*?)-----[ \t\r]*\n")


def pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    blocks: list[tuple[str, bytes]] = []
    position = 0
    while True:
        begin = _PEM_BEGIN.search(data, position)
        if begin is None:
            return blocks
        kind = begin.group(1)
        end_marker = b"-----END " + kind + b"-----"
        end = data.find(end_marker, begin.end())
        position = begin.end()
        if end < 0:
            continue
        body = _without_headers(data[begin.end() : end])
        try:
            der = base64.b64decode(re.sub(rb"[ \t\r\n]", b"", body), validate=True)
        except (binascii.Error, ValueError):
            continue
        blocks.append((kind.decode("latin-1"), der))
        position = end + len(end_marker)


def _without_headers(body: bytes) -> bytes:
    lines = body.split(b"\n")
    i = 0
    while i < len(lines) and b":" in lines[i]:
        i += 1
    if i and i < len(lines) and not lines[i].strip():
        i += 1
    return b"\n".join(lines[i:])


class TlsError(Exception):
    """`tls.X509KeyPair`'s error."""


def x509_key_pair(cert_pem: bytes, key_pem: bytes) -> list[bytes]:
    """Go's `tls.X509KeyPair`: the DER of the certificates, or TlsError with Go's message."""
    certificates: list[bytes] = []
    skipped: list[str] = []
    for kind, der in pem_blocks(cert_pem):
        if kind == "CERTIFICATE":
            certificates.append(der)
        else:
            skipped.append(kind)
    if not certificates:
        if not skipped:
            raise TlsError("tls: failed to find any PEM data in certificate input")
        if len(skipped) == 1 and skipped[0].endswith("PRIVATE KEY"):
            raise TlsError(
                "tls: failed to find certificate PEM data in certificate input, but did find"
                " a private key; PEM inputs may have been switched"
            )
        raise TlsError(
            'tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping'
            f" PEM blocks of the following types: {_go_list(skipped)}"
        )
    key_der, key_kind, skipped_keys = None, "", list[str]()
    for kind, der in pem_blocks(key_pem):
        if kind == "PRIVATE KEY" or kind.endswith(" PRIVATE KEY"):
            key_der, key_kind = der, kind
            break
        skipped_keys.append(kind)
    if key_der is None:
        if not skipped_keys:
            raise TlsError("tls: failed to find any PEM data in key input")
        if skipped_keys == ["CERTIFICATE"]:
            raise TlsError(
                "tls: found a certificate rather than a key in the PEM for the private key"
            )
        raise TlsError(
            'tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after'
            f" skipping PEM blocks of the following types: {_go_list(skipped_keys)}"
        )
    public = _public_key(certificates[0])
    private = _private_key(key_der, key_kind)
    _check_match(public, private)
    return certificates


def _go_list(items: list[str]) -> str:
    return "[" + " ".join(str(item) for item in items) + "]"


def load_certificate(der: bytes) -> x509.Certificate:
    """A parsed certificate (its extensions read once, as Go parses them all), or ValueError.
    Kuma's own CAs have serial number 0, which cryptography parses with a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            certificate = x509.load_der_x509_certificate(der)
            _ = certificate.extensions, certificate.public_key()
        except Exception as error:  # any parse failure is "malformed"
            raise ValueError(MALFORMED_CERTIFICATE) from error
    return certificate


def _public_key(der: bytes) -> Any:
    try:
        return load_certificate(der).public_key()
    except ValueError as error:
        raise TlsError(str(error)) from None


def _private_key(der: bytes, kind: str) -> Any:
    try:
        key = serialization.load_der_private_key(der, password=None)
    except Exception:  # encrypted, of an unknown type, or garbage
        raise TlsError("tls: failed to parse private key") from None
    if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, _GO_CURVES):
        return key
    if kind == "PRIVATE KEY":
        raise TlsError("tls: found unknown private key type in PKCS#8 wrapping")
    raise TlsError("tls: failed to parse private key")


def _check_match(public: Any, private: Any) -> None:
    for public_type, private_type in (
        (rsa.RSAPublicKey, rsa.RSAPrivateKey),
        (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey),
        (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey),
    ):
        if isinstance(public, public_type):
            if not isinstance(private, private_type):
                raise TlsError("tls: private key type does not match public key type")
            if _raw(private.public_key()) != _raw(public):
                raise TlsError("tls: private key does not match public key")
            return
    raise TlsError("tls: unknown public key algorithm")


def _raw(public: Any) -> bytes:
    data: bytes = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def validate_ca_cert(cert_pem: bytes, key_pem: bytes) -> list[Violation]:
    """`validateCaCert`: a TLS key pair whose every certificate is a CA that may sign
    certificates and is not meant for key agreement."""
    try:
        certificates = x509_key_pair(cert_pem, key_pem)
    except TlsError as error:
        return [Violation("cert", f"not a valid TLS key pair: {error}")]
    out: list[Violation] = []
    for i, der in enumerate(certificates):
        path = f"cert[{i}]"
        try:
            certificate = load_certificate(der)
        except ValueError as error:
            out.append(Violation(path, f"not a valid x509 certificate: {error}"))
            return out
        if not _is_ca(certificate):
            out.append(Violation(path, NOT_CA))
        usage = _key_usage(certificate)
        if usage is None or not usage.key_cert_sign:
            out.append(Violation(path, NO_CERT_SIGN))
        if usage is not None and usage.key_agreement:
            out.append(Violation(path, KEY_AGREEMENT))
    return out


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _key_usage(certificate: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None

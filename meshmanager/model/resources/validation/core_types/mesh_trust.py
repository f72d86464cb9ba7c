"""MeshTrust (Kuma v2.14.3 pkg/core/resources/apis/meshtrust)."""

from __future__ import annotations

import binascii
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Context, Path, Violations, validator
from meshmanager.model.resources.validation.core_types._common import ROOT, check_length, is_set
from meshmanager.model.resources.validation.schema import (
    Arr,
    Obj,
    Str,
    as_dict,
    as_list,
    validate_with_schema,
)

MAX_TRUST_DOMAIN_LENGTH = 253
PRIVATE_KEY_BLOCKS = frozenset(
    {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"}
)

# `trustDomain`, `caBundles` and the bundle type are checked by the rules below.
SPEC = Obj(
    {
        "origin": Obj({"kri": Str()}),
        "trustDomain": Str(),
        "caBundles": Arr(Obj({"type": Str(), "pem": Obj({"value": Str()})})),
    }
)


@validator("MeshTrust")
def validate_mesh_trust(spec: Any, ctx: Context) -> Violations:
    return validate_with_schema(SPEC, spec, ROOT, _check_mesh_trust)


def _check_mesh_trust(spec: dict[str, Any], out: Violations) -> None:
    _check_ca_bundles(as_list(spec.get("caBundles")), ROOT.field("caBundles"), out)
    trust_domain = spec.get("trustDomain") or ""
    if trust_domain == "":
        out.add(ROOT.field("trustDomain"), "trustDomain needs to be defined")
    check_length(ROOT.field("trustDomain"), MAX_TRUST_DOMAIN_LENGTH, trust_domain, out)


def _check_ca_bundles(bundles: list[Any], path: Path, out: Violations) -> None:
    if not bundles:
        out.add(path, msg.MUST_NOT_BE_EMPTY)
        return
    for i, bundle in enumerate(bundles):
        kind = as_dict(bundle).get("type") or ""
        if kind != "Pem":
            # Kuma reports this one at the list's own path.
            out.add(path.field("type"), msg.one_of_listed(kind, ["Pem"]))
        elif not is_set(bundle, "pem"):
            out.add(path.index(i).field("pem"), msg.MUST_BE_DEFINED)
        elif not is_pem_certificate(as_dict(bundle["pem"]).get("value") or ""):
            out.add(
                path.index(i).field("pem").field("value"),
                "provided certificate has incorrect format",
            )


def is_pem_certificate(text: str) -> bool:
    """The first PEM block (as Go's pem.Decode finds it) exists and is not a private key."""
    block_type = first_pem_block_type(text)
    return block_type is not None and block_type not in PRIVATE_KEY_BLOCKS


def first_pem_block_type(text: str) -> str | None:
    rest = text
    while True:
        if rest.startswith("-----BEGIN "):
            rest = rest[len("-----BEGIN ") :]
        elif "\n-----BEGIN " in rest:
            rest = rest.split("\n-----BEGIN ", 1)[1]
        else:
            return None
        type_line, rest = _line(rest)
        if not type_line.endswith("-----"):
            continue
        block_type = type_line[: -len("-----")]
        body = _pem_body(rest, block_type)
        if body is not None:
            return block_type


def _line(data: str) -> tuple[str, str]:
    """Go's pem getLine: the line without trailing blanks, and what follows it."""
    index = data.find("\n")
    line, rest = (data, "") if index < 0 else (data[:index], data[index + 1 :])
    return line.rstrip(" \t\r"), rest


def _pem_body(rest: str, block_type: str) -> bytes | None:
    """The decoded bytes of a block whose BEGIN line has been read, or None if its END
    line or base64 content is wrong."""
    headers = False
    while True:
        if not rest:
            return None
        line, following = _line(rest)
        if ":" not in line:
            break
        headers, rest = True, following
    if not headers and rest.startswith("-----END "):
        end_index, trailer_index = 0, len("-----END ")
    else:
        end_index = rest.find("\n-----END ")
        trailer_index = end_index + len("\n-----END ")
    if end_index < 0:
        return None
    trailer = rest[trailer_index:]
    expected = block_type + "-----"
    if not trailer.startswith(expected) or _line(trailer[len(expected) :])[0] != "":
        return None
    encoded = "".join(c for c in rest[:end_index] if c not in " \t\r\n")
    try:
        return binascii.a2b_base64(encoded, strict_mode=True)
    except binascii.Error:
        return None

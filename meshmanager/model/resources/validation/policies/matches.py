"""Inbound rule matches (by client SPIFFE ID or by SNI) shared by the `rules` policies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.golang.kubernetes import dns1123_subdomain_errors
from meshmanager.model.resources.validation.golang.strconv import go_quote
from meshmanager.model.resources.validation.schema import Obj, Str

# No enums and no required fields: Validate() reports a missing or unknown type itself.
MATCH = Obj(
    {
        "spiffeID": Obj({"type": Str(), "value": Str()}),
        "sni": Obj({"type": Str(), "value": Str()}),
    }
)

_SPIFFE_SCHEME = "spiffe://"
_TRUST_DOMAIN_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-._")
_PATH_CHARS = _TRUST_DOMAIN_CHARS | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def spiffe_id_error(value: str) -> str | None:
    """Why go-spiffe's spiffeid.FromString rejects `value`, or None."""
    if value == "":
        return "cannot be empty"
    if not value.startswith(_SPIFFE_SCHEME):
        return "scheme is missing or invalid"
    rest = value[len(_SPIFFE_SCHEME) :]
    trust_domain, slash, path = rest.partition("/")
    if any(char not in _TRUST_DOMAIN_CHARS for char in trust_domain):
        return (
            "trust domain characters are limited to lowercase letters, numbers, dots, dashes,"
            " and underscores"
        )
    if trust_domain == "":
        return "trust domain is missing"
    if not slash:
        return None
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if segment == "":
            last = index == len(segments) - 1
            return (
                "path cannot have a trailing slash"
                if last
                else "path cannot contain empty segments"
            )
        if any(char not in _PATH_CHARS for char in segment):
            return (
                "path segment characters are limited to letters, numbers, dots, dashes, and"
                " underscores"
            )
        if segment in (".", ".."):
            return "path cannot contain dot segments"
    return None


def validate_match(out: Violations, path: Path, match: Mapping[str, Any]) -> None:
    spiffe_id = match.get("spiffeID")
    if spiffe_id is not None:
        error = spiffe_id_error(spiffe_id.get("value") or "")
        if error:
            out.add(path.field("spiffeID"), f"must be a valid Spiffe ID: {error}")
    sni = match.get("sni")
    if sni is not None:
        sni_type = sni.get("type") or ""
        if sni_type == "":
            out.add(path.field("sni").field("type"), msg.MUST_BE_SET)
        elif sni_type != "Exact":
            out.add(
                path.field("sni").field("type"),
                f"unrecognized type {go_quote(sni_type)}, supported values are: Exact",
            )
        value = sni.get("value") or ""
        if value == "":
            out.add(path.field("sni").field("value"), msg.MUST_BE_SET)
        for error in dns1123_subdomain_errors(value) if value else []:
            out.add(path.field("sni").field("value"), error)


def validate_matches(out: Violations, path: Path, matches: Sequence[Mapping[str, Any]]) -> None:
    for index, match in enumerate(matches):
        validate_match(out, path.index(index), match)


def validate_source_matches(
    out: Violations, path: Path, matches: Sequence[Mapping[str, Any]]
) -> bool:
    """The matches of a rule that may select clients by SPIFFE ID; True when one does."""
    has_spiffe_id = False
    for index, match in enumerate(matches):
        match_path = path.index(index)
        validate_match(out, match_path, match)
        spiffe_id = match.get("spiffeID")
        if spiffe_id is None and match.get("sni") is None:
            out.add(match_path, "must specify at least one of 'spiffeID' or 'sni'")
            continue
        if spiffe_id is not None:
            has_spiffe_id = True
            spiffe_type = spiffe_id.get("type") or ""
            type_path = match_path.field("spiffeID").field("type")
            if spiffe_type == "":
                out.add(type_path, msg.MUST_BE_SET)
            elif spiffe_type not in ("Exact", "Prefix"):
                out.add(
                    type_path,
                    f"unrecognized type {go_quote(spiffe_type)}, supported values are:"
                    " Exact, Prefix",
                )
    return has_spiffe_id

"""Form input helpers: labels as text, pydantic errors as messages per field."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from meshmanager.model.errors import DomainError, ValidationFailed
from meshmanager.model.zones import ZONE_NAME_PATTERN

ZONE_NAME_MAX = 63


def parse_labels(text: str) -> tuple[dict[str, str], str | None]:
    """`key=value` per line (or comma-separated): the labels, or an error message."""
    labels: dict[str, str] = {}
    for raw in text.replace(",", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        if not sep or not key.strip():
            return labels, f"{line!r} is not key=value"
        labels[key.strip()] = value.strip()
    return labels, None


def labels_text(labels: dict[str, str] | None) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def pydantic_errors(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        key = location[0] if location else "form"
        message = str(item.get("msg", "is not valid"))
        message = message.removeprefix("Value error, ")
        if len(location) > 1:
            message = f"{'.'.join(location[1:])}: {message}"
        found.setdefault(key, message)
    return found


def domain_errors(error: DomainError, default_field: str = "form") -> dict[str, str]:
    if isinstance(error, ValidationFailed) and error.invalid_parameters:
        found: dict[str, str] = {}
        for problem in error.invalid_parameters:
            found.setdefault(problem.field or default_field, problem.reason)
        return found
    return {default_field: error.detail}


def zone_name_problem(name: str) -> str | None:
    """What is wrong with a zone name, in words (Kuma requires an RFC 1035 label)."""
    if not name:
        return "Enter a name for the zone."
    if any(c.isupper() for c in name):
        return "Use lowercase letters: a zone name is a DNS label (RFC 1035)."
    bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c == "-"))})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        return f"Use only lowercase letters, digits and hyphens (not {shown})."
    if not name[0].isalpha():
        return "Start with a lowercase letter (a to z)."
    if name.endswith("-"):
        return "End with a letter or a digit, not a hyphen."
    if len(name) > ZONE_NAME_MAX:
        return f"At most {ZONE_NAME_MAX} characters: this one has {len(name)}."
    if not re.fullmatch(ZONE_NAME_PATTERN, name):
        return "Not a valid zone name (an RFC 1035 label)."
    return None


def checked(form: dict[str, Any], name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")

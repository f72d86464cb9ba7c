"""Label rules of Kuma resources: Kubernetes label syntax, and Kuma's own labels."""

from __future__ import annotations

import re

from meshmanager.model.resources.validation.base import Path, Violations

ORIGIN = "kuma.io/origin"
ZONE = "kuma.io/zone"
DISPLAY_NAME = "kuma.io/display-name"
MESH = "kuma.io/mesh"
NAMESPACE = "k8s.kuma.io/namespace"
IMMUTABLE = (ORIGIN, ZONE, DISPLAY_NAME)

_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_VALUE = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_CHARS = (
    "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an"
    " alphanumeric character"
)
NAME_MESSAGE = (
    f"must {_CHARS} (e.g. 'MyName',  or 'my.name',  or '123-abc',"
    f" regex used for validation is '{_NAME}')"
)
KEY_MESSAGE = (
    f"a valid label key {NAME_MESSAGE} with an optional DNS subdomain prefix and '/'"
    " (e.g. 'example.com/MyName')"
)
VALUE_MESSAGE = (
    f"a valid label must be an empty string or {_CHARS} (e.g. 'MyValue',  or 'my_value', "
    f" or '12345', regex used for validation is '{_VALUE}')"
)
SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-'"
    " or '.', and must start and end with an alphanumeric character (e.g. 'example.com',"
    f" regex used for validation is '{_SUBDOMAIN}')"
)


def _full(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None


def key_errors(key: str) -> list[str]:
    """Kubernetes' IsQualifiedName."""
    parts = key.split("/")
    if len(parts) > 2:
        return [KEY_MESSAGE]
    errors = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errors.append("prefix part must be no more than 253 bytes")
            if not _full(_SUBDOMAIN, prefix):
                errors.append(f"prefix part {SUBDOMAIN_MESSAGE}")
    name = parts[-1]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 bytes")
    if not _full(_NAME, name):
        errors.append(f"name part {NAME_MESSAGE}")
    return errors


def value_errors(value: str) -> list[str]:
    """Kubernetes' IsValidLabelValue."""
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 bytes")
    if not _full(_VALUE, value):
        errors.append(VALUE_MESSAGE)
    return errors


def validate_labels(labels: dict[str, str], on_global: bool = True) -> Violations:
    out = Violations()
    root = Path("labels")
    origin = labels.get(ORIGIN)
    if on_global and origin is not None and origin != "global":
        out.add(root.key(ORIGIN), "the origin label must be set to 'global'")
    for key in sorted(labels):
        value = labels[key]
        for message in key_errors(key):
            out.add(root.key(key), message)
        if not isinstance(value, str):
            out.add(root.key(key), "must be a string")
            continue
        for message in value_errors(value):
            out.add(root.key(key), message)
    return out


def immutable_label_changes(old: dict[str, str], new: dict[str, str]) -> Violations:
    out = Violations()
    for key in IMMUTABLE:
        before, after = old.get(key), new.get(key)
        if before is None or before == after:
            continue
        if after is None:
            out.add(Path("labels").key(key), f'is immutable, cannot be removed (was "{before}")')
        else:
            out.add(
                Path("labels").key(key),
                f'is immutable, cannot be changed from "{before}" to "{after}"',
            )
    return out

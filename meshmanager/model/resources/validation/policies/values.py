"""Checks of single values shared by the policies (durations, percentages, ports, ...),
with Kuma's messages. Each check appends to `out` what is wrong with one value; a value
that is None was not set."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from meshmanager.model.resources.validation import messages as msg
from meshmanager.model.resources.validation.base import Path, Violations
from meshmanager.model.resources.validation.golang.durations import parse_duration
from meshmanager.model.resources.validation.golang.govalidator import is_file_path
from meshmanager.model.resources.validation.golang.regexp import SPACE

# --- Go durations (k8s metav1.Duration is decoded with time.ParseDuration) -------------


def _nanoseconds(value: str | None) -> int:
    """The duration of a schema-checked value; an unset value is Go's zero duration."""
    return 0 if value is None else parse_duration(value)


def duration_not_negative_or_nil(out: Violations, path: Path, value: str | None) -> None:
    if value is not None and _nanoseconds(value) < 0:
        out.add(path, msg.NON_NEGATIVE_WHEN_DEFINED)


def duration_greater_than_zero_or_nil(out: Violations, path: Path, value: str | None) -> None:
    if value is not None and _nanoseconds(value) <= 0:
        out.add(path, msg.GREATER_THAN_ZERO_WHEN_DEFINED)


def duration_greater_than_zero(out: Violations, path: Path, value: str | None) -> None:
    if _nanoseconds(value) <= 0:
        out.add(path, msg.MUST_BE_DEFINED_AND_GREATER_THAN_ZERO)


def duration_greater_than(out: Violations, path: Path, value: str | None, minimum: str) -> None:
    """`minimum` is a Go duration literal, shown as is in the message ("50ms")."""
    if _nanoseconds(value) <= _nanoseconds(minimum):
        out.add(path, f"must be greater than: {minimum}")


# --- IntOrString numbers and percentages ---------------------------------------------

_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def parse_decimal(value: int | str) -> Decimal | None:
    """An IntOrString as a number (like shopspring's decimal), None when the string is not one."""
    if isinstance(value, int):
        return Decimal(value)
    if not _DECIMAL_TEXT.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def percentage_or_nil(
    out: Violations, path: Path, value: int | str | None, allow_zero: bool = True
) -> None:
    number = _number_or_nil(out, path, value)
    if number is None:
        return
    if number < 0 or number > 100:
        out.add(path, msg.PERCENTAGE_RANGE)
    elif not allow_zero and number == 0:
        out.add(path, msg.MUST_BE_GREATER_THAN_ZERO)


def int_or_string_at_least(
    out: Violations, path: Path, value: int | str | None, minimum: int
) -> None:
    number = _number_or_nil(out, path, value)
    if number is not None and number < minimum:
        out.add(path, f"must be greater or equal then: {minimum}")


def _number_or_nil(out: Violations, path: Path, value: int | str | None) -> Decimal | None:
    """The number an IntOrString holds; None when unset or, reported, when not a number."""
    if value is None:
        return None
    number = parse_decimal(value)
    if number is None:
        out.add(path, msg.STRING_MUST_BE_NUMBER)
    return number


# --- integers --------------------------------------------------------------------------


def integer_greater_than(out: Violations, path: Path, value: int | None, minimum: int) -> None:
    """An unset non-pointer Go integer is 0: pass 0 for it."""
    if value is not None and value <= minimum:
        out.add(path, f"must be greater than {minimum}")


def value_greater_than_zero_or_nil(out: Violations, path: Path, value: int | None) -> None:
    if value is not None and value <= 0:
        out.add(path, msg.GREATER_THAN_ZERO_WHEN_DEFINED)


def uint_percentage_or_nil(out: Violations, path: Path, value: int | None) -> None:
    if value is not None and not 0 <= value <= 100:
        out.add(path, msg.UINT_PERCENTAGE_RANGE)


def status_code(out: Violations, path: Path, value: int) -> None:
    if not 100 <= value < 600:
        out.add(path, "must be in inclusive range [100, 599]")


def port(out: Violations, path: Path, value: int) -> None:
    if not 0 < value <= 65535:
        out.add(path, msg.INVALID_PORT)


# --- strings ---------------------------------------------------------------------------


def file_path_or_nil(out: Violations, path: Path, value: str | None) -> None:
    if value is not None and not is_file_path(value):
        out.add(path, "must be a valid path when defined")


_BANDWIDTH = re.compile(rf"([0-9]*){SPACE}?([GMk]+bps)")


def bandwidth(out: Violations, path: Path, value: str) -> None:
    if value == "":
        out.add(path, msg.MUST_BE_DEFINED)
    elif not _BANDWIDTH.fullmatch(value):
        out.add(path, "must be in kbps/Mbps/Gbps units")


_OTEL_ATTRIBUTE_NAME = re.compile(r"[a-z](?:[a-z0-9]|[._][a-z0-9])*")


def otel_attribute_name(out: Violations, path: Path, value: str) -> None:
    if value == "":
        out.add(path, msg.MUST_BE_DEFINED)
    elif "%" in value:
        out.add(
            path,
            "must be a static OpenTelemetry attribute name; placeholders are only supported"
            " in values",
        )
    elif value.startswith("otel."):
        out.add(path, "must not use the reserved OpenTelemetry prefix 'otel.'")
    elif not _OTEL_ATTRIBUTE_NAME.fullmatch(value):
        out.add(
            path,
            "must start with a lowercase letter, use only lowercase letters, digits, '.' or"
            " '_', avoid consecutive delimiters, and end with a letter or digit",
        )


# --- OpenTelemetry collector reference (MeshAccessLog, MeshMetric, MeshTrace) -----------

OTEL_BACKEND_KIND = "MeshOpenTelemetryBackend"


def otel_endpoint_or_backend_ref(
    out: Violations,
    path: Path,
    backend: Mapping[str, Any],
    check_endpoint: Callable[[Violations, Path, str], None] | None = None,
) -> None:
    """Exactly one of `endpoint` (host:port, not a URL) and `backendRef` must be set."""
    endpoint: str = backend.get("endpoint") or ""
    backend_ref: Mapping[str, Any] | None = backend.get("backendRef")
    if endpoint and backend_ref is not None:
        out.add(path, msg.must_have_only_one("openTelemetry", "endpoint", "backendRef"))
    elif not endpoint and backend_ref is None:
        out.add(path, msg.must_have_exactly_one_of("openTelemetry", "endpoint", "backendRef"))
    elif backend_ref is not None:
        ref_path = path.field("backendRef")
        if backend_ref.get("kind") != OTEL_BACKEND_KIND:
            out.add(ref_path.field("kind"), msg.must_be_one_of("kind", [OTEL_BACKEND_KIND]))
        if not backend_ref.get("labels"):
            out.add(ref_path, msg.must_have_exactly_one_of("backendRef", "labels"))
    elif any(char in endpoint for char in "/?#"):
        out.add(path.field("endpoint"), "must be in host:port format, not a URL")
    elif check_endpoint is not None:
        check_endpoint(out, path.field("endpoint"), endpoint)

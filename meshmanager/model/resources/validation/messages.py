"""Kuma's violation message texts that several validators share, and the builders that
format them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from meshmanager.model.resources.validation.golang.strconv import go_quote

MUST_BE_DEFINED = "must be defined"
MUST_NOT_BE_DEFINED = "must not be defined"
MUST_BE_SET = "must be set"
MUST_NOT_BE_SET = "must not be set"
MUST_NOT_BE_EMPTY = "must not be empty"
MUST_BE_GREATER_THAN_ZERO = "must be greater than 0"
MUST_BE_DEFINED_AND_GREATER_THAN_ZERO = "must be defined and greater than zero"
NON_NEGATIVE_WHEN_DEFINED = "must not be negative when defined"
GREATER_THAN_ZERO_WHEN_DEFINED = "must be greater than zero when defined"
PERCENTAGE_RANGE = "must be in inclusive range [0.0, 100.0]"
UINT_PERCENTAGE_RANGE = "must be in inclusive range [0, 100]"
STRING_MUST_BE_NUMBER = "string must be a valid number"
INVALID_PORT = "port must be a valid (1-65535)"
SOURCE_CONDITIONED = (
    "can't be specified when matches contain spiffeID because this field cannot be"
    " conditioned on source identity"
)
TO_FROM_WITH_RULES = "fields 'to' and 'from' must be empty when 'rules' is defined"
FROM_WITH_RULES = "field 'from' must be empty when 'rules' is defined"
NO_FROM_TO_RULES = "at least one of 'from', 'to' or 'rules' has to be defined"
GATEWAY_FROM = (
    "must not be defined when the scope includes a Gateway, select only proxyType Sidecar"
    " or select only gateways and use spec.to"
)


def must_have_only_one(entity: str, *values: str) -> str:
    return f"{entity} must have only one type defined: {', '.join(values)}"


def must_have_exactly_one_of(entity: str, *values: str) -> str:
    return f"{entity} must have exactly one defined: {', '.join(values)}"


def must_have_at_least_one(*values: str) -> str:
    return f"must have at least one defined: {', '.join(values)}"


def one_of(field: str, verb: str, values: Iterable[str], when: str = "") -> str:
    """Kuma's `"field" <verb> one of ["a", "b"]`, or with `when "other" is one of`."""
    quoted = ", ".join(go_quote(value) for value in values)
    if when:
        return f"{go_quote(field)} {verb} when {go_quote(when)} is one of [{quoted}]"
    return f"{go_quote(field)} {verb} one of [{quoted}]"


def must_be_one_of(field: str, values: Iterable[str]) -> str:
    """Kuma's MakeFieldMustBeOneOfErr: `"mode" must be one of ["A", "B"]`."""
    return one_of(field, "must be", values)


def allowed_values_hint(*values: str) -> str:
    return f"Allowed values: {', '.join(values) if values else '(none)'}"


def one_of_listed(entity: str, allowed: Sequence[str]) -> str:
    """Kuma's MustBeOneOf: `appProtocol must be one of: a, b`."""
    return f"{entity} must be one of: {', '.join(allowed)}"

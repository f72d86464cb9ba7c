"""Domain errors raised by every layer and turned into HTTP problems at the edge."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class InvalidParameter:
    field: str
    rule: str
    reason: str


class DomainError(Exception):
    """Base class: `detail` is safe to show to the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class ValidationFailed(DomainError):
    invalid_parameters: list[InvalidParameter] = field(default_factory=list)
    detail: str = "Invalid request"

    def __post_init__(self) -> None:
        super().__init__(self.detail)


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class PreconditionFailed(DomainError):
    """A request that is well-formed but not allowed in the current state (answered 400)."""


class Unauthenticated(DomainError):
    pass


class Forbidden(DomainError):
    pass


def invalid(field_name: str, reason: str, rule: str = "invalid") -> ValidationFailed:
    return ValidationFailed(invalid_parameters=[InvalidParameter(field_name, rule, reason)])

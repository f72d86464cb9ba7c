"""The validation framework: violations, field paths and the per-type registry."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Violation:
    field: str
    message: str


class Path:
    """A Kuma-style field path: `spec.to[0].default.http["kuma.io/service"]`. Validators
    make one per field they visit, so it is a bare slotted object."""

    __slots__ = ("text",)

    def __init__(self, text: str = "") -> None:
        self.text = text

    def field(self, name: str) -> Path:
        return Path(f"{self.text}.{name}" if self.text else name)

    def index(self, i: int) -> Path:
        return Path(f"{self.text}[{i}]")

    def key(self, k: str) -> Path:
        return Path(f'{self.text}["{k}"]')

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Path({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Path) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


@dataclass
class Violations:
    """Collects violations in order, like Kuma's ValidationError."""

    items: list[Violation] = field(default_factory=list)

    def add(self, path: Path | str, message: str) -> None:
        self.items.append(Violation(str(path), message))

    def extend(self, other: Violations | list[Violation]) -> None:
        self.items.extend(other.items if isinstance(other, Violations) else other)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[Violation]:
        return iter(self.items)


@dataclass(frozen=True)
class Context:
    """What a validator may know beyond the spec."""

    mesh: str | None = None
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Decoded from its protobuf message (KDS): its shape is the message's already, so
    # only the semantic rules are left to check.
    shape_checked: bool = False


SpecValidator = Callable[[Any, Context], Violations]
_VALIDATORS: dict[str, SpecValidator] = {}
_loaded = False


def validator(kuma_type: str) -> Callable[[SpecValidator], SpecValidator]:
    def register(fn: SpecValidator) -> SpecValidator:
        if kuma_type in _VALIDATORS:
            raise ValueError(f"a validator for {kuma_type} is registered twice")
        _VALIDATORS[kuma_type] = fn
        return fn

    return register


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    import meshmanager.model.resources.validation as package

    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
    _loaded = True


def has_validator(kuma_type: str) -> bool:
    _load_all()
    return kuma_type in _VALIDATORS


def validate_spec(kuma_type: str, spec: Any, context: Context | None = None) -> list[Violation]:
    """The violations of `spec` (the `spec:` of a new-style resource, or the flat body
    of an old-style one without its meta keys). Empty means valid."""
    _load_all()
    check = _VALIDATORS.get(kuma_type)
    if check is None:
        return []
    return list(check(spec, context or Context()))

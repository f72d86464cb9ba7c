"""Pieces shared by the core-type validators: their spec path, a message of their own, name
length checks and common schema pieces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations
from meshmanager.model.resources.validation.schema import AnyValue, Map, Obj, Str

ROOT = Path("spec")
INVALID_ADDRESS = "address has to be a valid IP or hostname"

LABEL_SELECTOR = Obj({"matchLabels": Map(Str())})
# `config` is free-form: it belongs to whatever extension `type` names.
EXTENSION = Obj({"type": Str(), "config": AnyValue()})


def check_name_length(ctx: Context, limit: int, out: Violations) -> None:
    """Kuma's ValidateLength on the display name (Go counts bytes)."""
    if ctx.name is not None:
        check_length(Path("name"), limit, ctx.name, out)


def check_length(path: Path, limit: int, value: str, out: Violations) -> None:
    if len(value.encode()) > limit:
        out.add(path, f"must not be longer than {limit} characters")


def is_set(mapping: Mapping[str, Any], key: str) -> bool:
    """A Go pointer field is set: present and not null."""
    return mapping.get(key) is not None


def is_valid_port(value: Any) -> bool:
    return isinstance(value, int | float) and 1 <= value <= 65535

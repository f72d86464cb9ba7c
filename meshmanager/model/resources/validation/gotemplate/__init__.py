"""Go's text/template, as far as Kuma's templates need it: parsing with the errors Go's
parser gives, and execution over a struct of strings (the stub Kuma renders hostname
templates against) or a map of strings (VirtualOutbound's parameters)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.validation.gotemplate.execute import GoFunc, GoStruct, execute
from meshmanager.model.resources.validation.gotemplate.parse import (
    ListNode,
    TemplateError,
    parse_template,
)

__all__ = ["GoFunc", "GoStruct", "Template", "TemplateError", "parse"]


@dataclass(frozen=True)
class Template:
    text: str
    trees: Mapping[str, ListNode]
    functions: Mapping[str, GoFunc]

    def execute(self, data: Any) -> str:
        """`template.Execute`: the output, or TemplateError with Go's message."""
        return execute(self.trees, self.text, data, self.functions)


def parse(text: str, functions: Mapping[str, GoFunc] | None = None) -> Template:
    """`template.New("").Funcs(functions).Parse(text)`, or TemplateError with Go's message."""
    functions = functions or {}
    return Template(text, parse_template(text, functions.keys()), functions)

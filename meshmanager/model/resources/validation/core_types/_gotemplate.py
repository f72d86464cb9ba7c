"""Go text/template, as far as Kuma's hostname and SPIFFE ID templates need it:
`parse_error` (what `template.New("").Funcs(...).Parse` reports) and `render`."""

from __future__ import annotations

from collections.abc import Mapping

from meshmanager.model.resources.validation.core_types._gotemplate_exec import (
    GoFunc,
    GoStruct,
    execute,
)
from meshmanager.model.resources.validation.core_types._gotemplate_parse import (
    TemplateError,
    parse_template,
)

__all__ = ["GoFunc", "GoStruct", "TemplateError", "parse_error", "render"]


def parse_error(text: str, functions: Mapping[str, GoFunc]) -> str | None:
    """Go's parse error for `text`, or None if it parses."""
    try:
        parse_template(text, functions.keys())
    except TemplateError as error:
        return str(error)
    return None


def render(text: str, data: GoStruct, functions: Mapping[str, GoFunc]) -> str:
    """Execute a template that parses; TemplateError with Go's message on failure."""
    return execute(parse_template(text, functions.keys()), text, data, functions)

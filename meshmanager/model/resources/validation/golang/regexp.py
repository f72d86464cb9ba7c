"""Go's regexp syntax (RE2), checked with Python's `re`. What RE2 rejects and Python
accepts is looked for first; what the two spell differently is rewritten before compiling."""

from __future__ import annotations

import re

# Go's `\s` and `\S`: Python's also take \v and Unicode spaces.
SPACE = r"[\t\n\f\r ]"
NOT_SPACE = r"[^\t\n\f\r ]"

_ESCAPE = re.compile(r"\\.", re.S)
_CHARACTER_CLASS = re.compile(r"\[\^?\]?[^\]]*\]")
# Escapes RE2 rejects: backreferences and \Z.
_BAD_ESCAPE = re.compile(r"\\[1-9Z]")
# Perl groups RE2 lacks: lookarounds, atomic groups, conditionals, comments, named
# backreferences.
_PERL_GROUP = re.compile(r"\(\?(?:[=!>#(]|<[=!]|P=)")
_POSSESSIVE = re.compile(r"[*+?}]\+")
_REPEAT = re.compile(r"\{([0-9]+)(?:,([0-9]*))?\}")
_MAX_REPEAT = 1000
_RE2_TO_PYTHON = (
    (re.compile(r"\\Q(.*?)(?:\\E|$)", re.S), lambda m: re.escape(m.group(1))),
    (re.compile(r"\\z"), lambda m: r"\Z"),
    (re.compile(r"\\[pP](?:\{\^?[A-Za-z_]+\}|[A-Za-z])"), lambda m: "."),
    # Python takes inline flags only at the start: mid-pattern ones are dropped.
    (re.compile(r"\(\?[imsU-]+\)"), lambda m: ""),
    (re.compile(r"\(\?[imsU-]+:"), lambda m: "(?:"),
)


def regexp_error(expr: str) -> str | None:
    """The error Go's regexp.Compile reports for `expr`, or None when it compiles."""
    escape = next((m for m in _ESCAPE.finditer(expr) if _BAD_ESCAPE.fullmatch(m.group())), None)
    if escape is not None:
        return _error("invalid escape sequence", escape.group())
    # Escapes and character classes blanked out, what is left is syntax.
    syntax = _CHARACTER_CLASS.sub(_blank, _ESCAPE.sub(_blank, expr))
    if perl_group := _PERL_GROUP.search(syntax):
        return _error("invalid or unsupported Perl syntax", perl_group.group())
    if possessive := _POSSESSIVE.search(syntax):
        return _error("invalid nested repetition operator", possessive.group())
    for repeat in _REPEAT.finditer(syntax):
        if any(int(count) > _MAX_REPEAT for count in repeat.groups() if count):
            return _error("invalid repeat count", repeat.group())
    python_expr = expr
    for construct, replacement in _RE2_TO_PYTHON:
        python_expr = construct.sub(replacement, python_expr)
    try:
        re.compile(python_expr)
    except re.error as error:
        return _error(error.msg, expr)
    return None


def _blank(match: re.Match[str]) -> str:
    return "x" * len(match.group())


def _error(reason: str, text: str) -> str:
    return f"error parsing regexp: {reason}: `{text}`"

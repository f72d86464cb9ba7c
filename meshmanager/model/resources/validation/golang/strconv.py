"""Go's strconv: quoting a string as `%q` does, and parsing decimal integers."""

from __future__ import annotations

import re

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}
_DECIMAL = re.compile(r"[0-9]+")
_SIGNED_DECIMAL = re.compile(r"[+-]?[0-9]+")


def go_quote(text: str) -> str:
    """strconv.Quote, which is what Go's `%q` prints for a string."""
    parts = ['"']
    for char in text:
        if char in _ESCAPES:
            parts.append(_ESCAPES[char])
        elif char.isprintable():
            parts.append(char)
        elif ord(char) < 0x80:
            parts.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            parts.append(f"\\u{ord(char):04x}")
        else:
            parts.append(f"\\U{ord(char):08x}")
    parts.append('"')
    return "".join(parts)


def parse_uint(text: str, bits: int) -> tuple[int, bool]:
    """strconv.ParseUint(text, 10, bits): (value, ok); out of range gives (max, False)."""
    if not _DECIMAL.fullmatch(text):
        return 0, False
    value = int(text)
    if value >= 1 << bits:
        return (1 << bits) - 1, False
    return value, True


def parse_int(text: str, bits: int = 64) -> int | None:
    """strconv.ParseInt(text, 10, bits); None where Go returns an error."""
    if not _SIGNED_DECIMAL.fullmatch(text):
        return None
    value = int(text)
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        return None
    return value

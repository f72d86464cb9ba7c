"""Go standard-library behaviour that Kuma's messages and rules depend on."""

from __future__ import annotations

import ipaddress
import re

_SIMPLE_ESCAPES = {
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


def go_quote(text: str) -> str:
    """`strconv.Quote` (what Go's `%q` prints for a string)."""
    parts = ['"']
    for char in text:
        if char in _SIMPLE_ESCAPES:
            parts.append(_SIMPLE_ESCAPES[char])
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


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_LIMIT = 1 << 63


def parse_duration(text: str) -> int:
    """`time.ParseDuration`, in nanoseconds; ValueError when Go would reject the text."""
    rest, negative = text, False
    if rest[:1] in ("+", "-"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise ValueError(f"invalid duration {text!r}")
    total = 0
    while rest:
        value, rest = _duration_term(rest, text)
        total += value
        if total > _LIMIT:
            raise ValueError(f"invalid duration {text!r}")
    if negative:
        return -total
    if total > _LIMIT - 1:
        raise ValueError(f"invalid duration {text!r}")
    return total


def _duration_term(rest: str, text: str) -> tuple[int, str]:
    number = re.match(r"([0-9]*)(\.([0-9]*))?", rest)
    assert number is not None  # the pattern matches the empty string
    whole, fraction = number.group(1), number.group(3)
    if not whole and not fraction:
        raise ValueError(f"invalid duration {text!r}")
    unit_match = re.match(r"[^0-9.]+", rest[number.end() :])
    if unit_match is None:
        raise ValueError(f"missing unit in duration {text!r}")
    unit = _DURATION_UNITS.get(unit_match.group())
    if unit is None:
        raise ValueError(f"unknown unit {unit_match.group()!r} in duration {text!r}")
    value = int(whole or "0")
    if value > _LIMIT // unit:
        raise ValueError(f"invalid duration {text!r}")
    value *= unit
    if fraction:
        digits, scale = _leading_fraction(fraction)
        # Go computes the fractional part in float64; so do we, to round the same way.
        value += int(float(digits) * (float(unit) / scale))
        if value > _LIMIT:
            raise ValueError(f"invalid duration {text!r}")
    return value, rest[number.end() + unit_match.end() :]


def _leading_fraction(digits: str) -> tuple[int, float]:
    value, scale = 0, 1.0
    for char in digits:
        if value > (_LIMIT - 1) // 10:
            break
        candidate = value * 10 + int(char)
        if candidate > _LIMIT:
            break
        value, scale = candidate, scale * 10
    return value, scale


def split_host_port(hostport: str) -> tuple[str, str] | None:
    """`net.SplitHostPort`; None where Go returns an error."""
    last_colon = hostport.rfind(":")
    if last_colon < 0:
        return None
    start, end_search = 0, 0
    if hostport.startswith("["):
        close = hostport.find("]")
        if close < 0 or close + 1 != last_colon:
            return None
        host = hostport[1:close]
        start, end_search = 1, close + 1
    else:
        host = hostport[:last_colon]
        if ":" in host:
            return None
    if "[" in hostport[start:] or "]" in hostport[end_search:]:
        return None
    return host, hostport[last_colon + 1 :]


def parse_uint(text: str, bits: int) -> tuple[int, bool]:
    """`strconv.ParseUint(text, 10, bits)`: (value, ok); out of range gives (max, False)."""
    if not re.fullmatch(r"[0-9]+", text):
        return 0, False
    value = int(text)
    if value >= 1 << bits:
        return (1 << bits) - 1, False
    return value, True


def parse_int(text: str, bits: int = 64) -> int | None:
    """`strconv.ParseInt(text, 10, bits)`; None where Go returns an error."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    value = int(text)
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        return None
    return value


def is_ip(text: str) -> bool:
    """`net.ParseIP(text) != nil`."""
    if "%" in text:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_DNS_NAME = re.compile(
    r"([a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?"
)


def is_dns_name(text: str) -> bool:
    """govalidator's `IsDNSName`."""
    if not text or len(text.replace(".", "")) > 255:
        return False
    return not is_ip(text) and _DNS_NAME.fullmatch(text) is not None


_HTTP_STATUS_CODES = frozenset(
    {100, 101, 102, 103}
    | {200, 201, 202, 203, 204, 205, 206, 207, 208, 226}
    | {300, 301, 302, 303, 304, 305, 307, 308}
    | set(range(400, 419))
    | {421, 422, 423, 424, 425, 426, 428, 429, 431, 451}
    | {500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511}
)


def has_http_status_text(code: int) -> bool:
    """Whether Go's `http.StatusText(code)` is not empty."""
    return code in _HTTP_STATUS_CODES

"""Go's time.ParseDuration, with the error messages Go gives."""

from __future__ import annotations

_NANOS_PER_UNIT = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
# Go adds up the magnitude in a uint64, which may reach 1<<63 (for the most negative one).
_LIMIT = 1 << 63
_DIGITS = "0123456789"


class DurationError(ValueError):
    """A duration Go's time.ParseDuration rejects; the message is Go's."""


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration, in nanoseconds: `[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+` or "0"."""
    rest, negative = text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if rest == "":
        raise _invalid(text)
    total = 0
    while rest:
        nanos, rest = _term(text, rest)
        total += nanos
        if total > _LIMIT:
            raise _invalid(text)
    if negative:
        return -total
    if total > _LIMIT - 1:
        raise _invalid(text)
    return total


def time_quote(text: str) -> str:
    """Go's time.quote: double quotes, `\\"` and `\\\\` escaped, and the UTF-8 bytes of
    control and non-ASCII characters as `\\xNN`."""
    parts = ['"']
    for char in text:
        if ord(char) < 0x20 or ord(char) >= 0x80:
            parts.extend(f"\\x{byte:02x}" for byte in char.encode())
        elif char in '"\\':
            parts.append("\\" + char)
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)


def _term(text: str, rest: str) -> tuple[int, str]:
    """One `<number><unit>` of a duration: its nanoseconds and what follows it."""
    if rest[0] != "." and rest[0] not in _DIGITS:
        raise _invalid(text)
    whole, fraction, scale, rest = _number(text, rest)
    unit, rest = _unit(text, rest)
    if whole > _LIMIT // unit:
        raise _invalid(text)
    nanos = whole * unit
    if fraction > 0:
        # Go computes the fractional part in float64; so do we, to round the same way.
        nanos += int(float(fraction) * (float(unit) / scale))
        if nanos > _LIMIT:
            raise _invalid(text)
    return nanos, rest


def _number(text: str, rest: str) -> tuple[int, int, float, str]:
    """`[0-9]*(\\.[0-9]*)?` with a digit somewhere: its whole part, its fraction's digits
    and their scale, and what follows it."""
    whole, whole_digits = _leading_int(text, rest)
    rest = rest[whole_digits:]
    fraction, scale, fraction_digits = 0, 1.0, 0
    if rest[:1] == ".":
        fraction, scale, fraction_digits = _leading_fraction(rest[1:])
        rest = rest[1 + fraction_digits :]
    if whole_digits == 0 and fraction_digits == 0:
        raise _invalid(text)
    return whole, fraction, scale, rest


def _unit(text: str, rest: str) -> tuple[int, str]:
    """The nanoseconds of the unit `rest` starts with, and what follows it."""
    length = next((i for i, char in enumerate(rest) if char in "." + _DIGITS), len(rest))
    if length == 0:
        raise DurationError(f"time: missing unit in duration {time_quote(text)}")
    name = rest[:length]
    unit = _NANOS_PER_UNIT.get(name)
    if unit is None:
        raise DurationError(f"time: unknown unit {time_quote(name)} in duration {time_quote(text)}")
    return unit, rest[length:]


def _leading_int(text: str, rest: str) -> tuple[int, int]:
    """The value of the digits `rest` starts with, and how many there are."""
    value, count = 0, 0
    for char in rest:
        if char not in _DIGITS:
            break
        if value > _LIMIT // 10:
            raise _invalid(text)
        value = value * 10 + int(char)
        if value > _LIMIT:
            raise _invalid(text)
        count += 1
    return value, count


def _leading_fraction(rest: str) -> tuple[int, float, int]:
    """The digits after the point as a value and its scale, and how many there are; past
    63 bits of precision the digits are read but ignored."""
    value, scale, count, overflow = 0, 1.0, 0, False
    for char in rest:
        if char not in _DIGITS:
            break
        count += 1
        if overflow:
            continue
        if value > (_LIMIT - 1) // 10 or value * 10 + int(char) > _LIMIT:
            overflow = True
            continue
        value, scale = value * 10 + int(char), scale * 10
    return value, scale, count


def _invalid(text: str) -> DurationError:
    return DurationError(f"time: invalid duration {time_quote(text)}")

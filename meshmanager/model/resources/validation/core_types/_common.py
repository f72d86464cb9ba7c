"""Helpers shared by the core-type validators: Kuma's message formats, Go-compatible
checks (IP, DNS name, duration, base64) and common schema pieces."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshmanager.model.resources.validation.base import Context, Path, Violations
from meshmanager.model.resources.validation.schema import AnyValue, Map, Node, Obj, Str

MUST_NOT_BE_EMPTY = "must not be empty"
MUST_BE_DEFINED = "must be defined"
INVALID_PORT = "port must be a valid (1-65535)"
INVALID_ADDRESS = "address has to be a valid IP or hostname"

LABEL_SELECTOR = Obj({"matchLabels": Map(Str())})
# `config` is free-form: it belongs to whatever extension `type` names.
EXTENSION = Obj({"type": Str(), "config": AnyValue()})

_DNS_NAME = re.compile(
    r"([a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?"
)


def go_quote(text: str) -> str:
    """Go's `%q` (strconv.Quote) of a string."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_GO_ESCAPES["\v"] = "\\v"


def one_of_quoted(field: str, allowed: Sequence[str]) -> str:
    """Kuma's MakeFieldMustBeOneOfErr: `"mode" must be one of ["A", "B"]`."""
    return f"{go_quote(field)} must be one of [{', '.join(go_quote(a) for a in allowed)}]"


def one_of_listed(entity: str, allowed: Sequence[str]) -> str:
    """Kuma's MustBeOneOf: `appProtocol must be one of: a, b`."""
    return f"{entity} must be one of: {', '.join(allowed)}"


def check_name_length(ctx: Context, limit: int, out: Violations) -> None:
    """Kuma's ValidateLength on the display name (Go counts bytes)."""
    if ctx.name is not None and len(ctx.name.encode()) > limit:
        out.add(Path("name"), f"must not be longer than {limit} characters")


def check_length(path: Path, limit: int, value: str, out: Violations) -> None:
    if len(value.encode()) > limit:
        out.add(path, f"must not be longer than {limit} characters")


def is_set(mapping: Mapping[str, Any], key: str) -> bool:
    """A Go pointer field is set: present and not null."""
    return mapping.get(key) is not None


def obj(value: Any) -> dict[str, Any]:
    """The mapping at a schema-checked optional object field (absent or null: empty)."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_ip(text: str) -> bool:
    """Go's net.ParseIP accepts it (IPv4 without leading zeros, IPv6 without a zone)."""
    if "%" in text:
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_dns_name(text: str) -> bool:
    """govalidator's IsDNSName, which Kuma uses for hosts."""
    if text == "" or len(text.replace(".", "").encode()) > 255:
        return False
    return not is_ip(text) and _DNS_NAME.fullmatch(text) is not None


def is_valid_port(value: Any) -> bool:
    return isinstance(value, int | float) and 1 <= value <= 65535


# Go durations (time.ParseDuration), as Kubernetes' metav1.Duration decodes them.
_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_LIMIT = 1 << 63


def _time_quote(text: str) -> str:
    out = ['"']
    for char in text:
        if ord(char) >= 0x80 or char < " ":
            out.extend(f"\\x{byte:02x}" for byte in char.encode())
        else:
            out.append("\\" + char if char in ('"', "\\") else char)
    out.append('"')
    return "".join(out)


def _take(text: str, allowed: str) -> tuple[str, str]:
    end = 0
    while end < len(text) and text[end] in allowed:
        end += 1
    return text[:end], text[end:]


def parse_go_duration(text: str) -> int:
    """Nanoseconds of a Go duration string (time.ParseDuration); ValueError carries
    Go's message."""
    invalid = ValueError(f"time: invalid duration {_time_quote(text)}")
    rest, negative = text, text[:1] == "-"
    rest = rest[1:] if rest[:1] in ("-", "+") else rest
    if rest == "0":
        return 0
    if rest == "":
        raise invalid
    total = 0
    while rest:
        whole, rest = _take(rest, "0123456789")
        fraction = ""
        if rest[:1] == ".":
            fraction, rest = _take(rest[1:], "0123456789")
            if not whole and not fraction:
                raise invalid
        elif not whole:
            raise invalid
        unit_end = next((i for i, c in enumerate(rest) if c in ".0123456789"), len(rest))
        unit, rest = rest[:unit_end], rest[unit_end:]
        if unit == "":
            raise ValueError(f"time: missing unit in duration {_time_quote(text)}")
        scale = _DURATION_UNITS.get(unit)
        if scale is None:
            raise ValueError(
                f"time: unknown unit {_time_quote(unit)} in duration {_time_quote(text)}"
            )
        total += int(whole or "0") * scale
        if fraction:
            total += int(int(fraction) * (scale / 10 ** len(fraction)))
        if total > _LIMIT:
            raise invalid
    if not negative and total > _LIMIT - 1:
        raise invalid
    return -total if negative else total


@dataclass
class GoDuration(Node):
    """A string holding a Go duration (`10s`, `1h30m`): metav1.Duration on the wire."""

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, str):
            self._type_error("string", value, path, out)
            return
        try:
            parse_go_duration(value)
        except ValueError as error:
            out.add(path, str(error))


_STD_B64 = re.compile(r"[A-Za-z0-9+/]*")
_URL_B64 = re.compile(r"[A-Za-z0-9\-_]*")


def is_protojson_base64(text: str) -> bool:
    """protojson's bytes decoding: standard or URL alphabet, padding optional."""
    data = text.replace("\r", "").replace("\n", "")
    alphabet = _URL_B64 if any(c in data for c in "-_") else _STD_B64
    # Go picks the padding mode from the length before dropping line breaks.
    return _is_base64(data, alphabet, padded=len(text) % 4 == 0)


def is_std_base64(text: str) -> bool:
    """encoding/json's []byte decoding: standard alphabet with padding."""
    return _is_base64(text.replace("\r", "").replace("\n", ""), _STD_B64, padded=True)


def _is_base64(data: str, alphabet: re.Pattern[str], padded: bool) -> bool:
    body = data.rstrip("=") if padded else data
    padding = len(data) - len(body)
    if alphabet.fullmatch(body) is None or padding > 2:
        return False
    if padded:
        return len(data) % 4 == 0 and (padding == 0 or len(body) % 4 == 4 - padding)
    return len(body) % 4 != 1


@dataclass
class Base64Bytes(Node):
    """A bytes field in JSON: a base64 string (`strict`: Go's encoding/json rules, else
    protojson's, which also take the URL alphabet and missing padding)."""

    strict: bool = False

    def check(self, value: Any, path: Path, out: Violations) -> None:
        if not isinstance(value, str):
            self._type_error("string", value, path, out)
            return
        valid = is_std_base64(value) if self.strict else is_protojson_base64(value)
        if not valid:
            out.add(path, f"in body must be of type byte: {go_quote(value)}")

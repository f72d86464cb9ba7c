"""The Go standard-library parsers Kuma's validators rely on (time.ParseDuration,
net.ParseIP, net.SplitHostPort, url.ParseRequestURI, regexp), rewritten so that we accept
and reject the same strings."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from fractions import Fraction

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
LOOPBACK = ipaddress.IPv4Address("127.0.0.1")

_NANOS_PER_UNIT = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_TERM = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")
_MAX_NANOS = 2**63


def parse_duration(text: str) -> int | None:
    """Go's time.ParseDuration, in nanoseconds; None where Go reports an error."""
    rest, negative = text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if rest == "":
        return None
    total = Fraction(0)
    while rest:
        term = _DURATION_TERM.match(rest)
        if term is None or term.end() == 0:
            return None
        whole, fraction, unit = term.groups()
        nanos = _NANOS_PER_UNIT.get(unit)
        if (not whole and not fraction) or nanos is None:
            return None
        total += Fraction(int(whole or "0")) * nanos
        if fraction:
            total += Fraction(int(fraction), 10 ** len(fraction)) * nanos
        if total > _MAX_NANOS:
            return None
        rest = rest[term.end() :]
    if not negative and total > _MAX_NANOS - 1:
        return None
    return -int(total) if negative else int(total)


def parse_ip(text: str) -> IP | None:
    """Go's net.ParseIP. IPv4-mapped IPv6 addresses come back as IPv4, since Go compares
    addresses in their 16-byte form."""
    if "%" in text:  # Go has no zones in ParseIP
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_ip(text: str) -> bool:
    return parse_ip(text) is not None


_DNS_NAME = re.compile(
    r"([a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?"
)


def is_dns_name(text: str) -> bool:
    """govalidator.IsDNSName."""
    if not text or len(text.replace(".", "")) > 255:
        return False
    return not is_ip(text) and _DNS_NAME.fullmatch(text) is not None


def overlap(address: IP, other: str) -> bool:
    """Whether `address` and the address written `other` would bind the same interface."""
    other_ip = parse_ip(other)
    if other_ip is None:
        return False
    return address.is_unspecified or other_ip.is_unspecified or address == other_ip


def split_host_port(hostport: str) -> tuple[str, str] | None:
    """Go's net.SplitHostPort; None where Go reports an error."""
    colon = hostport.rfind(":")
    if colon < 0:
        return None
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0 or end + 1 != colon:
            return None
        host, after_host, after_bracket = hostport[1:end], 1, end + 1
    else:
        host, after_host, after_bracket = hostport[:colon], 0, 0
        if ":" in host:
            return None
    if "[" in hostport[after_host:] or "]" in hostport[after_bracket:]:
        return None
    return host, hostport[colon + 1 :]


@dataclass(frozen=True)
class RequestURI:
    scheme: str
    host: str

    @property
    def port(self) -> str:
        """Go's URL.Port()."""
        colon = self.host.rfind(":")
        if colon >= 0 and _valid_optional_port(self.host[colon:]):
            return self.host[colon + 1 :]
        return ""


def parse_request_uri(raw: str) -> RequestURI | None:
    """Go's url.ParseRequestURI; None where Go reports an error."""
    if raw == "" or any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return None
    if raw == "*":
        return RequestURI("", "")
    split = _split_scheme(raw)
    if split is None:
        return None
    scheme, rest = split
    rest = rest.partition("?")[0]  # the query plays no part here
    if not rest.startswith("/"):
        return RequestURI(scheme.lower(), "") if scheme else None
    host = ""
    if scheme and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        parsed_host = _parse_authority(authority)
        if parsed_host is None:
            return None
        host, rest = parsed_host, slash + path
    if not _valid_escapes(rest):
        return None
    return RequestURI(scheme.lower(), host)


def _split_scheme(raw: str) -> tuple[str, str] | None:
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                return "", raw
            continue
        if c == ":":
            return None if i == 0 else (raw[:i], raw[i + 1 :])
        return "", raw
    return "", raw


def _parse_authority(authority: str) -> str | None:
    at = authority.rfind("@")
    host = _parse_host(authority[at + 1 :])
    if host is None or (at >= 0 and not _valid_userinfo(authority[:at])):
        return None
    return host


def _parse_host(host: str) -> str | None:
    if host.startswith("["):
        close = host.rfind("]")
        if close < 0 or not _valid_optional_port(host[close + 1 :]):
            return None
    elif (colon := host.rfind(":")) >= 0 and not _valid_optional_port(host[colon:]):
        return None
    if not _valid_escapes(host, in_host=True):
        return None
    return host


_HOST_SAFE = set("!$&'()*+,;=:[]<>\"-_.~")
_USERINFO_SAFE = set("-._:~!$&'()*+,;=%@")


def _valid_escapes(text: str, in_host: bool = False) -> bool:
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            escape = text[i + 1 : i + 3]
            if len(escape) < 2 or any(h not in "0123456789abcdefABCDEF" for h in escape):
                return False
            if in_host and int(escape[0], 16) < 8 and escape != "25":
                return False
            i += 3
            continue
        if in_host and c.isascii() and not c.isalnum() and c not in _HOST_SAFE:
            return False
        i += 1
    return True


def _valid_userinfo(userinfo: str) -> bool:
    valid_chars = all(c.isascii() and (c.isalnum() or c in _USERINFO_SAFE) for c in userinfo)
    return valid_chars and _valid_escapes(userinfo)


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    return port[0] == ":" and all("0" <= c <= "9" for c in port[1:])


def regexp_error(expr: str) -> str | None:
    """The error Go's regexp.Compile reports for `expr`, or None when it compiles.
    RE2 has no lookarounds, atomic groups or backreferences, which Python accepts."""
    i = 0
    while i < len(expr):
        if expr[i] == "\\" and expr[i + 1 : i + 2].isdigit() and expr[i + 1] != "0":
            return f"error parsing regexp: invalid escape sequence: `{expr[i : i + 2]}`"
        for construct in ("(?=", "(?!", "(?<=", "(?<!", "(?>"):
            if expr.startswith(construct, i):
                return f"error parsing regexp: invalid or unsupported Perl syntax: `{construct}`"
        i += 2 if expr[i] == "\\" else 1
    try:
        re.compile(expr)
    except re.error as error:
        return f"error parsing regexp: {error.msg}: `{expr}`"
    return None


def quote(text: str) -> str:
    """Go's %q of a string, as Kuma's messages print names."""
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    quoted = []
    for c in text:
        if c in escapes:
            quoted.append(escapes[c])
        elif c.isprintable():
            quoted.append(c)
        elif ord(c) < 0x80:
            quoted.append(f"\\x{ord(c):02x}")
        elif ord(c) <= 0xFFFF:
            quoted.append(f"\\u{ord(c):04x}")
        else:
            quoted.append(f"\\U{ord(c):08x}")
    return '"' + "".join(quoted) + '"'

"""Checks of network values (URLs, hosts, IPs, paths) that behave like the Go functions
Kuma's validators call: net/url parsing, net.ParseIP / ParseCIDR / SplitHostPort and the
govalidator helpers IsURL, IsFilePath and IsDNSName."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_HEX = "0123456789abcdefABCDEF"
# Characters Go's net/url accepts unescaped in a host (besides letters and digits).
_HOST_CHARS = set("!$&'()*+,;=:[]<>\"-_.~")
_USERINFO_CHARS = set("-._:~!$&'()*+,;=%@")


class URLError(ValueError):
    pass


@dataclass
class GoURL:
    """The parts of a URL as Go's net/url splits them."""

    scheme: str = ""
    opaque: str = ""
    has_user: bool = False
    host: str = ""
    path: str = ""
    raw_query: str = ""
    fragment: str = ""

    def port(self) -> str:
        colon = self.host.rfind(":")
        if colon != -1 and _valid_optional_port(self.host[colon:]):
            return self.host[colon + 1 :]
        return ""


def _valid_optional_port(port: str) -> bool:
    return port == "" or (port[0] == ":" and all("0" <= c <= "9" for c in port[1:]))


def _check_escapes(text: str, host: bool = False) -> None:
    i = 0
    while i < len(text):
        char = text[i]
        if char == "%":
            digits = text[i + 1 : i + 3]
            if len(digits) < 2 or any(d not in _HEX for d in digits):
                raise URLError("invalid URL escape")
            # In a host only %25 (a zone's "%") may encode an ASCII character.
            if host and int(digits[0], 16) < 8 and digits != "25":
                raise URLError("invalid URL escape")
            i += 3
            continue
        if host and ord(char) < 0x80 and not char.isalnum() and char not in _HOST_CHARS:
            raise URLError(f"invalid character {char!r} in host name")
        i += 1


def _split_scheme(raw: str) -> tuple[str, str]:
    for i, char in enumerate(raw):
        if char.isascii() and char.isalpha():
            continue
        if char.isascii() and (char.isdigit() or char in "+-."):
            if i == 0:
                return "", raw
            continue
        if char == ":":
            if i == 0:
                raise URLError("missing protocol scheme")
            return raw[:i], raw[i + 1 :]
        return "", raw
    return "", raw


def _parse_host(host: str) -> str:
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            raise URLError("missing ']' in host")
        if not _valid_optional_port(host[end + 1 :]):
            raise URLError("invalid port after host")
    else:
        colon = host.rfind(":")
        if colon != -1 and not _valid_optional_port(host[colon:]):
            raise URLError("invalid port after host")
    _check_escapes(host, host=True)
    return host


def parse_url(raw: str, via_request: bool = False) -> GoURL:
    """Go's url.Parse (or url.ParseRequestURI with `via_request`); raises URLError."""
    url = GoURL()
    if not via_request:
        raw, _, fragment = raw.partition("#")
        _check_escapes(fragment)
        url.fragment = fragment
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        raise URLError("invalid control character in URL")
    if raw == "" and via_request:
        raise URLError("empty url")
    if raw == "*":
        url.path = "*"
        return url
    scheme, rest = _split_scheme(raw)
    url.scheme = scheme.lower()
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest, _, url.raw_query = rest.partition("?")
    if not rest.startswith("/"):
        if url.scheme:
            url.opaque = rest
            return url
        if via_request:
            raise URLError("invalid URI for request")
        if ":" in rest.partition("/")[0]:
            raise URLError("first path segment in URL cannot contain colon")
    if (url.scheme or (not via_request and not rest.startswith("///"))) and rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        rest = slash + path
        userinfo, at, host = authority.rpartition("@")
        url.host = _parse_host(host)
        if at:
            if not all(c.isalnum() or c in _USERINFO_CHARS for c in userinfo):
                raise URLError("invalid userinfo")
            _check_escapes(userinfo)
            url.has_user = True
    _check_escapes(rest)
    url.path = rest
    return url


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Go's net.ParseIP: dotted IPv4 without leading zeros, or IPv6 without a zone."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_ip_sloppy(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Kubernetes' ParseIPSloppy: like net.ParseIP but IPv4 octets may have leading zeros."""
    parts = text.split(".")
    if len(parts) == 4 and all(p.isascii() and p.isdigit() for p in parts):
        text = ".".join(str(int(p)) for p in parts)
    return parse_ip(text)


def is_ip(text: str) -> bool:
    return parse_ip(text) is not None


def is_cidr(text: str) -> bool:
    """Go's net.ParseCIDR accepts it: an IP, a slash and a decimal prefix length."""
    address, slash, prefix = text.rpartition("/")
    ip = parse_ip(address) if slash else None
    if ip is None or not (prefix.isascii() and prefix.isdigit()):
        return False
    return int(prefix) <= ip.max_prefixlen


_DNS_NAME = re.compile(
    r"([a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62}){1}(\.[a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62})*[\._]?"
)


def is_dns_name(text: str) -> bool:
    """govalidator.IsDNSName."""
    if text == "" or len(text.replace(".", "").encode()) > 255:
        return False
    return not is_ip(text) and _DNS_NAME.fullmatch(text) is not None


_WIN_PATH = re.compile(r'[a-zA-Z]:\\(?:[^\\/:*?"<>|\r\n]+\\)*[^\\/:*?"<>|\r\n]*')
_UNIX_PATH = re.compile(r"(/[^/\x00]*)+/?")


def is_file_path(text: str) -> bool:
    """govalidator.IsFilePath: an absolute Windows or Unix path."""
    if _WIN_PATH.fullmatch(text):
        return len(text[3:]) <= 32767
    return _UNIX_PATH.fullmatch(text) is not None


# govalidator's URL pattern, written with Go's ASCII-only \s, \S and \d. The label part
# `([a-z…0-9]+-?-?)*[a-z…0-9]+` is rewritten as the equivalent `X+(?:-{1,2}X+)*` so that
# Python's backtracking engine stays linear on it.
_S = r"[\t\n\f\r ]"
_NS = r"[^\t\n\f\r ]"
_IPV6 = (
    r"(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|"
    r"([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|"
    r"([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|"
    r"([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|"
    r":((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|"
    r"::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}"
    r"(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])|([0-9a-fA-F]{1,4}:){1,4}:"
    r"((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))"
)
_URL_IP = (
    r"([1-9][0-9]?|1[0-9][0-9]|2[01][0-9]|22[0-3]|24[0-9]|25[0-5])"
    r"(\.([0-9]{1,2}|1[0-9][0-9]|2[0-4][0-9]|25[0-5])){2}"
    r"(?:\.([0-9][0-9]?|1[0-9][0-9]|2[0-4][0-9]|25[0-5]))"
)
_URL_SUBDOMAIN = r"((www\.)|([a-zA-Z0-9](?:[-_.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+))"
_LABEL_CHAR = "[a-zA-Z\u00a1-\uffff0-9]"
_URL = re.compile(
    rf"((ftp|tcp|udp|wss?|https?)://)?({_NS}+@)?"
    rf"(({_URL_IP}|(\[{_IPV6}\])|(([a-zA-Z0-9](?:[_-]*[a-zA-Z0-9])+(?:\.[a-zA-Z0-9]+(?:[-.][a-zA-Z0-9]+)*)?)"
    rf"|({_URL_SUBDOMAIN}?))?({_LABEL_CHAR}++(?:-{{1,2}}{_LABEL_CHAR}++)*+)"
    rf"(?:\.([a-zA-Z\u00a1-\uffff]{{1,}}))?))\.?(:([0-9]{{1,5}}))?((/|\?|#)[^\t\n\f\r ]*)?"
)


def is_url(text: str) -> bool:
    """govalidator.IsURL."""
    if text == "" or len(text) >= 2083 or len(text.encode()) <= 3 or text.startswith("."):
        return False
    candidate = text
    if ":" in text and "://" not in text:
        candidate = "http://" + text  # a port without a scheme still parses
    try:
        url = parse_url(candidate)
    except URLError:
        return False
    if url.host.startswith("."):
        return False
    if url.host == "" and url.path != "" and "." not in url.path:
        return False
    return _URL.fullmatch(text) is not None


def split_host_port(hostport: str) -> str | None:
    """The error Go's net.SplitHostPort gives for `hostport`, or None when it splits."""
    colon = hostport.rfind(":")
    if colon < 0:
        return "missing port in address"
    start, after_host = 0, 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return "missing ']' in address"
        if end + 1 == len(hostport):
            return "missing port in address"
        if end + 1 != colon:
            return "too many colons in address" if hostport[end + 1] == ":" else "missing port"
        start, after_host = 1, end + 1
    elif ":" in hostport[:colon]:
        return "too many colons in address"
    if "[" in hostport[start:]:
        return "unexpected '[' in address"
    if "]" in hostport[after_host:]:
        return "unexpected ']' in address"
    return None

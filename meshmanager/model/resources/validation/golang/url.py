"""Go's net/url: url.Parse and url.ParseRequestURI, as far as deciding whether a URL
parses and what its scheme, host, port, path, query and fragment are."""

from __future__ import annotations

from dataclasses import dataclass

_HEX = "0123456789abcdefABCDEF"
# Characters net/url accepts unescaped in a host and in userinfo, besides ASCII letters
# and digits.
_HOST_CHARS = set("!$&'()*+,;=:[]<>\"-_.~")
_USERINFO_CHARS = set("-._:~!$&'()*+,;=%@")


class URLError(ValueError):
    pass


@dataclass
class GoURL:
    """The parts of a URL as net/url splits them."""

    scheme: str = ""
    opaque: str = ""
    has_user: bool = False
    host: str = ""
    path: str = ""
    raw_query: str = ""
    fragment: str = ""

    def port(self) -> str:
        """URL.Port(): the port of the host, or "" when it has none."""
        colon = self.host.rfind(":")
        if colon != -1 and _valid_optional_port(self.host[colon:]):
            return self.host[colon + 1 :]
        return ""


def parse_url(raw: str, via_request: bool = False) -> GoURL:
    """url.Parse (url.ParseRequestURI with `via_request`); URLError where Go fails."""
    url = GoURL()
    if not via_request:
        raw, _, url.fragment = raw.partition("#")
        _check_escapes(url.fragment)
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
        _parse_authority(url, authority)
    _check_escapes(rest)
    url.path = rest
    return url


def parse_request_uri(raw: str) -> GoURL:
    """url.ParseRequestURI: an absolute URL or an absolute path, with no fragment."""
    return parse_url(raw, via_request=True)


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
        if host and char.isascii() and not char.isalnum() and char not in _HOST_CHARS:
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


def _parse_authority(url: GoURL, authority: str) -> None:
    userinfo, at, host = authority.rpartition("@")
    url.host = _parse_host(host)
    if at:
        if not all(c.isascii() and (c.isalnum() or c in _USERINFO_CHARS) for c in userinfo):
            raise URLError("invalid userinfo")
        _check_escapes(userinfo)
        url.has_user = True


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

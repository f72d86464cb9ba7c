"""The Go library behaviour the validators share (validation/golang): the strings Go
accepts and the errors it reports."""

from __future__ import annotations

import pytest

from meshmanager.model.resources.validation.golang import kubernetes, net, url
from meshmanager.model.resources.validation.golang.durations import (
    DurationError,
    parse_duration,
    time_quote,
)
from meshmanager.model.resources.validation.golang.encoding import is_std_base64
from meshmanager.model.resources.validation.golang.httpstatus import has_status_text
from meshmanager.model.resources.validation.golang.regexp import regexp_error
from meshmanager.model.resources.validation.golang.strconv import go_quote, parse_int, parse_uint


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("-9223372036854775808ns", -(2**63)),
        ("9223372036854775807ns", 2**63 - 1),
        ("1.0000000001s", 1_000_000_000),  # Go rounds the fraction in float64
        ("0." + "1" * 40 + "h", 400_000_000_000),  # digits past 63 bits are ignored
        ("1h1m1s1ms1us1ns", 3_661_001_001_001),
        ("1\u03bcs", 1_000),
    ],
)
def test_durations(text: str, nanoseconds: int) -> None:
    assert parse_duration(text) == nanoseconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
        ("99999999999999999999s", 'time: invalid duration "99999999999999999999s"'),
        ("1s2", 'time: missing unit in duration "1s2"'),
        ("-.s", 'time: invalid duration "-.s"'),
        ("1\u00e9", 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'),
    ],
)
def test_duration_errors(text: str, message: str) -> None:
    with pytest.raises(DurationError) as error:
        parse_duration(text)
    assert str(error.value) == message


def test_time_quote_escapes_bytes_of_control_and_non_ascii_characters() -> None:
    assert time_quote('a"\\\t\u00e9') == '"a\\"\\\\\\x09\\xc3\\xa9"'


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("plain", '"plain"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("\a\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'),
        ("\x00\x7f", '"\\x00\\x7f"'),
        ("\u0085\u00e9", '"\\u0085\u00e9"'),
        ("\U000e0001", '"\\U000e0001"'),
    ],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


def test_integers() -> None:
    assert parse_int("-12") == -12
    assert parse_int("9223372036854775808") is None
    assert parse_int("1_000") is None
    assert parse_uint("4294967296", 32) == (4294967295, False)
    assert parse_uint("+1", 32) == (0, False)


@pytest.mark.parametrize(
    ("hostport", "error"),
    [
        ("[::1]", "missing port in address"),
        ("[::1]x:80", "missing port in address"),
        ("[a]:b:c", "too many colons in address"),
        ("a[:80", "unexpected '[' in address"),
        ("a]:80", "unexpected ']' in address"),
    ],
)
def test_split_host_port_errors(hostport: str, error: str) -> None:
    with pytest.raises(net.AddressError) as raised:
        net.split_host_port(hostport)
    assert str(raised.value) == error


def test_parse_ip() -> None:
    assert str(net.parse_ip("::ffff:1.2.3.4")) == "::ffff:102:304"
    assert net.parse_ip("fe80::1%eth0") is None
    assert str(kubernetes.parse_ip_sloppy("010.001.0.1")) == "10.1.0.1"


@pytest.mark.parametrize(
    ("raw", "port"),
    [("http://a:8080/x?q", "8080"), ("http://[::1]/", ""), ("/only/a/path", ""), ("*", "")],
)
def test_request_uris(raw: str, port: str) -> None:
    assert url.parse_request_uri(raw).port() == port


@pytest.mark.parametrize(
    "raw", ["", "path", "http://a b/", "http://h\u00e9@host/", "http://a:x/", "/a%zz"]
)
def test_bad_request_uris(raw: str) -> None:
    with pytest.raises(url.URLError):
        url.parse_request_uri(raw)


def test_parse_url_keeps_the_fragment_and_query() -> None:
    parsed = url.parse_url("https://user@host:1/p?q=1#frag")
    assert (parsed.scheme, parsed.host, parsed.path) == ("https", "host:1", "/p")
    assert (parsed.has_user, parsed.raw_query, parsed.fragment) == (True, "q=1", "frag")


@pytest.mark.parametrize(
    ("expr", "error"),
    [
        ("a(?=b)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
        ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
        ("a*+", "error parsing regexp: invalid nested repetition operator: `*+`"),
        ("a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
        ("(", "error parsing regexp: missing ), unterminated subpattern: `(`"),
    ],
)
def test_regexp_errors(expr: str, error: str) -> None:
    assert regexp_error(expr) == error


@pytest.mark.parametrize(
    "expr", ["\\\\1", "[*+]+", "a(?i)b", "\\pL+\\z", "\\Q.*\\E", "[(?=]", "x{2,1000}"]
)
def test_regexps_go_accepts(expr: str) -> None:
    assert regexp_error(expr) is None


def test_http_status_codes() -> None:
    assert has_status_text(418)
    assert not has_status_text(419)
    assert not has_status_text(600)


def test_std_base64_ignores_line_breaks() -> None:
    assert is_std_base64("YWJj\nZA==")
    assert not is_std_base64("YWJjZA")

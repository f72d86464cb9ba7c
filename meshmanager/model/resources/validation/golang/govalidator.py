"""The asaskevich/govalidator checks Kuma uses: IsDNSName, IsURL and IsFilePath."""

from __future__ import annotations

import re

from meshmanager.model.resources.validation.golang.net import is_ip
from meshmanager.model.resources.validation.golang.regexp import NOT_SPACE
from meshmanager.model.resources.validation.golang.url import URLError, parse_url

_DNS_NAME = re.compile(
    r"([a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?"
)


def is_dns_name(text: str) -> bool:
    if text == "" or len(text.replace(".", "").encode()) > 255:
        return False
    return not is_ip(text) and _DNS_NAME.fullmatch(text) is not None


_WINDOWS_PATH = re.compile(r'[a-zA-Z]:\\(?:[^\\/:*?"<>|\r\n]+\\)*[^\\/:*?"<>|\r\n]*')
_UNIX_PATH = re.compile(r"(/[^/\x00]*)+/?")
_MAX_WINDOWS_PATH = 32767


def is_file_path(text: str) -> bool:
    """An absolute Windows or Unix path."""
    if _WINDOWS_PATH.fullmatch(text):
        return len(text[3:]) <= _MAX_WINDOWS_PATH
    return _UNIX_PATH.fullmatch(text) is not None


# govalidator's URL pattern, with Go's ASCII-only \S and \d. The label part
# `([a-z…0-9]+-?-?)*[a-z…0-9]+` is rewritten as the equivalent `X+(?:-{1,2}X+)*` so that
# Python's backtracking engine stays linear on it.
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
    rf"((ftp|tcp|udp|wss?|https?)://)?({NOT_SPACE}+@)?"
    rf"(({_URL_IP}|(\[{_IPV6}\])|(([a-zA-Z0-9](?:[_-]*[a-zA-Z0-9])+(?:\.[a-zA-Z0-9]+(?:[-.][a-zA-Z0-9]+)*)?)"
    rf"|({_URL_SUBDOMAIN}?))?({_LABEL_CHAR}++(?:-{{1,2}}{_LABEL_CHAR}++)*+)"
    rf"(?:\.([a-zA-Z\u00a1-\uffff]{{1,}}))?))\.?(:([0-9]{{1,5}}))?((/|\?|#){NOT_SPACE}*)?"
)
_MAX_URL_LENGTH = 2083


def is_url(text: str) -> bool:
    if text == "" or len(text) >= _MAX_URL_LENGTH or len(text.encode()) <= 3:
        return False
    if text.startswith("."):
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

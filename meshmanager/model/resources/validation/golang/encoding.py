"""How Go reads a bytes field from JSON: as base64, the way encoding/json and protojson
decode it. Both ignore line breaks."""

from __future__ import annotations

import re

_STANDARD_ALPHABET = re.compile(r"[A-Za-z0-9+/]*")
_URL_ALPHABET = re.compile(r"[A-Za-z0-9\-_]*")


def is_std_base64(text: str) -> bool:
    """encoding/json's []byte: the standard alphabet, with padding."""
    return _is_base64(_without_line_breaks(text), _STANDARD_ALPHABET, padded=True)


def is_protojson_base64(text: str) -> bool:
    """protojson's bytes: the standard or the URL alphabet, padding optional."""
    data = _without_line_breaks(text)
    alphabet = _URL_ALPHABET if any(c in data for c in "-_") else _STANDARD_ALPHABET
    # Go picks the padding mode from the length before dropping line breaks.
    return _is_base64(data, alphabet, padded=len(text) % 4 == 0)


def _without_line_breaks(text: str) -> str:
    return text.replace("\r", "").replace("\n", "")


def _is_base64(data: str, alphabet: re.Pattern[str], padded: bool) -> bool:
    body = data.rstrip("=") if padded else data
    padding = len(data) - len(body)
    if alphabet.fullmatch(body) is None or padding > 2:
        return False
    if padded:
        return len(data) % 4 == 0 and (padding == 0 or len(body) % 4 == 4 - padding)
    return len(body) % 4 != 1

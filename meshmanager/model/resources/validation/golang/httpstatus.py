"""Go's net/http status codes."""

from __future__ import annotations

_STATUS_CODES_WITH_TEXT = frozenset(
    {100, 101, 102, 103}
    | {*range(200, 209), 226}
    | {*range(300, 306), 307, 308}
    | {*range(400, 419), *range(421, 427), 428, 429, 431, 451}
    | {*range(500, 509), 510, 511}
)


def has_status_text(code: int) -> bool:
    """Whether http.StatusText(code) is not empty: a status code Go knows."""
    return code in _STATUS_CODES_WITH_TEXT

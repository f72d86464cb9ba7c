"""Field types and base models shared by the management API's objects."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

LABEL_VALUE_PATTERN = r"^[a-z0-9A-Z]{1}([a-z0-9A-Z\-\.\_]*[a-z0-9A-Z]+)?$"
LABEL_KEY_PATTERN = r"^[a-z0-9A-Z]([a-z0-9A-Z\-\.\_/]*[a-z0-9A-Z])?$"
MAX_LABELS = 10

_LABEL_KEY = re.compile(LABEL_KEY_PATTERN)
_LABEL_VALUE = re.compile(LABEL_VALUE_PATTERN)


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels are allowed")
    for key, value in labels.items():
        if not (1 <= len(key) <= 63 and _LABEL_KEY.match(key)):
            raise ValueError(
                f"label key {key!r} must be 1-63 characters matching {LABEL_KEY_PATTERN}"
            )
        if not (1 <= len(value) <= 63 and _LABEL_VALUE.match(value)):
            raise ValueError(
                f"label value {value!r} of key {key!r} must be 1-63 characters"
                f" matching {LABEL_VALUE_PATTERN}"
            )
    return labels


def is_label_key(key: str) -> bool:
    return 1 <= len(key) <= 63 and _LABEL_KEY.match(key) is not None


Labels = Annotated[
    dict[str, str],
    AfterValidator(_check_labels),
    Field(
        description=f"At most {MAX_LABELS} labels. Keys and values are 1-63 characters;"
        f" values match `{LABEL_VALUE_PATTERN}`.",
        examples=[{"env": "prod"}],
    ),
]


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped. Booleans are
    `StrictBool`: "yes" or 0 is not a boolean."""

    model_config = ConfigDict(extra="forbid")


class Timestamps(BaseModel):
    created_at: datetime
    updated_at: datetime


class PageMeta(BaseModel):
    number: int = Field(description="The page number, starting at 1.")
    size: int = Field(description="The page size requested.")
    total: int = Field(description="The total number of objects matching the filter.")


class ListMeta(BaseModel):
    page: PageMeta


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    meta: ListMeta
    data: list[ItemT]

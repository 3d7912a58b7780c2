"""Keyset paging's cursor: where a page of a list ended (the sort, the last row's sort keys)
and which filters it was made for, as an opaque token with a check; anything else given back
is refused with a sentence that says why. Pure."""

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

CURSOR_MAX = 400
"""the longest cursor accepted (the longest made is about 200 characters)"""
_CHECK = b"matchmaker-cursor-1"
_START_AGAIN = "omit after to start from the first page"


class Cursor(BaseModel):
    """The last row of a page: its value of the sort's field (None: no deadline), when it
    was created and its id (the order's tie-breakers), the sort and the filters' digest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sort: str
    filters: str
    value: str | int | None
    created_at: str
    id: str


def filters_digest(filters: Mapping[str, Any]) -> str:
    """A short digest of a list's filters (JSON values), the same for the same filters."""
    canonical = json.dumps(filters, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _check(payload: bytes) -> str:
    return hashlib.sha256(_CHECK + payload).hexdigest()[:12]


def encode(cursor: Cursor) -> str:
    """The cursor as an opaque token: its JSON in base64url, a dot and a check."""
    payload = cursor.model_dump_json().encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _check(payload)


def decode(token: str) -> Cursor:
    """The cursor a token holds; ValueError with a sentence when it is not one this list made
    (truncated, edited, or from somewhere else)."""
    body, _, check = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(
            f"after is not a cursor this list gave (not base64url); {_START_AGAIN}"
        ) from None
    if not check or _check(payload) != check:
        raise ValueError(
            "after is not a cursor this list gave (its check does not match: truncated or "
            f"edited?); pass the 'next' of the previous page as it is, or {_START_AGAIN}"
        )
    try:
        return Cursor.model_validate_json(payload)
    except ValidationError:
        raise ValueError(
            f"after is not a cursor this list gave (unreadable); {_START_AGAIN}"
        ) from None


def refusal(cursor: Cursor, *, sort: str, filters: str, offset: int) -> str | None:
    """Why this cursor cannot continue a list with this sort, these filters and offset, or
    None when it can."""
    if offset:
        return "give after or offset, not both (after continues where a page ended)"
    if cursor.sort != sort:
        return (
            f"after was made for sort={cursor.sort}, not sort={sort}: give the same sort, "
            f"or {_START_AGAIN}"
        )
    if cursor.filters != filters:
        return f"after was made for other filters: give the same filters, or {_START_AGAIN}"
    return None

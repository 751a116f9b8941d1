"""Keyset (cursor) pagination: stable under concurrent inserts, no offsets."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from cyberscan.errors import ValidationFailed
from cyberscan.extensions import db
from cyberscan.models import MAX_DB_ID

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


# The direction a cursor pages in: one list can page both ways (a conversation's
# history back, its catching up forward), and a position read the other way round
# silently answers a wrong page.
DIRECTIONS = {True: "back", False: "forward"}


def encode_cursor(position: int, newest_first: bool | None = None) -> str:
    """An opaque cursor for `position`, tagged with the direction it pages in."""
    fields: dict[str, Any] = {"p": position}
    if newest_first is not None:
        fields["d"] = DIRECTIONS[newest_first]
    raw = json.dumps(fields, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, newest_first: bool) -> int | None:
    """The position a cursor stands for; a forged, garbled or other-way one is a 422.

    A cursor without a direction (issued before cursors carried one) still pages.
    """
    if cursor is None:
        return None
    position, direction = parse_cursor(cursor)
    if direction not in (None, DIRECTIONS[newest_first]):
        raise ValidationFailed(
            "The cursor pages the other way; start again without it.",
            errors={"query": {"cursor": ["The cursor pages the other way."]}},
        )
    return position


def parse_cursor(cursor: str) -> tuple[int, str | None]:
    """A cursor's position and direction; a forged or garbled one is a 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fields = json.loads(raw)
        position, direction = fields["p"], fields.get("d")
        if (
            isinstance(position, int)
            and not isinstance(position, bool)
            # ids and sequence numbers: never negative, never beyond a BIGINT
            and 0 <= position <= MAX_DB_ID
            and direction in (None, *DIRECTIONS.values())
        ):
            return position, direction
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        pass
    raise ValidationFailed(
        "The cursor is not valid.",
        errors={"query": {"cursor": ["Not a valid cursor."]}},
    )


def keyset_page(
    query: Select[Any],
    key: InstrumentedAttribute[int],
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool,
) -> Page[Any]:
    """One page of `query` ordered by the unique integer `key`, continuing after `cursor`."""
    position = decode_cursor(cursor, newest_first)
    if position is not None:
        query = query.where(key < position if newest_first else key > position)
    query = query.order_by(key.desc() if newest_first else key.asc()).limit(limit + 1)
    rows = list(db.session.scalars(query).unique())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(getattr(rows[-1], key.key), newest_first)
        if has_more and rows
        else None
    )
    return Page(rows, next_cursor)

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


def encode_cursor(position: int) -> str:
    raw = json.dumps({"p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The position a cursor stands for; a forged or garbled one is a 422."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)["p"]
        if (
            isinstance(position, int)
            and not isinstance(position, bool)
            # ids and sequence numbers: never negative, never beyond a BIGINT
            and 0 <= position <= MAX_DB_ID
        ):
            return position
    except (binascii.Error, ValueError, KeyError, TypeError):
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
    position = decode_cursor(cursor)
    if position is not None:
        query = query.where(key < position if newest_first else key > position)
    query = query.order_by(key.desc() if newest_first else key.asc()).limit(limit + 1)
    rows = list(db.session.scalars(query).unique())
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(getattr(rows[-1], key.key)) if has_more and rows else None
    )
    return Page(rows, next_cursor)

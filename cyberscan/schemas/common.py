"""Shared fields and the paginated-list shape."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, pre_load, validate

from cyberscan.models.base import isoformat

SURROGATE = re.compile("[\ud800-\udfff]")
NOT_TEXT = "Not valid text: it holds a lone UTF-16 surrogate."


def holds_surrogate(value: Any) -> bool:
    """True when a string anywhere in `value` (keys included) holds a lone surrogate.

    JSON may spell them (`"\\ud800"`) but no database, encoder or classifier takes
    them; walked without recursion, as a payload may be nested deep.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if SURROGATE.search(item):
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


class StrictSchema(Schema):
    """Unknown fields are rejected (marshmallow's RAISE), and strings must be strings.

    Every input schema derives from this one, so lone surrogates are refused here,
    once, for every REST body, query and socket payload.
    """

    @pre_load
    def refuse_surrogates(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, Mapping):
            bad = {
                str(key).encode("utf-8", "backslashreplace").decode(): [NOT_TEXT]
                for key, value in data.items()
                if holds_surrogate(key) or holds_surrogate(value)
            }
            if bad:
                raise ValidationError(bad)
        elif holds_surrogate(data):
            raise ValidationError(NOT_TEXT)
        return data


CLIENT_ID_MAX = 64


class ClientIdSchema(StrictSchema):
    """An optional `client_id` that makes a retry idempotent: the same author and
    client_id never store a second message, post or comment (API.md §5)."""

    client_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=CLIENT_ID_MAX),
    )


class Timestamp(fields.Field):
    """ISO 8601 UTC with a Z suffix, from a naive UTC datetime."""

    def _serialize(self, value, attr, obj, **kwargs):  # noqa: ANN001, ANN202
        return isoformat(value)


# C0 controls but tab, line feed and carriage return, DEL, and the C1 controls but
# NEL (a line break): NUL and the rest are no text (NUL ends strings in C, and
# terminals act on escapes, the 8-bit CSI U+009B among them), wherever they stand.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
HOLDS_CONTROL = (
    "Must not hold control characters (only tab and line breaks are allowed)."
)
EMPTY = "Must not be empty."
INVISIBLE = "Must not be empty: it holds only white space and invisible characters."
# Unicode categories that show nothing: format characters (zero-width space and
# joiners, word joiner, byte order mark, direction marks, soft hyphen), controls, and
# combining marks (drawn only on a letter, which then counts); and the letters that
# draw nothing: the Hangul fillers and the braille blank.
UNSEEN = frozenset({"Cf", "Cc", "Mn", "Me"})
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def visible(text: str) -> bool:
    """True when the text holds a character a reader can see (it stops at the first)."""
    return any(
        not char.isspace()
        and char not in BLANK_LETTERS
        and unicodedata.category(char) not in UNSEEN
        for char in text
    )


class TrimmedString(fields.String):
    """A string with surrounding white space removed before validation; control
    characters (`CONTROL`) are refused, before the trim, so none is stored."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        text = super()._deserialize(value, attr, data, **kwargs)
        if CONTROL.search(text):
            raise ValidationError(HOLDS_CONTROL)
        return text.strip()


def null_as_absent(data: Any, names: tuple[str, ...]) -> Any:
    """`data` without the fields among `names` that are null: typed clients
    (kotlinx.serialization, JSON.stringify of an object) send an optional field they
    leave out as null, where the schema asks for one field or the other."""
    if not isinstance(data, Mapping):
        return data
    return {
        key: value
        for key, value in data.items()
        if not (key in names and value is None)
    }


MESSAGE_ID_MAX = 36


def message_id_key(value: str) -> str:
    """A message id as the server stores it. Ids are UUIDs, which compare without
    regard to case (RFC 9562), and clients send them in either: iOS's
    `UUID().uuidString` writes upper case. (MySQL's collation ignored the case where
    SQLite did not.)"""
    return value.lower()


class MessageId(fields.String):
    """A message id a client sends, read as `message_id_key` spells it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validate", validate.Length(min=1, max=MESSAGE_ID_MAX))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        return message_id_key(super()._deserialize(value, attr, data, **kwargs))


# A message id's format (a UUID, in either case): what `?after=` must look like.
MESSAGE_ID_FORMAT = validate.Regexp(
    r"\A[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z",
    error="Not a valid message id (a UUID).",
)


class StrictBoolean(fields.Boolean):
    """JSON true or false only: "no", "true" or 0 is a 422, not read as a boolean
    (marshmallow's Boolean has no strict mode, and 0 == False in its sets)."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def non_blank(value: str) -> None:
    """Text must show something: empty text, or text of white space and invisible
    characters alone, is refused. Invisible characters inside visible text stay (the
    detector normalises the ones that hide insults)."""
    if not value:
        raise ValidationError(EMPTY)
    if not visible(value):
        raise ValidationError(INVISIBLE)


def check_configured_length(
    value: str, setting: str, ceiling: int | None = None
) -> None:
    """Text limits are configuration (MAX_*_LENGTH), so they are read per payload;
    `ceiling` caps the setting, and the error names the limit that applies."""
    limit = int(current_app.config[setting])
    if ceiling is not None:
        limit = min(limit, ceiling)
    if len(value) > limit:
        raise ValidationError(f"Longer than maximum length {limit}.")


def page_size() -> int:
    """A page's length when the query names none: CYBERSCAN_PAGE_SIZE."""
    return int(current_app.config["PAGE_SIZE"])


class PageQuerySchema(StrictSchema):
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    limit = fields.Integer(
        load_default=page_size, validate=validate.Range(min=1, max=100)
    )


@cache
def page_of(item_schema: type[Schema]) -> type[Schema]:
    """`{items: [...], next_cursor}` for an item schema (one class per item schema)."""
    return type(
        f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
        (Schema,),
        {
            "items": fields.List(fields.Nested(item_schema)),
            "next_cursor": fields.String(allow_none=True),
        },
    )

"""CSV exports of accounts and messages, streamed a batch at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from cyberscan.extensions import db
from cyberscan.models import Message, User, isoformat

CSV_BATCH = 1000
# Cells a spreadsheet would evaluate as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
USER_COLUMNS = (
    "id",
    "username",
    "email",
    "created_at",
    "is_admin",
    "is_blocked",
    "bullying_count",
    "muted_until",
)
MESSAGE_COLUMNS = (
    "id",
    "timestamp",
    "sender",
    "receiver",
    "message",
    "is_bullying",
    "bullying_probability",
    "model_version",
    "status",
    "is_read",
)


def csv_cell(value: Any) -> str:
    """One cell: ISO times, true/false, and text that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return isoformat(value) or ""
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _stream_csv(
    columns: Sequence[str], query: Select[Any], row: Callable[[Any], Sequence[Any]]
) -> Iterator[str]:
    """Header then rows, a batch at a time from a server-side cursor: constant memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # The BOM lets Excel recognise UTF-8; other readers ignore it.
    buffer.write("\ufeff")
    writer.writerow(columns)
    yield buffer.getvalue()
    # yield_per implies stream_results: pymysql then uses an unbuffered SSCursor instead
    # of reading the whole result into memory.
    result = db.session.execute(query.execution_options(yield_per=CSV_BATCH))
    try:
        for batch in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([csv_cell(value) for value in row(item)] for item in batch)
            yield buffer.getvalue()
    finally:
        result.close()


def export_users_csv() -> Iterator[str]:
    """Every account (never a password hash), as CSV text chunks."""
    query = select(*(getattr(User, column) for column in USER_COLUMNS)).order_by(
        User.id
    )
    return _stream_csv(USER_COLUMNS, query, tuple)


def export_messages_csv() -> Iterator[str]:
    """Every message with its verdict, in send order, as CSV text chunks."""
    sender, receiver = aliased(User), aliased(User)
    query = (
        select(
            Message.id,
            Message.created_at,
            sender.username,
            receiver.username,
            Message.content,
            Message.is_bullying,
            Message.bullying_probability,
            Message.model_version,
            Message.status,
            Message.is_read,
        )
        .join(sender, Message.sender_id == sender.id)
        .join(receiver, Message.receiver_id == receiver.id)
        .order_by(Message.seq)
    )
    return _stream_csv(MESSAGE_COLUMNS, query, tuple)

"""Shared column types, the verdict columns, and the one clock."""

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Double, Integer, String
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

# MySQL's DATETIME drops fractions unless asked; message order and cursors need them.
UTCDateTime = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# The largest id any table can hold (a signed 64-bit BIGINT; SQLite's INTEGER too): a
# larger number in a query makes the database driver raise instead of finding nothing.
MAX_DB_ID = 2**63 - 1

MYSQL_TABLE_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


def utcnow() -> datetime:
    """Naive UTC now: every timestamp is stored and compared in UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix and milliseconds, as the contract says."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class ScoredMixin:
    """The classifier's verdict: the same columns on messages, posts and comments."""

    bullying_probability: Mapped[float] = mapped_column(Double, default=0.0)
    is_bullying: Mapped[bool] = mapped_column(Boolean, default=False)
    model_version: Mapped[str] = mapped_column(String(64), default="")
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)

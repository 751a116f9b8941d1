"""Private messages."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cyberscan.extensions import db
from cyberscan.models.base import (
    MYSQL_TABLE_ARGS,
    BigId,
    ScoredMixin,
    UTCDateTime,
    utcnow,
)
from cyberscan.models.user import User

DELIVERED, SAVED, WITHHELD = "delivered", "saved", "withheld"


def conversation_key(a: int, b: int) -> str:
    """One key per pair of users, whoever sends."""
    low, high = sorted((a, b))
    return f"{low}:{high}"


class Message(ScoredMixin, db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        # The same sender and client_id never store two messages, even when retries race.
        UniqueConstraint("sender_id", "client_id"),
        Index("ix_messages_conversation_seq", "conversation_key", "seq"),
        Index("ix_messages_receiver_unread", "receiver_id", "is_read", "sender_id"),
        Index("ix_messages_flagged_seq", "is_bullying", "seq"),
        MYSQL_TABLE_ARGS,
    )

    # seq orders messages and backs cursors; id is the public UUID.
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(
        String(36), unique=True, default=lambda: str(uuid.uuid4())
    )
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    receiver_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    conversation_key: Mapped[str] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True
    )
    is_read: Mapped[bool] = mapped_column(Boolean, default=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=DELIVERED)
    # Unsent by its sender: gone from both sides, kept for the moderation record.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sender: Mapped[User] = relationship(foreign_keys=[sender_id], lazy="joined")
    receiver: Mapped[User] = relationship(foreign_keys=[receiver_id], lazy="joined")

    def is_participant(self, user: User) -> bool:
        return user.id in (self.sender_id, self.receiver_id)

"""What moderation records: flags, revoked tokens and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Double, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cyberscan.extensions import db
from cyberscan.models.base import MYSQL_TABLE_ARGS, BigId, UTCDateTime, utcnow
from cyberscan.models.user import User

MESSAGE, POST, COMMENT = "message", "post", "comment"
# A flag is also a strike against its author while it is active or upheld.
ACTIVE, EXPIRED, DISMISSED, UPHELD = "active", "expired", "dismissed", "upheld"
COUNTING = (ACTIVE, UPHELD)


class Flag(db.Model):
    """One flagged item (message, post or comment): the moderation queue."""

    __tablename__ = "moderation_flags"
    __table_args__ = (
        Index("ix_moderation_flags_item", "item_type", "item_id"),
        Index("ix_moderation_flags_review", "reviewed_at", "id"),
        Index("ix_moderation_flags_strikes", "author_id", "strike_status"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_type: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(36))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    content: Mapped[str] = mapped_column(String(2000))
    probability: Mapped[float] = mapped_column(Double)
    model_version: Mapped[str] = mapped_column(String(64))
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_action: Mapped[str | None] = mapped_column(String(32))
    strike_status: Mapped[str] = mapped_column(
        String(16), default=ACTIVE, server_default=ACTIVE
    )
    strike_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    reviewed_by: Mapped[User | None] = relationship(
        foreign_keys=[reviewed_by_id], lazy="joined"
    )


class RevokedToken(db.Model):
    """A JWT revoked by logout; checked on every request and socket connect."""

    __tablename__ = "revoked_tokens"
    __table_args__ = MYSQL_TABLE_ARGS

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_type: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(db.Model):
    """Who did what to whom, why and when."""

    __tablename__ = "audit_log"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), index=True
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, index=True
    )

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    target: Mapped[User | None] = relationship(
        foreign_keys=[target_user_id], lazy="joined"
    )

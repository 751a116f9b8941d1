"""What people decide about each other and about their strikes: blocks, mutes,
reports and appeals (API.md §9)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cyberscan.extensions import db
from cyberscan.models.base import MYSQL_TABLE_ARGS, BigId, UTCDateTime, utcnow
from cyberscan.models.moderation import Flag
from cyberscan.models.user import User

OPEN_APPEAL, ACCEPTED_APPEAL, REJECTED_APPEAL = "open", "accepted", "rejected"


class UserBlock(db.Model):
    """`blocker` blocked `blocked`: neither can message the other or see their presence."""

    __tablename__ = "user_blocks"
    __table_args__ = MYSQL_TABLE_ARGS

    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("users.id"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    blocked: Mapped[User] = relationship(foreign_keys=[blocked_id], lazy="joined")


class UserMute(db.Model):
    """`muter` muted `muted`: their messages arrive quietly (no live event, not unread)."""

    __tablename__ = "user_mutes"
    __table_args__ = MYSQL_TABLE_ARGS

    muter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    muted_id: Mapped[int] = mapped_column(
        ForeignKey("users.id"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    muted: Mapped[User] = relationship(foreign_keys=[muted_id], lazy="joined")


class UserReport(db.Model):
    """A person reports a message or a user: the admins' queue beside the flags."""

    __tablename__ = "user_reports"
    __table_args__ = (
        Index("ix_user_reports_review", "reviewed_at", "id"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reported_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    message_id: Mapped[str | None] = mapped_column(String(36), index=True)
    content: Mapped[str | None] = mapped_column(String(2000))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_action: Mapped[str | None] = mapped_column(String(32))
    review_note: Mapped[str | None] = mapped_column(String(500))

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="joined")
    reported: Mapped[User] = relationship(foreign_keys=[reported_id], lazy="joined")
    reviewed_by: Mapped[User | None] = relationship(
        foreign_keys=[reviewed_by_id], lazy="joined"
    )


class Appeal(db.Model):
    """A person contests one strike; an admin accepts or rejects it."""

    __tablename__ = "appeals"
    __table_args__ = (
        Index("ix_appeals_status_id", "status", "id"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # One appeal per strike, even when two requests race.
    strike_id: Mapped[int] = mapped_column(
        ForeignKey("moderation_flags.id"), unique=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default=OPEN_APPEAL)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))

    strike: Mapped[Flag] = relationship(lazy="joined")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(
        foreign_keys=[decided_by_id], lazy="joined"
    )

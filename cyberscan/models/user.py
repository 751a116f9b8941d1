"""Accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cyberscan.extensions import db
from cyberscan.models.base import MYSQL_TABLE_ARGS, UTCDateTime, utcnow


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # Lower-cased copies carry the uniqueness, so "Alice" and "alice" collide on every backend.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    blocked_reason: Mapped[str | None] = mapped_column(String(500))
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bullying_count: Mapped[int] = mapped_column(Integer, default=0, index=True)
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A password change revokes every token issued before it, except the session
    # (refresh token id) that made the change.
    token_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    kept_session: Mapped[str | None] = mapped_column(String(64))

    def revoke_tokens(self, keep_session: str | None = None) -> None:
        """Revoke every token issued until now (a password change, a reset, a block),
        but those of the session `keep_session` (a refresh token id), if given."""
        self.token_epoch = (self.token_epoch or 0) + 1
        self.kept_session = keep_session

    def is_muted(self, now: datetime | None = None) -> bool:
        return self.muted_until is not None and self.muted_until > (now or utcnow())

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"

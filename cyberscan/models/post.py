"""Posts and their comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from cyberscan.extensions import db
from cyberscan.models.base import MYSQL_TABLE_ARGS, ScoredMixin, UTCDateTime, utcnow
from cyberscan.models.user import User


class Comment(ScoredMixin, db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_is_bullying", "is_bullying"),
        # The same author and client_id never store two comments, even when retries race.
        UniqueConstraint("author_id", "client_id"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


class Post(ScoredMixin, db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_is_bullying", "is_bullying"),
        # The same author and client_id never store two posts, even when retries race.
        UniqueConstraint("author_id", "client_id"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")
    # A correlated subquery in the same SELECT: no query per post.
    comment_count: Mapped[int] = column_property(
        select(func.count(Comment.id)).where(Comment.post_id == id).scalar_subquery()
    )


class SpentClientId(db.Model):
    """The client_id of a post or comment since deleted: a late retry of the request
    that stored it must not store it again (the deleted row's unique key is gone)."""

    __tablename__ = "spent_client_ids"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

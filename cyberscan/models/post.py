"""Posts and their comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Double,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from cyberscan.extensions import db
from cyberscan.models.base import MYSQL_TABLE_ARGS, UTCDateTime, utcnow
from cyberscan.models.user import User


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bullying_probability: Mapped[float] = mapped_column(Double, default=0.0)
    is_bullying: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    model_version: Mapped[str] = mapped_column(String(64), default="")
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)

    author: Mapped[User] = relationship(lazy="joined")


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = MYSQL_TABLE_ARGS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    bullying_probability: Mapped[float] = mapped_column(Double, default=0.0)
    is_bullying: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    model_version: Mapped[str] = mapped_column(String(64), default="")
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)

    author: Mapped[User] = relationship(lazy="joined")
    # A correlated subquery in the same SELECT: no query per post.
    comment_count: Mapped[int] = column_property(
        select(func.count(Comment.id)).where(Comment.post_id == id).scalar_subquery()
    )

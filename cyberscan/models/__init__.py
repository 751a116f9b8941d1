"""SQLAlchemy models, one module per aggregate."""

from cyberscan.models.base import ScoredMixin, isoformat, utcnow
from cyberscan.models.message import (
    DELIVERED,
    SAVED,
    WITHHELD,
    Message,
    conversation_key,
)
from cyberscan.models.moderation import (
    COMMENT,
    MESSAGE,
    POST,
    AuditLog,
    Flag,
    RevokedToken,
)
from cyberscan.models.post import Comment, Post
from cyberscan.models.user import User

__all__ = [
    "COMMENT",
    "DELIVERED",
    "MESSAGE",
    "POST",
    "SAVED",
    "WITHHELD",
    "AuditLog",
    "Comment",
    "Flag",
    "Message",
    "Post",
    "RevokedToken",
    "ScoredMixin",
    "User",
    "conversation_key",
    "isoformat",
    "utcnow",
]

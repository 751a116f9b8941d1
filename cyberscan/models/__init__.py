"""SQLAlchemy models, one module per aggregate."""

from cyberscan.models.base import MAX_DB_ID, ScoredMixin, isoformat, utcnow
from cyberscan.models.message import (
    DELIVERED,
    SAVED,
    WITHHELD,
    Message,
    conversation_key,
)
from cyberscan.models.moderation import (
    ACTIVE,
    COMMENT,
    COUNTING,
    DISMISSED,
    EXPIRED,
    MESSAGE,
    POST,
    UPHELD,
    AuditLog,
    Flag,
    RevokedToken,
)
from cyberscan.models.people import (
    ACCEPTED_APPEAL,
    OPEN_APPEAL,
    REJECTED_APPEAL,
    Appeal,
    UserBlock,
    UserMute,
    UserReport,
)
from cyberscan.models.post import Comment, Post, SpentClientId
from cyberscan.models.user import User

__all__ = [
    "ACCEPTED_APPEAL",
    "OPEN_APPEAL",
    "REJECTED_APPEAL",
    "ACTIVE",
    "COUNTING",
    "DISMISSED",
    "EXPIRED",
    "UPHELD",
    "Appeal",
    "UserBlock",
    "UserMute",
    "UserReport",
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
    "MAX_DB_ID",
    "ScoredMixin",
    "SpentClientId",
    "User",
    "conversation_key",
    "isoformat",
    "utcnow",
]

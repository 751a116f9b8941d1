"""The one moderation policy for messages, posts and comments (API.md §6).

Every item is scored before it is stored. A flagged item is recorded in the moderation
queue and adds a strike to its author in the same transaction as the item itself; the
strike count is read back inside that transaction, so concurrent strikes of one user
are serialised by the row lock and exactly one of them reaches the block limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import case, select, update

from cyberscan.detector import Verdict, get_detector
from cyberscan.errors import AccountBlocked, Muted
from cyberscan.extensions import db
from cyberscan.models import AuditLog, Flag, User, utcnow

AUTO_BLOCK_REASON = "Too many messages, posts or comments were flagged as bullying."
FLAG_EXCERPT = 2000


class Scored(Protocol):
    """Messages, posts and comments all carry these verdict columns."""

    content: str
    bullying_probability: float
    is_bullying: bool
    model_version: str
    terms: list[str]


@dataclass(frozen=True)
class Strike:
    """The author's standing after a flagged item."""

    user_id: int
    bullying_count: int
    max_bullying_count: int
    blocked_now: bool

    @property
    def remaining(self) -> int:
        return max(self.max_bullying_count - self.bullying_count, 0)

    def warning(self) -> dict[str, Any]:
        return {
            "bullying_count": self.bullying_count,
            "max_bullying_count": self.max_bullying_count,
            "remaining": self.remaining,
            "message": (
                f"That was flagged as bullying. {self.remaining} more and your account "
                "will be blocked."
            ),
        }


def ensure_can_post(user: User) -> None:
    """Blocked and muted users can neither send, post nor comment."""
    if user.is_blocked:
        raise AccountBlocked()
    if user.is_muted():
        raise Muted(user.muted_until)


def threshold() -> float:
    return float(current_app.config["BULLYING_THRESHOLD"])


def score(item: Scored) -> Verdict:
    """Score the item's text and write the verdict onto it (nothing is stored yet)."""
    verdict = get_detector().score(item.content)
    item.bullying_probability = verdict.probability
    item.is_bullying = verdict.is_bullying(threshold())
    item.model_version = verdict.model_version
    item.terms = list(verdict.terms)
    return verdict


def stage_strike(author: User, item_type: str, item_id: str, item: Scored) -> Strike:
    """Inside the item's transaction: queue a flag and add one strike, atomically."""
    limit = int(current_app.config["MAX_BULLYING_COUNT"])
    now = utcnow()
    db.session.add(
        Flag(
            item_type=item_type,
            item_id=str(item_id),
            author_id=author.id,
            content=item.content[:FLAG_EXCERPT],
            probability=item.bullying_probability,
            model_version=item.model_version,
            terms=item.terms,
            created_at=now,
        )
    )
    reaches_limit = User.bullying_count + 1 >= limit
    db.session.execute(
        update(User)
        .where(User.id == author.id)
        .values(
            bullying_count=User.bullying_count + 1,
            is_blocked=case((reaches_limit, True), else_=User.is_blocked),
            blocked_at=case(
                (reaches_limit & (User.is_blocked.is_(False)), now),
                else_=User.blocked_at,
            ),
            blocked_reason=case(
                (reaches_limit & (User.is_blocked.is_(False)), AUTO_BLOCK_REASON),
                else_=User.blocked_reason,
            ),
        )
        .execution_options(synchronize_session=False)
    )
    count = db.session.scalar(select(User.bullying_count).where(User.id == author.id))
    strike = Strike(author.id, count, limit, blocked_now=count == limit)
    if strike.blocked_now:
        db.session.add(
            AuditLog(
                actor_id=None,
                action="auto_block",
                target_user_id=author.id,
                reason=AUTO_BLOCK_REASON,
                details={
                    "bullying_count": count,
                    "item_type": item_type,
                    "item_id": str(item_id),
                },
                created_at=now,
            )
        )
    return strike


def settle(strike: Strike | None) -> None:
    """After the commit: warn the author, or tell every connection it is blocked and close it."""
    if strike is None:
        return
    from cyberscan.realtime import notify

    if strike.blocked_now:
        notify.account_blocked(strike.user_id, AUTO_BLOCK_REASON)
    elif strike.bullying_count < strike.max_bullying_count:
        notify.moderation_warning(strike.user_id, strike.warning())

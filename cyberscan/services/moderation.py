"""The one moderation policy for messages, posts and comments (API.md §6).

Every item is scored before it is stored. A flagged item is recorded in the moderation
queue and adds a strike to its author in the same transaction as the item itself:

1. ``UPDATE users SET bullying_count = bullying_count + 1`` takes the author's row lock
   (MySQL/MariaDB) or the database write lock (SQLite), so concurrent strikes of one user
   queue up behind each other until the first transaction commits;
2. ``UPDATE users SET is_blocked = 1 ... WHERE is_blocked = 0 AND bullying_count >= limit``
   runs under that lock, and its row count says whether *this* strike blocked the
   account: exactly one strike ever does, however many race;
3. only then is the item itself inserted (see `stage_strike` on InnoDB deadlocks), and
   the author row is read back inside the transaction, so the warning carries the count
   this strike produced.

The block is decided in two statements rather than one ``CASE`` because MySQL evaluates
the assignments of a single-table UPDATE left to right: a ``CASE`` on ``bullying_count``
placed after ``bullying_count = bullying_count + 1`` would see the new value there and
the old one on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select, update

from cyberscan.detector import Verdict, get_detector
from cyberscan.errors import AccountBlocked, Muted
from cyberscan.extensions import db
from cyberscan.models import AuditLog, Flag, User, isoformat, utcnow

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
    """The author's standing after a flagged item, and the flag for the admins."""

    user_id: int
    bullying_count: int
    max_bullying_count: int
    blocked_now: bool
    flag: dict[str, Any] = field(default_factory=dict, compare=False)

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
    """The probability from which an item counts as bullying."""
    return float(current_app.config["BULLYING_THRESHOLD"])


def max_bullying_count() -> int:
    """The number of flagged items that blocks an account."""
    return int(current_app.config["MAX_BULLYING_COUNT"])


def score(item: Scored) -> Verdict:
    """Score the item's text and write the verdict onto it (nothing is stored yet)."""
    verdict = get_detector().score(item.content)
    record(item, verdict)
    return verdict


def record(item: Scored, verdict: Verdict) -> None:
    """Write a verdict onto the item (nothing is stored yet)."""
    item.bullying_probability = float(verdict.probability)
    item.is_bullying = verdict.is_bullying(threshold())
    item.model_version = verdict.model_version
    item.terms = list(verdict.terms)


def stage(author: User, item_type: str, item: Scored) -> Strike | None:
    """Add a scored item to the transaction and, when it is flagged, its strike."""
    db.session.add(item)
    if not item.is_bullying:
        return None
    return stage_strike(author, item_type, getattr(item, "id", None), item)


def stage_strike(author: User, item_type: str, item_id: Any, item: Scored) -> Strike:
    """Inside the item's transaction: add one strike, queue a flag, block at the limit.

    `item` may still be pending: it is flushed only once the author's row is locked (see
    the module docstring). `item_id` None means the item's own id, known after that flush.
    """
    limit = max_bullying_count()
    now = utcnow()
    # On InnoDB, inserting the item first would take a shared lock on the author's row
    # (the foreign key check); two such transactions then both wait to upgrade it to
    # the exclusive lock the UPDATE needs: a deadlock. Lock the row first instead.
    with db.session.no_autoflush:
        db.session.execute(
            update(User)
            .where(User.id == author.id)
            .values(bullying_count=User.bullying_count + 1)
            .execution_options(synchronize_session=False)
        )
        blocked = db.session.execute(
            update(User)
            .where(
                User.id == author.id,
                User.is_blocked.is_(False),
                User.bullying_count >= limit,
            )
            .values(is_blocked=True, blocked_at=now, blocked_reason=AUTO_BLOCK_REASON)
            .execution_options(synchronize_session=False)
        )
    blocked_now = blocked.rowcount == 1
    db.session.flush()
    if item_id is None:
        item_id = item.id  # type: ignore[attr-defined]
    # populate_existing refreshes the session's copy (often current_user) in the same
    # query, so nothing later in this request sees a stale count or block.
    standing = db.session.scalars(
        select(User)
        .where(User.id == author.id)
        .execution_options(populate_existing=True)
    ).one()
    flag = Flag(
        item_type=item_type,
        item_id=str(item_id),
        author_id=standing.id,
        content=item.content[:FLAG_EXCERPT],
        probability=item.bullying_probability,
        model_version=item.model_version,
        terms=list(item.terms),
        created_at=now,
    )
    db.session.add(flag)
    if blocked_now:
        db.session.add(
            AuditLog(
                actor_id=None,
                action="auto_block",
                target_user_id=standing.id,
                reason=AUTO_BLOCK_REASON,
                details={
                    "bullying_count": standing.bullying_count,
                    "item_type": item_type,
                    "item_id": str(item_id),
                },
                created_at=now,
            )
        )
    db.session.flush()  # the flag's id, for the admins' live queue
    return Strike(
        standing.id,
        standing.bullying_count,
        limit,
        blocked_now=blocked_now,
        flag=flag_payload(flag, standing),
    )


def flag_payload(
    flag: Flag, author: User, reviewer: str | None = None
) -> dict[str, Any]:
    """A flag as the admins see it, in the queue and in the live `flagged_item` event."""
    return {
        "id": flag.id,
        "item_type": flag.item_type,
        "item_id": flag.item_id,
        "author": author.username,
        "author_id": author.id,
        "author_is_blocked": bool(author.is_blocked),
        "author_bullying_count": author.bullying_count,
        "content": flag.content,
        "probability": flag.probability,
        "model_version": flag.model_version,
        "terms": list(flag.terms or []),
        "created_at": isoformat(flag.created_at),
        "reviewed_at": isoformat(flag.reviewed_at),
        "reviewed_by": reviewer,
        "review_action": flag.review_action,
    }


def settle(strike: Strike | None) -> None:
    """After the commit: warn or block the author live, and show the flag to admins."""
    if strike is None:
        return
    from cyberscan.realtime import notify

    if strike.blocked_now:
        notify.account_blocked(strike.user_id, AUTO_BLOCK_REASON)
    elif strike.bullying_count < strike.max_bullying_count:
        notify.moderation_warning(strike.user_id, strike.warning())
    if strike.flag:
        notify.to_admins("flagged_item", strike.flag)
    notify.to_admins(
        "admin_summary_changed",
        {"reason": "auto_block" if strike.blocked_now else "flagged_item"},
    )

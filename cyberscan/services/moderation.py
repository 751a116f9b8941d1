"""The one moderation policy and publish path for messages, posts and comments (API.md §6).

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

Between 1 and 2 the author's row is read again under the lock (``SELECT ... FOR
UPDATE``: on InnoDB a plain read would see the transaction's snapshot) and
`ensure_can_post` applied to it: `publish` checked an author loaded before the lock,
which a concurrent strike may have blocked since. A strike past the limit is refused
(``blocked``) and rolled back, so exactly MAX_BULLYING_COUNT flagged items are stored.

The other user row an item refers to (a message's receiver) is locked shared around the
author's, in id order, as the message writer takes its batch's rows; a transaction that
loses a lock conflict anyway is redone whole (`redo`), never answered `unavailable`.

The block is decided in two statements rather than one ``CASE`` because MySQL evaluates
the assignments of a single-table UPDATE left to right: a ``CASE`` on ``bullying_count``
placed after ``bullying_count = bullying_count + 1`` would see the new value there and
the old one on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cyberscan.detector import get_detector
from cyberscan.errors import (
    AccountBlocked,
    Muted,
    Unavailable,
    database_detail,
    log_unavailable,
)
from cyberscan.extensions import db
from cyberscan.live import notify
from cyberscan.models import Comment, Flag, Message, Post, User, isoformat, utcnow
from cyberscan.services import audit, ratelimit, strikes
from cyberscan.services.group_commit import ATTEMPTS, lock_conflict, pause

if TYPE_CHECKING:
    from cyberscan.detector import Verdict

AUTO_BLOCK_REASON = "Too many messages, posts or comments were flagged as bullying."
FLAG_EXCERPT = 2000


class Scored(Protocol):
    """Messages, posts and comments all carry the verdict columns (models.Scored)."""

    content: str
    bullying_probability: float
    is_bullying: bool
    model_version: str
    terms: list[str]


T = TypeVar("T", bound=Scored)
R = TypeVar("R")


@dataclass(frozen=True)
class Strike:
    """The author's standing after a flagged item, and the flag for the admins."""

    user_id: int
    bullying_count: int
    max_bullying_count: int
    blocked_now: bool
    flag: Flag | None = None


def ensure_can_post(user: User) -> None:
    """Blocked and muted users can neither send, post nor comment."""
    if user.is_blocked:
        raise AccountBlocked.because(user.blocked_reason)
    if user.is_muted():
        raise Muted(user.muted_until)


def can_chat(user: User) -> dict[str, Any]:
    """Whether the user may send now, and if not why (the rule `ensure_can_post` applies)."""
    try:
        ensure_can_post(user)
    except AccountBlocked:
        return {"can_chat": False, "reason": "blocked", "muted_until": None}
    except Muted:
        return {
            "can_chat": False,
            "reason": f"muted until {isoformat(user.muted_until)}",
            "muted_until": user.muted_until,
        }
    return {"can_chat": True, "reason": None, "muted_until": None}


def threshold() -> float:
    """The probability from which an item counts as bullying."""
    return float(current_app.config["BULLYING_THRESHOLD"])


def max_bullying_count() -> int:
    """The number of flagged items that blocks an account."""
    return int(current_app.config["MAX_BULLYING_COUNT"])


def bullying_report(user: User) -> dict[str, Any]:
    """The user's own standing: strikes, the limit, and what was flagged."""
    limit = max_bullying_count()
    flagged = {
        kind: db.session.scalar(
            select(func.count())
            .select_from(model)
            .where(author == user.id, model.is_bullying.is_(True))
        )
        or 0
        for kind, model, author in (
            ("flagged_messages", Message, Message.sender_id),
            ("flagged_comments", Comment, Comment.author_id),
            ("flagged_posts", Post, Post.author_id),
        )
    }
    return {
        "username": user.username,
        "bullying_count": user.bullying_count,
        "max_bullying_count": limit,
        "remaining": max(limit - user.bullying_count, 0),
        "is_blocked": user.is_blocked,
        "muted_until": user.muted_until if user.is_muted() else None,
        **flagged,
    }


def publish(
    author: User,
    item_type: str,
    build: Callable[[], T],
    *,
    budget: str | None = None,
    existing: Callable[[], T | None] | None = None,
    before_commit: Callable[[T], None] | None = None,
    after_commit: Callable[[T], None] | None = None,
) -> T:
    """The one publish path: rate limit, can post, build, score, stage strike, commit,
    announce, settle.

    `budget` names a rate-limit budget of its own (posts, comments). `existing` finds
    an item already stored for this request (a retried message): it is answered
    instead, also when a concurrent copy wins the race at commit. `before_commit` sees
    the scored item; `after_commit` announces it before the strike is settled, so a
    block's disconnect comes after the item's own events.
    """
    # A retry stores nothing: it is answered with the first copy, whatever would
    # refuse a new item now (the send limit, a mute, for a message a block since).
    if existing is not None and (found := existing()) is not None:
        return found
    ratelimit.hit("SEND_LIMIT_PER_USER", *([budget] if budget else []), author.id)
    attempt = 1
    while True:
        ensure_can_post(author)
        item = build()
        score(item)
        if before_commit is not None:
            before_commit(item)
        committing = False
        try:
            strike = stage(author, item_type, item)
            committing = True
            commit_keeping_state()
            break
        except (AccountBlocked, Muted):
            db.session.rollback()
            raise
        except IntegrityError:
            db.session.rollback()
            found = existing() if existing is not None else None
            if found is None:
                raise
            return found
        except (DBAPIError, PoolTimeout) as exc:
            db.session.rollback()
            if attempt < ATTEMPTS and redo(exc, committing):
                current_app.logger.info(
                    "%s transaction redone (attempt %d): %s",
                    item_type,
                    attempt + 1,
                    database_detail(exc),
                )
                pause(attempt)
                attempt += 1
                continue
            log_unavailable(current_app.logger, "database", database_detail(exc))
            raise Unavailable(
                f"The {item_type} could not be stored; it was not sent."
            ) from exc
    if after_commit is not None:
        after_commit(item)
    settle(strike)
    return item


def redo(exc: BaseException, committing: bool) -> bool:
    """Whether a failed publish transaction (rolled back whole) is tried again.

    Strike transactions of different authors, and the message writer's batches, lock
    `users` rows in different orders (the author's row exclusively, every referenced
    row shared by the foreign key checks), so InnoDB can find a deadlock among them and
    roll one back: that is a lost race, redone from the start (`build`, the author's
    standing included), never `unavailable`. A connection found
    dead before the commit was sent is redone once on a fresh one.
    """
    if lock_conflict(exc):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated and not committing


def commit_keeping_state() -> None:
    """Commit without expiring the session's objects.

    The item's events are dumped from it right after the commit; expired, it would be
    read back with a query per item. Everything it carries was just written.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def score(item: Scored) -> Verdict:
    """Score the item's text and write the verdict onto it (nothing is stored yet)."""
    verdict = get_detector().score(item.content)
    item.bullying_probability = float(verdict.probability)
    item.is_bullying = verdict.is_bullying(threshold())
    item.model_version = verdict.model_version
    item.terms = list(verdict.terms)
    return verdict


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
    # the exclusive lock the UPDATE needs: a deadlock. Lock the row first instead, and
    # the other user the item refers to (a message's receiver, shared by its foreign
    # key check) in id order around it, so strike transactions never wait in a cycle.
    other = getattr(item, "receiver_id", None)
    with db.session.no_autoflush:
        if other is not None and other < author.id:
            share_lock(other)
        db.session.execute(
            update(User)
            .where(User.id == author.id)
            .values(bullying_count=User.bullying_count + 1)
            .execution_options(synchronize_session=False)
        )
        if other is not None and other > author.id:
            share_lock(other)
        # The author `publish` checked may have been read before a concurrent strike
        # (or an admin) blocked the account: check again, under the lock, on the row
        # as committed now. A refused strike is rolled back by the caller.
        ensure_can_post(locked(author.id, written=True))
        # Under that lock: strikes older than STRIKE_TTL_DAYS stop counting first.
        strikes.expire_stale(author.id, now)
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
    # Read back so nothing later in this request sees a stale count or block.
    standing = locked(author.id, written=True)
    if blocked_now:
        standing.revoke_tokens()  # under the row lock; an unblock does not revive them
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
        audit.record(
            None,
            "auto_block",
            standing,
            AUTO_BLOCK_REASON,
            at=now,
            bullying_count=standing.bullying_count,
            item_type=item_type,
            item_id=str(item_id),
        )
    return Strike(
        standing.id, standing.bullying_count, limit, blocked_now=blocked_now, flag=flag
    )


def locked(user_id: int, *, written: bool = False) -> User:
    """The user's row, locked for this transaction and read as committed now; the
    session's copy (often current_user) is refreshed with it.

    SQLite has no row locks and ignores FOR UPDATE, and a read there holds no lock
    past its statement: a write takes the database's write lock, held to the commit
    (what a strike's first UPDATE does), so a transaction that starts here (an
    admin's unblock or decision) writes the row to itself first; `written` says this
    transaction has written it already."""
    if not written and db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(bullying_count=User.bullying_count)
            .execution_options(synchronize_session=False)
        )
    return db.session.scalars(
        select(User)
        .where(User.id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def relocked(row: R) -> R:
    """A row of the locked author's (a flag, an appeal) read again as committed now,
    and locked: what an admin's decision rests on. On InnoDB a plain read, lazy loads
    included, sees the transaction's snapshot, which may predate a decision another
    admin committed while this one waited for the author's lock."""
    db.session.refresh(row, with_for_update=True)
    return row


def share_lock(user_id: int) -> None:
    """Take the shared lock the item's foreign key check would take on a user's row
    (InnoDB; SQLite's one write lock already serialises the transaction)."""
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(
            select(User.id).where(User.id == user_id).with_for_update(read=True)
        )


def settle(strike: Strike | None) -> None:
    """After the commit: warn or block the author live, and show the flag to admins."""
    if strike is None:
        return
    if strike.blocked_now:
        notify.account_blocked(strike.user_id, AUTO_BLOCK_REASON)
    elif strike.bullying_count < strike.max_bullying_count:
        notify.moderation_warning(
            strike.user_id, strike.bullying_count, strike.max_bullying_count
        )
    if strike.flag is not None:
        notify.flagged_item(strike.flag)
    notify.admin_summary_changed("auto_block" if strike.blocked_now else "flagged_item")

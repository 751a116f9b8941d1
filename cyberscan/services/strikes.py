"""Strike expiry (STRIKE_TTL_DAYS): the one rule every path that counts strikes applies.

Callers hold the author's row lock (see `services/moderation.py`), so the count and
the strikes change together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import case, select, update

from cyberscan.extensions import db
from cyberscan.models import COUNTING, DISMISSED, EXPIRED, Flag, User


def ttl_cutoff(now: datetime) -> datetime | None:
    """Strikes created before this no longer count; None when strikes never expire."""
    days = int(current_app.config.get("STRIKE_TTL_DAYS", 0))
    return now - timedelta(days=days) if days > 0 else None


def is_expired(flag: Flag, now: datetime) -> bool:
    """True when the strike has aged out, whether or not that is stored yet."""
    cutoff = ttl_cutoff(now)
    return flag.strike_status == EXPIRED or (
        cutoff is not None
        and flag.strike_status in COUNTING
        and flag.created_at < cutoff
    )


def lower_count(user_id: int, by: int) -> None:
    """Take `by` strikes off the user's count (never below zero)."""
    if by <= 0:
        return
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            bullying_count=case(
                (User.bullying_count > by, User.bullying_count - by), else_=0
            )
        )
        .execution_options(synchronize_session=False)
    )


def expire_stale(user_id: int, now: datetime) -> int:
    """Mark the user's aged-out strikes expired and lower the count; how many expired.

    The aged-out strikes are found by a plain read and expired by primary key, the
    condition checked again by the UPDATE on the rows' current versions (a concurrent
    transaction may have expired them first: they then count zero). A range UPDATE
    over the author index would take InnoDB next-key locks on the gaps between
    authors, where other authors' new flags are inserted: strike transactions of
    different users would wait for each other, and deadlock.
    """
    cutoff = ttl_cutoff(now)
    if cutoff is None:
        return 0
    stale = (
        Flag.author_id == user_id,
        Flag.strike_status.in_(COUNTING),
        Flag.created_at < cutoff,
    )
    ids = db.session.scalars(select(Flag.id).where(*stale)).all()
    if not ids:
        return 0
    expired = db.session.execute(
        update(Flag)
        .where(Flag.id.in_(ids), *stale)
        .values(strike_status=EXPIRED, strike_ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    lower_count(user_id, expired)
    return expired


def dismiss_all(user_id: int, now: datetime) -> int:
    """Stop every strike of the user counting (an admin's unblock with a reset)."""
    return db.session.execute(
        update(Flag)
        .where(Flag.author_id == user_id, Flag.strike_status.in_(COUNTING))
        .values(strike_status=DISMISSED, strike_ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount

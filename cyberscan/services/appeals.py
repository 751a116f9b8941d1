"""Strikes a person can see and contest (API.md §9): the strikes list, appeals, the
admins' decisions, and a dismissed flag giving its strike back.

Every change to a strike locks the author's row first, like a new strike does (see
`services/moderation.py`), so the count, the block and the strikes move together.
Accepting an appeal or dismissing a flag lifts an automatic block once the count is
below the limit; a block an admin set stays until an admin lifts it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cyberscan.errors import Conflict, NotFound
from cyberscan.extensions import db
from cyberscan.live import notify
from cyberscan.models import (
    ACCEPTED_APPEAL,
    ACTIVE,
    COUNTING,
    DISMISSED,
    MESSAGE,
    OPEN_APPEAL,
    REJECTED_APPEAL,
    UPHELD,
    Appeal,
    Flag,
    Message,
    User,
    isoformat,
    utcnow,
)
from cyberscan.services import audit, moderation, rows, strikes
from cyberscan.services.pagination import Page, keyset_page

STRIKES_SHOWN = 200
CONTEXT_AROUND = 3
DISMISSED_NOTE = "The flag was dismissed by a moderator."


def _lift_block(user: User, actor: User | None, now: Any) -> bool:
    """Unblock an automatically blocked account that fell below the limit."""
    if not (
        user.is_blocked
        and user.blocked_reason == moderation.AUTO_BLOCK_REASON
        and user.bullying_count < moderation.max_bullying_count()
    ):
        return False
    user.is_blocked = False
    user.blocked_at = None
    user.blocked_reason = None
    audit.record(
        actor, "auto_unblock", user, at=now, bullying_count=user.bullying_count
    )
    return True


def _end_strike(flag: Flag, status: str, user: User, now: Any) -> None:
    """Stop a strike counting: its author's count goes down by one if it counted."""
    counted = flag.strike_status in COUNTING and not strikes.is_expired(flag, now)
    flag.strike_status = status
    flag.strike_ended_at = now
    if counted:
        user.bullying_count = max(user.bullying_count - 1, 0)


def refresh_standing(user: User) -> bool:
    """Expire the user's aged-out strikes now; True when that lifted the block."""
    now = utcnow()
    cutoff = strikes.ttl_cutoff(now)
    if cutoff is None:
        return False
    stale = db.session.scalar(
        select(Flag.id)
        .where(
            Flag.author_id == user.id,
            Flag.strike_status.in_(COUNTING),
            Flag.created_at < cutoff,
        )
        .limit(1)
    )
    if stale is None:
        return False
    moderation.locked(user.id)
    strikes.expire_stale(user.id, now)
    standing = moderation.locked(user.id, written=True)
    lifted = _lift_block(standing, None, now)
    db.session.commit()
    if lifted:
        notify.admin_summary_changed("auto_unblock", standing.username)
    return lifted


# -- what the person sees --------------------------------------------------------------


def appeal_view(appeal: Appeal | None) -> dict[str, Any] | None:
    if appeal is None:
        return None
    return {
        "id": appeal.id,
        "strike_id": appeal.strike_id,
        "status": appeal.status,
        "reason": appeal.reason,
        "note": appeal.note,
        "created_at": appeal.created_at,
        "decided_at": appeal.decided_at,
    }


def strike_view(flag: Flag, appeal: Appeal | None, now: Any) -> dict[str, Any]:
    """One strike as its author sees it."""
    status = "expired" if strikes.is_expired(flag, now) else flag.strike_status
    return {
        "id": flag.id,
        "kind": flag.item_type,
        "content": flag.content,
        "created_at": isoformat(flag.created_at),
        "probability": flag.probability,
        "status": status,
        "appeal": appeal_view(appeal),
    }


def standing(user: User) -> dict[str, Any]:
    """The user's strikes, newest first, with the count, the limit and the block."""
    refresh_standing(user)
    user = db.session.scalars(
        select(User).where(User.id == user.id).execution_options(populate_existing=True)
    ).one()
    flags = list(
        db.session.scalars(
            select(Flag)
            .where(Flag.author_id == user.id)
            .order_by(Flag.id.desc())
            .limit(STRIKES_SHOWN)
        )
    )
    appeals = {
        appeal.strike_id: appeal
        for appeal in db.session.scalars(
            select(Appeal).where(Appeal.strike_id.in_([flag.id for flag in flags]))
        )
    }
    limit = moderation.max_bullying_count()
    now = utcnow()
    return {
        "bullying_count": user.bullying_count,
        "max_bullying_count": limit,
        "remaining": max(limit - user.bullying_count, 0),
        "is_blocked": bool(user.is_blocked),
        "block_reason": user.blocked_reason if user.is_blocked else None,
        "strikes": [strike_view(flag, appeals.get(flag.id), now) for flag in flags],
    }


def file_appeal(user: User, strike_id: int, reason: str) -> Appeal:
    """Contest one of the user's own active strikes; one appeal per strike."""
    flag = rows.by_id(Flag, strike_id)
    if flag is None or flag.author_id != user.id:
        raise NotFound(f"You have no strike with id {strike_id}.")
    if flag.strike_status != ACTIVE or strikes.is_expired(flag, utcnow()):
        raise Conflict("Only an active strike can be appealed.")
    if db.session.scalar(select(Appeal.id).where(Appeal.strike_id == flag.id)):
        raise Conflict("This strike has already been appealed.")
    now = utcnow()
    appeal = Appeal(
        strike_id=flag.id,
        author_id=user.id,
        reason=reason,
        status=OPEN_APPEAL,
        created_at=now,
    )
    db.session.add(appeal)
    try:
        db.session.flush()
        audit.record(
            user, "appeal_filed", user, at=now, appeal_id=appeal.id, strike_id=flag.id
        )
        db.session.commit()
    except IntegrityError as exc:  # a concurrent appeal of the same strike won
        db.session.rollback()
        raise Conflict("This strike has already been appealed.") from exc
    notify.appeal_filed(appeal)
    notify.admin_summary_changed("appeal_filed", user.username)
    return appeal


# -- what the admins decide ------------------------------------------------------------


def list_appeals(
    limit: int, cursor: str | None = None, status: str = "open"
) -> Page[Appeal]:
    """The appeal queue, oldest first: open, decided or all appeals."""
    query = select(Appeal)
    if status == "open":
        query = query.where(Appeal.status == OPEN_APPEAL)
    elif status == "decided":
        query = query.where(Appeal.status != OPEN_APPEAL)
    return keyset_page(query, Appeal.id, limit=limit, cursor=cursor, newest_first=False)


def _close(
    appeal: Appeal, admin: User, accepted: bool, note: str | None, now: Any
) -> None:
    appeal.status = ACCEPTED_APPEAL if accepted else REJECTED_APPEAL
    appeal.decided_at = now
    appeal.decided_by_id = admin.id
    appeal.note = note


def _decided(appeal: Appeal, user: User) -> None:
    """After the commit: tell the author and the dashboards."""
    limit = moderation.max_bullying_count()
    notify.appeal_decided(
        appeal.author_id,
        appeal_id=appeal.id,
        decision="accept" if appeal.status == ACCEPTED_APPEAL else "reject",
        note=appeal.note,
        bullying_count=user.bullying_count,
        remaining=max(limit - user.bullying_count, 0),
    )
    notify.admin_summary_changed("appeal_decided", user.username)


def decide_appeal(
    admin: User, appeal_id: int, decision: str, note: str | None = None
) -> Appeal:
    """Accept (the strike no longer counts) or reject (it stays, upheld) an appeal."""
    appeal = rows.found(Appeal, appeal_id, f"No appeal with id {appeal_id}.")
    now = utcnow()
    user = moderation.locked(appeal.author_id)
    # Decided on as committed now: another admin may have decided it meanwhile.
    if moderation.relocked(appeal).status != OPEN_APPEAL:
        raise Conflict("That appeal has already been decided.")
    flag = moderation.relocked(appeal.strike)
    accepted = decision == "accept"
    _close(appeal, admin, accepted, note, now)
    lifted = False
    if accepted:
        _end_strike(flag, DISMISSED, user, now)
        if flag.reviewed_at is None:
            flag.reviewed_at, flag.reviewed_by_id = now, admin.id
            flag.review_action = "dismiss"
        lifted = _lift_block(user, admin, now)
    elif flag.strike_status == ACTIVE:
        flag.strike_status = UPHELD
    audit.record(
        admin,
        f"appeal_{decision}",
        user,
        note,
        at=now,
        appeal_id=appeal.id,
        strike_id=flag.id,
        bullying_count=user.bullying_count,
        unblocked=lifted,
    )
    db.session.commit()
    _decided(appeal, user)
    return appeal


def review_strike(
    admin: User, flag: Flag, action: str, now: Any
) -> tuple[Appeal | None, User]:
    """Inside an admin's flag review: `dismiss` gives the strike back (and accepts its
    open appeal), `remove` upholds it; Conflict when another review came first. Call
    `reviewed` after the commit."""
    user = moderation.locked(flag.author_id)
    if moderation.relocked(flag).reviewed_at is not None:
        raise Conflict("That flag has already been reviewed.")
    appeal = db.session.scalar(
        select(Appeal).where(Appeal.strike_id == flag.id, Appeal.status == OPEN_APPEAL)
    )
    if action == "dismiss":
        _end_strike(flag, DISMISSED, user, now)
        _lift_block(user, admin, now)
        if appeal is not None:
            _close(appeal, admin, True, DISMISSED_NOTE, now)
        return appeal, user
    if flag.strike_status == ACTIVE:
        flag.strike_status = UPHELD
    return None, user


def dismiss_all(admin: User, user: User, now: Any) -> list[Appeal]:
    """Inside an admin's unblock with a reset: every strike that still counted is
    dismissed, and each open appeal of them accepted as dismissing its flag does.
    Call `reviewed` for each after the commit."""
    open_appeals = list(
        db.session.scalars(
            select(Appeal)
            .join(Flag, Appeal.strike_id == Flag.id)
            .where(
                Flag.author_id == user.id,
                Flag.strike_status.in_(COUNTING),
                Appeal.status == OPEN_APPEAL,
            )
        )
    )
    strikes.dismiss_all(user.id, now)
    for appeal in open_appeals:
        _close(appeal, admin, True, DISMISSED_NOTE, now)
    return open_appeals


def reviewed(appeal: Appeal | None, user: User) -> None:
    """After a flag review's commit: the appeal it closed is announced."""
    if appeal is not None:
        _decided(appeal, user)


def flag_context(admin: User, flag_id: int) -> dict[str, Any]:
    """A flag's receiver and the messages around it; reading it is audit-logged."""
    flag = rows.found(Flag, flag_id, f"No flag with id {flag_id}.")
    messages: list[Message] = []
    receiver = None
    if flag.item_type == MESSAGE:
        item = db.session.scalar(select(Message).where(Message.id == flag.item_id))
        if item is not None:
            receiver = item.receiver.username
            same = Message.conversation_key == item.conversation_key
            before = db.session.scalars(
                select(Message)
                .where(same, Message.seq < item.seq)
                .order_by(Message.seq.desc())
                .limit(CONTEXT_AROUND)
            ).all()
            after = db.session.scalars(
                select(Message)
                .where(same, Message.seq > item.seq)
                .order_by(Message.seq)
                .limit(CONTEXT_AROUND)
            ).all()
            messages = [*reversed(before), item, *after]
    audit.record(
        admin,
        "flag_context_viewed",
        flag.author_id,
        flag_id=flag.id,
        item_type=flag.item_type,
        item_id=flag.item_id,
    )
    db.session.commit()
    return {
        "flag_id": flag.id,
        "item_type": flag.item_type,
        "item_id": flag.item_id,
        "author": flag.author.username,
        "receiver": receiver,
        "messages": messages,
    }

"""Admin use-cases: the moderation queue, block/unblock/mute/kick, audit log, exports.

Every action that changes something is written to the audit log in the same transaction
as the change, and its live effect (kick, block, mute) is sent after the commit through
`realtime/notify.py`, which reaches every server process over the message queue.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, case, desc, func, or_, select, update
from sqlalchemy.orm import aliased

from cyberscan.errors import Conflict, NotFound
from cyberscan.extensions import db
from cyberscan.models import (
    COMMENT,
    MESSAGE,
    POST,
    WITHHELD,
    AuditLog,
    Comment,
    Flag,
    Message,
    Post,
    User,
    isoformat,
    utcnow,
)
from cyberscan.services import moderation, posts, users
from cyberscan.services.pagination import Page, keyset_page

ADMIN_BLOCK_REASON = "Blocked by an administrator."
KICK_REASON = "Disconnected by an administrator."
CSV_BATCH = 1000
# Cells a spreadsheet would evaluate as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
USER_COLUMNS = (
    "id",
    "username",
    "email",
    "created_at",
    "is_admin",
    "is_blocked",
    "bullying_count",
    "muted_until",
)
MESSAGE_COLUMNS = (
    "id",
    "timestamp",
    "sender",
    "receiver",
    "message",
    "is_bullying",
    "bullying_probability",
    "model_version",
    "status",
    "is_read",
)


# -- audit and live notices ------------------------------------------------------------


def record(
    actor: User | None,
    action: str,
    target: User | None,
    reason: str | None = None,
    **details: Any,
) -> AuditLog:
    """Stage one audit entry: who, did what, to whom, why (the commit adds when)."""
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        action=action,
        target_user_id=target.id if target else None,
        reason=reason,
        details=details,
        created_at=utcnow(),
    )
    db.session.add(entry)
    return entry


def _changed(action: str, target: User | None) -> None:
    """Tell the admins' dashboards to refresh (after the commit)."""
    from cyberscan.realtime import notify

    notify.to_admins(
        "admin_summary_changed",
        {"reason": action, "username": target.username if target else None},
    )


def _target(admin: User, username: str, action: str) -> User:
    """The user an action names; an admin cannot block, mute or kick themself."""
    user = users.get_by_username(username)
    if user.id == admin.id:
        raise Conflict(f"You cannot {action} yourself.")
    return user


# -- user actions ----------------------------------------------------------------------


def block_user(admin: User, username: str, reason: str | None = None) -> User:
    """Block an account: its tokens stop working and its live connections are closed."""
    from cyberscan.realtime import notify

    user = _target(admin, username, "block")
    reason = reason or ADMIN_BLOCK_REASON
    if not user.is_blocked:
        user.blocked_at = utcnow()
    user.is_blocked = True
    user.blocked_reason = reason[:255]
    record(admin, "block", user, reason, bullying_count=user.bullying_count)
    db.session.commit()
    notify.account_blocked(user.id, reason)
    _changed("block", user)
    return user


def unblock_user(
    admin: User, username: str, reset_count: bool = True, reason: str | None = None
) -> User:
    """Unblock an account so it can log in and send again; the count restarts at 0."""
    user = users.get_by_username(username)
    previous = user.bullying_count
    user.is_blocked = False
    user.blocked_at = None
    user.blocked_reason = None
    if reset_count:
        user.bullying_count = 0
    record(
        admin,
        "unblock",
        user,
        reason,
        reset_count=reset_count,
        previous_bullying_count=previous,
    )
    db.session.commit()
    _changed("unblock", user)
    return user


def mute_user(
    admin: User, username: str, minutes: int, reason: str | None = None
) -> User:
    """Stop a user sending, posting and commenting for a number of minutes."""
    from cyberscan.realtime import notify

    user = _target(admin, username, "mute")
    user.muted_until = utcnow() + timedelta(minutes=minutes)
    record(
        admin,
        "mute",
        user,
        reason,
        minutes=minutes,
        muted_until=isoformat(user.muted_until),
    )
    db.session.commit()
    notify.muted(user.id, user.muted_until)
    _changed("mute", user)
    return user


def unmute_user(admin: User, username: str, reason: str | None = None) -> User:
    """Lift a mute at once."""
    from cyberscan.realtime import notify

    user = users.get_by_username(username)
    user.muted_until = None
    record(admin, "unmute", user, reason)
    db.session.commit()
    notify.muted(user.id, None)
    _changed("unmute", user)
    return user


def kick_user(
    admin: User, username: str, reason: str | None = None
) -> tuple[User, int]:
    """Close every live connection of a user without blocking; they may reconnect."""
    from cyberscan.realtime import notify

    user = _target(admin, username, "kick")
    record(admin, "kick", user, reason)
    db.session.commit()
    closed = notify.kick(user.id, reason or KICK_REASON)
    return user, closed


def list_users(
    limit: int, cursor: str | None = None, q: str | None = None
) -> Page[User]:
    """Accounts in id order, optionally those whose name or email contains `q`."""
    query = select(User)
    if q:
        needle = q.lower()
        query = query.where(
            or_(
                User.username_key.contains(needle, autoescape=True),
                User.email_key.contains(needle, autoescape=True),
            )
        )
    return keyset_page(query, User.id, limit=limit, cursor=cursor, newest_first=False)


# -- moderation queue ------------------------------------------------------------------


def _reviewer_names(flags: Sequence[Flag]) -> dict[int, str]:
    """Usernames of the reviewers of a page of flags, in one query."""
    ids = {flag.reviewed_by_id for flag in flags if flag.reviewed_by_id}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


def list_flags(
    limit: int, cursor: str | None = None, status: str = "pending"
) -> Page[dict[str, Any]]:
    """The moderation queue, newest first: pending, reviewed or all flags."""
    query = select(Flag)
    if status == "pending":
        query = query.where(Flag.reviewed_at.is_(None))
    elif status == "reviewed":
        query = query.where(Flag.reviewed_at.is_not(None))
    page = keyset_page(query, Flag.id, limit=limit, cursor=cursor, newest_first=True)
    names = _reviewer_names(page.items)
    items = [
        moderation.flag_payload(flag, flag.author, names.get(flag.reviewed_by_id or 0))
        for flag in page.items
    ]
    return Page(items, page.next_cursor)


def _remove_item(flag: Flag) -> bool:
    """Take a flagged item down; False when it was already gone."""
    if flag.item_type == MESSAGE:
        # Withheld like a message held back by FLAGGED_MESSAGE_POLICY=withhold: kept for
        # the record, no longer part of the conversation the receiver sees.
        result = db.session.execute(
            update(Message)
            .where(Message.id == flag.item_id)
            .values(status=WITHHELD)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount > 0
    item_id = int(flag.item_id)
    if flag.item_type == POST:
        post = db.session.get(Post, item_id)
        if post is None:
            return False
        posts.remove_post(post)
        return True
    if flag.item_type == COMMENT:
        comment = db.session.get(Comment, item_id)
        if comment is None:
            return False
        db.session.delete(comment)
        return True
    return False


def review_flag(
    admin: User, flag_id: int, action: str, note: str | None = None
) -> dict[str, Any]:
    """Close a flag: `dismiss` keeps the item, `remove` takes it down."""
    flag = db.session.get(Flag, flag_id) if 0 < flag_id <= posts.MAX_ID else None
    if flag is None:
        raise NotFound(f"No flag with id {flag_id}.")
    if flag.reviewed_at is not None:
        raise Conflict("That flag has already been reviewed.")
    removed = _remove_item(flag) if action == "remove" else False
    flag.reviewed_at = utcnow()
    flag.reviewed_by_id = admin.id
    flag.review_action = action
    record(
        admin,
        f"review_{action}",
        flag.author,
        note,
        flag_id=flag.id,
        item_type=flag.item_type,
        item_id=flag.item_id,
        removed=removed,
    )
    db.session.commit()
    _changed(f"review_{action}", flag.author)
    return moderation.flag_payload(flag, flag.author, admin.username)


# -- reports ---------------------------------------------------------------------------


def _count(model: Any, *where: Any) -> Any:
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


def summary() -> dict[str, Any]:
    """Headline numbers for the dashboard, in one query (plus the presence registry)."""
    from cyberscan.realtime import presence

    now = utcnow()
    row = db.session.execute(
        select(
            _count(User).label("total_users"),
            _count(Message).label("total_messages"),
            _count(Message, Message.is_bullying.is_(True)).label("flagged_messages"),
            _count(User, User.is_blocked.is_(True)).label("blocked_users"),
            _count(User, User.muted_until > now).label("muted_users"),
            _count(Post).label("total_posts"),
            _count(Comment).label("total_comments"),
            _count(Post, Post.is_bullying.is_(True)).label("flagged_posts"),
            _count(Comment, Comment.is_bullying.is_(True)).label("flagged_comments"),
            _count(Flag, Flag.reviewed_at.is_(None)).label("pending_flags"),
        )
    ).one()
    numbers = {key: int(value or 0) for key, value in row._asdict().items()}
    items = (
        numbers["total_messages"] + numbers["total_posts"] + numbers["total_comments"]
    )
    flagged = (
        numbers["flagged_messages"]
        + numbers["flagged_posts"]
        + numbers["flagged_comments"]
    )
    config = current_app.config
    return {
        **numbers,
        "online_users": len(presence.online_user_ids()),
        "flagged_share": flagged / items if items else 0.0,
        "max_bullying_count": int(config["MAX_BULLYING_COUNT"]),
        "bullying_threshold": float(config["BULLYING_THRESHOLD"]),
        "flagged_message_policy": config["FLAGGED_MESSAGE_POLICY"],
    }


def _hour_of(column: Any) -> Any:
    """The hour a timestamp falls in, as text, in SQL (SQLite and MySQL/MariaDB)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H", column)
    return func.date_format(column, "%Y-%m-%d %H")


def _per_hour(model: Any, since: datetime) -> dict[str, tuple[int, int]]:
    """{hour: (items, flagged)} for one table, grouped in the database."""
    hour = _hour_of(model.created_at).label("hour")
    rows = db.session.execute(
        select(
            hour,
            func.count(),
            func.sum(case((model.is_bullying.is_(True), 1), else_=0)),
        )
        .where(model.created_at >= since)
        .group_by("hour")
    )
    return {key: (int(total), int(flagged or 0)) for key, total, flagged in rows}


def stats(hours: int = 24) -> dict[str, Any]:
    """Per-hour activity and flagged share over the last `hours`, and top offenders."""
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=hours - 1
    )
    tables = {
        "messages": _per_hour(Message, start),
        "posts": _per_hour(Post, start),
        "comments": _per_hour(Comment, start),
    }
    series, shares = [], []
    for step in range(hours):
        moment = start + timedelta(hours=step)
        key = moment.strftime("%Y-%m-%d %H")
        counts = {name: table.get(key, (0, 0)) for name, table in tables.items()}
        items = sum(total for total, _ in counts.values())
        flagged_items = sum(flagged for _, flagged in counts.values())
        series.append(
            {
                "hour": isoformat(moment),
                "messages": counts["messages"][0],
                "flagged": counts["messages"][1],
                "posts": counts["posts"][0],
                "comments": counts["comments"][0],
                "items": items,
                "flagged_items": flagged_items,
            }
        )
        shares.append(
            {
                "hour": isoformat(moment),
                "share": flagged_items / items if items else 0.0,
            }
        )
    return {
        "hours": series,
        "flagged_share": shares,
        "top_offenders": _offenders(start),
    }


def _offenders(since: datetime, limit: int = 10) -> list[dict[str, Any]]:
    """The users with the most flagged items in the window."""
    flagged = func.count(Flag.id).label("flagged_items")
    rows = db.session.execute(
        select(User.username, User.bullying_count, User.is_blocked, flagged)
        .join(Flag, Flag.author_id == User.id)
        .where(Flag.created_at >= since)
        .group_by(User.id, User.username, User.bullying_count, User.is_blocked)
        .order_by(desc("flagged_items"), User.bullying_count.desc(), User.id)
        .limit(limit)
    )
    return [
        {
            "username": username,
            "bullying_count": count,
            "is_blocked": bool(blocked),
            "flagged_items": int(items),
        }
        for username, count, blocked, items in rows
    ]


def audit_log(limit: int, cursor: str | None = None) -> Page[AuditLog]:
    """The audit log, newest first (actor and target come in the same query)."""
    return keyset_page(
        select(AuditLog), AuditLog.id, limit=limit, cursor=cursor, newest_first=True
    )


# -- CSV exports -----------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """One cell: ISO times, true/false, and text that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return isoformat(value) or ""
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _stream_csv(
    columns: Sequence[str], query: Select[Any], row: Callable[[Any], Sequence[Any]]
) -> Iterator[str]:
    """Header then rows, a batch at a time from a server-side cursor: constant memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # The BOM lets Excel recognise UTF-8; other readers ignore it.
    buffer.write("\ufeff")
    writer.writerow(columns)
    yield buffer.getvalue()
    # yield_per implies stream_results: pymysql then uses an unbuffered SSCursor instead
    # of reading the whole result into memory.
    result = db.session.execute(query.execution_options(yield_per=CSV_BATCH))
    try:
        for batch in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([csv_cell(value) for value in row(item)] for item in batch)
            yield buffer.getvalue()
    finally:
        result.close()


def export_users_csv() -> Iterator[str]:
    """Every account (never a password hash), as CSV text chunks."""
    query = select(*(getattr(User, column) for column in USER_COLUMNS)).order_by(
        User.id
    )
    return _stream_csv(USER_COLUMNS, query, tuple)


def export_messages_csv() -> Iterator[str]:
    """Every message with its verdict, in send order, as CSV text chunks."""
    sender, receiver = aliased(User), aliased(User)
    query = (
        select(
            Message.id,
            Message.created_at,
            sender.username,
            receiver.username,
            Message.content,
            Message.is_bullying,
            Message.bullying_probability,
            Message.model_version,
            Message.status,
            Message.is_read,
        )
        .join(sender, Message.sender_id == sender.id)
        .join(receiver, Message.receiver_id == receiver.id)
        .order_by(Message.seq)
    )
    return _stream_csv(MESSAGE_COLUMNS, query, tuple)

"""Admin reports: headline numbers, hourly activity, top offenders, the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import case, desc, func, select

from cyberscan.extensions import db
from cyberscan.live import presence
from cyberscan.models import (
    OPEN_APPEAL,
    Appeal,
    AuditLog,
    Comment,
    Flag,
    Message,
    Post,
    User,
    UserReport,
    isoformat,
    utcnow,
)
from cyberscan.services.pagination import Page, keyset_page


def _count(model: Any, *where: Any) -> Any:
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


def summary() -> dict[str, Any]:
    """Headline numbers for the dashboard, in one query (plus the presence registry)."""
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
            _count(Appeal, Appeal.status == OPEN_APPEAL).label("pending_appeals"),
            _count(UserReport, UserReport.reviewed_at.is_(None)).label(
                "pending_reports"
            ),
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

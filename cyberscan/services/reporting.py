"""People report a message or a user (API.md §9); admins review the reports beside
the classifier's flags."""

from __future__ import annotations

from sqlalchemy import select, update

from cyberscan.errors import Conflict, NotFound, ValidationFailed
from cyberscan.extensions import db
from cyberscan.live import notify
from cyberscan.models import WITHHELD, Message, User, UserReport, utcnow
from cyberscan.services import admin as admin_service
from cyberscan.services import audit, ratelimit, rows, users
from cyberscan.services.pagination import Page, keyset_page

EXCERPT = 2000


def _invalid(field: str, text: str) -> ValidationFailed:
    return ValidationFailed(text, errors={"json": {field: [text]}})


def _reported_message(reporter: User, message_id: str) -> Message:
    """A message the reporter received: one held back from them never reached them,
    but one its sender has since unsent did, so it stays reportable (the report keeps
    its words): unsending is no way out of a report."""
    message = db.session.scalar(select(Message).where(Message.id == message_id))
    visible = message is not None and (
        (message.sender_id == reporter.id and message.deleted_at is None)
        or (message.receiver_id == reporter.id and message.status != WITHHELD)
    )
    if message is None or not visible:
        raise NotFound("No message with that id in your conversations.")
    if message.sender_id == reporter.id:
        raise _invalid("message_id", "You cannot report your own message.")
    return message


def file_report(
    reporter: User,
    reason: str,
    message_id: str | None = None,
    username: str | None = None,
) -> UserReport:
    """Report a message (its sender is the reported user) or a user."""
    ratelimit.hit("REPORT_LIMIT_PER_USER", reporter.id, what="reports")
    message = None
    if message_id is not None:
        message = _reported_message(reporter, message_id)
        reported = message.sender
        if username is not None and username.lower() != reported.username_key:
            raise _invalid("username", "The username is not the message's sender.")
    else:
        reported = users.get_by_username(username or "")
        if reported.id == reporter.id:
            raise _invalid("username", "You cannot report yourself.")
    duplicate = db.session.scalar(
        select(UserReport.id).where(
            UserReport.reporter_id == reporter.id,
            UserReport.reported_id == reported.id,
            UserReport.message_id == message.id
            if message
            else UserReport.message_id.is_(None),
            UserReport.reviewed_at.is_(None),
        )
    )
    if duplicate is not None:
        raise Conflict("You already reported that; a moderator will look at it.")
    now = utcnow()
    report = UserReport(
        reporter_id=reporter.id,
        reported_id=reported.id,
        message_id=message.id if message else None,
        content=message.content[:EXCERPT] if message else None,
        reason=reason,
        created_at=now,
    )
    db.session.add(report)
    db.session.flush()
    audit.record(
        reporter,
        "user_report",
        reported,
        at=now,
        report_id=report.id,
        message_id=report.message_id,
    )
    db.session.commit()
    notify.user_reported(report)
    notify.admin_summary_changed("user_report", reported.username)
    return report


def list_reports(
    limit: int, cursor: str | None = None, status: str = "pending"
) -> Page[UserReport]:
    """The admins' report queue, newest first: pending, reviewed or all."""
    query = select(UserReport)
    if status == "pending":
        query = query.where(UserReport.reviewed_at.is_(None))
    elif status == "reviewed":
        query = query.where(UserReport.reviewed_at.is_not(None))
    return keyset_page(
        query, UserReport.id, limit=limit, cursor=cursor, newest_first=True
    )


def review_report(
    admin: User, report_id: int, action: str, note: str | None = None
) -> UserReport:
    """Close a report: `dismiss` keeps everything, `remove` takes the message down."""
    report = rows.found(UserReport, report_id, f"No report with id {report_id}.")
    if action == "remove" and report.message_id is None:
        raise _invalid("action", "A report about a user has no message to remove.")
    now = utcnow()
    # Claimed by one conditional UPDATE: of two admins closing it at once, the second
    # finds it reviewed under the first's row lock (SQLite: its write lock), not before.
    claimed = db.session.execute(
        update(UserReport)
        .where(UserReport.id == report.id, UserReport.reviewed_at.is_(None))
        .values(
            reviewed_at=now,
            reviewed_by_id=admin.id,
            review_action=action,
            review_note=note,
        )
    )
    if claimed.rowcount != 1:
        raise Conflict("That report has already been reviewed.")
    removal = (
        admin_service.withhold_message(report.message_id)
        if action == "remove"
        else None
    )
    audit.record(
        admin,
        f"report_{action}",
        report.reported_id,
        note,
        at=now,
        report_id=report.id,
        message_id=report.message_id,
        removed=removal is not None,
    )
    db.session.commit()
    admin_service.removed(removal)
    notify.admin_summary_changed(f"report_{action}", report.reported.username)
    return report

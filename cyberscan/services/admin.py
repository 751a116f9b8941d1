"""Admin actions: block/unblock/mute/kick and the moderation queue.

Every action that changes something is written to the audit log in the same transaction
as the change, and its live effect (kick, block, mute) is sent after the commit through
`live/notify.py`, which reaches every server process over the message queue.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import or_, select

from cyberscan.errors import Conflict
from cyberscan.extensions import db
from cyberscan.live import notify
from cyberscan.models import (
    COMMENT,
    MESSAGE,
    POST,
    WITHHELD,
    Comment,
    Flag,
    Message,
    Post,
    User,
    isoformat,
    utcnow,
)
from cyberscan.services import (
    appeals,
    audit,
    comments,
    contacts,
    messaging,
    moderation,
    posts,
    rows,
    users,
)
from cyberscan.services.pagination import Page, keyset_page

ADMIN_BLOCK_REASON = "Blocked by an administrator."
KICK_REASON = "Disconnected by an administrator."


# -- audit and live notices ------------------------------------------------------------


def _changed(action: str, target: User | None) -> None:
    """Tell the admins' dashboards to refresh (after the commit)."""
    notify.admin_summary_changed(action, target.username if target else None)


def _target(admin: User, username: str, action: str) -> User:
    """The user an action names; an admin cannot block, mute or kick themself."""
    user = users.get_by_username(username)
    if user.id == admin.id:
        raise Conflict(f"You cannot {action} yourself.")
    return user


# -- user actions ----------------------------------------------------------------------


def block_user(admin: User, username: str, reason: str | None = None) -> User:
    """Block an account: its tokens stop working and its live connections are closed.
    Blocking a blocked account again with no reason keeps the reason it has."""
    user = _target(admin, username, "block")
    reason = reason or (user.is_blocked and user.blocked_reason) or ADMIN_BLOCK_REASON
    if not user.is_blocked:
        user.blocked_at = utcnow()
        # Every token it holds dies for good (an unblock does not revive them); a
        # re-block keeps the appeal token of a blocked login.
        user.revoke_tokens()
    user.is_blocked = True
    user.blocked_reason = reason
    audit.record(admin, "block", user, reason, bullying_count=user.bullying_count)
    db.session.commit()
    notify.account_blocked(user.id, reason)
    _changed("block", user)
    return user


def unblock_user(
    admin: User, username: str, reset_count: bool = True, reason: str | None = None
) -> User:
    """Unblock an account so it can log in and send again; the count restarts at 0.

    The account is read under its row lock, as a strike reads it: a strike committed
    since an earlier read (the one that blocked it, say) is reset with the others."""
    user = moderation.locked(users.get_by_username(username).id)
    previous = user.bullying_count
    user.is_blocked = False
    user.blocked_at = None
    user.blocked_reason = None
    decided = []
    if reset_count:
        user.bullying_count = 0
        decided = appeals.dismiss_all(admin, user, utcnow())
    audit.record(
        admin,
        "unblock",
        user,
        reason,
        reset_count=reset_count,
        previous_bullying_count=previous,
    )
    db.session.commit()
    for appeal in decided:
        appeals.reviewed(appeal, user)
    _changed("unblock", user)
    return user


def mute_user(
    admin: User, username: str, minutes: int, reason: str | None = None
) -> User:
    """Stop a user sending, posting and commenting for a number of minutes."""
    user = _target(admin, username, "mute")
    user.muted_until = utcnow() + timedelta(minutes=minutes)
    audit.record(
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
    user = users.get_by_username(username)
    user.muted_until = None
    audit.record(admin, "unmute", user, reason)
    db.session.commit()
    notify.muted(user.id, None)
    _changed("unmute", user)
    return user


def kick_user(
    admin: User, username: str, reason: str | None = None
) -> tuple[User, int]:
    """Close every live connection of a user without blocking; they may reconnect."""
    user = _target(admin, username, "kick")
    audit.record(admin, "kick", user, reason)
    db.session.commit()
    closed = notify.kicked(user.id, reason or KICK_REASON)
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


def list_flags(
    limit: int, cursor: str | None = None, status: str = "pending"
) -> Page[Flag]:
    """The moderation queue, newest first: pending, reviewed or all flags."""
    query = select(Flag)
    if status == "pending":
        query = query.where(Flag.reviewed_at.is_(None))
    elif status == "reviewed":
        query = query.where(Flag.reviewed_at.is_not(None))
    return keyset_page(query, Flag.id, limit=limit, cursor=cursor, newest_first=True)


class Removal(NamedTuple):
    """A message an admin took down, and whether it made its two people contacts
    until then (`contacts.makes_contact`, read before the change)."""

    message: Message
    made_contact: bool


def withhold_message(message_id: str) -> Removal | None:
    """An admin takes a message down (a flag's or a report's): withheld like a message
    held back by FLAGGED_MESSAGE_POLICY=withhold, kept for the record, no longer part
    of the conversation the receiver sees, nor of the contact rule. None when there is
    no such message, or it is withheld already (its receiver was told then, or never
    had it), or its sender unsent it (both were told then; it is withheld all the
    same, for the record): nothing to announce. After the commit, `removed` announces
    it."""
    message = db.session.scalar(select(Message).where(Message.id == message_id))
    if message is None or message.status == WITHHELD:
        return None
    unsent = message.deleted_at is not None
    removal = None if unsent else Removal(message, contacts.makes_contact(message))
    message.status = WITHHELD
    return removal


def removed(removal: Removal | None) -> None:
    """After the commit of a removal: `message_deleted` to the receiver's devices (the
    sender still sees the message, as its history does), and, when it was the last
    message that made the two contacts, `user_left` as after an unsend."""
    if removal is None:
        return
    message = removal.message
    notify.message_deleted(message, sender=False)
    messaging.note_removed(message.sender_id, message.receiver_id, removal.made_contact)


def _remove_item(flag: Flag) -> Removal | bool:
    """Take a flagged item down: the message's `Removal`, if it is one (announced
    after the commit by `removed`); False when the item was already gone."""
    if flag.item_type == MESSAGE:
        return withhold_message(flag.item_id) or False
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
        comments.remove_comment(comment)
        return True
    return False


def review_flag(
    admin: User, flag_id: int, action: str, note: str | None = None
) -> Flag:
    """Close a flag: `dismiss` keeps the item, `remove` takes it down."""
    flag = rows.found(Flag, flag_id, f"No flag with id {flag_id}.")
    now = utcnow()
    appeal, author = appeals.review_strike(admin, flag, action, now)
    taken_down = _remove_item(flag) if action == "remove" else False
    flag.reviewed_at = now
    flag.reviewed_by = admin
    flag.review_action = action
    audit.record(
        admin,
        f"review_{action}",
        flag.author,
        note,
        flag_id=flag.id,
        item_type=flag.item_type,
        item_id=flag.item_id,
        removed=bool(taken_down),
    )
    db.session.commit()
    if isinstance(taken_down, Removal):
        removed(taken_down)
    appeals.reviewed(appeal, author)
    _changed(f"review_{action}", flag.author)
    return flag

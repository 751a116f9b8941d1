"""Private messages: sent through the one publish path, read, listed, typed to.

`send_message` is used by the socket handler and by REST. The message is committed
before anyone hears of it: live events are emitted only after the commit, and a client
that missed one catches up from history.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import DBAPIError

from cyberscan.errors import Forbidden, NotFound, Unavailable, ValidationFailed
from cyberscan.extensions import db
from cyberscan.live import notify, presence
from cyberscan.models import (
    DELIVERED,
    MESSAGE,
    SAVED,
    WITHHELD,
    Message,
    User,
    conversation_key,
    utcnow,
)
from cyberscan.services import audit, contacts, moderation, users
from cyberscan.services.pagination import Page, keyset_page


def _validation(field: str, text: str) -> ValidationFailed:
    return ValidationFailed("The message is not valid.", errors={field: [text]})


def find_by_client_id(sender_id: int, client_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(
            Message.sender_id == sender_id, Message.client_id == client_id
        )
    )


def send_message(
    sender: User,
    receiver: str,
    message: str,
    client_id: str | None = None,
    *,
    origin_sid: str | None = None,
) -> Message:
    """Score, store and route one private message; a repeated client_id answers the first.

    The text arrives validated (trimmed, non-empty, within MAX_MESSAGE_LENGTH) by
    the message schemas, the one place that checks it.
    """
    sender_id = sender.id

    quiet = False

    def build() -> Message:
        nonlocal quiet
        target, quiet = contacts.recipient(sender_id, receiver)
        if target.id == sender_id:
            raise _validation("receiver", "You cannot send a message to yourself.")
        return Message(
            id=str(uuid.uuid4()),
            sender=sender,
            receiver=target,
            sender_id=sender_id,
            receiver_id=target.id,
            conversation_key=conversation_key(sender_id, target.id),
            content=message,
            client_id=client_id,
            created_at=utcnow(),
            is_read=False,
        )

    def existing() -> Message | None:
        return find_by_client_id(sender_id, client_id) if client_id else None

    def route(item: Message) -> None:
        withheld = item.is_bullying and (
            current_app.config["FLAGGED_MESSAGE_POLICY"] == "withhold"
        )
        online = presence.is_online(item.receiver_id)
        item.status = WITHHELD if withheld else DELIVERED if online else SAVED

    return moderation.publish(
        sender,
        MESSAGE,
        build,
        existing=existing,
        before_commit=route,
        after_commit=lambda item: notify.message_created(item, origin_sid, quiet),
    )


def mark_read(reader: User, message_ids: list[str]) -> dict[str, Any]:
    """Mark the caller's unread incoming messages read; tell each sender which ones."""
    wanted = set(message_ids)
    rows = db.session.execute(
        select(Message.seq, Message.id, Message.sender_id).where(
            Message.id.in_(wanted),
            Message.receiver_id == reader.id,
            Message.is_read.is_(False),
            Message.status != WITHHELD,
            Message.deleted_at.is_(None),
        )
    ).all()
    if rows:
        db.session.execute(
            update(Message)
            .where(Message.seq.in_([row.seq for row in rows]))
            .values(is_read=True, read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    reader_id, reader_name = reader.id, reader.username
    try:
        db.session.commit()
    except DBAPIError as exc:
        db.session.rollback()
        raise Unavailable("Could not mark the messages read.") from exc
    notify.messages_read(
        reader_id, reader_name, [(row.id, row.sender_id) for row in rows]
    )
    marked = [row.id for row in rows]
    return {"count": len(marked), "message_ids": marked}


def typing(sender: User, receiver: str, is_typing: bool) -> dict[str, Any]:
    """Relay a typing indicator to the receiver's connections: no database write."""
    target, _ = contacts.recipient(sender.id, receiver)
    if target.id == sender.id:
        raise _validation("receiver", "You cannot type to yourself.")
    notify.user_typing(target.id, sender.username, is_typing)
    return {"receiver": target.username, "is_typing": bool(is_typing)}


def visible_to(user_id: int) -> Any:
    """Messages a user may see: not unsent, and a withheld one not by its receiver."""
    return and_(
        Message.deleted_at.is_(None),
        ~and_(Message.status == WITHHELD, Message.receiver_id == user_id),
    )


def unsend(sender: User, message_id: str) -> Message:
    """The sender takes a message back: gone for both; its flag and audit entry stay."""
    message = db.session.scalar(
        select(Message).where(Message.id == message_id, visible_to(sender.id))
    )
    if message is None or not message.is_participant(sender):
        raise NotFound("No message with that id.")
    if message.sender_id != sender.id:
        raise Forbidden("Only the sender can unsend a message.")
    message.deleted_at = utcnow()
    audit.record(
        sender,
        "message_unsent",
        message.receiver_id,
        message_id=message.id,
        is_bullying=bool(message.is_bullying),
    )
    db.session.commit()
    notify.message_deleted(message)
    return message


def history(
    reader: User,
    other_name: str,
    *,
    limit: int,
    cursor: str | None = None,
    after: str | None = None,
) -> Page[Message]:
    """One page of the conversation between the reader and another user; no read-state change.

    Without `after`: newest page first, items oldest to newest within the page, and
    `next_cursor` goes back in time. With `after` (a message id): the messages newer
    than that one, oldest first, and `next_cursor` goes forward: catching up.
    """
    other = users.get_by_username(other_name)
    key = conversation_key(reader.id, other.id)
    query = select(Message).where(
        Message.conversation_key == key, visible_to(reader.id)
    )
    if after is None:
        page = keyset_page(
            query, Message.seq, limit=limit, cursor=cursor, newest_first=True
        )
        page.items.reverse()
        return page
    anchor = db.session.scalar(
        select(Message.seq).where(
            Message.id == after, Message.conversation_key == key, visible_to(reader.id)
        )
    )
    if anchor is None:
        raise NotFound("No message with that id in this conversation.")
    query = query.where(Message.seq > anchor)
    return keyset_page(
        query, Message.seq, limit=limit, cursor=cursor, newest_first=False
    )


def conversations(reader: User) -> list[dict[str, Any]]:
    """Every conversation of the reader, most recent first, in two queries."""
    mine = or_(Message.sender_id == reader.id, Message.receiver_id == reader.id)
    latest = (
        select(func.max(Message.seq))
        .where(mine, visible_to(reader.id))
        .group_by(Message.conversation_key)
    )
    other = case(
        (Message.sender_id == reader.id, Message.receiver_id), else_=Message.sender_id
    )
    rows = db.session.execute(
        select(Message, contacts.blocked_with(reader.id, other))
        .where(Message.seq.in_(latest))
        .order_by(Message.seq.desc())
    ).all()
    unread = dict(
        db.session.execute(
            select(Message.sender_id, func.count())
            .where(
                Message.receiver_id == reader.id,
                Message.is_read.is_(False),
                Message.status != WITHHELD,
                Message.deleted_at.is_(None),
                Message.sender_id.not_in(contacts.muted_ids(reader.id)),
            )
            .group_by(Message.sender_id)
        ).all()
    )
    # Presence is private: only contacts (not blocked either way) show as online.
    online = presence.get_presence().online_among(
        m.receiver_id if m.sender_id == reader.id else m.sender_id
        for m, blocked in rows
        if not blocked
    )
    result = []
    for message, _ in rows:
        other = message.receiver if message.sender_id == reader.id else message.sender
        result.append(
            {
                "username": other.username,
                "last_message": message,
                "unread_count": unread.get(other.id, 0),
                "online": other.id in online,
            }
        )
    return result

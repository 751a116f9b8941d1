"""The one message pipeline (STYLE.md §1): rate limit, policy, score, store, then route.

`send_message` is used by the socket handler and by REST. The message is committed
before anyone hears of it: live events are emitted only after the commit, and a client
that missed one catches up from history.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import Connection, and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from cyberscan.detector import Verdict, get_detector
from cyberscan.errors import (
    AccountBlocked,
    Conflict,
    Muted,
    NotFound,
    Unavailable,
    ValidationFailed,
)
from cyberscan.extensions import db
from cyberscan.models import (
    DELIVERED,
    MESSAGE,
    SAVED,
    WITHHELD,
    Comment,
    Message,
    Post,
    User,
    conversation_key,
    isoformat,
    utcnow,
)
from cyberscan.realtime import notify, presence
from cyberscan.schemas.message import MessageSchema, MessageSentSchema
from cyberscan.services import moderation, ratelimit, users
from cyberscan.services.group_commit import GroupCommit
from cyberscan.services.pagination import Page, keyset_page

message_schema = MessageSchema()
sent_schema = MessageSentSchema()


WRITER = "cyberscan.message_writer"


class Person(Protocol):
    """Who sends: a `User`, or the identity a socket connection holds."""

    id: int
    username: str


@dataclass
class SendResult:
    """What the sender is told: the message object and the `message_sent` payload."""

    message: dict[str, Any]
    sent: dict[str, Any]
    created: bool

    @property
    def item(self) -> Message:
        """The stored row as an ORM object (REST answers with it; one query)."""
        return db.session.scalars(
            select(Message).where(Message.id == self.message["id"])
        ).one()


def _validation(field: str, text: str) -> ValidationFailed:
    return ValidationFailed("The message is not valid.", errors={field: [text]})


def find_by_client_id(sender_id: int, client_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(
            Message.sender_id == sender_id, Message.client_id == client_id
        )
    )


def _replay(existing: Message) -> SendResult:
    return SendResult(
        message_schema.dump(existing), sent_schema.dump(existing), created=False
    )


def message_payload(row: dict[str, Any], sender: str, receiver: str) -> dict[str, Any]:
    """The message object (MessageSchema's fields) from a row, without a schema pass."""
    return {
        "id": row["id"],
        "sender": sender,
        "receiver": receiver,
        "message": row["content"],
        "timestamp": isoformat(row["created_at"]),
        "is_bullying": row["is_bullying"],
        "bullying_probability": row["bullying_probability"],
        "is_read": row["is_read"],
        "client_id": row["client_id"],
        "status": row["status"],
    }


def sent_payload(row: dict[str, Any]) -> dict[str, Any]:
    """`message_sent` (MessageSentSchema's fields) from a row."""
    return {
        "id": row["id"],
        "client_id": row["client_id"],
        "status": row["status"],
        "timestamp": isoformat(row["created_at"]),
        "is_bullying": row["is_bullying"],
        "bullying_probability": row["bullying_probability"],
    }


def _restricted_senders(
    conn: Connection, rows: list[dict[str, Any]]
) -> dict[int, Exception]:
    """The writer's one check per batch: rows whose sender is blocked or muted now."""
    table = User.__table__
    now = utcnow()
    found = conn.execute(
        select(table.c.id, table.c.is_blocked, table.c.muted_until).where(
            table.c.id.in_({row["sender_id"] for row in rows}),
            or_(table.c.is_blocked.is_(True), table.c.muted_until > now),
        )
    ).all()
    if not found:
        return {}
    refusal: dict[int, Exception] = {}
    for user_id, is_blocked, muted_until in found:
        refusal[user_id] = AccountBlocked() if is_blocked else Muted(muted_until)
    return {
        index: refusal[row["sender_id"]]
        for index, row in enumerate(rows)
        if row["sender_id"] in refusal
    }


def message_writer() -> GroupCommit:
    """The app's group-commit writer for messages (created on first use)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    writer = app.extensions.get(WRITER)
    if writer is None:
        engine = db.engine
        if engine.dialect.name == "sqlite":
            # WAL: readers never block the writer's commit (and the reverse); the
            # setting is kept in the database file.
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        writer = GroupCommit(engine, Message.__table__, guard=_restricted_senders)
        app.extensions[WRITER] = writer
    return writer


def _checked(message: Any, client_id: str | None) -> str:
    text = message.strip() if isinstance(message, str) else ""
    if not text:
        raise _validation("message", "Must not be empty.")
    limit = int(current_app.config["MAX_MESSAGE_LENGTH"])
    if len(text) > limit:
        raise _validation("message", f"Longer than maximum length {limit}.")
    if client_id is not None and not 0 < len(client_id) <= 64:
        raise _validation("client_id", "Length must be between 1 and 64.")
    return text


def send_message(
    sender: Person,
    receiver: str,
    message: str,
    client_id: str | None = None,
    *,
    origin_sid: str | None = None,
) -> SendResult:
    """Score, store and route one private message; a repeated client_id answers the first.

    The row goes through the group-commit writer, which also refuses a blocked or
    muted sender; a flagged message takes the strike path in its own transaction.
    """
    ratelimit.hit("SEND_LIMIT_PER_USER", sender.id)
    text = _checked(message, client_id)
    target = users.lookup(receiver)
    if target.id == sender.id:
        raise _validation("receiver", "You cannot send a message to yourself.")
    verdict = get_detector().score(text)
    flagged = verdict.is_bullying(moderation.threshold())
    if flagged:
        return _send_flagged(sender, target, text, client_id, verdict, origin_sid)
    receiver_online, sender_sids = presence.get_presence().routing(target.id, sender.id)
    status = DELIVERED if receiver_online else SAVED
    row = {
        "id": str(uuid.uuid4()),
        "sender_id": sender.id,
        "receiver_id": target.id,
        "conversation_key": conversation_key(sender.id, target.id),
        "content": text,
        "client_id": client_id,
        "created_at": utcnow(),
        "is_read": False,
        "read_at": None,
        "status": status,
        "bullying_probability": float(verdict.probability),
        "is_bullying": False,
        "model_version": verdict.model_version,
        "terms": list(verdict.terms),
    }
    # A transaction left open by the caller (REST loaded current_user) would hide a
    # concurrent copy from the replay lookup, and on SQLite hold a lock the writer needs.
    if db.session.registry.has() and db.session().in_transaction():
        db.session.rollback()
    try:
        stored = message_writer().store(row)
    except DBAPIError as exc:
        current_app.logger.error("message not stored: %s", exc.__class__.__name__)
        raise Unavailable("The message could not be stored; it was not sent.") from exc
    if not stored:
        existing = find_by_client_id(sender.id, client_id) if client_id else None
        if existing is None:
            raise Conflict("The message could not be stored.")
        return _replay(existing)
    payload = message_payload(row, sender.username, target.username)
    sent = sent_payload(row)
    _route(sender.id, target.id, payload, sent, origin_sid, sender_sids, deliver=True)
    return SendResult(payload, sent, created=True)


def _route(
    sender_id: int,
    receiver_id: int,
    payload: dict[str, Any],
    sent: dict[str, Any],
    origin_sid: str | None,
    sender_sids: set[str] | None,
    *,
    deliver: bool,
) -> None:
    """After the commit: the receiver, the sender's other devices, the sending one."""
    if deliver:
        notify.to_user(receiver_id, "receive_message", payload)
    if origin_sid is None:
        notify.to_user(sender_id, "receive_message", payload)
        return
    # One emit per recipient: the sender's other devices only if there are any (with
    # a message queue every emit costs every process), and the sending connection,
    # which is on this process, directly.
    if sender_sids is None:
        sender_sids = presence.get_presence().sids(sender_id)
    if sender_sids - {origin_sid}:
        notify.to_user(sender_id, "receive_message", payload, skip_sid=origin_sid)
    notify.to_own_connection(origin_sid, "message_sent", sent)


def _send_flagged(
    sender: Person,
    target: Person,
    text: str,
    client_id: str | None,
    verdict: Verdict,
    origin_sid: str | None,
) -> SendResult:
    """The strike path: the message, its strike and flag in one transaction, row locked."""
    author = db.session.get(User, sender.id)
    if author is None:
        raise AccountBlocked()
    moderation.ensure_can_post(author)
    item = Message(
        id=str(uuid.uuid4()),
        sender_id=author.id,
        receiver_id=target.id,
        conversation_key=conversation_key(author.id, target.id),
        content=text,
        client_id=client_id,
        created_at=utcnow(),
        is_read=False,
    )
    moderation.record(item, verdict)
    withheld = item.is_bullying and (
        current_app.config["FLAGGED_MESSAGE_POLICY"] == "withhold"
    )
    receiver_online = presence.is_online(target.id)
    item.status = WITHHELD if withheld else DELIVERED if receiver_online else SAVED
    row = {c: getattr(item, c) for c in ("id", "content", "client_id", "created_at")}
    row.update(
        is_read=False,
        status=item.status,
        is_bullying=item.is_bullying,
        bullying_probability=item.bullying_probability,
    )
    payload = message_payload(row, author.username, target.username)
    sent = sent_payload(row)
    try:
        strike = moderation.stage(author, MESSAGE, item)
        db.session.commit()
    except IntegrityError:
        # The same sender and client_id raced another copy of this message: answer
        # with the one that won (the unique constraint decides).
        db.session.rollback()
        existing = find_by_client_id(sender.id, client_id) if client_id else None
        if existing is None:
            raise
        return _replay(existing)
    except DBAPIError as exc:
        db.session.rollback()
        current_app.logger.error("message not stored: %s", exc.__class__.__name__)
        raise Unavailable("The message could not be stored; it was not sent.") from exc
    _route(sender.id, target.id, payload, sent, origin_sid, None, deliver=not withheld)
    moderation.settle(strike)
    return SendResult(payload, sent, created=True)


def mark_read(reader: User, message_ids: list[str]) -> dict[str, Any]:
    """Mark the caller's unread incoming messages read; tell each sender which ones."""
    wanted = set(message_ids)
    rows = db.session.execute(
        select(Message.seq, Message.id, Message.sender_id).where(
            Message.id.in_(wanted),
            Message.receiver_id == reader.id,
            Message.is_read.is_(False),
            Message.status != WITHHELD,
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
    by_sender: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        by_sender[row.sender_id].append(row.id)
    for sender_id, ids in by_sender.items():
        notify.to_user(
            sender_id, "messages_read", {"reader": reader_name, "message_ids": ids}
        )
    marked = [row.id for row in rows]
    result = {"count": len(marked), "message_ids": marked}
    notify.to_user(reader_id, "messages_marked_read", result)
    return result


def typing(sender: User, receiver: str, is_typing: bool) -> dict[str, Any]:
    """Relay a typing indicator to the receiver's connections: no database write."""
    target = users.get_by_username(receiver)
    if target.id == sender.id:
        raise _validation("receiver", "You cannot type to yourself.")
    payload = {"sender": sender.username, "is_typing": bool(is_typing)}
    notify.to_user(target.id, "user_typing", payload)
    return {"receiver": target.username, "is_typing": bool(is_typing)}


def visible_to(user_id: int) -> Any:
    """Messages a user may see: a withheld message is hidden from its receiver."""
    return ~and_(Message.status == WITHHELD, Message.receiver_id == user_id)


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
    last_messages = db.session.scalars(
        select(Message).where(Message.seq.in_(latest)).order_by(Message.seq.desc())
    ).all()
    unread = dict(
        db.session.execute(
            select(Message.sender_id, func.count())
            .where(
                Message.receiver_id == reader.id,
                Message.is_read.is_(False),
                Message.status != WITHHELD,
            )
            .group_by(Message.sender_id)
        ).all()
    )
    online = presence.online_user_ids()
    result = []
    for message in last_messages:
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


def online_users(reader: User) -> list[dict[str, Any]]:
    """Every other active (not blocked) user and whether they are online."""
    rows = db.session.execute(
        select(User.id, User.username)
        .where(User.id != reader.id, User.is_blocked.is_(False))
        .order_by(User.username_key)
    ).all()
    online = presence.online_user_ids()
    return [{"username": row.username, "online": row.id in online} for row in rows]


def bullying_report(user: User) -> dict[str, Any]:
    """The user's own standing: strikes, the limit, and what was flagged."""
    limit = moderation.max_bullying_count()
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


def can_chat(user: User) -> dict[str, Any]:
    """Whether the user may send now, and if not why (the same rule send_message applies)."""
    try:
        moderation.ensure_can_post(user)
    except AccountBlocked:
        return {"can_chat": False, "reason": "blocked", "muted_until": None}
    except Muted:
        return {
            "can_chat": False,
            "reason": f"muted until {isoformat(user.muted_until)}",
            "muted_until": user.muted_until,
        }
    return {"can_chat": True, "reason": None, "muted_until": None}

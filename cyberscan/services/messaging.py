"""Private messages: sent through the one publish path, read, listed, typed to.

`send_message` is used by the socket handler and by REST. The message is committed
before anyone hears of it: live events are emitted only after the commit, and a client
that missed one catches up from history.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import (
    Connection,
    Integer,
    and_,
    bindparam,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cyberscan.detector import get_detector
from cyberscan.errors import (
    AccountBlocked,
    Conflict,
    Forbidden,
    Muted,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationFailed,
    database_detail,
    log_unavailable,
)
from cyberscan.extensions import db
from cyberscan.live import connections, notify, presence
from cyberscan.models import (
    DELIVERED,
    MESSAGE,
    SAVED,
    WITHHELD,
    Message,
    User,
    UserBlock,
    UserMute,
    conversation_key,
    utcnow,
)
from cyberscan.services import (
    audit,
    contacts,
    group_commit,
    moderation,
    ratelimit,
    users,
)
from cyberscan.services.group_commit import GroupCommit, Verdicts
from cyberscan.services.pagination import Page, keyset_page


def _validation(field: str, text: str) -> ValidationFailed:
    return ValidationFailed("The message is not valid.", errors={field: [text]})


def find_by_client_id(sender_id: int, client_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(
            Message.sender_id == sender_id, Message.client_id == client_id
        )
    )


WRITER = "cyberscan.message_writer"


class Person(Protocol):
    """Who sends: a `User`, or the identity a socket connection holds."""

    id: int
    username: str


@dataclass(slots=True)
class StoredMessage:
    """A message the group-commit writer stored: what its events and answers show."""

    id: str
    sender: Person
    receiver: Person
    content: str
    client_id: str | None
    created_at: datetime
    status: str
    bullying_probability: float
    is_bullying: bool = False
    is_read: bool = False
    # The `message_sent` payload once built: the acknowledgement reuses it.
    sent: dict[str, Any] | None = None

    @property
    def sender_id(self) -> int:
        return self.sender.id

    @property
    def receiver_id(self) -> int:
        return self.receiver.id


def _guard_statement(dialect: str) -> Any:
    """The batch check's one query, built once per dialect (rebuilding the union of
    three selects for every batch cost more CPU than running it): restricted people
    among the batch's, the blocks between them, and who of them muted a sender."""
    users_, blocks, mutes = User.__table__, UserBlock.__table__, UserMute.__table__
    people = bindparam("people", expanding=True)
    # Senders' standing is filtered in Python: a receiver's is not asked for.
    standing = select(
        literal("user"),
        users_.c.id,
        cast(users_.c.is_blocked, Integer),
        users_.c.muted_until,
    ).where(
        users_.c.id.in_(people),
        or_(
            users_.c.is_blocked.is_(True),
            users_.c.muted_until > bindparam("now", type_=users_.c.muted_until.type),
        ),
    )
    if dialect != "sqlite":
        # The INSERT's foreign key checks would take a shared lock on every sender's
        # and receiver's row, one row after the other in the batch's order, while a
        # strike transaction holds its author's row exclusively: they could wait in a
        # cycle (InnoDB deadlock 1213). Taken here first, in id order, as the strike
        # path takes its own (`moderation.stage_strike`), they cannot. Under
        # REPEATABLE READ (the default) InnoDB keeps the lock of every row the scan
        # read (here the primary key's range: muted_until has no index), not only of
        # the rows returned, so only restricted people come back.
        standing = standing.order_by(users_.c.id).with_for_update(read=True)
    return union_all(
        select(
            literal("block"),
            blocks.c.blocker_id,
            blocks.c.blocked_id,
            # The first member types the union's columns: muted_until's here.
            type_coerce(null(), users_.c.muted_until.type),
        ).where(blocks.c.blocker_id.in_(people), blocks.c.blocked_id.in_(people)),
        standing,
        select(literal("mute"), mutes.c.muter_id, mutes.c.muted_id, null()).where(
            mutes.c.muter_id.in_(people),
            mutes.c.muted_id.in_(bindparam("senders", expanding=True)),
        ),
    )


_GUARDS: dict[str, Any] = {}


def _batch_check(conn: Connection, rows: list[dict[str, Any]]) -> Verdicts:
    """The writer's one check per batch, inside its transaction: a sender blocked or
    muted by the moderators, or a block between the two people, refuses the row; a
    receiver who muted the sender makes it quiet (stored, not pushed to them)."""
    senders = {row["sender_id"] for row in rows}
    people = senders | {row["receiver_id"] for row in rows}
    dialect = conn.dialect.name
    statement = _GUARDS.get(dialect)
    if statement is None:
        statement = _GUARDS[dialect] = _guard_statement(dialect)
    found = conn.execute(
        statement,
        {"people": sorted(people), "senders": sorted(senders), "now": utcnow()},
    ).all()
    if not found:
        return {}, {}
    restricted: dict[int, BaseException] = {}
    blocked: set[tuple[int, int]] = set()
    muted: set[tuple[int, int]] = set()
    for kind, first, second, muted_until in found:
        if kind == "user":
            if first in senders:
                restricted[first] = AccountBlocked() if second else Muted(muted_until)
        elif kind == "block":
            blocked.update({(first, second), (second, first)})
        else:
            muted.add((first, second))
    blocked_senders = [
        person
        for person, error in restricted.items()
        if isinstance(error, AccountBlocked)
    ]
    if blocked_senders:
        # Rare (the handler refused them before, unless a block came in between), so
        # their reasons are asked for here, not in every batch's query.
        users_ = User.__table__
        for person, reason in conn.execute(
            select(users_.c.id, users_.c.blocked_reason).where(
                users_.c.id.in_(blocked_senders)
            )
        ):
            restricted[person] = AccountBlocked.because(reason)
    refused: dict[int, BaseException] = {}
    quiet: dict[int, Any] = {}
    for index, row in enumerate(rows):
        sender, receiver = row["sender_id"], row["receiver_id"]
        if sender in restricted:
            refused[index] = restricted[sender]
        elif (sender, receiver) in blocked:
            refused[index] = Forbidden(contacts.BLOCKED_MESSAGE)
        elif (receiver, sender) in muted:
            quiet[index] = True
    return refused, quiet


def message_writer() -> GroupCommit:
    """The app's group-commit writer for messages (created once, on first use)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    writer = app.extensions.get(WRITER)
    if writer is not None:
        return writer
    with _WRITER_CREATED:
        writer = app.extensions.get(WRITER)
        if writer is None:
            engine = db.engine
            if engine.dialect.name == "sqlite":
                _journal_wal(engine)
            writer = GroupCommit(engine, Message.__table__, guard=_batch_check)
            app.extensions[WRITER] = writer
    return writer


_WRITER_CREATED = threading.Lock()


def _journal_wal(engine: Engine) -> None:
    """WAL: readers never block the writer's commit (nor it them); the mode is kept in
    the database file. Switching needs the file to itself: a first message sent while
    a strike transaction writes is "database is locked" until that one commits."""
    attempt = 1
    while True:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            return
        except DBAPIError as exc:
            if attempt >= group_commit.ATTEMPTS or not group_commit.lock_conflict(exc):
                raise
            group_commit.pause(attempt)
            attempt += 1


def send_message(
    sender: Person,
    receiver: str,
    message: str,
    client_id: str | None = None,
    *,
    origin_sid: str | None = None,
) -> Message | StoredMessage:
    """Score, store and route one private message; a repeated client_id answers the first.

    The text arrives validated (trimmed, non-empty, within MAX_MESSAGE_LENGTH) by
    the message schemas, the one place that checks it. A flagged message takes the
    publish path with its strike and row lock; every other one is stored by the
    group-commit writer, which re-checks that the sender is neither blocked nor muted
    inside the transaction that stores it, with the blocks and mutes between the two
    people. Either way nothing is announced or acknowledged before the commit.
    """
    try:
        return _send(sender, receiver, message, client_id, origin_sid)
    except (RateLimited, Muted, Forbidden):
        # A reconnecting client resends what was not acknowledged. A retry stores
        # nothing, so whatever refuses new messages now (the send limit, a mute, a
        # block since) it is answered with the copy stored before. Looked up only
        # on a refusal, off the hot path.
        first = find_by_client_id(sender.id, client_id) if client_id else None
        if first is None:
            raise
        return _answer_retry(first, origin_sid)


def _send(
    sender: Person,
    receiver: str,
    message: str,
    client_id: str | None,
    origin_sid: str | None,
) -> Message | StoredMessage:
    target = users.lookup(receiver)
    if target.id == sender.id:
        raise _validation("receiver", "You cannot send a message to yourself.")
    verdict = get_detector().score(message)
    if verdict.is_bullying(moderation.threshold()):
        return _publish_flagged(sender, receiver, message, client_id, origin_sid)
    ratelimit.hit("SEND_LIMIT_PER_USER", sender.id)
    online, sender_sids = presence.get_presence().routing(target.id, sender.id)
    item = StoredMessage(
        id=str(uuid.uuid4()),
        sender=sender,
        receiver=target,
        content=message,
        client_id=client_id,
        created_at=utcnow(),
        status=DELIVERED if online else SAVED,
        bullying_probability=float(verdict.probability),
    )
    row = {
        "id": item.id,
        "sender_id": sender.id,
        "receiver_id": target.id,
        "conversation_key": conversation_key(sender.id, target.id),
        "content": message,
        "client_id": client_id,
        "created_at": item.created_at,
        "is_read": False,
        "read_at": None,
        "status": item.status,
        "bullying_probability": item.bullying_probability,
        "is_bullying": False,
        "model_version": verdict.model_version,
        "terms": list(verdict.terms),
    }
    # A transaction the caller left open (REST loaded current_user) would hide a
    # concurrent copy from the lookup below, and on SQLite hold a lock the writer needs.
    if db.session.registry.has() and db.session().in_transaction():
        db.session.rollback()
    try:
        stored, quiet = message_writer().store(row)
    except (DBAPIError, PoolTimeout) as exc:
        # Once, then a counting line per OUTAGE_LOG_SECONDS, as REST's refusals.
        log_unavailable(current_app.logger, "database", database_detail(exc))
        raise Unavailable("The message could not be stored; it was not sent.") from exc
    if not stored:
        # The unique constraint refused a retry: answer with the first copy.
        existing = find_by_client_id(sender.id, client_id) if client_id else None
        if existing is None:
            raise Conflict("The message could not be stored.")
        return _answer_retry(existing, origin_sid)
    notify.message_created(item, origin_sid, bool(quiet), sender_sids)
    if online and sender_sids:
        _note_contact(sender.id, target.id, item.id)
    return item


def _publish_flagged(
    sender: Person,
    receiver: str,
    message: str,
    client_id: str | None,
    origin_sid: str | None,
) -> Message:
    """The rare flagged message: the one publish path, strike and row lock included."""
    author = sender if isinstance(sender, User) else db.session.get(User, sender.id)
    if author is None:
        raise Unauthorized("The account no longer exists.")
    sender_id = author.id
    quiet = False

    def build() -> Message:
        nonlocal quiet
        target, quiet = contacts.recipient(sender_id, receiver)
        if target.id == sender_id:
            raise _validation("receiver", "You cannot send a message to yourself.")
        return Message(
            id=str(uuid.uuid4()),
            sender=author,
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
        found = find_by_client_id(sender_id, client_id) if client_id else None
        return None if found is None else _answer_retry(found, origin_sid)

    def route(item: Message) -> None:
        withheld = item.is_bullying and (
            current_app.config["FLAGGED_MESSAGE_POLICY"] == "withhold"
        )
        online = presence.is_online(item.receiver_id)
        item.status = WITHHELD if withheld else DELIVERED if online else SAVED

    return moderation.publish(
        author,
        MESSAGE,
        build,
        existing=existing,
        before_commit=route,
        after_commit=lambda item: _published(item, origin_sid, quiet),
    )


def _answer_retry(first: Message, origin_sid: str | None) -> Message:
    """A retry answered by the first copy: the retrying connection gets that copy's
    `message_sent` again, since the first one was likely lost with the connection the
    client retries for, and a client that uses no acknowledgements waits for the event.
    Nobody else is told again (`quiet`, and no other device of the sender). A retry
    of a message unsent since is told it is gone, as a deleted post's is."""
    if first.deleted_at is not None:
        raise NotFound("This message was sent before and has been unsent since.")
    if origin_sid is not None:
        notify.message_created(first, origin_sid, quiet=True, sender_sids=set())
    return first


def _published(item: Message, origin_sid: str | None, quiet: bool) -> None:
    notify.message_created(item, origin_sid, quiet)
    if item.status == DELIVERED:
        _note_contact(item.sender_id, item.receiver_id, item.id)


KNOWN_PAIRS = "cyberscan.known_pairs"
# How long a process trusts that two people are contacts without asking the database
# again. An unsend or an admin's removal forgets the pair on every process at once
# (`note_removed`); the time bounds what a forget lost to a Redis outage leaves wrong.
KNOWN_PAIR_SECONDS = 60.0
KNOWN_PAIRS_PRUNE_AT = 10_000


def _known_pairs() -> dict[str, float]:
    """This process's contact pairs known until when; created with the hook that lets
    any process's `note_removed` drop one."""
    known = current_app.extensions.get(KNOWN_PAIRS)
    if known is None:
        known = current_app.extensions[KNOWN_PAIRS] = {}
        connections.manager(current_app).on_forget(lambda key: known.pop(key, None))
    return known


def _note_contact(sender_id: int, receiver_id: int, message_id: str) -> None:
    """A visible message between two people, the receiver online: when it is the
    first between them they just became contacts, and each online one learns the
    other's presence (`user_joined`). Pairs known to be contacts are remembered for
    KNOWN_PAIR_SECONDS, so a conversation costs this query once a minute, not once
    a message."""
    known = _known_pairs()
    key, now = conversation_key(sender_id, receiver_id), time.monotonic()
    if known.get(key, 0.0) > now:
        return
    earlier = db.session.scalar(select(contacts.exchanged(key, besides=message_id)))
    if len(known) >= KNOWN_PAIRS_PRUNE_AT:
        for stale, until in list(known.items()):
            if until <= now:
                known.pop(stale, None)
    known[key] = now + KNOWN_PAIR_SECONDS
    if not earlier:
        contacts.show_presence(sender_id, receiver_id)


def note_removed(sender_id: int, receiver_id: int, made_contact: bool) -> None:
    """After a message left the contact rule (the sender unsent it, an admin removed
    it): when it was the last that made the two contacts, each online one goes offline
    for the other (`user_left`). `made_contact` is `contacts.makes_contact` read before
    the change: a message withheld or unsent already changes nothing."""
    if not made_contact:
        return
    key = conversation_key(sender_id, receiver_id)
    still, blocked = db.session.execute(
        select(
            contacts.exchanged(key),
            contacts.blocked_with(sender_id, receiver_id),
        )
    ).one()
    if still:
        return
    # No process may go on taking them for contacts: the next message between them
    # is a first again, which shows each to the other.
    notify.forget_everywhere(key)
    if not blocked:  # blocked: they were no contacts already
        contacts.hide_presence(sender_id, receiver_id)


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
    # A sender on the other side of a block learns nothing live of the reader (API.md
    # §9: neither sees the other's presence); the reader's own devices still do.
    blocked = contacts.blocked_among(reader_id, {row.sender_id for row in rows})
    notify.messages_read(
        reader_id,
        reader_name,
        [(row.id, row.sender_id) for row in rows],
        untold=blocked,
    )
    marked = [row.id for row in rows]
    return {"count": len(marked), "message_ids": marked}


def typing(sender: User, receiver: str, is_typing: bool) -> dict[str, Any]:
    """Relay a typing indicator to the receiver's connections: no database write.

    A receiver who muted the sender gets none, as they get no `receive_message` from
    them (`quiet`): decided here, before anything is published, so no process relays
    it; nor does an offline one. The sender is answered the same either way (neither
    a mute nor presence is revealed). Asking presence first also means that while
    Redis is down a typing indicator is refused as a message is (`unavailable`),
    never acknowledged when no other process can relay it. A sender muted by the
    moderators is refused (`muted`), as their messages are."""
    moderation.ensure_can_post(sender)
    target, quiet = contacts.recipient(sender.id, receiver)
    if target.id == sender.id:
        raise _validation("receiver", "You cannot type to yourself.")
    if not quiet and presence.is_online(target.id):
        notify.user_typing(target.id, sender.username, is_typing)
    return {"receiver": target.username, "is_typing": bool(is_typing)}


def visible_to(user_id: int) -> Any:
    """Messages a user may see: not unsent, and a withheld one not by its receiver."""
    return and_(
        Message.deleted_at.is_(None),
        ~and_(Message.status == WITHHELD, Message.receiver_id == user_id),
    )


def involving(user_id: int) -> Any:
    """SQL: messages the user sent or received."""
    return or_(Message.sender_id == user_id, Message.receiver_id == user_id)


def gone(reader: User, message_ids: list[str]) -> list[str]:
    """Those of `message_ids` the reader cannot see (any more), in the order given,
    once each: unsent, withheld from them, not theirs, or no message at all. What a
    client that was offline missed of `message_deleted`."""
    wanted = list(dict.fromkeys(message_ids))
    seen = set(
        db.session.scalars(
            select(Message.id).where(
                Message.id.in_(wanted),
                involving(reader.id),
                visible_to(reader.id),
            )
        )
    )
    return [message_id for message_id in wanted if message_id not in seen]


def unsend(sender: User, message_id: str) -> Message:
    """The sender takes a message back: gone for both; its flag and audit entry stay."""
    message = db.session.scalar(
        select(Message).where(Message.id == message_id, visible_to(sender.id))
    )
    if message is None or not message.is_participant(sender):
        raise NotFound("No message with that id.")
    if message.sender_id != sender.id:
        raise Forbidden("Only the sender can unsend a message.")
    pair = (message.sender_id, message.receiver_id, contacts.makes_contact(message))
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
    note_removed(*pair)
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
    than that one, oldest first, and `next_cursor` goes forward: catching up. The
    anchor may be one since unsent or withheld; an id from elsewhere is NotFound.
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
    # An unsent or withheld anchor is still a position in this conversation (its
    # content is never shown): a client that saw it must be able to catch up past it.
    anchor = db.session.scalar(
        select(Message.seq).where(Message.id == after, Message.conversation_key == key)
    )
    if anchor is None:
        raise NotFound("No message with that id in this conversation.")
    query = query.where(Message.seq > anchor)
    return keyset_page(
        query, Message.seq, limit=limit, cursor=cursor, newest_first=False
    )


def conversations(reader: User) -> list[dict[str, Any]]:
    """Every conversation of the reader, most recent first, in two queries."""
    mine = involving(reader.id)
    latest = (
        select(func.max(Message.seq))
        .where(mine, visible_to(reader.id))
        .group_by(Message.conversation_key)
    )
    rows = db.session.scalars(
        select(Message).where(Message.seq.in_(latest)).order_by(Message.seq.desc())
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
    # Presence is private (API.md §9): only contacts show as online, by the rule
    # presence events follow (a withheld or unsent message makes no contact).
    online = presence.get_presence().online_among(contacts.contact_ids(reader.id))
    result = []
    for message in rows:
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

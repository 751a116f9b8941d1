"""Who reaches whom (API.md §9): contacts and private presence, blocks, mutes, search.

A user's contacts are the people they exchanged a visible message with, either way,
and neither blocked. Presence (`online_users`, `user_joined`, `user_left`, the online
flags of REST lists) reaches contacts only, so a connect costs events in proportion
to the user's online contacts, never to everyone connected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, or_, select, true, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from cyberscan.errors import Forbidden, ValidationFailed
from cyberscan.extensions import db
from cyberscan.live import notify, presence
from cyberscan.models import WITHHELD, Message, User, UserBlock, UserMute, utcnow
from cyberscan.services import ratelimit, users
from cyberscan.services.pagination import Page, keyset_page

# Neutral on purpose: the person refused must not learn who blocked whom.
BLOCKED_MESSAGE = "You cannot message this person."


def _exchanged() -> Any:
    """Messages that make two people contacts: not withheld, not unsent."""
    return and_(Message.status != WITHHELD, Message.deleted_at.is_(None))


def makes_contact(message: Message) -> bool:
    """`_exchanged` for one loaded message: whether it counts toward its two people
    being contacts (read before an unsend or a removal changes it)."""
    return message.status != WITHHELD and message.deleted_at is None


def contact_ids(user_id: int) -> set[int]:
    """The user's contacts: exchanged a message either way, and not blocked either way."""
    return set(contact_names(user_id))


def _contacts_statement() -> Any:
    """SELECT id, username of the contacts of :user_id (built once: a connect runs it)."""
    user_id = bindparam("user_id")
    exchanged = union(
        select(Message.receiver_id.label("id")).where(
            Message.sender_id == user_id, _exchanged()
        ),
        select(Message.sender_id.label("id")).where(
            Message.receiver_id == user_id, _exchanged()
        ),
    ).subquery()
    return (
        select(User.id, User.username)
        .join(exchanged, User.id == exchanged.c.id)
        .where(User.id != user_id, User.id.not_in(_blocked_either_way(user_id)))
    )


def _blocked_either_way(user_id: Any) -> Any:
    """SQL: the ids of everyone the user (an id or a bind parameter) blocked or was
    blocked by."""
    return union(
        select(UserBlock.blocked_id.label("id")).where(UserBlock.blocker_id == user_id),
        select(UserBlock.blocker_id.label("id")).where(UserBlock.blocked_id == user_id),
    )


CONTACTS = _contacts_statement()
CONTACTS_FROM = CONTACTS.subquery("contacts")
_USERS = User.__table__.c
# A user's name and contacts with their names: one row per contact, or one row with
# no contact (LEFT JOIN ... ON true), so `user_left` needs one query per user.
NAME_AND_CONTACTS = (
    select(
        _USERS.username,
        CONTACTS_FROM.c.id.label("contact_id"),
        CONTACTS_FROM.c.username.label("contact_name"),
    )
    .select_from(User.__table__)
    .outerjoin(CONTACTS_FROM, true())
    .where(_USERS.id == bindparam("user_id"))
)


def contact_names(user_id: int) -> dict[int, str]:
    """The user's contacts (as `contact_ids`) by id, with their names: one query."""
    rows = db.session.execute(CONTACTS, {"user_id": user_id})
    return dict(rows.tuples().all())


def exchanged(key: str, besides: str | None = None) -> Any:
    """SQL: a message of the conversation `key` that makes its two people contacts,
    `besides` (a message id) not counted."""
    query = select(Message.seq).where(Message.conversation_key == key, _exchanged())
    if besides is not None:
        query = query.where(Message.id != besides)
    return query.exists()


def blocked_with(user_id: int, other: Any) -> Any:
    """SQL: a block between the user and `other` (a column or id), either way."""
    return (
        select(UserBlock.blocker_id)
        .where(
            or_(
                and_(UserBlock.blocker_id == user_id, UserBlock.blocked_id == other),
                and_(UserBlock.blocker_id == other, UserBlock.blocked_id == user_id),
            )
        )
        .exists()
    )


def blocked_among(user_id: int, others: Iterable[int]) -> set[int]:
    """Those of `others` with a block between them and the user, either way: one query."""
    others = set(others)
    if not others:
        return set()
    blocked = _blocked_either_way(user_id).subquery()
    return set(db.session.scalars(select(blocked.c.id).where(blocked.c.id.in_(others))))


def recipient(sender_id: int, username: str) -> tuple[User, bool]:
    """The user a message goes to, and whether they muted the sender, in one query.

    Forbidden (neutral message) when either blocked the other; NotFound when no such user.
    """
    muted = (
        select(UserMute.muter_id)
        .where(UserMute.muter_id == User.id, UserMute.muted_id == sender_id)
        .exists()
    )
    row = (
        db.session.execute(
            select(User, blocked_with(sender_id, User.id), muted).where(
                User.username_key == str(username).lower()
            )
        ).first()
        if users.could_exist(str(username))
        else None
    )
    if row is None:
        raise users.no_such_user(username)
    user, blocked, is_muted = row
    if blocked:
        raise Forbidden(BLOCKED_MESSAGE)
    return user, bool(is_muted)


def muted_ids(muter_id: int) -> Select[Any]:
    """A subquery of the ids the user muted (for unread counts)."""
    return select(UserMute.muted_id).where(UserMute.muter_id == muter_id)


# -- presence --------------------------------------------------------------------------


def came_online(
    user: users.Known | Any, sid: str, first: bool, online: dict[int, str]
) -> None:
    """After a connect: `online_users` to that connection (its online contacts and
    itself), `user_joined` to those contacts when it is the user's first connection.

    `online` is the user's online contacts by id, with their names; `user` anything
    with a `username` (a User, a Known, the connect's `auth.SocketIdentity`)."""
    notify.online_users(sid, sorted([*online.values(), user.username]))
    if first:
        notify.user_joined(user.username, set(online))


def went_offline(user_ids: Iterable[int], skip_sid: str | None = None) -> None:
    """After users' last connections closed: `user_left` to each one's online contacts
    (one query and one presence call per user)."""
    registry = None
    for user_id in user_ids:
        rows = (
            db.session.connection()
            .execute(NAME_AND_CONTACTS, {"user_id": user_id})
            .all()
        )
        if not rows:
            continue
        if registry is None:
            registry = presence.get_presence()
        online = registry.online_among(
            row.contact_id for row in rows if row.contact_id is not None
        )
        notify.user_left(rows[0].username, online, skip_sid=skip_sid)


def online_users(
    reader: User, limit: int | None = None, cursor: str | None = None
) -> list[dict[str, Any]] | Page[dict[str, Any]]:
    """The reader's active (not blocked) contacts and whether each is online: all of
    them by name, or with `limit` a page at a time (in id order)."""
    query = select(User).where(
        User.id.in_(contact_ids(reader.id)), User.is_blocked.is_(False)
    )
    page = _whole_or_page(query, (User.username_key,), User.id, limit, cursor)
    online = presence.get_presence().online_among(user.id for user in page.items)
    items = [{"username": u.username, "online": u.id in online} for u in page.items]
    return items if limit is None else Page(items, page.next_cursor)


# -- search ----------------------------------------------------------------------------


def search(reader: User, q: str, limit: int, cursor: str | None = None) -> Page[User]:
    """Users whose name starts with `q` (any case), to start a conversation with;
    SEARCH_LIMIT_PER_USER searches a reader, pages included."""
    ratelimit.hit("SEARCH_LIMIT_PER_USER", reader.id, what="searches")
    query = select(User).where(
        User.username_key.startswith(q.lower(), autoescape=True), User.id != reader.id
    )
    return keyset_page(query, User.id, limit=limit, cursor=cursor, newest_first=False)


# -- blocks and mutes ------------------------------------------------------------------


def _other(reader: User, username: str, verb: str) -> User:
    other = users.get_by_username(username)
    if other.id == reader.id:
        raise ValidationFailed(
            f"You cannot {verb} yourself.",
            errors={"path": {"username": [f"You cannot {verb} yourself."]}},
        )
    return other


def _insert(row: Any) -> None:
    """Add a row that may already exist: PUT is idempotent, even when requests race."""
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def block(reader: User, username: str) -> User:
    """Block a user: neither can message the other nor see the other's presence.

    The reader's devices are told (`block_changed`) after every success, a repeat
    included: each announces the state it leaves, as the REST answer does."""
    other = _other(reader, username, "block")
    reader_id, other_id = reader.id, other.id
    were_contacts = other_id in contact_ids(reader_id)
    if db.session.get(UserBlock, (reader_id, other_id)) is None:
        _insert(
            UserBlock(blocker_id=reader_id, blocked_id=other_id, created_at=utcnow())
        )
    if were_contacts:
        hide_presence(reader_id, other_id)
    notify.block_changed(reader_id, other.username, True)
    return other


def unblock(reader: User, username: str) -> User:
    """Lift the reader's block of a user (a block the other made stays); the reader's
    devices are told, as by `block`."""
    other = _other(reader, username, "unblock")
    reader_id, other_id = reader.id, other.id
    removed = db.session.execute(
        delete(UserBlock).where(
            UserBlock.blocker_id == reader_id, UserBlock.blocked_id == other_id
        )
    ).rowcount
    db.session.commit()
    if removed and other_id in contact_ids(reader_id):
        show_presence(reader_id, other_id)
    notify.block_changed(reader_id, other.username, False)
    return other


def hide_presence(a: int, b: int) -> None:
    """Two people stopped being contacts (a block, the last message between them
    unsent): each online one goes offline for the other."""
    _announce_pair(a, b, notify.user_left)


def show_presence(a: int, b: int) -> None:
    """Two people became contacts (an unblock, a first message): each online one
    appears to the other."""
    _announce_pair(a, b, notify.user_joined)


def _announce_pair(a: int, b: int, event: Callable[[str, set[int]], None]) -> None:
    """Tell each of two people, when both are online, the other's presence event."""
    online = presence.get_presence().online_among({a, b})
    if online != {a, b}:
        return
    names = dict(
        db.session.execute(
            select(User.id, User.username).where(User.id.in_([a, b]))
        ).all()
    )
    event(names[a], {b})
    event(names[b], {a})


def blocks(
    reader: User, limit: int | None = None, cursor: str | None = None
) -> Page[UserBlock]:
    """The users the reader blocked: all, most recent first, or a page at a time."""
    query = select(UserBlock).where(UserBlock.blocker_id == reader.id)
    return _whole_or_page(
        query,
        (UserBlock.created_at.desc(), UserBlock.blocked_id.desc()),
        UserBlock.blocked_id,
        limit,
        cursor,
    )


def mute(reader: User, username: str) -> User:
    """Mute a user: their messages are kept and readable, but arrive quietly. The
    reader's devices are told (`mute_changed`) as by `block`; the muted one never."""
    other = _other(reader, username, "mute")
    if db.session.get(UserMute, (reader.id, other.id)) is None:
        _insert(UserMute(muter_id=reader.id, muted_id=other.id, created_at=utcnow()))
    notify.mute_changed(reader.id, other.username, True)
    return other


def unmute(reader: User, username: str) -> User:
    """Lift a mute; the reader's devices are told, as by `mute`."""
    other = _other(reader, username, "unmute")
    db.session.execute(
        delete(UserMute).where(
            UserMute.muter_id == reader.id, UserMute.muted_id == other.id
        )
    )
    db.session.commit()
    notify.mute_changed(reader.id, other.username, False)
    return other


def mutes(
    reader: User, limit: int | None = None, cursor: str | None = None
) -> Page[UserMute]:
    """The users the reader muted: all, most recent first, or a page at a time."""
    query = select(UserMute).where(UserMute.muter_id == reader.id)
    return _whole_or_page(
        query,
        (UserMute.created_at.desc(), UserMute.muted_id.desc()),
        UserMute.muted_id,
        limit,
        cursor,
    )


def _whole_or_page(
    query: Select[Any],
    whole_order: tuple[Any, ...],
    key: InstrumentedAttribute[int],
    limit: int | None,
    cursor: str | None,
) -> Page[Any]:
    """A list clients read whole (online users, blocks, mutes): every row in
    `whole_order`, or with `limit` a page in `key` order (keyset pages need a unique
    integer key; a name or the time a row was made is not one)."""
    if limit is None:
        return Page(list(db.session.scalars(query.order_by(*whole_order))), None)
    return keyset_page(query, key, limit=limit, cursor=cursor, newest_first=False)

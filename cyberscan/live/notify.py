"""Server-to-client events: one function per event, owning its name and its payload.

Services call these after a successful commit. Emitting through
`socketio.emit(..., to=room)` reaches every process when a Redis message queue is
configured.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError

from cyberscan.extensions import socketio
from cyberscan.live import connections, presence, rooms
from cyberscan.models import WITHHELD, Appeal, Flag, Message, UserReport, isoformat
from cyberscan.schemas.admin import FlagSchema
from cyberscan.schemas.people import AdminAppealSchema, AdminReportSchema

NAMESPACE = "/"

flag_schema = FlagSchema()
appeal_schema = AdminAppealSchema()
report_schema = AdminReportSchema()


def _to_user(
    user_id: int, event: str, payload: Any, skip_sid: str | None = None
) -> None:
    """Emit to every connection of one user, on every process."""
    socketio.emit(event, payload, to=rooms.user(user_id), skip_sid=skip_sid)


def _to_admins(event: str, payload: Any) -> None:
    """Every connected admin (the dashboard's live feed), on every process."""
    socketio.emit(event, payload, to=rooms.ADMINS)


# -- messages --------------------------------------------------------------------------


def message_payload(message: Any) -> dict[str, Any]:
    """`receive_message`: MessageSchema's fields, built directly (once per message on
    the hot path; tests hold it equal to the schema's dump)."""
    return {
        "id": message.id,
        "sender": message.sender.username,
        "receiver": message.receiver.username,
        "message": message.content,
        "timestamp": isoformat(message.created_at),
        "is_bullying": message.is_bullying,
        "bullying_probability": message.bullying_probability,
        "is_read": message.is_read,
        "client_id": message.client_id,
        "status": message.status,
    }


def sent_payload(message: Any) -> dict[str, Any]:
    """`message_sent`, and the `send_message` acknowledgement's data (MessageSentSchema).

    Built once per message: `message_created` keeps the one it emitted on the message
    (`sent`, when it has that slot), and the acknowledgement reuses it."""
    built = getattr(message, "sent", None)
    if built is not None:
        return built
    return {
        "id": message.id,
        "client_id": message.client_id,
        "status": message.status,
        "timestamp": isoformat(message.created_at),
        "is_bullying": message.is_bullying,
        "bullying_probability": message.bullying_probability,
        # False for a new message; a retry answered by the first copy says whether the
        # receiver has read it since (a receipt sent while the sender was away is lost).
        "is_read": message.is_read,
    }


def message_created(
    message: Any,
    origin_sid: str | None = None,
    quiet: bool = False,
    sender_sids: set[str] | None = None,
) -> None:
    """`receive_message` to both people's devices (not the receiver's when withheld,
    or `quiet`: the receiver muted the sender), and `message_sent` to the connection
    that sent it.

    One emit per recipient: with a message queue every emit costs every process, so
    the sender's other devices are addressed only when presence lists any
    (`sender_sids`, looked up here when not given), and the sending connection, which
    is on this process, is written to directly.
    """
    payload = message_payload(message)
    if message.status != WITHHELD and not quiet:
        _to_user(message.receiver_id, "receive_message", payload)
    if origin_sid is None:
        _to_user(message.sender_id, "receive_message", payload)
        return
    if sender_sids is None:
        sender_sids = presence.get_presence().sids(message.sender_id)
    if sender_sids - {origin_sid}:
        _to_user(message.sender_id, "receive_message", payload, skip_sid=origin_sid)
    sent = sent_payload(message)
    if hasattr(message, "sent"):
        message.sent = sent  # the acknowledgement answers the same payload
    socketio.emit("message_sent", sent, to=origin_sid, ignore_queue=True)


def messages_read(
    reader_id: int,
    reader_name: str,
    read: list[tuple[str, int]],
    untold: set[int] | frozenset[int] = frozenset(),
) -> None:
    """`messages_read` to each sender but the `untold` ones, `messages_marked_read` to
    the reader's devices.

    `read` holds (message id, sender id) pairs, in the order the reader is told.
    """
    by_sender: dict[int, list[str]] = defaultdict(list)
    for message_id, sender_id in read:
        if sender_id not in untold:
            by_sender[sender_id].append(message_id)
    for sender_id, ids in by_sender.items():
        _to_user(
            sender_id, "messages_read", {"reader": reader_name, "message_ids": ids}
        )
    marked = [message_id for message_id, _ in read]
    payload = {"count": len(marked), "message_ids": marked}
    _to_user(reader_id, "messages_marked_read", payload)


def user_typing(receiver_id: int, sender_name: str, is_typing: bool) -> None:
    """`user_typing` to the receiver's devices."""
    payload = {"sender": sender_name, "is_typing": bool(is_typing)}
    _to_user(receiver_id, "user_typing", payload)


# -- presence --------------------------------------------------------------------------


def online_users(sid: str, usernames: list[str]) -> None:
    """`online_users` to a connection that just connected."""
    socketio.emit("online_users", usernames, to=sid)


def user_joined(username: str, contact_ids: Iterable[int]) -> None:
    """`user_joined` to these contacts: the user's first connection opened."""
    for contact_id in contact_ids:
        _to_user(contact_id, "user_joined", username)


def user_left(
    username: str, contact_ids: Iterable[int], skip_sid: str | None = None
) -> None:
    """`user_left` to these contacts: the user's last connection closed."""
    for contact_id in contact_ids:
        _to_user(contact_id, "user_left", username, skip_sid=skip_sid)


def message_deleted(message: Message, *, sender: bool = True) -> None:
    """`message_deleted` {id} to both people's devices when the sender unsent it; to the
    receiver's alone (``sender=False``) when an admin removed it, since the sender keeps
    seeing a removed message."""
    payload = {"id": message.id}
    if sender:
        _to_user(message.sender_id, "message_deleted", payload)
    _to_user(message.receiver_id, "message_deleted", payload)


# -- a person's own controls -----------------------------------------------------------


def block_changed(user_id: int, username: str, blocked: bool) -> None:
    """`block_changed` {username, blocked} to every connection of the person who blocked
    or unblocked `username` (their other devices learn it at once); never to
    `username`, for a block stays neutral."""
    _to_user(user_id, "block_changed", {"username": username, "blocked": blocked})


def mute_changed(user_id: int, username: str, muted: bool) -> None:
    """`mute_changed` {username, muted} to every connection of the person who muted or
    unmuted `username`; never to `username`, who is never told of a mute."""
    _to_user(user_id, "mute_changed", {"username": username, "muted": muted})


def error(sid: str, code: str, message: str, event: str | None) -> None:
    """`error` to the connection whose event failed (this process's own: the queue
    does not publish it, `connections.ClosingRedisManager._local_sid`)."""
    payload = {"error": code, "message": message, "event": event}
    socketio.emit("error", payload, to=sid)


# -- moderation ------------------------------------------------------------------------


def moderation_warning(user_id: int, bullying_count: int, max_count: int) -> None:
    """`moderation_warning`: a flagged item added a strike; how many remain."""
    remaining = max(max_count - bullying_count, 0)
    payload = {
        "bullying_count": bullying_count,
        "max_bullying_count": max_count,
        "remaining": remaining,
        "message": (
            f"That was flagged as bullying. {remaining} more and your account "
            "will be blocked."
        ),
    }
    _to_user(user_id, "moderation_warning", payload)


def _close_room(room: str, keep_room: str | None = None) -> None:
    """Close every connection in `room` (but those also in `keep_room`), on every
    process: each one closes its own (live/connections.py). Events emitted before
    this reach those connections first: emits travel the queue in order."""
    socketio.emit(connections.CLOSE, keep_room, to=room)


def forget_everywhere(key: str) -> None:
    """Every process drops `key` from what it remembers (live/connections.py FORGET);
    this one at once, the others when the queue brings it."""
    socketio.emit(connections.FORGET, key, to=connections.FORGET)


def disconnect_user(user_id: int) -> int:
    """Close every connection of the user on every process; answers how many are known.

    Presence only counts: the close goes to the user's room, so a connection missing
    from presence (a spoofed disconnect, a Redis restart) is closed all the same.
    """
    room = rooms.user(user_id)
    known = {
        sid for sid, _ in socketio.server.manager.get_participants(NAMESPACE, room)
    }
    try:
        known |= presence.get_presence().sids(user_id)
    except RedisError:
        pass  # counted from this process only; the close itself does not need Redis
    _close_room(room)
    return len(known)


def token_revoked(family: str) -> None:
    """Close the connections opened with a revoked token (or one minted from it)."""
    _close_room(rooms.token(family))


def session_blocked(family: str, reason: str) -> None:
    """`account_blocked` {reason} to the connections of one login session of a blocked
    account, then close them (a session check found it: `realtime/sessions.py`)."""
    socketio.emit("account_blocked", {"reason": reason}, to=rooms.token(family))
    _close_room(rooms.token(family))


def sessions_ended(user_id: int, keep_family: str | None = None) -> None:
    """Close the user's connections except those of one login session (a password
    change keeps the session that made it)."""
    _close_room(rooms.user(user_id), rooms.token(keep_family) if keep_family else None)


def kicked(user_id: int, reason: str) -> int:
    """`kicked` {reason} to every connection of the user, then close them all."""
    # Emits and disconnects travel the same queue in order, so the event arrives first.
    _to_user(user_id, "kicked", {"reason": reason})
    return disconnect_user(user_id)


def account_blocked(user_id: int, reason: str) -> int:
    """`account_blocked` {reason} to every connection of the user, then close them."""
    _to_user(user_id, "account_blocked", {"reason": reason})
    return disconnect_user(user_id)


def muted(user_id: int, until: datetime | None) -> None:
    """`muted`: the user cannot send until `until` (None: unmuted)."""
    if until is None:
        payload = {"muted_until": None, "message": "You can send messages again."}
    else:
        payload = {
            "muted_until": isoformat(until),
            "message": f"You are muted until {isoformat(until)}.",
        }
    _to_user(user_id, "muted", payload)


def flagged_item(flag: Flag) -> None:
    """`flagged_item` to the admins: a new entry in the moderation queue."""
    _to_admins("flagged_item", flag_schema.dump(flag))


def appeal_decided(
    user_id: int,
    *,
    appeal_id: int,
    decision: str,
    note: str | None,
    bullying_count: int,
    remaining: int,
) -> None:
    """`appeal_decided` to the appeal's author."""
    payload = {
        "appeal_id": appeal_id,
        "decision": decision,
        "note": note,
        "bullying_count": bullying_count,
        "remaining": remaining,
    }
    _to_user(user_id, "appeal_decided", payload)


def appeal_filed(appeal: Appeal) -> None:
    """`appeal_filed` to the admins: a new entry in the appeal queue."""
    _to_admins("appeal_filed", appeal_schema.dump(appeal))


def user_reported(report: UserReport) -> None:
    """`user_reported` to the admins: a new entry in the report queue."""
    _to_admins("user_reported", report_schema.dump(report))


def admin_summary_changed(reason: str, username: str | None = None) -> None:
    """`admin_summary_changed`: the dashboards refresh their numbers."""
    payload: dict[str, Any] = {"reason": reason}
    if username is not None:
        payload["username"] = username
    _to_admins("admin_summary_changed", payload)

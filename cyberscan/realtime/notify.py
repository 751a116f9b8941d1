"""Server-to-client events, emitted by services after a successful commit.

Emitting through `socketio.emit(..., to=room)` reaches every process when a Redis
message queue is configured.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context, request

from cyberscan.extensions import socketio
from cyberscan.models.base import isoformat
from cyberscan.realtime import presence, rooms

NAMESPACE = "/"
ACK_GRACE_SECONDS = 0.05


def to_user(
    user_id: int, event: str, payload: Any, skip_sid: str | None = None
) -> None:
    """Emit to every connection of one user, on every process."""
    socketio.emit(event, payload, to=rooms.user(user_id), skip_sid=skip_sid)


def to_sid(sid: str, event: str, payload: Any) -> None:
    """Emit to one connection (wherever it is)."""
    socketio.emit(event, payload, to=sid)


def to_own_connection(sid: str, event: str, payload: Any) -> None:
    """Emit to a connection of this process (the one whose event is being handled):
    straight to its socket, not through the message queue to every process."""
    socketio.emit(event, payload, to=sid, ignore_queue=True)


def moderation_warning(user_id: int, payload: dict[str, Any]) -> None:
    to_user(user_id, "moderation_warning", payload)


def _event_sid() -> str | None:
    """The connection whose socket event is being handled, if any."""
    if not has_request_context():
        return None
    return getattr(request, "sid", None)


def _disconnect_after_ack(sid: str) -> None:
    # Yield first: the event's acknowledgement (e.g. the send_message that reached
    # the block limit, already committed) is queued when the handler returns, and
    # must reach the client before the DISCONNECT packet.
    socketio.sleep(ACK_GRACE_SECONDS)
    socketio.server.disconnect(sid, namespace=NAMESPACE)


def disconnect_user(user_id: int) -> int:
    """Close every connection of the user on every process; returns how many were asked."""
    server = socketio.server
    targets = set(presence.get_presence().sids(user_id))
    # Connections on this process that presence may not list yet (still connecting).
    targets.update(
        sid
        for sid, _eio in server.manager.get_participants(NAMESPACE, rooms.user(user_id))
    )
    current = _event_sid()
    for sid in targets:
        if sid == current:
            socketio.start_background_task(_disconnect_after_ack, sid)
        else:
            # With a message queue, a sid held by another process is disconnected
            # there: python-socketio publishes the request on the queue.
            server.disconnect(sid, namespace=NAMESPACE)
    return len(targets)


def kick(user_id: int, reason: str, event: str = "kicked") -> int:
    """Tell every connection of the user why (`kicked` {reason}), then close them all."""
    # Emits and disconnects travel the same queue in order, so the event arrives first.
    to_user(user_id, event, {"reason": reason})
    return disconnect_user(user_id)


def account_blocked(user_id: int, reason: str) -> None:
    """Tell every connection of the user, on every process, then close them."""
    kick(user_id, reason, event="account_blocked")


def muted(user_id: int, until: datetime | None) -> None:
    """Tell the user's connections they cannot send until `until` (None: unmuted)."""
    if until is None:
        payload = {"muted_until": None, "message": "You can send messages again."}
    else:
        payload = {
            "muted_until": isoformat(until),
            "message": f"You are muted until {isoformat(until)}.",
        }
    to_user(user_id, "muted", payload)


def to_admins(event: str, payload: Any) -> None:
    """Every connected admin (the dashboard's live feed), on every process."""
    socketio.emit(event, payload, to=rooms.ADMINS)

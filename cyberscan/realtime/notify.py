"""Server-to-client events, emitted by services after a successful commit.

Emitting through `socketio.emit(..., to=room)` reaches every process when a Redis
message queue is configured.
"""

from __future__ import annotations

from typing import Any

from cyberscan.extensions import socketio
from cyberscan.realtime import rooms


def to_user(user_id: int, event: str, payload: Any) -> None:
    socketio.emit(event, payload, to=rooms.user(user_id))


def moderation_warning(user_id: int, payload: dict[str, Any]) -> None:
    to_user(user_id, "moderation_warning", payload)


def account_blocked(user_id: int, reason: str) -> None:
    """Tell every connection of the user, on every process, then close them."""
    to_user(user_id, "account_blocked", {"reason": reason})
    socketio.close_room(
        rooms.user(user_id)
    )  # TODO(issue 4): disconnect, not just leave

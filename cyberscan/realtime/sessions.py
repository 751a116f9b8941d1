"""Sessions ended by another process, when no message queue tells this one.

A logout, block or password change made through this process closes the sockets it
concerns at once (`notify`); with Redis the other processes hear of it on the queue.
A process hears nothing when the one that ended the sessions did not publish on its
queue: a single process without Redis, or `flask reset-password` (run beside the
servers when an account is taken over) without the servers' REDIS_URL and
SOCKETIO_CHANNEL, or while Redis was down. The account's sockets stayed open, sending
and receiving. So every serving process checks, every SESSION_CHECK_SECONDS, the
sessions its connections hold (one query per 500 of them) and closes the ones that
ended (`auth.ended_sessions`). A blocked account's get `account_blocked` {reason}
first, as the block's own event says, once the block is `auth.FRESH_BLOCK` old: that
event, kept through a Redis outage, may come later than this check, or never if the
process that kept it stopped.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from cyberscan.errors import log_unavailable
from cyberscan.extensions import socketio
from cyberscan.live import notify
from cyberscan.realtime.auth import held_session
from cyberscan.realtime.events import outage
from cyberscan.services import auth

log = logging.getLogger(__name__)

SESSION_CHECK_SECONDS = 5.0
NAMESPACE = "/"


def held_sessions(server: Any) -> set[auth.Held]:
    """The sessions this process's connections hold."""
    held = set()
    for sid, _ in list(server.manager.get_participants(NAMESPACE, None)):
        environ = server.get_environ(sid, NAMESPACE) or {}
        session = held_session(environ.get("saved_session"))
        if session is not None:
            held.add(session)
    return held


def close_ended(app: Flask) -> int:
    """Close this process's connections whose session ended; answers how many
    sessions that was."""
    with app.app_context():
        ended = auth.ended_sessions(held_sessions(socketio.server))
        for (_, _, family), block_reason in ended.items():
            if block_reason is None:
                notify.token_revoked(family)
            else:
                notify.session_blocked(family, block_reason)
    return len(ended)


def start_checking(app: Flask) -> None:
    """Check every SESSION_CHECK_SECONDS in a background task, for good."""

    def check() -> None:
        while True:
            socketio.sleep(SESSION_CHECK_SECONDS)
            try:
                close_ended(app)
            except Exception as error:  # noqa: BLE001  keep checking, whatever failed
                down = outage(error)
                if down:
                    log_unavailable(log, *down)
                else:
                    log.exception("session check failed")

    socketio.start_background_task(check)

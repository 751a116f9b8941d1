"""The inbound Socket.IO handlers; `init_app` binds them to the app's server."""

from __future__ import annotations

from flask import Flask

from cyberscan.extensions import socketio
from cyberscan.live import presence
from cyberscan.live.connections import from_command_line
from cyberscan.realtime import events, transport
from cyberscan.realtime.auth import SocketEventSessions
from cyberscan.realtime.packets import REFUSED

HANDLERS = {
    "connect": events.on_connect,
    "disconnect": events.on_disconnect,
    "send_message": events.on_send_message,
    "typing": events.on_typing,
    "mark_as_read": events.on_mark_as_read,
    REFUSED: events.on_refused,
    "*": events.on_unknown,
}


def init_app(app: Flask) -> None:
    """Register the event handlers on the app's server and start the presence heartbeat
    (not for a `flask` command: it serves nobody, so it joins no presence and needs no
    Redis unless it publishes).

    Call after `socketio.init_app(app)`: handlers registered then go to this app's
    server only, so building many apps (the test-suite) piles nothing up.
    """
    app.session_interface = SocketEventSessions()
    for event, handler in HANDLERS.items():
        socketio.on_event(event, handler)
    socketio.on_error_default(events.on_error)
    transport.init_app(app, socketio)
    registry = presence.init_app(app)
    if from_command_line():
        return  # built by the `flask` command line (FlaskGroup loads the app)
    presence.start_heartbeat(
        registry,
        socketio.start_background_task,
        socketio.sleep,
        events.announce_gone(app),
    )

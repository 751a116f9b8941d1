"""A bare Flask-SocketIO relay: the yardstick the project's hot path is compared with.

Same async mode and server as `run.py`, and the same events and payload shapes, but no
authentication, validation, scoring or database: `connect` joins a room named by the
`auth` payload's `name`; `send_message` emits `receive_message` to the receiver's room
and acknowledges. Whatever the project costs above this is the project's own work.

    SOCKETIO_ASYNC_MODE=eventlet PORT=5050 .venv/bin/python bench/bare_relay.py
"""

from __future__ import annotations

import os

MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "eventlet")
if MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_socketio import ConnectionRefusedError, SocketIO, emit, join_room  # noqa: E402

app = Flask(__name__)
app.config["SECRET_KEY"] = os.urandom(32).hex()
socketio = SocketIO(app, async_mode=MODE, logger=False, engineio_logger=False)
names: dict[str, str] = {}


@app.get("/api/health")
def health() -> dict[str, str]:
    """Readiness probe for the bench."""
    return {"status": "ok"}


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Join the room named by `auth.name`."""
    name = auth.get("name") if isinstance(auth, dict) else None
    if not isinstance(name, str):
        raise ConnectionRefusedError("unauthorized")
    names[request.sid] = name
    join_room(name)


@socketio.on("disconnect")
def on_disconnect(reason: Any = None) -> None:
    """Forget the connection's name."""
    names.pop(request.sid, None)


@socketio.on("send_message")
def on_send_message(data: dict[str, Any]) -> dict[str, Any]:
    """Relay to the receiver's room and acknowledge."""
    message = {
        "id": str(uuid.uuid4()),
        "sender": names.get(request.sid),
        "receiver": data["receiver"],
        "message": data["message"],
        "client_id": data.get("client_id"),
        "timestamp": datetime.now(UTC).isoformat(),
        "status": "delivered",
    }
    emit("receive_message", message, to=data["receiver"])
    return {
        "ok": True,
        "data": {"id": message["id"], "client_id": message["client_id"]},
    }


if __name__ == "__main__":
    options = {"max_size": 100_000} if MODE == "eventlet" else {}
    socketio.run(
        app,
        host="127.0.0.1",
        port=int(os.environ.get("PORT", "5050")),
        allow_unsafe_werkzeug=True,
        **options,
    )

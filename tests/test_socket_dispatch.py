"""Socket events after `connect` run in a bare app context (cyberscan/live/context.py):
nothing of one event's context reaches the next, a failing handler still answers the
error ack and leaves no transaction open."""

from __future__ import annotations

import inspect
import logging
from typing import Any

import flask
from flask_socketio import SocketIO
from sqlalchemy import select

from cyberscan.extensions import db, socketio
from cyberscan.live import context, rooms
from cyberscan.models import User
from cyberscan.realtime.auth import socket_identity
from tests.fixtures_realtime import events


def probe(seen: list[dict[str, Any]], fail: bool = False) -> Any:
    """A handler registered on the test app's server that records what it ran in."""

    def handler(*args: Any) -> Any:
        event = context.current()
        session = db.session()
        session.execute(select(User.id).limit(1))  # opens a transaction
        seen.append(
            {
                "args": args,
                "name": event.name,
                "sid": event.sid,
                "user": socket_identity().username,
                "request_context": flask.has_request_context(),
                "leaked": flask.g.get("leak"),
                "session": session,
            }
        )
        flask.g.leak = "from an earlier event"
        if fail:
            raise RuntimeError("secret internals")
        return {"ok": True}

    return handler


def test_events_run_in_their_own_light_context(app, trio, connect):
    alice, bob, _ = trio
    seen: list[dict[str, Any]] = []
    socketio.on_event("probe", probe(seen))
    a, b = connect(alice), connect(bob)
    assert a.emit("probe", {"n": 1}, callback=True) == {"ok": True}
    assert b.emit("probe", {"n": 2}, callback=True) == {"ok": True}
    assert a.emit("probe", {"n": 3}, callback=True) == {"ok": True}

    assert [s["args"] for s in seen] == [({"n": 1},), ({"n": 2},), ({"n": 3},)]
    assert [s["user"] for s in seen] == ["alice", "bob", "alice"]
    assert {s["name"] for s in seen} == {"probe"}
    assert not any(s["request_context"] for s in seen)
    assert not any(s["leaked"] for s in seen)
    # Each event had its own database session, closed when the event ended.
    assert len({id(s["session"]) for s in seen}) == 3
    assert not any(s["session"].in_transaction() for s in seen)
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
    # The sid is the connection's own, in its user's room.
    participants = {
        sid
        for sid, _ in socketio.server.manager.get_participants(
            "/", rooms.user(alice.id)
        )
    }
    assert seen[0]["sid"] == seen[2]["sid"] != seen[1]["sid"]
    assert seen[0]["sid"] in participants
    assert context.current_sid() is None


def test_a_failing_handler_answers_the_error_ack_and_leaves_no_transaction(
    app, trio, connect, caplog
):
    seen: list[dict[str, Any]] = []
    socketio.on_event("probe", probe(seen, fail=True))
    sio = connect(trio[0])
    events(sio)
    with caplog.at_level(logging.ERROR):
        ack = sio.emit("probe", {"n": 1}, callback=True)
    assert ack == {
        "ok": False,
        "error": "internal_error",
        "message": "Something went wrong on our side.",
    }
    assert events(sio, "error") == [
        {
            "error": "internal_error",
            "message": "Something went wrong on our side.",
            "event": "probe",
        }
    ]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "probe" in errors[0].getMessage()
    assert not seen[0]["session"].in_transaction()
    with app.app_context():
        assert db.engine.pool.checkedout() == 0
    # The connection still works, and the next event starts clean.
    assert sio.emit("typing", {"receiver": "bob", "is_typing": True}, callback=True)[
        "ok"
    ]
    assert sio.emit("probe", {"n": 2}, callback=True)["error"] == "internal_error"
    assert seen[1]["leaked"] is None


def test_connect_keeps_the_full_handshake_context(app, trio, raw_socket):
    """`connect` reads the handshake's query string: the token in `?token=`."""
    sio = raw_socket(None, query_string=f"token={trio[0].token}")
    assert sio.is_connected()


def test_the_upstream_hook_has_the_shape_we_override():
    """`SocketServer` overrides Flask-SocketIO's private per-event dispatch: an
    upgrade that changes it must fail here, not silently skip our context."""
    params = list(inspect.signature(SocketIO._handle_event).parameters)
    assert params == ["self", "handler", "message", "namespace", "sid", "args"]
    assert isinstance(socketio, context.SocketServer)

"""Bad input on every event: an `error` event and an error ack, never a dropped connection."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cyberscan.extensions import db
from cyberscan.models import Message
from tests.fixtures_realtime import events

HUGE = "x" * 200_000
NESTED = {"a": [{"b": [{"c": ["d" * 10] * 10}] * 10}] * 10}
NON_OBJECTS = [None, [1, 2], ["receiver", "bob"], "bob", 42, 3.5, True, ""]

SEND = [
    {},
    {"receiver": "bob"},
    {"message": "hi"},
    {"receiver": None, "message": "hi"},
    {"receiver": 5, "message": "hi"},
    {"receiver": ["bob"], "message": "hi"},
    {"receiver": {"$ne": None}, "message": "hi"},
    {"receiver": "bob", "message": None},
    {"receiver": "bob", "message": 12},
    {"receiver": "bob", "message": ["hi"]},
    {"receiver": "bob", "message": NESTED},
    {"receiver": "bob", "message": ""},
    {"receiver": "bob", "message": "   \n\t "},
    {"receiver": "bob", "message": " \u200b\u2060\ufeff "},
    {"receiver": "bob", "message": "hi\x00"},
    {"receiver": "bob", "message": "x" * 2001},
    {"receiver": "bob", "message": HUGE},
    {"receiver": HUGE, "message": "hi"},
    {"receiver": "bob", "message": "hi", "client_id": "c" * 65},
    {"receiver": "bob", "message": "hi", "client_id": ""},
    {"receiver": "bob", "message": "hi", "client_id": 7},
    {"receiver": "bob", "message": "hi", "client_id": NESTED},
    {"receiver": "bob", "message": "hi", "extra": NESTED},
    {"receiver": "bob", "message": "hi", "sender": 1},
    {"receiver": "alice", "message": "to myself"},
]
TYPING = [
    {},
    {"receiver": "bob"},
    {"is_typing": True},
    {"receiver": "bob", "is_typing": "yes"},
    {"receiver": "bob", "is_typing": 1},
    {"receiver": "bob", "is_typing": None},
    {"receiver": NESTED, "is_typing": True},
    {"receiver": HUGE, "is_typing": True},
    {"receiver": "bob", "is_typing": True, "message": "sneaky"},
    {"receiver": "alice", "is_typing": True},
]
MARK_READ = [
    {},
    {"message_ids": None},
    {"message_ids": "abc"},
    {"message_ids": []},
    {"message_ids": [1, 2]},
    {"message_ids": [None]},
    {"message_ids": [NESTED]},
    {"message_ids": ["x" * 1000]},
    {"message_ids": ["id"] * 501},
    {"message_ids": ["id"], "reader": "bob"},
]
CASES = (
    [("send_message", p) for p in NON_OBJECTS + SEND]
    + [("typing", p) for p in NON_OBJECTS + TYPING]
    + [("mark_as_read", p) for p in NON_OBJECTS + MARK_READ]
)


@pytest.mark.parametrize(("name", "payload"), CASES)
def test_bad_payload_gets_error_event_and_ack(app, trio, connect, name, payload):
    alice, bob, carol = trio
    sio, receiver = connect(alice), connect(bob)
    events(sio), events(receiver)
    ack = sio.emit(name, payload, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == "validation_error", ack
    assert isinstance(ack["message"], str) and ack["message"]
    assert isinstance(ack["errors"], dict) and ack["errors"]
    assert events(sio) == [
        {
            "name": "error",
            "args": [
                {"error": "validation_error", "message": ack["message"], "event": name}
            ],
            "namespace": "/",
        }
    ]
    assert events(receiver) == []
    assert sio.is_connected()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("send_message", {"receiver": "nobody", "message": "hi"}),
        ("typing", {"receiver": "nobody", "is_typing": True}),
    ],
)
def test_unknown_receiver_is_not_found(trio, connect, name, payload):
    sio = connect(trio[0])
    events(sio)
    ack = sio.emit(name, payload, callback=True)
    assert ack["ok"] is False and ack["error"] == "not_found"
    assert events(sio, "error") == [
        {"error": "not_found", "message": ack["message"], "event": name}
    ]
    assert sio.is_connected()


@pytest.mark.parametrize("length", [2001, 100_001, 200_000])
def test_an_over_long_message_is_refused_with_the_configured_limit(
    app, trio, connect, length
):
    """Whatever the length (REST bodies that long are 413 first), the error names the
    limit a client must keep to."""
    sio = connect(trio[0])
    ack = sio.emit(
        "send_message", {"receiver": "bob", "message": "x" * length}, callback=True
    )
    assert ack["error"] == "validation_error"
    limit = app.config["MAX_MESSAGE_LENGTH"]
    assert ack["errors"]["message"] == [f"Longer than maximum length {limit}."]


@pytest.mark.parametrize("name", ["no_such_event", "x" * 100])
def test_an_unknown_event_is_named_back_in_the_error_event(trio, connect, name):
    sio = connect(trio[0])
    events(sio)
    ack = sio.emit(name, {"a": 1}, callback=True)
    assert ack == {
        "ok": False,
        "error": "not_found",
        "message": "There is no such event.",
    }
    # The client's own event name, not the catch-all handler's ("*"), cut to 64.
    assert events(sio, "error") == [
        {"error": "not_found", "message": ack["message"], "event": name[:64]}
    ]
    assert sio.is_connected()


@pytest.mark.parametrize("name", ["send_message", "typing", "mark_as_read"])
def test_no_argument_or_several_arguments(trio, connect, name):
    sio = connect(trio[0])
    events(sio)
    assert sio.emit(name, callback=True)["error"] == "validation_error"
    assert sio.emit(name, {"a": 1}, {"b": 2}, callback=True)["error"] == (
        "validation_error"
    )
    assert len(events(sio, "error")) == 2
    assert sio.is_connected()


def test_failures_without_callback_still_get_the_error_event(trio, connect):
    sio = connect(trio[0])
    events(sio)
    sio.emit("send_message", ["junk"])
    assert events(sio, "error")[0]["error"] == "validation_error"


def test_unexpected_failure_is_internal_error_without_details(
    app, trio, connect, caplog
):
    class Broken:
        version = "broken"

        def score(self, text):
            raise RuntimeError("secret internals")

    app.extensions["detector"] = Broken()
    sio = connect(trio[0])
    events(sio)
    ack = sio.emit("send_message", {"receiver": "bob", "message": "x"}, callback=True)
    assert ack == {
        "ok": False,
        "error": "internal_error",
        "message": "Something went wrong on our side.",
    }
    assert "secret" not in str(events(sio))
    assert "send_message" in caplog.text and "secret internals" in caplog.text
    assert sio.is_connected()

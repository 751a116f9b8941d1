"""The message hot path: group commit, the held socket identity, payloads without schemas."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from cyberscan.errors import AccountBlocked, Muted
from cyberscan.extensions import db
from cyberscan.models import Message, User, utcnow
from cyberscan.schemas.message import (
    MessageCreateSchema,
    MessageSchema,
    MessageSentSchema,
    load_send_message,
)
from cyberscan.services import messaging, users
from tests.fixtures_realtime import events
from tests.helpers import listening


def send(sio: Any, text: str) -> dict[str, Any]:
    """send_message to bob; answers the acknowledgement."""
    return sio.emit("send_message", {"receiver": "bob", "message": text}, callback=True)


def wait_for(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_one_batch_stores_many_senders_and_refuses_only_its_bad_rows(app, make_user):
    people = {name: make_user(name) for name in ("bob", "ann", "cid", "dee", "eve")}
    with app.app_context():
        dee = db.session.get(User, people["dee"].id)
        dee.is_blocked, dee.blocked_reason = True, "spamming the class chat"
        db.session.get(User, people["eve"].id).muted_until = utcnow() + timedelta(
            hours=1
        )
        db.session.commit()
        writer = messaging.message_writer()
    guard, release, calls = writer.guard, threading.Event(), []

    def gated(conn, rows):
        # The first batch holds the lead until the others have queued behind it.
        calls.append(len(rows))
        if len(calls) == 1:
            release.wait(20)
        return guard(conn, rows)

    writer.guard = gated
    outcomes: dict[str, Any] = {}

    def send(key: str, sender: str, client_id: str) -> None:
        with app.app_context():
            try:
                outcomes[key] = messaging.send_message(
                    people[sender], "bob", f"hello from {key}", client_id
                )
            except (AccountBlocked, Muted) as exc:
                outcomes[key] = exc

    first = threading.Thread(target=send, args=("first", "ann", "a-1"))
    first.start()
    wait_for(lambda: calls)
    queued = [
        ("retry", "ann", "a-1"),  # the first batch's row, not yet committed
        ("cid-1", "cid", "c-1"),
        ("cid-1-again", "cid", "c-1"),  # a duplicate inside the same batch
        ("cid-2", "cid", "c-2"),
        ("blocked", "dee", "d-1"),
        ("muted", "eve", "e-1"),
    ]
    threads = [threading.Thread(target=send, args=args) for args in queued]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(writer._queue) == len(queued))
    release.set()
    for thread in [first, *threads]:
        thread.join(30)

    assert calls == [1, len(queued)]
    assert isinstance(outcomes["blocked"], AccountBlocked)
    # The writer's refusal says why, as every other refusal of a blocked account does.
    assert outcomes["blocked"].to_dict()["reason"] == "spamming the class chat"
    assert isinstance(outcomes["muted"], Muted)
    # The writer answers what it stored; a refused retry answers the stored first copy.
    assert isinstance(outcomes["first"], messaging.StoredMessage)
    assert isinstance(outcomes["retry"], Message)
    assert outcomes["retry"].id == outcomes["first"].id
    twins = [outcomes["cid-1"], outcomes["cid-1-again"]]
    assert sorted(isinstance(t, Message) for t in twins) == [False, True]
    assert twins[0].id == twins[1].id
    with app.app_context():
        rows = db.session.execute(
            select(Message.client_id, Message.id, Message.content)
        ).all()
    assert sorted(r.client_id for r in rows) == ["a-1", "c-1", "c-2"]
    by_client = {r.client_id: r for r in rows}
    assert by_client["c-1"].id == twins[0].id
    assert by_client["a-1"].content == "hello from first"


def test_payloads_built_without_schemas_equal_the_schema_dumps(app, trio, connect):
    alice, bob, _ = trio
    sender, receiver = connect(alice), connect(bob)
    events(sender), events(receiver)
    ack = sender.emit(
        "send_message",
        {"receiver": "BOB", "message": "  see you at five  ", "client_id": "p-1"},
        callback=True,
    )
    delivered = events(receiver, "receive_message")
    with app.app_context():
        row = db.session.scalars(select(Message)).one()
        assert delivered == [MessageSchema().dump(row)]
        assert ack == {"ok": True, "data": MessageSentSchema().dump(row)}
    assert delivered[0]["message"] == "see you at five"
    assert delivered[0]["receiver"] == "bob"


@pytest.mark.parametrize(
    "payload",
    [
        {"receiver": "bob", "message": "hi"},
        {"receiver": "bob", "message": "  padded\n", "client_id": "k-1"},
        {"receiver": "bob", "message": "hi", "client_id": None, "sender": None},
        {"receiver": "bob", "message": "hi", "sender": "alice"},
        {"receiver": "b" * 32, "message": "x" * 2000, "client_id": "c" * 64},
        {"receiver": "bob", "message": " " + "x" * 2000 + " "},
        {"receiver": "bob", "message": "caf\u00e9 \U0001f600"},
        {"receiver": "bob", "message": " id\u200biot\ufeff\t"},
        {"receiver": "bob", "message": "two\nlines\r\n"},
    ],
)
def test_inline_send_message_check_loads_what_the_schema_loads(app, payload):
    with app.test_request_context():
        assert load_send_message(payload) == MessageCreateSchema().load(payload)


def test_muting_a_connected_sender_takes_effect_on_the_next_message(app, trio, connect):
    alice = trio[0]
    sender = connect(alice)
    assert send(sender, "before")["ok"]
    with app.app_context():
        db.session.get(User, alice.id).muted_until = utcnow() + timedelta(minutes=5)
        db.session.commit()
    ack = send(sender, "after")
    assert ack["ok"] is False and ack["error"] == "muted"
    with app.app_context():
        contents = db.session.scalars(select(Message.content)).all()
    assert contents == ["before"]


def test_sqlite_goes_through_the_writer_in_wal_mode(app, trio, connect):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("WAL is SQLite's")
    assert send(connect(trio[0]), "hi")["ok"]
    with app.app_context():
        mode = db.session.execute(db.text("PRAGMA journal_mode")).scalar()
    assert mode == "wal"


def test_receiver_lookup_is_cached_per_app_and_misses_are_not(app, make_user):
    with app.app_context():
        with pytest.raises(Exception, match="No user named"):
            users.lookup("zed")
    make_user("zed")
    with app.app_context():
        first = users.lookup("ZED")
        assert first.username == "zed"
        assert users.lookup("zed") is first
        users.forget("Zed")
        assert users.lookup("zed") is not first


def test_plain_messages_check_out_no_pooled_connection(app, trio, connect):
    """The writer keeps one connection of its own: a plain message checks nothing out
    of the pool and costs no reset ROLLBACK on check-in, only the batch's check, its
    INSERT and its COMMIT."""
    sender = connect(trio[0])
    assert send(sender, "warm")["ok"]
    with app.app_context():
        engine = db.engine
        writer = messaging.message_writer()
    log: list[str] = []
    with listening(
        (engine.pool, "checkout", lambda *args: log.append("checkout")),
        (engine.pool, "reset", lambda *args: log.append("reset")),
        (engine, "commit", lambda conn: log.append("COMMIT")),
        (engine, "rollback", lambda conn: log.append("ROLLBACK")),
        (
            engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *args: log.append(
                statement.split()[0].upper()
            ),
        ),
    ):
        for text in ("one", "two", "three"):
            assert send(sender, text)["ok"]
    assert log == ["SELECT", "INSERT", "COMMIT"] * 3
    assert writer.connections == 1
    assert [m.content for m in stored_messages(app)] == ["warm", "one", "two", "three"]


def test_a_failed_commit_leaves_nothing_for_the_next_batch(app, trio, connect):
    """A COMMIT that failed closes the writer's connection: the failed batch's INSERT
    is not committed by the next batch on a connection still inside its transaction."""
    sender = connect(trio[0])
    assert send(sender, "warm")["ok"]
    with app.app_context():
        engine = db.engine
        writer = messaging.message_writer()
    closed: list[int] = []

    def fail_commit(conn):
        raise OperationalError("COMMIT", {}, Exception("lost on the way"))

    def on_close(*args):
        closed.append(1)

    with listening((engine.pool, "close_detached", on_close)):
        with listening((engine, "commit", fail_commit)):
            failed = send(sender, "lost")
        assert failed["ok"] is False and failed["error"] == "unavailable"
        assert closed == [1]
        assert send(sender, "after")["ok"]
    assert writer.connections == 2
    assert [m.content for m in stored_messages(app)] == ["warm", "after"]


def test_the_writers_connection_is_closed_with_the_pool_and_when_idle(
    app, trio, connect
):
    sender = connect(trio[0])
    assert send(sender, "warm")["ok"]
    with app.app_context():
        engine = db.engine
        writer = messaging.message_writer()
    closed: list[int] = []

    def on_close(*args):
        closed.append(1)

    pool = engine.pool  # dispose() replaces it
    with listening((pool, "close_detached", on_close)):
        engine.dispose()
        assert closed == [1]
        assert send(sender, "fresh")["ok"]
        assert writer.connections == 2
        writer._recycle = 0.0  # idle longer than the recycle time: a fresh one
        time.sleep(0.01)
        assert send(sender, "recycled")["ok"]
        assert closed == [1, 1] and writer.connections == 3
    assert [m.content for m in stored_messages(app)] == ["warm", "fresh", "recycled"]


def stored_messages(app: Any) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(select(Message).order_by(Message.seq)).all()
        db.session.expunge_all()
        return rows


def test_the_acknowledgement_is_the_message_sent_payload(app, trio, connect):
    """Built once: the ack's data is the `message_sent` event's payload."""
    sender = connect(trio[0])
    events(sender)
    ack = sender.emit(
        "send_message",
        {"receiver": "bob", "message": "hi", "client_id": "c1"},
        callback=True,
    )
    assert ack["ok"] is True
    assert events(sender, "message_sent") == [ack["data"]]
    assert ack["data"]["client_id"] == "c1"

"""send_message, typing and mark_as_read over Socket.IO (API.md §5)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from cyberscan.extensions import db
from cyberscan.models import Flag, Message, User, utcnow
from tests.fixtures_realtime import events
from tests.helpers import FixedScoreDetector, recorded_statements, verbs

MESSAGE_KEYS = {
    "id",
    "sender",
    "receiver",
    "message",
    "timestamp",
    "is_bullying",
    "bullying_probability",
    "is_read",
    "client_id",
    "status",
}
SENT_KEYS = {
    "id",
    "client_id",
    "status",
    "timestamp",
    "is_bullying",
    "bullying_probability",
    "is_read",
}


def stored(app) -> list[Message]:
    with app.app_context():
        rows = db.session.scalars(select(Message).order_by(Message.seq)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_message_reaches_receiver_and_senders_other_tabs_only(app, trio, connect):
    alice, bob, carol = trio
    sender, other_tab = connect(alice), connect(alice)
    receiver, outsider = connect(bob), connect(carol)
    for sio in (sender, other_tab, receiver, outsider):
        events(sio)
    ack = sender.emit(
        "send_message",
        {"receiver": "bob", "message": "  hello bob  ", "client_id": "c-1"},
        callback=True,
    )
    assert ack["ok"] is True
    sent = ack["data"]
    assert set(sent) == SENT_KEYS
    assert sent["status"] == "delivered" and sent["client_id"] == "c-1"
    assert sent["is_read"] is False
    assert sent["timestamp"].endswith("Z")
    # Their first message makes them contacts: each learns the other is online.
    assert events(sender) == [
        {"name": "message_sent", "args": [sent], "namespace": "/"},
        {"name": "user_joined", "args": ["bob"], "namespace": "/"},
    ]
    (received,) = events(receiver, "receive_message")
    assert set(received) == MESSAGE_KEYS
    assert received["sender"] == "alice" and received["receiver"] == "bob"
    assert received["message"] == "hello bob"
    assert received["id"] == sent["id"] and received["is_read"] is False
    assert events(other_tab, "receive_message") == [received]
    assert events(outsider) == []
    (row,) = stored(app)
    assert row.id == sent["id"] and row.content == "hello bob"
    assert row.status == "delivered"


def test_offline_receiver_is_saved(app, trio, connect):
    alice = trio[0]
    sender = connect(alice)
    ack = sender.emit(
        "send_message", {"receiver": "bob", "message": "hi"}, callback=True
    )
    assert ack["data"]["status"] == "saved"
    assert stored(app)[0].status == "saved"


def test_receiver_name_is_case_insensitive(trio, connect):
    sender = connect(trio[0])
    ack = sender.emit(
        "send_message", {"receiver": "BOB", "message": "hi"}, callback=True
    )
    assert ack["ok"] is True


def test_same_client_id_stores_once_and_answers_the_first(app, trio, connect):
    alice, bob, _ = trio
    sender, receiver = connect(alice), connect(bob)
    events(receiver)
    payload = {"receiver": "bob", "message": "once", "client_id": "retry-1"}
    first = sender.emit("send_message", payload, callback=True)
    second = sender.emit("send_message", {**payload, "message": "twice"}, callback=True)
    assert second == first
    assert len(stored(app)) == 1
    assert len(events(receiver, "receive_message")) == 1


def test_a_retry_after_the_receiver_read_says_it_was_read(app, trio, connect):
    """The receipt may have come while the sender was offline: the retry's answer (the
    first copy's) carries it."""
    alice, bob, _ = trio
    sender, receiver = connect(alice), connect(bob)
    payload = {"receiver": "bob", "message": "seen?", "client_id": "retry-read"}
    first = sender.emit("send_message", payload, callback=True)["data"]
    assert first["is_read"] is False
    read = receiver.emit("mark_as_read", {"message_ids": [first["id"]]}, callback=True)
    assert read["ok"] is True
    again = sender.emit("send_message", payload, callback=True)
    assert again["ok"] is True
    assert again["data"] == {**first, "is_read": True}
    assert len(stored(app)) == 1


@pytest.mark.parametrize("score", [0.1, 0.97], ids=["clean", "flagged"])
def test_a_retry_from_a_new_connection_gets_message_sent_again(
    app, trio, connect, score
):
    """The first `message_sent` was lost with the connection: a client that uses no
    acknowledgements learns the retry's answer (the first copy's) from the event."""
    app.extensions["detector"] = FixedScoreDetector(score)
    alice, bob, _ = trio
    payload = {"receiver": "bob", "message": "lost?", "client_id": "retry-event"}
    first = connect(alice).emit("send_message", payload, callback=True)["data"]
    retrying, other_tab, receiver = connect(alice), connect(alice), connect(bob)
    for sio in (retrying, other_tab, receiver):
        events(sio)
    retrying.emit("send_message", payload)
    assert events(retrying, "message_sent") == [first]
    assert events(retrying, "receive_message") == []
    assert events(other_tab) == [] and events(receiver) == []
    assert len(stored(app)) == 1


@pytest.mark.parametrize("score", [0.1, 0.97], ids=["clean", "flagged"])
def test_a_retry_of_an_unsent_message_is_told_it_is_gone(
    app, client, trio, connect, score
):
    """The sender unsent the message while its answer was lost: a late retry is told
    it is gone (as a deleted post's is), never shown the unsent copy as sent, and
    stores nothing; REST and the socket alike."""
    app.extensions["detector"] = FixedScoreDetector(score)
    alice, bob, _ = trio
    payload = {"receiver": "bob", "message": "oops", "client_id": "retry-unsent"}
    sender, receiver = connect(alice), connect(bob)
    first = sender.emit("send_message", payload, callback=True)["data"]
    response = client.delete(f"/api/chat/messages/{first['id']}", headers=alice.headers)
    assert response.status_code == 200
    events(sender), events(receiver)
    again = sender.emit("send_message", payload, callback=True)
    assert again["ok"] is False and again["error"] == "not_found", again
    assert "unsent" in again["message"]
    assert [e["error"] for e in events(sender, "error")] == ["not_found"]
    assert events(sender, "message_sent") == [] and events(receiver) == []
    body = {"message": "oops", "client_id": "retry-unsent"}
    response = client.post("/api/chat/messages/bob", json=body, headers=alice.headers)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert len(stored(app)) == 1


def test_client_id_is_per_sender(app, trio, connect):
    alice, bob, _ = trio
    a, b = connect(alice), connect(bob)
    a.emit("send_message", {"receiver": "bob", "message": "x", "client_id": "same"})
    b.emit("send_message", {"receiver": "alice", "message": "y", "client_id": "same"})
    assert len(stored(app)) == 2


class RacingDetector(FixedScoreDetector):
    """Commits a copy with the same client_id from another connection while the
    first request is between its duplicate check and its commit: a real race."""

    def __init__(self, app, sender_id: int, receiver_id: int, client_id: str) -> None:
        super().__init__(0.1)
        self.app, self.args = app, (sender_id, receiver_id, client_id)
        self.raced = False

    def score(self, text_: str):
        if not self.raced:
            self.raced = True
            sender_id, receiver_id, client_id = self.args
            low, high = sorted((sender_id, receiver_id))
            with db.engine.begin() as conn:
                conn.execute(
                    Message.__table__.insert().values(
                        id="00000000-0000-4000-8000-000000000001",
                        sender_id=sender_id,
                        receiver_id=receiver_id,
                        conversation_key=f"{low}:{high}",
                        content="the winner",
                        client_id=client_id,
                        created_at=utcnow(),
                        is_read=False,
                        status="saved",
                        bullying_probability=0.1,
                        is_bullying=False,
                        model_version="x",
                        terms=[],
                    )
                )
        return super().score(text_)


def test_racing_retry_answers_the_winner(app, trio, connect):
    alice, bob, _ = trio
    app.extensions["detector"] = RacingDetector(app, alice.id, bob.id, "race-1")
    sender, receiver = connect(alice), connect(bob)
    events(receiver)
    ack = sender.emit(
        "send_message",
        {"receiver": "bob", "message": "the loser", "client_id": "race-1"},
        callback=True,
    )
    assert ack["ok"] is True
    assert ack["data"]["id"] == "00000000-0000-4000-8000-000000000001"
    assert [row.content for row in stored(app)] == ["the winner"]
    assert events(receiver, "receive_message") == []
    assert sender.is_connected()


def test_flagged_message_is_delivered_and_counted(app, trio, connect):
    app.extensions["detector"] = FixedScoreDetector(0.97)
    alice, bob, _ = trio
    sender, receiver = connect(alice), connect(bob)
    events(receiver)
    ack = sender.emit(
        "send_message", {"receiver": "bob", "message": "x"}, callback=True
    )
    assert ack["data"]["is_bullying"] is True
    assert ack["data"]["status"] == "delivered"
    assert events(receiver, "receive_message")[0]["is_bullying"] is True
    assert events(sender, "moderation_warning")[0]["bullying_count"] == 1
    with app.app_context():
        assert db.session.get(User, alice.id).bullying_count == 1
        flag = db.session.scalars(select(Flag)).one()
        assert flag.item_id == ack["data"]["id"] and flag.item_type == "message"


@pytest.mark.parametrize("app_settings", [{"FLAGGED_MESSAGE_POLICY": "withhold"}])
def test_withheld_message_is_stored_not_delivered(app, trio, connect, client):
    app.extensions["detector"] = FixedScoreDetector(0.97)
    alice, bob, _ = trio
    sender, other_tab, receiver = connect(alice), connect(alice), connect(bob)
    events(receiver), events(other_tab)
    ack = sender.emit(
        "send_message", {"receiver": "bob", "message": "x"}, callback=True
    )
    assert ack["data"]["status"] == "withheld"
    assert events(receiver) == []
    assert len(events(other_tab, "receive_message")) == 1
    assert stored(app)[0].status == "withheld"
    hidden = client.get("/api/chat/messages/alice", headers=bob.headers).get_json()
    assert hidden["items"] == []
    shown = client.get("/api/chat/messages/bob", headers=alice.headers).get_json()
    assert [item["status"] for item in shown["items"]] == ["withheld"]


def test_muted_sender_is_refused(app, trio, connect):
    from datetime import timedelta

    alice = trio[0]
    with app.app_context():
        db.session.get(User, alice.id).muted_until = utcnow() + timedelta(minutes=5)
        db.session.commit()
    sender = connect(alice)
    events(sender)
    ack = sender.emit(
        "send_message", {"receiver": "bob", "message": "x"}, callback=True
    )
    assert ack["ok"] is False and ack["error"] == "muted"
    assert ack["muted_until"].endswith("Z")
    assert events(sender, "error")[0]["error"] == "muted"
    assert stored(app) == []


def test_a_muted_sender_s_typing_is_refused_and_relayed_to_no_one(app, trio, connect):
    """A mute stops sending; "… is typing" is part of it (it was relayed, and a muted
    harasser could keep it showing in the receiver's conversation)."""
    from datetime import timedelta

    alice = trio[0]
    sender, receiver = connect(alice), connect(trio[1])
    with app.app_context():
        db.session.get(User, alice.id).muted_until = utcnow() + timedelta(minutes=5)
        db.session.commit()
    events(sender), events(receiver)
    ack = sender.emit("typing", {"receiver": "bob", "is_typing": True}, callback=True)
    assert ack["ok"] is False and ack["error"] == "muted", ack
    assert events(receiver, "user_typing") == []
    with app.app_context():
        db.session.get(User, alice.id).muted_until = None
        db.session.commit()
    ack = sender.emit("typing", {"receiver": "bob", "is_typing": True}, callback=True)
    assert ack["ok"] is True, ack
    assert events(receiver, "user_typing") == [{"sender": "alice", "is_typing": True}]


@pytest.mark.parametrize(
    "app_settings",
    [{"RATELIMIT_ENABLED": True, "SEND_LIMIT_PER_USER": "3 per minute"}],
)
def test_rate_limit_refuses_excess_and_stores_nothing(app, trio, connect):
    alice, bob, _ = trio
    sender = connect(alice)
    acks = [
        sender.emit(
            "send_message", {"receiver": "bob", "message": f"m{i}"}, callback=True
        )
        for i in range(4)
    ]
    assert [ack["ok"] for ack in acks] == [True, True, True, False]
    assert acks[3]["error"] == "rate_limited" and acks[3]["retry_after"] >= 1
    assert len(stored(app)) == 3
    # the limit is per user: bob still sends
    other = connect(bob)
    assert other.emit(
        "send_message", {"receiver": "alice", "message": "hi"}, callback=True
    )["ok"]


@pytest.mark.parametrize(
    "app_settings",
    [{"RATELIMIT_ENABLED": True, "SOCKET_EVENT_LIMIT": "4 per minute"}],
)
def test_a_flood_of_typing_at_a_stranger_stops_at_the_connection(app, trio, connect):
    alice, _, carol = trio
    flooder, victim = connect(alice), connect(carol)
    events(victim)
    acks = [
        flooder.emit("typing", {"receiver": "carol", "is_typing": True}, callback=True)
        for _ in range(6)
    ]
    assert [ack["ok"] for ack in acks] == [True] * 4 + [False] * 2
    assert acks[4]["error"] == "rate_limited" and acks[4]["retry_after"] >= 1
    assert len(events(victim, "user_typing")) == 4
    # Every event spends the budget, junk and unknown names too, and each refusal
    # is answered, naming the event the client sent.
    for name in ("no_such_event", "send_message", "mark_as_read"):
        ack = flooder.emit(name, {"x": 1}, callback=True)
        assert ack["ok"] is False and ack["error"] == "rate_limited", name
    errors = events(flooder, "error")
    assert [e["event"] for e in errors[-3:]] == [
        "no_such_event",
        "send_message",
        "mark_as_read",
    ]
    assert stored(app) == []
    # The budget is the connection's: another one, and other people, are not held.
    other = connect(carol)
    ack = other.emit("typing", {"receiver": "alice", "is_typing": True}, callback=True)
    assert ack["ok"] is True


@pytest.mark.parametrize(
    "app_settings",
    [{"RATELIMIT_ENABLED": True, "SEND_LIMIT_PER_USER": "2 per minute"}],
)
@pytest.mark.parametrize("score", [0.1, 0.97], ids=["clean", "flagged"])
def test_over_the_rate_limit_a_retry_still_gets_the_first_answer(
    app, trio, connect, score
):
    """A client that reconnects resends what was not acknowledged; what was stored
    is answered (it stores nothing), only new messages wait for the limit."""
    app.extensions["detector"] = FixedScoreDetector(score)
    sender = connect(trio[0])
    payloads = [
        {"receiver": "bob", "message": f"m{i}", "client_id": f"k{i}"} for i in range(3)
    ]
    first = [sender.emit("send_message", p, callback=True) for p in payloads[:2]]
    assert [ack["ok"] for ack in first] == [True, True]
    events(sender)
    assert sender.emit("send_message", payloads[0], callback=True) == first[0]
    assert events(sender, "message_sent") == [first[0]["data"]]
    refused = sender.emit("send_message", payloads[2], callback=True)
    assert refused["ok"] is False and refused["error"] == "rate_limited"
    assert len(stored(app)) == 2


@pytest.mark.parametrize("since", ["muted", "blocked"])
@pytest.mark.parametrize("score", [0.1, 0.97], ids=["clean", "flagged"])
def test_a_retry_after_a_mute_or_block_still_gets_the_first_answer(
    app, client, trio, connect, admin_headers, score, since
):
    """The message was stored before the sender was muted or blocked by the
    receiver: resending it stores nothing and is answered with it; new ones are
    refused."""
    app.extensions["detector"] = FixedScoreDetector(score)
    alice, bob, _ = trio
    sender = connect(alice)
    payload = {"receiver": "bob", "message": "before", "client_id": "k0"}
    first = sender.emit("send_message", payload, callback=True)
    assert first["ok"] is True
    if since == "muted":
        response = client.post(
            "/api/admin/users/alice/mute", json={"minutes": 5}, headers=admin_headers
        )
    else:
        response = client.put("/api/me/blocks/alice", headers=bob.headers)
    assert response.status_code == 200, response.get_json()
    assert sender.emit("send_message", payload, callback=True) == first
    refused = sender.emit("send_message", {**payload, "client_id": "k1"}, callback=True)
    assert refused["ok"] is False
    assert refused["error"] == ("muted" if since == "muted" else "forbidden")
    assert len(stored(app)) == 1


def test_database_failure_answers_unavailable_and_delivers_nothing(app, trio, connect):
    alice, bob, _ = trio
    sender, receiver = connect(alice), connect(bob)
    events(sender), events(receiver)

    def fail_commit(conn):
        raise OperationalError("COMMIT", {}, Exception("server has gone away"))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "commit", fail_commit)
    try:
        ack = sender.emit(
            "send_message", {"receiver": "bob", "message": "lost?"}, callback=True
        )
    finally:
        event.remove(engine, "commit", fail_commit)
    assert ack["ok"] is False and ack["error"] == "unavailable"
    assert events(sender, "error") == [
        {"error": "unavailable", "message": ack["message"], "event": "send_message"}
    ]
    assert events(receiver) == []
    assert stored(app) == []
    assert sender.is_connected()
    ack = sender.emit(
        "send_message", {"receiver": "bob", "message": "ok"}, callback=True
    )
    assert ack["ok"] is True


def test_typing_reaches_only_the_receiver(app, trio, connect):
    alice, bob, carol = trio
    a, a2, b, c = connect(alice), connect(alice), connect(bob), connect(carol)
    for sio in (a, a2, b, c):
        events(sio)
    ack = a.emit("typing", {"receiver": "bob", "is_typing": True}, callback=True)
    assert ack["ok"] is True
    assert events(b) == [
        {
            "name": "user_typing",
            "args": [{"sender": "alice", "is_typing": True}],
            "namespace": "/",
        }
    ]
    assert events(a) == [] and events(a2) == [] and events(c) == []
    assert stored(app) == []


def test_typing_to_someone_offline_is_answered_as_to_someone_online(app, trio, connect):
    """Nobody is told to an offline receiver (nobody could show it), and the sender
    cannot tell: the ack is the same whether the receiver is online or not (§9)."""
    alice, bob, _ = trio
    a = connect(alice)
    typing = {"receiver": "bob", "is_typing": True}
    offline = a.emit("typing", typing, callback=True)
    b = connect(bob)
    events(b)
    online = a.emit("typing", typing, callback=True)
    assert offline == online == {"ok": True, "data": typing}
    assert events(b, "user_typing") == [{"sender": "alice", "is_typing": True}]


def test_typing_from_someone_the_receiver_muted_does_not_reach_them(
    client, trio, connect
):
    """A mute keeps every live intrusion of the muted person away (API.md §9): no
    `receive_message`, no `user_typing`. The muted one is not told: the ack is the
    same as ever. The mute is one way, and lifting it lets typing through again."""
    alice, bob, _ = trio
    assert client.put("/api/me/mutes/bob", headers=alice.headers).status_code == 200
    a, b = connect(alice), connect(bob)
    events(a), events(b)
    typing = {"receiver": "alice", "is_typing": True}
    ack = b.emit("typing", typing, callback=True)
    assert ack == {"ok": True, "data": {"receiver": "alice", "is_typing": True}}
    assert events(a) == [] and events(b) == []
    a.emit("typing", {"receiver": "bob", "is_typing": True}, callback=True)
    assert events(b, "user_typing") == [{"sender": "alice", "is_typing": True}]
    # Presence and what keeps the record straight still arrive: a first message
    # makes them contacts (a mute is no block), and an unsent message goes away.
    sent = b.emit("send_message", {"receiver": "alice", "message": "x"}, callback=True)
    assert [(e["name"], e["args"]) for e in events(a)] == [("user_joined", ["bob"])]
    client.delete(f"/api/chat/messages/{sent['data']['id']}", headers=bob.headers)
    assert events(a, "message_deleted") == [{"id": sent["data"]["id"]}]
    assert client.delete("/api/me/mutes/bob", headers=alice.headers).status_code == 200
    b.emit("typing", typing, callback=True)
    assert events(a, "user_typing") == [{"sender": "bob", "is_typing": True}]


def test_mark_as_read_marks_only_own_unread_and_tells_each_sender(app, trio, connect):
    alice, bob, carol = trio
    a, b, c = connect(alice), connect(bob), connect(carol)
    ids = {}
    for name, sio, receiver, text_ in [
        ("a1", a, "bob", "one"),
        ("a2", a, "bob", "two"),
        ("c1", c, "bob", "three"),
        ("a3", a, "carol", "not bob's"),
    ]:
        ids[name] = sio.emit(
            "send_message", {"receiver": receiver, "message": text_}, callback=True
        )["data"]["id"]
    for sio in (a, b, c):
        events(sio)
    wanted = [ids["a1"], ids["a2"], ids["c1"], ids["a3"], "no-such-id"]
    ack = b.emit("mark_as_read", {"message_ids": wanted}, callback=True)
    assert ack["ok"] is True
    assert ack["data"]["count"] == 3
    assert sorted(ack["data"]["message_ids"]) == sorted(
        [ids["a1"], ids["a2"], ids["c1"]]
    )
    assert events(b, "messages_marked_read") == [ack["data"]]
    (to_alice,) = events(a, "messages_read")
    assert to_alice["reader"] == "bob"
    assert sorted(to_alice["message_ids"]) == sorted([ids["a1"], ids["a2"]])
    assert events(c, "messages_read") == [{"reader": "bob", "message_ids": [ids["c1"]]}]
    read = {row.id: row.is_read for row in stored(app)}
    assert read[ids["a3"]] is False
    assert read[ids["a1"]] and read[ids["a2"]] and read[ids["c1"]]
    again = b.emit("mark_as_read", {"message_ids": wanted}, callback=True)
    assert again["data"] == {"count": 0, "message_ids": []}
    assert events(a, "messages_read") == []


def test_mark_as_read_takes_ids_in_upper_case(trio, connect):
    """UUIDs compare without regard to case; iOS's UUID().uuidString writes them in
    upper case. The answers name the ids as the server spells them."""
    alice, bob, _ = trio
    a, b = connect(alice), connect(bob)
    sent = a.emit("send_message", {"receiver": "bob", "message": "hi"}, callback=True)
    message_id = sent["data"]["id"]
    events(a)
    ack = b.emit("mark_as_read", {"message_ids": [message_id.upper()]}, callback=True)
    assert ack["data"] == {"count": 1, "message_ids": [message_id]}
    assert events(a, "messages_read") == [
        {"reader": "bob", "message_ids": [message_id]}
    ]


def test_database_sessions_are_released_after_every_event(app, trio, connect):
    alice = trio[0]
    sender = connect(alice)
    with app.app_context():
        pool = db.engine.pool
    sender.emit("send_message", {"receiver": "bob", "message": "hi"}, callback=True)
    sender.emit("typing", {"receiver": "bob", "is_typing": False}, callback=True)
    sender.emit("mark_as_read", {"message_ids": ["x"]}, callback=True)
    sender.emit("send_message", [1, 2], callback=True)
    sender.emit("send_message", {"receiver": "nobody", "message": "x"}, callback=True)
    assert pool.checkedout() == 0


def test_one_commit_and_few_statements_per_message(app, trio, connect):
    alice = trio[0]
    sender = connect(alice)
    # The first message looks the receiver up; later ones find it cached.
    assert sender.emit(
        "send_message", {"receiver": "bob", "message": "warm"}, callback=True
    )["ok"]
    commits: list[int] = []
    with app.app_context():
        engine = db.engine

    def on_commit(conn):
        commits.append(1)

    event.listen(engine, "commit", on_commit)
    try:
        with recorded_statements(app) as statements:
            ack = sender.emit(
                "send_message",
                {"receiver": "bob", "message": "hi", "client_id": "k"},
                callback=True,
            )
    finally:
        event.remove(engine, "commit", on_commit)
    assert ack["ok"] is True
    assert len(commits) == 1
    # The batch's check (sender blocked or muted, blocks and mutes between the two)
    # and the INSERT: no user reload, no receiver lookup, no client_id pre-check.
    assert verbs(statements) == ["SELECT", "INSERT"]


def test_server_sets_the_timestamp_and_a_client_one_is_refused(app, trio, connect):
    sender = connect(trio[0])
    forged = {"receiver": "bob", "message": "x", "timestamp": "2000-01-01T00:00:00Z"}
    refused = sender.emit("send_message", forged, callback=True)
    assert refused["ok"] is False and "timestamp" in refused["errors"]
    before = utcnow().replace(microsecond=0)
    ack = sender.emit(
        "send_message", {"receiver": "bob", "message": "x"}, callback=True
    )
    assert ack["ok"]
    with app.app_context():
        created = db.session.scalar(select(func.max(Message.created_at)))
    assert created >= before

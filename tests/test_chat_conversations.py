"""Conversations, online users, bullying report and can-chat (API.md §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from cyberscan.extensions import db
from cyberscan.models import Comment, Post, User, utcnow
from tests.fixtures_realtime import events
from tests.helpers import FixedScoreDetector, assert_error, recorded_statements

CHAT_ENDPOINTS = [
    "/api/chat/conversations",
    "/api/chat/online-users",
    "/api/chat/bullying-report",
    "/api/chat/can-chat",
    "/api/chat/messages/bob",
]


def send(client, sender, receiver: str, text: str) -> dict:
    response = client.post(
        f"/api/chat/messages/{receiver}", json={"message": text}, headers=sender.headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def get(client, who, path: str):
    response = client.get(path, headers=who.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_conversations_most_recent_first_with_unread_and_online(client, trio, connect):
    alice, bob, carol = trio
    send(client, bob, "alice", "b1")
    send(client, bob, "alice", "b2")
    send(client, alice, "carol", "c1")
    last = send(client, carol, "alice", "c2")
    connect(carol)
    body = get(client, alice, "/api/chat/conversations")
    assert [c["username"] for c in body] == ["carol", "bob"]
    assert body[0]["last_message"] == last
    assert body[0]["unread_count"] == 1 and body[0]["online"] is True
    assert body[1]["last_message"]["message"] == "b2"
    assert body[1]["unread_count"] == 2 and body[1]["online"] is False
    sio = connect(alice)
    ids = [m["id"] for m in get(client, alice, "/api/chat/messages/bob")["items"]]
    sio.emit("mark_as_read", {"message_ids": ids}, callback=True)
    assert get(client, alice, "/api/chat/conversations")[1]["unread_count"] == 0
    assert get(client, bob, "/api/chat/conversations")[0]["unread_count"] == 0


def test_conversations_empty(client, trio):
    assert get(client, trio[0], "/api/chat/conversations") == []


def test_conversations_query_count_does_not_grow_with_partners(app, client, member):
    me = member("hub")

    def measure() -> tuple[int, list[str]]:
        with recorded_statements(app) as statements:
            body = get(client, me, "/api/chat/conversations")
        return len(body), statements

    partner = member("p0")
    send(client, partner, "hub", "hi")
    one = measure()
    for i in range(1, 8):
        other = member(f"p{i}")
        send(client, other, "hub", "hi")
        send(client, me, other.username, "hello")
    many = measure()
    assert one[0] == 1 and many[0] == 8
    assert len(many[1]) == len(one[1]), many[1]
    assert len(many[1]) <= 6  # + the reader's blocks: presence shows contacts only (§9)


@pytest.mark.parametrize("app_settings", [{"FLAGGED_MESSAGE_POLICY": "withhold"}])
def test_withheld_message_is_not_in_the_receivers_conversations(app, client, trio):
    alice, bob, _ = trio
    send(client, bob, "alice", "fine")
    app.extensions["detector"] = FixedScoreDetector(0.97)
    send(client, bob, "alice", "nasty")
    (conversation,) = get(client, alice, "/api/chat/conversations")
    assert conversation["last_message"]["message"] == "fine"
    assert conversation["unread_count"] == 1
    (own,) = get(client, bob, "/api/chat/conversations")
    assert own["last_message"]["message"] == "nasty"


@pytest.mark.parametrize("app_settings", [{"FLAGGED_MESSAGE_POLICY": "withhold"}])
def test_a_stranger_whose_only_message_was_withheld_sees_no_presence(
    app, client, trio, connect
):
    alice, _, carol = trio
    app.extensions["detector"] = FixedScoreDetector(0.97)
    send(client, carol, "alice", "nasty")
    connect(alice)
    (conversation,) = get(client, carol, "/api/chat/conversations")
    assert conversation["username"] == "alice"
    # Not a contact (§9): the flag says nothing about whether alice is online.
    assert conversation["online"] is False
    app.extensions["detector"] = FixedScoreDetector(0.05)
    send(client, carol, "alice", "sorry")
    (conversation,) = get(client, carol, "/api/chat/conversations")
    assert conversation["online"] is True


def test_online_users_lists_other_active_users_without_emails(
    app, client, trio, connect
):
    alice, bob, carol = trio
    send(client, alice, "bob", "hi")  # presence is private: contacts only (§9)
    send(client, carol, "alice", "hi")
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == carol.id).values(is_blocked=True)
        )
        db.session.commit()
    connect(bob)
    body = get(client, alice, "/api/chat/online-users")
    assert body == [{"username": "bob", "online": True}]
    connect(alice)
    body = get(client, bob, "/api/chat/online-users")
    assert body == [{"username": "alice", "online": True}]


def test_online_flag_goes_false_after_disconnect(client, trio, connect):
    alice, bob, _ = trio
    send(client, alice, "bob", "hi")  # presence is private: contacts only (§9)
    send(client, alice, "carol", "hi")
    sio = connect(bob)
    assert get(client, alice, "/api/chat/online-users")[0]["online"] is True
    sio.disconnect()
    assert {
        u["username"]: u["online"] for u in get(client, alice, "/api/chat/online-users")
    } == {
        "bob": False,
        "carol": False,
    }


def test_bullying_report_counts_own_flagged_items(app, client, trio, connect):
    alice, bob, _ = trio
    send(client, alice, "bob", "nice")
    app.extensions["detector"] = FixedScoreDetector(0.97)
    send(client, alice, "bob", "nasty")
    send(client, bob, "alice", "nasty back")
    with app.app_context():
        post = Post(author_id=bob.id, content="p", is_bullying=False)
        db.session.add(post)
        db.session.flush()
        db.session.add(
            Comment(post_id=post.id, author_id=alice.id, content="c", is_bullying=True)
        )
        db.session.commit()
    body = get(client, alice, "/api/chat/bullying-report")
    assert body["username"] == "alice"
    assert body["bullying_count"] == 1
    assert body["max_bullying_count"] == app.config["MAX_BULLYING_COUNT"]
    assert body["remaining"] == body["max_bullying_count"] - 1
    assert body["is_blocked"] is False
    assert body["flagged_messages"] == 1 and body["flagged_comments"] == 1


def test_can_chat_allowed_then_muted(app, client, trio):
    alice = trio[0]
    assert get(client, alice, "/api/chat/can-chat") == {
        "can_chat": True,
        "reason": None,
        "muted_until": None,
    }
    until = utcnow() + timedelta(minutes=10)
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == alice.id).values(muted_until=until)
        )
        db.session.commit()
    body = get(client, alice, "/api/chat/can-chat")
    assert body["can_chat"] is False
    assert body["reason"].startswith("muted until ") and body["reason"].endswith("Z")
    assert body["muted_until"].endswith("Z")


def test_expired_mute_can_chat(app, client, trio):
    alice = trio[0]
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == alice.id)
            .values(muted_until=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    assert get(client, alice, "/api/chat/can-chat")["can_chat"] is True


@pytest.mark.parametrize("path", CHAT_ENDPOINTS)
def test_chat_endpoints_require_a_token(client, trio, path):
    assert_error(client.get(path), 401, "unauthorized")
    assert_error(
        client.get(path, headers={"Authorization": "Bearer junk"}), 401, "unauthorized"
    )


@pytest.mark.parametrize("path", CHAT_ENDPOINTS)
def test_blocked_user_gets_403_blocked(app, client, trio, path):
    alice = trio[0]
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == alice.id).values(is_blocked=True)
        )
        db.session.commit()
    assert_error(client.get(path, headers=alice.headers), 403, "blocked")


def test_muted_rest_sender_is_refused(app, client, trio, connect):
    alice, bob, _ = trio
    receiver = connect(bob)
    events(receiver)
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == alice.id)
            .values(muted_until=utcnow() + timedelta(minutes=1))
        )
        db.session.commit()
    response = client.post(
        "/api/chat/messages/bob", json={"message": "x"}, headers=alice.headers
    )
    assert_error(response, 403, "muted")
    assert events(receiver) == []

"""One moderation policy for messages, posts and comments, end to end (API.md §6).

The author talks through the real Socket.IO handlers and the real REST endpoints; an
admin watches on a live connection, then unblocks through the admin API.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cyberscan.extensions import db
from cyberscan.models import WITHHELD, AuditLog, Flag, Message, User
from tests.fixtures_realtime import events
from tests.helpers import PASSWORD, FixedScoreDetector, assert_error


def send(sio, receiver, text):
    return sio.emit(
        "send_message", {"receiver": receiver, "message": text}, callback=True
    )


def login_status(client, username):
    return client.post("/api/login", json={"username": username, "password": PASSWORD})


def test_five_flagged_items_block_the_author_and_an_admin_unblocks(
    client, app, member, connect, socket_client, flagging
):
    bully, victim = member("bully"), member("victim")
    boss = member("boss", is_admin=True)
    phone = connect(bully)
    dashboard = connect(boss)
    victim_socket = connect(victim)
    for sio in (phone, dashboard, victim_socket):
        events(sio)

    # 1: a message over the socket
    assert send(phone, "victim", "you are a loser")["ok"] is True
    # 2: a post over REST
    post = client.post("/api/post", json={"content": "loser"}, headers=bully.headers)
    assert post.status_code == 201
    # 3: a comment over REST
    assert (
        client.post(
            f"/api/comment/{post.get_json()['id']}",
            json={"content": "idiot"},
            headers=bully.headers,
        ).status_code
        == 201
    )
    # 4: another message
    assert send(phone, "victim", "nobody likes you")["ok"] is True
    warnings = events(phone, "moderation_warning")
    assert [(w["bullying_count"], w["remaining"]) for w in warnings] == [
        (1, 4),
        (2, 3),
        (3, 2),
        (4, 1),
    ]
    assert {w["max_bullying_count"] for w in warnings} == {5}
    assert all(isinstance(w["message"], str) and w["message"] for w in warnings)
    # Flagged messages are still delivered by default, marked as bullying.
    delivered = events(victim_socket, "receive_message")
    assert [m["is_bullying"] for m in delivered] == [True, True]

    # 5: the fifth flagged item blocks
    post = client.post("/api/post", json={"content": "loser"}, headers=bully.headers)
    assert post.status_code == 201
    received = events(phone)
    assert [e["name"] for e in received if e["name"] == "moderation_warning"] == []
    blocked = [e["args"][0] for e in received if e["name"] == "account_blocked"]
    assert len(blocked) == 1 and blocked[0]["reason"]
    assert not phone.is_connected()

    live = events(dashboard, "flagged_item")
    assert [f["item_type"] for f in live] == [
        "message",
        "post",
        "comment",
        "message",
        "post",
    ]
    assert live[-1]["author_is_blocked"] is True
    assert live[-1]["author_bullying_count"] == 5

    # The account is shut everywhere.
    assert_error(
        client.post("/api/post", json={"content": "hi"}, headers=bully.headers),
        403,
        "blocked",
    )
    assert_error(client.get("/api/me", headers=bully.headers), 403, "blocked")
    assert_error(login_status(client, "bully"), 403, "blocked")
    assert not socket_client(bully.token).is_connected()
    with app.app_context():
        user = db.session.get(User, bully.id)
        assert (user.is_blocked, user.bullying_count) == (True, 5)
        assert len(db.session.scalars(select(Flag)).all()) == 5
        entry = db.session.scalars(select(AuditLog)).one()
        assert (entry.actor_id, entry.action, entry.target_user_id) == (
            None,
            "auto_block",
            bully.id,
        )

    # An admin unblocks: login and sending work again, the count restarts.
    unblocked = client.post(
        "/api/admin/users/bully/unblock",
        json={"reason": "appeal"},
        headers=boss.headers,
    )
    assert unblocked.status_code == 200
    assert unblocked.get_json()["user"]["bullying_count"] == 0
    # The block revoked the tokens it found: they do not come back with the unblock.
    assert_error(client.get("/api/me", headers=bully.headers), 401, "unauthorized")
    assert not socket_client(bully.token).is_connected()
    token = login_status(client, "bully").get_json()["access_token"]
    app.extensions["detector"] = FixedScoreDetector(0.05, terms=())
    again = socket_client(token)
    assert again.is_connected()
    ack = send(again, "victim", "sorry about before")
    assert ack["ok"] is True and ack["data"]["is_bullying"] is False
    assert (
        events(victim_socket, "receive_message")[-1]["message"] == "sorry about before"
    )


def test_each_flagged_item_warns_every_live_connection(
    client, member, connect, flagging
):
    bully = member("bully")
    phone, laptop = connect(bully), connect(bully)
    client.post("/api/post", json={"content": "loser"}, headers=bully.headers)
    for sio in (phone, laptop):
        assert [w["remaining"] for w in events(sio, "moderation_warning")] == [4]


def test_clean_items_add_no_strike(client, app, member, connect, friendly):
    author = member("author")
    sio = connect(author)
    client.post("/api/post", json={"content": "hello"}, headers=author.headers)
    assert events(sio, "moderation_warning") == []
    with app.app_context():
        assert db.session.get(User, author.id).bullying_count == 0


def test_threshold_is_inclusive(client, app, member):
    author = member("author")
    app.extensions["detector"] = FixedScoreDetector(0.6)
    body = client.post("/api/post", json={"content": "x"}, headers=author.headers)
    assert body.get_json()["is_bullying"] is True
    app.extensions["detector"] = FixedScoreDetector(0.5999)
    body = client.post("/api/post", json={"content": "x"}, headers=author.headers)
    assert body.get_json()["is_bullying"] is False


@pytest.mark.parametrize("app_settings", [{"MAX_BULLYING_COUNT": 2}])
def test_limit_comes_from_config(client, app, member, connect, flagging):
    bully = member("bully")
    sio = connect(bully)
    for _ in range(2):
        client.post("/api/post", json={"content": "loser"}, headers=bully.headers)
    received = events(sio)
    assert [
        e["args"][0]["remaining"] for e in received if e["name"] == "moderation_warning"
    ] == [1]
    assert [e["name"] for e in received if e["name"] == "account_blocked"] == [
        "account_blocked"
    ]
    assert not sio.is_connected()
    with app.app_context():
        assert db.session.get(User, bully.id).is_blocked


def test_unblock_keeping_the_count_blocks_again_on_the_next_flag(
    client, app, member, admin_headers, flagging
):
    bully = member("bully")
    with app.app_context():
        user = db.session.get(User, bully.id)
        user.bullying_count, user.is_blocked = 5, True
        db.session.commit()
    client.post(
        "/api/admin/users/bully/unblock",
        json={"reset_count": False},
        headers=admin_headers,
    )
    token = login_status(client, "bully").get_json()["access_token"]
    client.post(
        "/api/post",
        json={"content": "loser"},
        headers={"Authorization": f"Bearer {token}"},
    )
    with app.app_context():
        user = db.session.get(User, bully.id)
        assert (user.is_blocked, user.bullying_count) == (True, 6)
        actions = db.session.scalars(
            select(AuditLog.action).order_by(AuditLog.id)
        ).all()
        assert actions == ["unblock", "auto_block"]


def test_muted_user_cannot_send_over_the_socket(client, member, connect, admin_headers):
    bully = member("bully")
    member("victim")
    sio = connect(bully)
    client.post(
        "/api/admin/users/bully/mute", json={"minutes": 10}, headers=admin_headers
    )
    ack = send(sio, "victim", "hello")
    assert ack["ok"] is False and ack["error"] == "muted"
    assert ack["muted_until"] == events(sio, "muted")[0]["muted_until"]


@pytest.mark.parametrize("app_settings", [{"FLAGGED_MESSAGE_POLICY": "withhold"}])
def test_withhold_policy_keeps_flagged_messages_from_the_receiver(
    client, app, member, connect, admin_headers, flagging
):
    bully, victim = member("bully"), member("victim")
    phone, inbox = connect(bully), connect(victim)
    events(inbox)
    ack = send(phone, "victim", "you are a loser")
    assert ack["ok"] is True
    assert ack["data"]["status"] == WITHHELD
    assert ack["data"]["is_bullying"] is True
    assert events(inbox, "receive_message") == []
    history = client.get("/api/chat/messages/bully", headers=victim.headers).get_json()
    assert history["items"] == []
    with app.app_context():
        stored = db.session.scalars(select(Message)).one()
        assert stored.status == WITHHELD
    queued = client.get("/api/admin/flagged", headers=admin_headers).get_json()["items"]
    assert [(f["item_type"], f["item_id"]) for f in queued] == [
        ("message", ack["data"]["id"])
    ]
    assert [w["remaining"] for w in events(phone, "moderation_warning")] == [4]

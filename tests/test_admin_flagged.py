"""The moderation queue: flagged messages, posts and comments, and their review."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cyberscan.extensions import db
from cyberscan.models import WITHHELD, AuditLog, Comment, Flag, Message, Post, User
from cyberscan.services import messaging
from tests.fixtures_realtime import events
from tests.helpers import assert_error

FLAG_KEYS = {
    "id",
    "item_type",
    "item_id",
    "author",
    "author_id",
    "author_is_blocked",
    "author_bullying_count",
    "content",
    "probability",
    "model_version",
    "terms",
    "created_at",
    "reviewed_at",
    "reviewed_by",
    "review_action",
    "strike_status",
}


@pytest.fixture
def bully(member):
    return member("bully")


def post(client, who, content="you loser"):
    response = client.post("/api/post", json={"content": content}, headers=who.headers)
    assert response.status_code == 201
    return response.get_json()


def comment(client, who, post_id, content="idiot"):
    response = client.post(
        f"/api/comment/{post_id}", json={"content": content}, headers=who.headers
    )
    assert response.status_code == 201
    return response.get_json()


def send(app, sender, receiver, text="you are worthless"):
    """A message through the one message pipeline (the socket handler calls the same)."""
    with app.app_context():
        user = db.session.get(User, sender.id)
        return messaging.send_message(user, receiver.username, text).id


def queue(client, headers, query=""):
    response = client.get(f"/api/admin/flagged{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_queue_lists_messages_posts_and_comments_newest_first(
    client, app, bully, member, admin_headers, flagging
):
    victim = member("victim")
    p = post(client, bully)
    c = comment(client, bully, p["id"])
    m = send(app, bully, victim)
    page = queue(client, admin_headers)
    items = page["items"]
    assert [(i["item_type"], i["item_id"]) for i in items] == [
        ("message", m),
        ("comment", str(c["id"])),
        ("post", str(p["id"])),
    ]
    assert page["next_cursor"] is None
    first = items[0]
    assert set(first) == FLAG_KEYS
    assert first["author"] == "bully"
    assert first["author_id"] == bully.id
    assert first["author_bullying_count"] == 3
    assert first["author_is_blocked"] is False
    assert first["content"] == "you are worthless"
    assert first["probability"] == pytest.approx(0.97)
    assert first["model_version"] == "fixed-test"
    assert first["terms"] == ["loser", "idiot"]
    assert first["reviewed_at"] is None and first["reviewed_by"] is None


def test_clean_items_are_not_queued(client, bully, admin_headers, friendly):
    post(client, bully, "hello")
    assert queue(client, admin_headers)["items"] == []


def test_queue_is_paginated(client, bully, admin_headers, flagging):
    ids = [post(client, bully, f"bad {n}")["id"] for n in range(3)]
    first = queue(client, admin_headers, "?limit=2")
    rest = queue(client, admin_headers, f"?limit=2&cursor={first['next_cursor']}")
    seen = [i["item_id"] for i in first["items"] + rest["items"]]
    assert seen == [str(i) for i in reversed(ids)]
    assert rest["next_cursor"] is None


def test_admins_see_new_flags_live(client, app, bully, member, connect, flagging):
    boss = member("boss", is_admin=True)
    dashboard = connect(boss)
    bystander = connect(member("bystander"))
    events(dashboard)
    events(bystander)
    p = post(client, bully)
    live = events(dashboard, "flagged_item")
    assert len(live) == 1
    assert live[0] == queue(client, boss.headers)["items"][0]
    assert live[0]["item_id"] == str(p["id"])
    assert events(bystander, "flagged_item") == []


def test_admin_dashboards_are_told_to_refresh(
    client, bully, member, connect, admin_headers, flagging
):
    dashboard = connect(member("boss", is_admin=True))
    bystander = connect(member("bystander"))
    events(dashboard)
    events(bystander)
    post(client, bully)
    client.post(
        "/api/admin/users/bully/mute", json={"minutes": 5}, headers=admin_headers
    )
    assert events(dashboard, "admin_summary_changed") == [
        {"reason": "flagged_item"},
        {"reason": "mute", "username": "bully"},
    ]
    assert events(bystander, "admin_summary_changed") == []


def test_dismiss_keeps_the_item_and_closes_the_flag(
    client, app, bully, admin, admin_headers, flagging
):
    p = post(client, bully)
    flag_id = queue(client, admin_headers)["items"][0]["id"]
    response = client.post(
        f"/api/admin/flagged/{flag_id}/review",
        json={"action": "dismiss", "note": "banter between friends"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == FLAG_KEYS
    assert (body["review_action"], body["reviewed_by"]) == ("dismiss", "root_admin")
    assert body["reviewed_at"].endswith("Z")
    assert client.get(f"/api/post/{p['id']}", headers=bully.headers).status_code == 200
    assert queue(client, admin_headers)["items"] == []
    assert queue(client, admin_headers, "?status=reviewed")["items"] == [body]
    assert queue(client, admin_headers, "?status=all")["items"] == [body]
    with app.app_context():
        entry = db.session.scalars(select(AuditLog)).one()
        assert (entry.actor_id, entry.action, entry.target_user_id, entry.reason) == (
            admin.id,
            "review_dismiss",
            bully.id,
            "banter between friends",
        )
        assert entry.details["flag_id"] == flag_id


def test_remove_deletes_a_post_with_its_comments(
    client, app, bully, member, admin_headers, flagging
):
    p = post(client, bully)
    comment(client, member("other"), p["id"], "fine")
    post_flag = queue(client, admin_headers)["items"][-1]
    assert post_flag["item_type"] == "post"
    response = client.post(
        f"/api/admin/flagged/{post_flag['id']}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Post, p["id"]) is None
        assert db.session.scalars(select(Comment)).all() == []
        assert db.session.scalars(select(AuditLog)).one().details["removed"] is True


def test_remove_deletes_a_comment(client, app, bully, member, admin_headers, flagging):
    p = post(client, member("author"))
    c = comment(client, bully, p["id"])
    flag = next(
        i for i in queue(client, admin_headers)["items"] if i["item_type"] == "comment"
    )
    client.post(
        f"/api/admin/flagged/{flag['id']}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    with app.app_context():
        assert db.session.get(Comment, c["id"]) is None
    # The post stays, and shows it has no comment left.
    shown = client.get(f"/api/post/{p['id']}", headers=admin_headers).get_json()
    assert (shown["id"], shown["comment_count"]) == (p["id"], 0)


def test_remove_withholds_a_message_from_the_receiver(
    client, app, bully, member, connect, admin_headers, flagging
):
    victim = member("victim")
    message_id = send(app, bully, victim)
    flag_id = queue(client, admin_headers)["items"][0]["id"]
    sender_screen, receiver_screen = connect(bully), connect(victim)
    events(sender_screen), events(receiver_screen)
    client.post(
        f"/api/admin/flagged/{flag_id}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    # The receiver's open screen drops it live, as when its sender unsends it; the
    # sender's keeps it, as the sender's history does.
    assert events(sender_screen, "message_deleted") == []
    assert events(receiver_screen, "message_deleted") == [{"id": message_id}]
    with app.app_context():
        message = db.session.scalar(select(Message).where(Message.id == message_id))
        assert message.status == WITHHELD
    history = client.get("/api/chat/messages/bully", headers=victim.headers).get_json()
    assert [m["id"] for m in history["items"]] == []


def test_a_message_taken_down_once_is_not_announced_again(
    client, app, bully, member, connect, admin_headers, flagging
):
    """The flag's removal told the receiver; closing the receiver's report on the same
    message with `remove` tells nobody again, and its audit says nothing was removed."""
    victim = member("victim")
    message_id = send(app, bully, victim)
    report = client.post(
        "/api/reports",
        json={"message_id": message_id, "reason": "hurtful"},
        headers=victim.headers,
    )
    assert report.status_code == 201, report.get_json()
    flag_id = queue(client, admin_headers)["items"][0]["id"]
    receiver_screen = connect(victim)
    events(receiver_screen)
    client.post(
        f"/api/admin/flagged/{flag_id}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    assert events(receiver_screen, "message_deleted") == [{"id": message_id}]
    closed = client.post(
        f"/api/admin/reports/{report.get_json()['id']}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["review_action"] == "remove"
    assert events(receiver_screen, "message_deleted") == []
    with app.app_context():
        removed = dict(
            db.session.execute(select(AuditLog.action, AuditLog.details)).all()
        )
    assert removed["review_remove"]["removed"] is True
    assert removed["report_remove"]["removed"] is False


@pytest.mark.parametrize("app_settings", [{"FLAGGED_MESSAGE_POLICY": "withhold"}])
def test_removing_a_message_held_back_at_sending_tells_its_receiver_nothing(
    client, app, bully, member, connect, admin_headers, flagging
):
    """The receiver never had it: no `message_deleted` for an id it never saw."""
    victim = member("victim")
    message_id = send(app, bully, victim)
    receiver_screen = connect(victim)
    events(receiver_screen)
    flag_id = queue(client, admin_headers)["items"][0]["id"]
    response = client.post(
        f"/api/admin/flagged/{flag_id}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.get_json()
    assert events(receiver_screen, "message_deleted") == []
    with app.app_context():
        message = db.session.scalar(select(Message).where(Message.id == message_id))
        assert message.status == WITHHELD


def test_removing_an_item_already_deleted_still_closes_the_flag(
    client, app, bully, admin_headers, flagging
):
    p = post(client, bully)
    client.delete(f"/api/post/{p['id']}", headers=bully.headers)
    flag_id = queue(client, admin_headers)["items"][0]["id"]
    response = client.post(
        f"/api/admin/flagged/{flag_id}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    assert response.get_json()["review_action"] == "remove"
    with app.app_context():
        assert db.session.scalars(select(AuditLog)).one().details["removed"] is False


def test_a_flag_is_reviewed_once(client, bully, admin_headers, flagging):
    post(client, bully)
    flag_id = queue(client, admin_headers)["items"][0]["id"]
    url = f"/api/admin/flagged/{flag_id}/review"
    client.post(url, json={"action": "dismiss"}, headers=admin_headers)
    assert_error(
        client.post(url, json={"action": "remove"}, headers=admin_headers),
        409,
        "conflict",
    )


@pytest.mark.parametrize("flag_id", ["999", "0", "12345678901234567890"])
def test_review_of_unknown_flag_is_404(client, admin_headers, flag_id):
    assert_error(
        client.post(
            f"/api/admin/flagged/{flag_id}/review",
            json={"action": "dismiss"},
            headers=admin_headers,
        ),
        404,
        "not_found",
    )


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"action": "ban"},
        {"action": None},
        {"action": "dismiss", "note": "x" * 501},
        {"action": "dismiss", "note": 3},
        {"action": "dismiss", "reviewed_by": "someone"},
    ],
)
def test_review_rejects_bad_payloads(
    client, app, bully, admin_headers, flagging, payload
):
    post(client, bully)
    flag_id = queue(client, admin_headers)["items"][0]["id"]
    assert_error(
        client.post(
            f"/api/admin/flagged/{flag_id}/review", json=payload, headers=admin_headers
        ),
        422,
        "validation_error",
    )
    with app.app_context():
        assert db.session.get(Flag, flag_id).reviewed_at is None


@pytest.mark.parametrize("query", ["status=open", "limit=0", "limit=101", "cursor=zz"])
def test_queue_rejects_bad_query(client, admin_headers, query):
    assert_error(
        client.get(f"/api/admin/flagged?{query}", headers=admin_headers),
        422,
        "validation_error",
    )


def test_queue_costs_the_same_queries_for_1_or_30_flags(
    client, app, member, admin, admin_headers, count_queries, flagging
):
    app.config["MAX_BULLYING_COUNT"] = 100  # nobody is blocked by the 30 flags
    authors = [member(f"author{n}") for n in range(3)]
    post(client, authors[0])
    with count_queries() as one:
        queue(client, admin_headers, "?status=all")
    for n in range(29):
        post(client, authors[n % 3], f"bad {n}")
    # Reviewed flags name their reviewer: fetched for the whole page at once.
    with app.app_context():
        for flag in db.session.scalars(select(Flag).limit(10)):
            flag.reviewed_at, flag.reviewed_by_id = flag.created_at, admin.id
        db.session.commit()
    with count_queries() as many:
        items = queue(client, admin_headers, "?status=all")["items"]
    assert len(items) == 30
    assert {i["reviewed_by"] for i in items} == {None, "root_admin"}
    assert len(many) <= len(one) + 1

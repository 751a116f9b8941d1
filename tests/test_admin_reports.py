"""Admin reports: the summary, hourly stats and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cyberscan.extensions import db
from cyberscan.models import (
    AuditLog,
    Comment,
    Flag,
    Message,
    Post,
    User,
    conversation_key,
    utcnow,
)
from tests.helpers import assert_error

SUMMARY_KEYS = {
    "total_users",
    "total_messages",
    "flagged_messages",
    "blocked_users",
    "online_users",
    "muted_users",
    "total_posts",
    "total_comments",
    "flagged_posts",
    "flagged_comments",
    "pending_flags",
    "pending_appeals",
    "pending_reports",
    "flagged_share",
    "max_bullying_count",
    "bullying_threshold",
    "flagged_message_policy",
}


def message(sender, receiver, *, flagged=False, at=None):
    return Message(
        sender_id=sender.id,
        receiver_id=receiver.id,
        conversation_key=conversation_key(sender.id, receiver.id),
        content="text",
        is_bullying=flagged,
        bullying_probability=0.9 if flagged else 0.1,
        created_at=at or utcnow(),
    )


def flag(author, at=None):
    return Flag(
        item_type="post",
        item_id="1",
        author_id=author.id,
        content="x",
        probability=0.9,
        model_version="v",
        terms=[],
        created_at=at or utcnow(),
    )


def test_summary_counts_everything(client, app, member, connect, admin_headers):
    alice, bob, carol = member("alice"), member("bob"), member("carol")
    connect(alice)
    connect(bob)
    with app.app_context():
        db.session.add_all(
            [
                message(alice, bob),
                message(bob, alice, flagged=True),
                message(alice, bob),
            ]
        )
        post = Post(author_id=alice.id, content="p", is_bullying=True)
        db.session.add_all([post, Post(author_id=bob.id, content="q")])
        db.session.flush()
        db.session.add(Comment(post_id=post.id, author_id=bob.id, content="c"))
        db.session.add_all([flag(alice), flag(bob)])
        reviewed = flag(bob)
        reviewed.reviewed_at = utcnow()
        db.session.add(reviewed)
        db.session.get(User, carol.id).is_blocked = True
        db.session.get(User, bob.id).muted_until = utcnow() + timedelta(hours=1)
        db.session.get(User, alice.id).muted_until = utcnow() - timedelta(hours=1)
        db.session.commit()
    body = client.get("/api/admin/summary", headers=admin_headers).get_json()
    assert set(body) == SUMMARY_KEYS
    assert body == {
        "total_users": 4,
        "total_messages": 3,
        "flagged_messages": 1,
        "blocked_users": 1,
        "online_users": 2,
        "muted_users": 1,
        "total_posts": 2,
        "total_comments": 1,
        "flagged_posts": 1,
        "flagged_comments": 0,
        "pending_flags": 2,
        "pending_appeals": 0,
        "pending_reports": 0,
        "flagged_share": pytest.approx(2 / 6),
        "max_bullying_count": 5,
        "bullying_threshold": 0.6,
        "flagged_message_policy": "deliver",
    }


def test_summary_of_an_empty_site(client, admin_headers):
    body = client.get("/api/admin/summary", headers=admin_headers).get_json()
    assert body["total_users"] == 1
    assert body["flagged_share"] == 0.0
    assert body["online_users"] == 0


def test_stats_bucket_messages_per_hour_and_rank_offenders(
    client, app, member, admin_headers
):
    alice, bob, carol = member("alice"), member("bob"), member("carol")
    now = utcnow()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    two_ago = this_hour - timedelta(hours=2) + timedelta(minutes=30)
    with app.app_context():
        db.session.add_all(
            [
                message(alice, bob, at=now),
                message(alice, bob, flagged=True, at=now),
                message(bob, alice, flagged=True, at=two_ago),
                message(bob, alice, at=two_ago),
                message(bob, alice, at=two_ago),
                message(bob, alice, at=this_hour - timedelta(hours=30)),
            ]
        )
        db.session.add(Post(author_id=carol.id, content="p", created_at=now))
        db.session.add_all([flag(bob, two_ago), flag(bob, now), flag(alice, now)])
        db.session.add(flag(carol, this_hour - timedelta(hours=30)))
        db.session.get(User, bob.id).bullying_count = 2
        db.session.get(User, bob.id).is_blocked = True
        db.session.get(User, alice.id).bullying_count = 1
        db.session.commit()
    body = client.get("/api/admin/stats?hours=3", headers=admin_headers).get_json()
    assert [h["hour"] for h in body["hours"]] == [
        (this_hour - timedelta(hours=n)).strftime("%Y-%m-%dT%H:00:00.000Z")
        for n in (2, 1, 0)
    ]
    assert [(h["messages"], h["flagged"]) for h in body["hours"]] == [
        (3, 1),
        (0, 0),
        (2, 1),
    ]
    assert [(h["items"], h["flagged_items"], h["posts"]) for h in body["hours"]] == [
        (3, 1, 0),
        (0, 0, 0),
        (3, 1, 1),
    ]
    assert [s["share"] for s in body["flagged_share"]] == [
        pytest.approx(1 / 3),
        0.0,
        pytest.approx(1 / 3),
    ]
    assert body["top_offenders"] == [
        {
            "username": "bob",
            "bullying_count": 2,
            "is_blocked": True,
            "flagged_items": 2,
        },
        {
            "username": "alice",
            "bullying_count": 1,
            "is_blocked": False,
            "flagged_items": 1,
        },
    ]


def test_stats_default_to_24_hours(client, admin_headers):
    body = client.get("/api/admin/stats", headers=admin_headers).get_json()
    assert len(body["hours"]) == len(body["flagged_share"]) == 24
    assert body["top_offenders"] == []


def test_top_offenders_are_at_most_ten(client, app, make_user, admin_headers):
    offenders = [make_user(f"offender{n}") for n in range(12)]
    with app.app_context():
        for n, user in enumerate(offenders):
            db.session.add_all([flag(user) for _ in range(n + 1)])
        db.session.commit()
    body = client.get("/api/admin/stats?hours=1", headers=admin_headers).get_json()
    ranked = [o["username"] for o in body["top_offenders"]]
    assert ranked == [f"offender{n}" for n in range(11, 1, -1)]


@pytest.mark.parametrize("query", ["hours=0", "hours=721", "hours=two", "hours=1.5"])
def test_stats_rejects_bad_hours(client, admin_headers, query):
    assert_error(
        client.get(f"/api/admin/stats?{query}", headers=admin_headers),
        422,
        "validation_error",
    )


def test_stats_accept_the_longest_window(client, admin_headers):
    body = client.get("/api/admin/stats?hours=720", headers=admin_headers).get_json()
    assert len(body["hours"]) == 720


def test_audit_log_is_newest_first_and_paginated(client, app, member, admin_headers):
    member("bob")
    client.post("/api/admin/users/bob/mute", json={"minutes": 5}, headers=admin_headers)
    client.post(
        "/api/admin/users/bob/block", json={"reason": "abuse"}, headers=admin_headers
    )
    client.post("/api/admin/users/bob/unblock", json={}, headers=admin_headers)
    first = client.get("/api/admin/audit-log?limit=2", headers=admin_headers).get_json()
    assert [e["action"] for e in first["items"]] == ["unblock", "block"]
    entry = first["items"][1]
    assert set(entry) == {
        "id",
        "created_at",
        "actor",
        "action",
        "target",
        "reason",
        "details",
    }
    assert (entry["actor"], entry["target"], entry["reason"]) == (
        "root_admin",
        "bob",
        "abuse",
    )
    assert entry["created_at"].endswith("Z")
    rest = client.get(
        f"/api/admin/audit-log?limit=2&cursor={first['next_cursor']}",
        headers=admin_headers,
    ).get_json()
    assert [e["action"] for e in rest["items"]] == ["mute"]
    assert rest["next_cursor"] is None


def test_automatic_blocks_are_logged_with_no_actor(client, app, member, admin_headers):
    bob = member("bob")
    with app.app_context():
        db.session.add(
            AuditLog(actor_id=None, action="auto_block", target_user_id=bob.id)
        )
        db.session.commit()
    entry = client.get("/api/admin/audit-log", headers=admin_headers).get_json()[
        "items"
    ][0]
    assert (entry["actor"], entry["action"], entry["target"]) == (
        None,
        "auto_block",
        "bob",
    )


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "cursor=!!"])
def test_audit_log_rejects_bad_query(client, admin_headers, query):
    assert_error(
        client.get(f"/api/admin/audit-log?{query}", headers=admin_headers),
        422,
        "validation_error",
    )

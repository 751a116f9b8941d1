"""Comments over REST (API.md §3): create, list oldest first, delete; scored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cyberscan.extensions import db
from cyberscan.models import COMMENT, AuditLog, Comment, Flag, User
from tests.helpers import PASSWORD, assert_error

COMMENT_KEYS = {
    "id",
    "post_id",
    "author",
    "content",
    "created_at",
    "is_bullying",
    "bullying_probability",
    "model_version",
}


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def alice_headers(alice, auth_headers):
    return auth_headers(alice)


@pytest.fixture
def bob_headers(make_user, auth_headers):
    return auth_headers(make_user("bob"))


@pytest.fixture
def post_id(client, alice_headers):
    response = client.post(
        "/api/post", json={"content": "A post"}, headers=alice_headers
    )
    assert response.status_code == 201
    return response.get_json()["id"]


def comment(client, headers, post_id, content="Nice one"):
    response = client.post(
        f"/api/comment/{post_id}", json={"content": content}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_comment_answers_the_scored_comment(
    client, post_id, bob_headers, friendly
):
    body = comment(client, bob_headers, post_id, "  Great post!  ")
    assert set(body) == COMMENT_KEYS
    assert body["post_id"] == post_id
    assert body["author"] == "bob"
    assert body["content"] == "Great post!"
    assert body["is_bullying"] is False
    assert body["bullying_probability"] == pytest.approx(0.05)


def test_flagged_comment_is_queued_and_counts_a_strike(
    client, app, post_id, make_user, auth_headers, flagging
):
    carol = make_user("carol")
    body = comment(client, auth_headers(carol), post_id, "idiot")
    assert body["is_bullying"] is True
    with app.app_context():
        flag = db.session.scalars(select(Flag)).one()
        assert (flag.item_type, flag.item_id, flag.author_id) == (
            COMMENT,
            str(body["id"]),
            carol.id,
        )
        assert db.session.get(User, carol.id).bullying_count == 1


def test_comment_on_unknown_post_is_404(client, app, bob_headers):
    assert_error(
        client.post("/api/comment/999", json={"content": "hi"}, headers=bob_headers),
        404,
        "not_found",
    )
    with app.app_context():
        assert count(Comment) == 0


def test_comment_needs_a_token(client, post_id):
    assert_error(
        client.post(f"/api/comment/{post_id}", json={"content": "hi"}),
        401,
        "unauthorized",
    )
    assert_error(client.get(f"/api/post/{post_id}/comments"), 401, "unauthorized")
    assert_error(client.delete("/api/comment/1"), 401, "unauthorized")


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"content": ""},
        {"content": "  "},
        {"content": None},
        {"content": 7},
        {"content": "x" * 2001},
        {"content": "ok", "post_id": 3},
    ],
)
def test_create_comment_rejects_bad_payloads(
    client, app, post_id, bob_headers, payload
):
    assert_error(
        client.post(f"/api/comment/{post_id}", json=payload, headers=bob_headers),
        422,
        "validation_error",
    )
    with app.app_context():
        assert count(Comment) == 0


def test_comments_are_oldest_first_and_paginated(
    client, post_id, alice_headers, bob_headers
):
    ids = [
        comment(client, alice_headers if n % 2 else bob_headers, post_id, f"c{n}")["id"]
        for n in range(5)
    ]
    url = f"/api/post/{post_id}/comments?limit=3"
    first = client.get(url, headers=bob_headers).get_json()
    assert [c["id"] for c in first["items"]] == ids[:3]
    rest = client.get(
        f"{url}&cursor={first['next_cursor']}", headers=bob_headers
    ).get_json()
    assert [c["id"] for c in rest["items"]] == ids[3:]
    assert rest["next_cursor"] is None
    assert {c["author"] for c in first["items"]} == {"alice", "bob"}


def test_comments_of_one_post_only(client, post_id, alice_headers, bob_headers):
    other = client.post(
        "/api/post", json={"content": "other"}, headers=alice_headers
    ).get_json()["id"]
    mine = comment(client, bob_headers, post_id)["id"]
    comment(client, bob_headers, other)
    page = client.get(f"/api/post/{post_id}/comments", headers=bob_headers).get_json()
    assert [c["id"] for c in page["items"]] == [mine]


def test_comments_of_unknown_post_is_404(client, bob_headers):
    assert_error(
        client.get("/api/post/424242/comments", headers=bob_headers), 404, "not_found"
    )


@pytest.mark.parametrize("query", ["limit=0", "limit=500", "cursor=nope!"])
def test_comment_list_rejects_bad_query(client, post_id, bob_headers, query):
    assert_error(
        client.get(f"/api/post/{post_id}/comments?{query}", headers=bob_headers),
        422,
        "validation_error",
    )


def test_author_deletes_own_comment(client, app, post_id, bob_headers):
    made = comment(client, bob_headers, post_id)
    response = client.delete(f"/api/comment/{made['id']}", headers=bob_headers)
    assert response.status_code == 200
    assert response.get_json() == {"id": made["id"], "message": "Comment deleted."}
    with app.app_context():
        assert count(Comment) == 0
        assert count(AuditLog) == 0


def test_post_author_cannot_delete_someone_elses_comment(
    client, app, post_id, alice_headers, bob_headers
):
    made = comment(client, bob_headers, post_id)
    assert_error(
        client.delete(f"/api/comment/{made['id']}", headers=alice_headers),
        403,
        "forbidden",
    )
    with app.app_context():
        assert count(Comment) == 1


def test_admin_deletes_any_comment_and_it_is_audited(
    client, app, admin, admin_headers, post_id, bob_headers
):
    made = comment(client, bob_headers, post_id)
    assert (
        client.delete(f"/api/comment/{made['id']}", headers=admin_headers).status_code
        == 200
    )
    with app.app_context():
        assert count(Comment) == 0
        entry = db.session.scalars(select(AuditLog)).one()
        assert (entry.actor_id, entry.action, entry.target.username) == (
            admin.id,
            "delete_comment",
            "bob",
        )


def test_unknown_comment_delete_is_404(client, bob_headers):
    assert_error(
        client.delete("/api/comment/31337", headers=bob_headers), 404, "not_found"
    )


def test_muted_user_cannot_comment(
    client, app, post_id, alice, alice_headers, admin_headers
):
    client.post(
        "/api/admin/users/alice/mute", json={"minutes": 1}, headers=admin_headers
    )
    body = assert_error(
        client.post(
            f"/api/comment/{post_id}", json={"content": "hi"}, headers=alice_headers
        ),
        403,
        "muted",
    )
    assert body["muted_until"].endswith("Z")
    with app.app_context():
        assert count(Comment) == 0


def test_comment_list_costs_the_same_queries_for_1_or_30_comments(
    client, app, make_user, post_id, alice, count_queries
):
    bob = make_user("bob")
    headers = client.post(
        "/api/login", json={"username": "bob", "password": PASSWORD}
    ).get_json()
    headers = {"Authorization": f"Bearer {headers['access_token']}"}
    with app.app_context():
        db.session.add(Comment(post_id=post_id, author_id=alice.id, content="one"))
        db.session.commit()
    url = f"/api/post/{post_id}/comments"
    with count_queries() as one:
        assert client.get(url, headers=headers).status_code == 200
    with app.app_context():
        db.session.add_all(
            Comment(
                post_id=post_id, author_id=(bob if n % 2 else alice).id, content="c"
            )
            for n in range(29)
        )
        db.session.commit()
    with count_queries() as many:
        page = client.get(url, headers=headers).get_json()
    assert len(page["items"]) == 30
    assert {c["author"] for c in page["items"]} == {"alice", "bob"}
    assert len(many) == len(one)


@pytest.mark.parametrize(
    "app_settings",
    [{"RATELIMIT_ENABLED": True, "SEND_LIMIT_PER_USER": "1 per minute"}],
)
def test_commenting_is_rate_limited_per_user(client, post_id, bob_headers):
    comment(client, bob_headers, post_id)
    assert_error(
        client.post(
            f"/api/comment/{post_id}", json={"content": "again"}, headers=bob_headers
        ),
        429,
        "rate_limited",
    )

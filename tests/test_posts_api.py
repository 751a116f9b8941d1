"""Posts over REST (API.md §3): create, feed, read, delete; scored like messages."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from cyberscan.extensions import db
from cyberscan.models import POST, AuditLog, Comment, Flag, Post, User
from tests.fixtures_realtime import events
from tests.helpers import assert_error, bearer
from tests.test_moderation_concurrency import THREADS, pause_after, run_together

POST_KEYS = {
    "id",
    "author",
    "content",
    "created_at",
    "is_bullying",
    "bullying_probability",
    "comment_count",
    "model_version",
    "client_id",
}


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def alice_headers(alice, auth_headers):
    return auth_headers(alice)


def create(client, headers, content="Lovely weather today"):
    response = client.post("/api/post", json={"content": content}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_post_answers_the_scored_post_with_trimmed_content(
    client, app, alice_headers, friendly
):
    body = create(client, alice_headers, "  Hello world \n")
    assert set(body) == POST_KEYS
    assert body["author"] == "alice"
    assert body["content"] == "Hello world"
    assert body["comment_count"] == 0
    assert body["is_bullying"] is False
    assert body["bullying_probability"] == pytest.approx(0.05)
    assert body["model_version"] == "fixed-test"
    assert body["created_at"].endswith("Z")
    assert body["client_id"] is None
    with app.app_context():
        post = db.session.get(Post, body["id"])
        assert post.content == "Hello world"
        assert db.session.scalar(select(func.count()).select_from(Flag)) == 0


def test_flagged_post_is_stored_marked_and_queued_with_a_strike(
    client, app, alice, alice_headers, flagging
):
    body = create(client, alice_headers, "you are a loser")
    assert body["is_bullying"] is True
    assert body["bullying_probability"] == pytest.approx(0.97)
    with app.app_context():
        flag = db.session.scalars(select(Flag)).one()
        assert (flag.item_type, flag.item_id) == (POST, str(body["id"]))
        assert flag.author_id == alice.id
        assert flag.probability == pytest.approx(0.97)
        assert flag.model_version == "fixed-test"
        assert flag.terms == ["loser", "idiot"]
        assert flag.content == "you are a loser"
        assert db.session.get(User, alice.id).bullying_count == 1


def test_create_post_without_token_is_401_and_stores_nothing(client, app):
    assert_error(client.post("/api/post", json={"content": "hi"}), 401, "unauthorized")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"content": ""},
        {"content": "   \n\t "},
        {"content": None},
        {"content": 42},
        {"content": ["a"]},
        {"content": "x" * 5001},
        {"content": "fine", "author": "bob"},
        {"content": "fine", "is_bullying": False},
    ],
)
def test_create_post_rejects_bad_payloads(client, app, alice_headers, payload):
    body = assert_error(
        client.post("/api/post", json=payload, headers=alice_headers),
        422,
        "validation_error",
    )
    assert "json" in body["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_post_length_limit_comes_from_config(client, app, alice_headers):
    app.config["MAX_POST_LENGTH"] = 10
    create(client, alice_headers, "x" * 10)
    assert_error(
        client.post("/api/post", json={"content": "x" * 11}, headers=alice_headers),
        422,
        "validation_error",
    )


def test_feed_is_newest_first_and_cursor_paginated(client, alice_headers):
    ids = [create(client, alice_headers, f"post {n}")["id"] for n in range(5)]
    first = client.get("/api/posts?limit=2", headers=alice_headers).get_json()
    assert [p["id"] for p in first["items"]] == ids[::-1][:2]
    second = client.get(
        f"/api/posts?limit=2&cursor={first['next_cursor']}", headers=alice_headers
    ).get_json()
    assert [p["id"] for p in second["items"]] == ids[::-1][2:4]
    last = client.get(
        f"/api/posts?limit=2&cursor={second['next_cursor']}", headers=alice_headers
    ).get_json()
    assert [p["id"] for p in last["items"]] == ids[:1]
    assert last["next_cursor"] is None


def test_feed_default_page_is_50(client, app, alice, alice_headers):
    with app.app_context():
        db.session.add_all(
            [Post(author_id=alice.id, content=f"p{n}") for n in range(55)]
        )
        db.session.commit()
    page = client.get("/api/posts", headers=alice_headers).get_json()
    assert len(page["items"]) == 50
    assert page["next_cursor"]


def test_feed_costs_the_same_queries_for_1_or_40_posts_with_comments(
    client, app, alice, make_user, alice_headers, count_queries
):
    """Author and comment_count come in the page query: no query per row."""
    bob = make_user("bob")
    with app.app_context():
        db.session.add(Post(author_id=alice.id, content="only"))
        db.session.commit()
    with count_queries() as one:
        assert client.get("/api/posts", headers=alice_headers).status_code == 200
    with app.app_context():
        for n in range(40):
            post = Post(author_id=bob.id if n % 2 else alice.id, content=f"p{n}")
            db.session.add(post)
            db.session.flush()
            db.session.add_all(
                Comment(post_id=post.id, author_id=author.id, content="c")
                for author in (alice, bob)
            )
        db.session.commit()
    with count_queries() as many:
        page = client.get("/api/posts", headers=alice_headers).get_json()
    assert len(page["items"]) == 41
    assert {p["comment_count"] for p in page["items"][:40]} == {2}
    assert {p["author"] for p in page["items"]} == {"alice", "bob"}
    assert len(many) == len(one)


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=abc", "cursor=%%%", "cursor=eyJwIjoiYSJ9"],
)
def test_feed_rejects_bad_query(client, alice_headers, query):
    assert_error(
        client.get(f"/api/posts?{query}", headers=alice_headers),
        422,
        "validation_error",
    )


def test_feed_and_post_need_a_token(client):
    assert_error(client.get("/api/posts"), 401, "unauthorized")
    assert_error(client.get("/api/post/1"), 401, "unauthorized")
    assert_error(client.delete("/api/post/1"), 401, "unauthorized")
    assert_error(
        client.get("/api/posts", headers=bearer("garbage")), 401, "unauthorized"
    )


def test_get_one_post_with_its_comment_count(client, alice_headers):
    post = create(client, alice_headers)
    client.post(
        f"/api/comment/{post['id']}", json={"content": "hi"}, headers=alice_headers
    )
    body = client.get(f"/api/post/{post['id']}", headers=alice_headers).get_json()
    assert body["id"] == post["id"]
    assert body["comment_count"] == 1
    assert set(body) == POST_KEYS


@pytest.mark.parametrize("post_id", ["999", "0", "99999999999999999999"])
def test_unknown_post_is_404(client, alice_headers, post_id):
    assert_error(
        client.get(f"/api/post/{post_id}", headers=alice_headers), 404, "not_found"
    )
    assert_error(
        client.delete(f"/api/post/{post_id}", headers=alice_headers), 404, "not_found"
    )


def test_author_deletes_post_and_its_comments(
    client, app, make_user, alice_headers, auth_headers
):
    bob_headers = auth_headers(make_user("bob"))
    post = create(client, alice_headers)
    other = create(client, alice_headers, "another")
    for headers in (alice_headers, bob_headers):
        client.post(
            f"/api/comment/{post['id']}", json={"content": "c"}, headers=headers
        )
    client.post(
        f"/api/comment/{other['id']}", json={"content": "c"}, headers=bob_headers
    )
    response = client.delete(f"/api/post/{post['id']}", headers=alice_headers)
    assert response.status_code == 200
    assert response.get_json() == {"id": post["id"], "message": "Post deleted."}
    assert_error(
        client.get(f"/api/post/{post['id']}", headers=alice_headers), 404, "not_found"
    )
    with app.app_context():
        remaining = db.session.scalars(select(Comment.post_id)).all()
        assert remaining == [other["id"]]
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_someone_else_cannot_delete_a_post(
    client, app, make_user, alice_headers, auth_headers
):
    post = create(client, alice_headers)
    bob_headers = auth_headers(make_user("bob"))
    assert_error(
        client.delete(f"/api/post/{post['id']}", headers=bob_headers), 403, "forbidden"
    )
    with app.app_context():
        assert db.session.get(Post, post["id"]) is not None


def test_admin_deletes_any_post_and_it_is_audited(
    client, app, admin, admin_headers, alice, alice_headers
):
    post = create(client, alice_headers)
    assert (
        client.delete(f"/api/post/{post['id']}", headers=admin_headers).status_code
        == 200
    )
    with app.app_context():
        assert db.session.get(Post, post["id"]) is None
        entry = db.session.scalars(select(AuditLog)).one()
        assert (entry.actor_id, entry.action, entry.target_user_id) == (
            admin.id,
            "delete_post",
            alice.id,
        )
        assert entry.details == {"post_id": post["id"]}


def test_muted_user_cannot_post_and_is_told_until_when(
    client, app, alice, alice_headers, admin_headers
):
    client.post(
        "/api/admin/users/alice/mute", json={"minutes": 30}, headers=admin_headers
    )
    body = assert_error(
        client.post("/api/post", json={"content": "hi"}, headers=alice_headers),
        403,
        "muted",
    )
    with app.app_context():
        until = db.session.get(User, alice.id).muted_until
    assert body["muted_until"].startswith(until.strftime("%Y-%m-%dT%H:%M:%S"))
    client.post("/api/admin/users/alice/unmute", headers=admin_headers)
    create(client, alice_headers)


def test_blocked_user_cannot_post_or_read(
    client, app, alice, alice_headers, admin_headers
):
    client.post("/api/admin/users/alice/block", json={}, headers=admin_headers)
    assert_error(
        client.post("/api/post", json={"content": "hi"}, headers=alice_headers),
        403,
        "blocked",
    )
    assert_error(client.get("/api/posts", headers=alice_headers), 403, "blocked")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 0


@pytest.mark.parametrize(
    "app_settings",
    [{"RATELIMIT_ENABLED": True, "SEND_LIMIT_PER_USER": "2 per minute"}],
)
def test_posting_is_rate_limited_per_user(
    client, app, alice_headers, make_user, auth_headers
):
    create(client, alice_headers)
    create(client, alice_headers)
    response = client.post("/api/post", json={"content": "3rd"}, headers=alice_headers)
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
    create(client, auth_headers(make_user("bob")))  # a budget per user
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 3


@pytest.mark.parametrize("app_settings", [{"PAGE_SIZE": 3}])
def test_a_page_without_a_limit_has_cyberscan_page_size_items(
    client, alice_headers, app_settings
):
    """CYBERSCAN_PAGE_SIZE is the length of a page the query does not size (API.md:
    "limit 1–100, default CYBERSCAN_PAGE_SIZE"); a limit in the query still wins."""
    for i in range(5):
        create(client, alice_headers, f"post number {i}")
    page = client.get("/api/posts", headers=alice_headers).get_json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = client.get(
        f"/api/posts?cursor={page['next_cursor']}", headers=alice_headers
    ).get_json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    sized = client.get("/api/posts?limit=5", headers=alice_headers).get_json()
    assert len(sized["items"]) == 5
    users = client.get("/api/admin/users", headers=alice_headers)
    assert users.status_code == 403  # not an admin: the page size changes no rule


# -- retries: the same author and client_id store one post -----------------------------


def send(client, headers, content="Lovely weather today", client_id="c-1"):
    return client.post(
        "/api/post", json={"content": content, "client_id": client_id}, headers=headers
    )


def count(app, model=Post):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_retried_post_answers_the_first_and_stores_one(
    client, app, alice_headers, friendly
):
    first = send(client, alice_headers)
    again = send(client, alice_headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert first.get_json()["client_id"] == "c-1"
    assert count(app) == 1


def test_a_client_id_reused_for_another_text_answers_the_first(
    client, app, alice_headers, friendly
):
    first = send(client, alice_headers, "the first text").get_json()
    again = send(client, alice_headers, "a different text")
    assert again.status_code == 201
    assert again.get_json() == first
    assert count(app) == 1


@pytest.mark.parametrize(
    "app_settings, since",
    [
        ({"RATELIMIT_ENABLED": True, "SEND_LIMIT_PER_USER": "1 per minute"}, "limit"),
        ({}, "muted"),
    ],
)
def test_a_retried_post_answers_the_first_over_the_limit_or_muted(
    client, app, alice_headers, admin_headers, friendly, since
):
    """An app resends what got no answer: what was stored is answered (nothing is
    stored again), while a new post is refused."""
    first = send(client, alice_headers).get_json()
    if since == "muted":
        response = client.post(
            "/api/admin/users/alice/mute", json={"minutes": 5}, headers=admin_headers
        )
        assert response.status_code == 200, response.get_json()
    again = send(client, alice_headers)
    assert again.status_code == 201, again.get_json()
    assert again.get_json() == first
    refused = send(client, alice_headers, "a new one", client_id="c-2")
    assert refused.status_code == (429 if since == "limit" else 403)
    assert count(app) == 1


def test_client_ids_are_per_author(
    client, app, alice_headers, make_user, auth_headers, friendly
):
    mine = send(client, alice_headers).get_json()
    theirs = send(client, auth_headers(make_user("bob"))).get_json()
    assert mine["id"] != theirs["id"]
    assert (theirs["author"], theirs["client_id"]) == ("bob", "c-1")
    assert count(app) == 2


def test_a_retried_flagged_post_is_one_strike_and_one_admin_notice(
    client, app, alice, alice_headers, member, connect, flagging
):
    dashboard = connect(member("boss", is_admin=True))
    events(dashboard)
    first = send(client, alice_headers, "you are a loser").get_json()
    again = send(client, alice_headers, "you are a loser").get_json()
    assert again == first
    assert len(events(dashboard, "flagged_item")) == 1
    with app.app_context():
        assert db.session.get(User, alice.id).bullying_count == 1
        assert db.session.scalar(select(func.count()).select_from(Flag)) == 1
    assert count(app) == 1


@pytest.mark.parametrize("deleted_by", ["author", "admin", "flag review"])
def test_a_deleted_post_retried_is_404_and_not_stored_again(
    client, app, alice, alice_headers, admin_headers, flagging, deleted_by
):
    post = send(client, alice_headers, "you are a loser").get_json()
    if deleted_by == "flag review":
        with app.app_context():
            flag_id = db.session.scalars(select(Flag.id)).one()
        response = client.post(
            f"/api/admin/flagged/{flag_id}/review",
            json={"action": "remove"},
            headers=admin_headers,
        )
    else:
        headers = alice_headers if deleted_by == "author" else admin_headers
        response = client.delete(f"/api/post/{post['id']}", headers=headers)
    assert response.status_code == 200, response.get_json()
    assert count(app) == 0
    assert_error(send(client, alice_headers, "you are a loser"), 404, "not_found")
    assert count(app) == 0
    with app.app_context():
        assert db.session.get(User, alice.id).bullying_count == 1
    fresh = send(client, alice_headers, "hello again", client_id="c-2")
    assert fresh.status_code == 201


@pytest.mark.parametrize(
    "client_id, message",
    [
        ("x" * 65, "Length must be between 1 and 64."),
        ("", "Length must be between 1 and 64."),
        (42, "Not a valid string."),
        (["c-1"], "Not a valid string."),
        ({"id": 1}, "Not a valid string."),
    ],
)
def test_a_bad_client_id_is_422_and_stores_nothing(
    client, app, alice_headers, client_id, message
):
    body = assert_error(
        send(client, alice_headers, client_id=client_id), 422, "validation_error"
    )
    assert body["errors"] == {"json": {"client_id": [message]}}
    assert count(app) == 0


def test_a_client_id_of_64_characters_is_kept(client, alice_headers, friendly):
    body = send(client, alice_headers, client_id="x" * 64).get_json()
    assert body["client_id"] == "x" * 64


def race_retries(app: Any, path: str, body: dict[str, Any], headers: dict) -> list:
    """THREADS copies of one request at once, each let go only once every copy has
    looked its client_id up and found nothing: only the unique key can stop a second
    row. Answers `(status, body)` per copy."""
    table = "comments" if path.startswith("/api/comment") else "posts"
    looked_up = threading.Barrier(THREADS, timeout=30)
    racers: set[int] = set()

    def lookup(statement: str, parameters: Any) -> bool:
        return statement.lstrip().upper().startswith("SELECT") and (
            f"{table}.client_id =" in statement
        )

    def post(i: int, barrier: threading.Barrier) -> tuple[int, Any]:
        client = app.test_client()
        racers.add(threading.get_ident())
        barrier.wait()
        response = client.post(path, json=body, headers=headers)
        return response.status_code, response.get_json()

    with pause_after(app, lookup, looked_up.wait, racers):
        return run_together(app, post)


@pytest.mark.parametrize("detector", ["friendly", "flagging"])
def test_racing_retries_store_one_post_and_one_strike(
    request, app, alice, alice_headers, detector
):
    request.getfixturevalue(detector)
    answers = race_retries(
        app, "/api/post", {"content": "a loser", "client_id": "race"}, alice_headers
    )
    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
    assert count(app) == 1
    with app.app_context():
        strikes = 1 if detector == "flagging" else 0
        assert db.session.get(User, alice.id).bullying_count == strikes
        assert db.session.scalar(select(func.count()).select_from(Flag)) == strikes

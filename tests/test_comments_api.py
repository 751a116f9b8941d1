"""Comments over REST (API.md §3): create, list oldest first, delete; scored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cyberscan.extensions import db
from cyberscan.models import COMMENT, AuditLog, Comment, Flag, Post, User
from tests.fixtures_realtime import events
from tests.helpers import PASSWORD, assert_error
from tests.test_posts_api import race_retries

COMMENT_KEYS = {
    "id",
    "post_id",
    "author",
    "content",
    "created_at",
    "is_bullying",
    "bullying_probability",
    "model_version",
    "client_id",
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
    assert body["client_id"] is None


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


# -- retries: the same author and client_id store one comment --------------------------


def send(client, headers, post_id, content="Nice one", client_id="c-1"):
    return client.post(
        f"/api/comment/{post_id}",
        json={"content": content, "client_id": client_id},
        headers=headers,
    )


def stored(app, model=Comment):
    with app.app_context():
        return count(model)


def test_a_retried_comment_answers_the_first_and_stores_one(
    client, app, post_id, bob_headers, friendly
):
    first = send(client, bob_headers, post_id)
    again = send(client, bob_headers, post_id)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert first.get_json()["client_id"] == "c-1"
    assert stored(app) == 1


@pytest.mark.parametrize(
    "app_settings",
    [{"RATELIMIT_ENABLED": True, "SEND_LIMIT_PER_USER": "1 per minute"}],
)
def test_a_retried_comment_answers_the_first_over_the_limit(
    client, app, post_id, bob_headers, friendly
):
    first = send(client, bob_headers, post_id).get_json()
    again = send(client, bob_headers, post_id)
    assert again.status_code == 201, again.get_json()
    assert again.get_json() == first
    assert_error(
        send(client, bob_headers, post_id, client_id="c-2"), 429, "rate_limited"
    )
    assert stored(app) == 1


def test_a_comment_client_id_reused_elsewhere_answers_the_first(
    client, app, post_id, alice_headers, bob_headers, friendly
):
    """Another text, or another post: still the first comment (its post_id says where)."""
    other = client.post(
        "/api/post", json={"content": "other"}, headers=alice_headers
    ).get_json()["id"]
    first = send(client, bob_headers, post_id, "first").get_json()
    assert send(client, bob_headers, post_id, "second").get_json() == first
    elsewhere = send(client, bob_headers, other, "first")
    assert elsewhere.status_code == 201
    assert elsewhere.get_json() == first
    assert stored(app) == 1


def test_a_comment_and_a_post_may_share_a_client_id(
    client, app, post_id, bob_headers, friendly
):
    mine = send(client, bob_headers, post_id).get_json()
    post = client.post(
        "/api/post", json={"content": "mine", "client_id": "c-1"}, headers=bob_headers
    )
    assert post.status_code == 201
    assert post.get_json()["client_id"] == mine["client_id"]
    assert stored(app) == 1 and stored(app, Post) == 2


def test_a_retried_flagged_comment_is_one_strike_and_one_admin_notice(
    client, app, post_id, make_user, auth_headers, member, connect, flagging
):
    carol = make_user("carol")
    headers = auth_headers(carol)
    dashboard = connect(member("boss", is_admin=True))
    events(dashboard)
    first = send(client, headers, post_id, "idiot").get_json()
    assert send(client, headers, post_id, "idiot").get_json() == first
    assert len(events(dashboard, "flagged_item")) == 1
    with app.app_context():
        assert db.session.get(User, carol.id).bullying_count == 1
        flags = select(func.count()).where(Flag.author_id == carol.id)
        assert db.session.scalar(flags) == 1
        assert count(Comment) == 1


@pytest.mark.parametrize("deleted_by", ["author", "admin", "its post's deletion"])
def test_a_deleted_comment_retried_is_404_and_not_stored_again(
    client, app, post_id, alice_headers, bob_headers, admin_headers, deleted_by
):
    made = send(client, bob_headers, post_id).get_json()
    if deleted_by == "its post's deletion":
        response = client.delete(f"/api/post/{post_id}", headers=alice_headers)
        post_id = client.post(
            "/api/post", json={"content": "a new post"}, headers=alice_headers
        ).get_json()["id"]
    else:
        headers = bob_headers if deleted_by == "author" else admin_headers
        response = client.delete(f"/api/comment/{made['id']}", headers=headers)
    assert response.status_code == 200
    assert_error(send(client, bob_headers, post_id), 404, "not_found")
    assert stored(app) == 0
    assert send(client, bob_headers, post_id, client_id="c-2").status_code == 201


@pytest.mark.parametrize("client_id", ["x" * 65, "", 7, [], None])
def test_a_bad_client_id_is_422_and_stores_nothing(
    client, app, post_id, bob_headers, client_id
):
    response = send(client, bob_headers, post_id, client_id=client_id)
    if client_id is None:  # null is "no client_id", as for messages
        assert response.status_code == 201
        assert response.get_json()["client_id"] is None
        return
    body = assert_error(response, 422, "validation_error")
    assert list(body["errors"]["json"]) == ["client_id"]
    assert stored(app) == 0


@pytest.mark.parametrize("detector", ["friendly", "flagging"])
def test_racing_retries_store_one_comment(
    request, app, post_id, make_user, auth_headers, detector
):
    request.getfixturevalue(detector)
    carol = make_user("carol")
    answers = race_retries(
        app,
        f"/api/comment/{post_id}",
        {"content": "an idiot", "client_id": "race"},
        auth_headers(carol),
    )
    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
    with app.app_context():
        assert count(Comment) == 1
        strikes = 1 if detector == "flagging" else 0
        assert db.session.get(User, carol.id).bullying_count == strikes

"""Search, password change, blocks, mutes, reports and unsend (API.md §9)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cyberscan.extensions import db
from cyberscan.models import AuditLog, Message, User, UserBlock, UserMute, UserReport
from tests.fixtures_realtime import events
from tests.helpers import PASSWORD, assert_error, bearer
from tests.people import count_rows, get, report_message, send

# -- search ----------------------------------------------------------------------------


def test_search_finds_names_by_their_start_without_regard_to_case(client, member):
    me = member("alice")
    for name in ("Bobby", "bob.b", "rob", "BOBO"):
        member(name)
    body = get(client, me, "/api/users/search?q=BOb")
    assert sorted(item["username"] for item in body["items"]) == [
        "BOBO",
        "Bobby",
        "bob.b",
    ]
    assert body["next_cursor"] is None
    assert get(client, me, "/api/users/search?q=al")["items"] == []  # not oneself


def test_search_is_paginated(client, member):
    me = member("me_")
    for n in range(5):
        member(f"sam{n}")
    first = get(client, me, "/api/users/search?q=sam&limit=3")
    second = get(
        client, me, f"/api/users/search?q=sam&limit=3&cursor={first['next_cursor']}"
    )
    names = [i["username"] for i in first["items"] + second["items"]]
    assert names == [f"sam{n}" for n in range(5)] and second["next_cursor"] is None


def test_search_wildcards_are_literal(client, member):
    me = member("alice")
    member("bob")
    assert get(client, me, "/api/users/search?q=b%25")["items"] == []
    assert get(client, me, "/api/users/search?q=__")["items"] == []


class TestSearchLimit:
    """Searches are limited per user (SEARCH_LIMIT_PER_USER): a search box typed into
    stays well within it; a script paging through every prefix to list the members
    is stopped."""

    @pytest.fixture
    def app_settings(self):
        return {"RATELIMIT_ENABLED": True, "SEARCH_LIMIT_PER_USER": "3 per minute"}

    def test_searches_over_the_limit_are_refused_per_user(self, client, member):
        me, other = member("alice"), member("dave")
        member("bob")
        first = get(client, me, "/api/users/search?q=bo&limit=1")
        assert [item["username"] for item in first["items"]] == ["bob"]
        for query in ("ca", "da"):  # any query, found or not, spends one
            get(client, me, f"/api/users/search?q={query}")
        response = client.get("/api/users/search?q=bo", headers=me.headers)
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 0
        assert "searches" in response.get_json()["message"]
        # Another person's search box is not spent by it.
        assert [
            i["username"] for i in get(client, other, "/api/users/search?q=bo")["items"]
        ] == ["bob"]


BAD_SEARCHES = ["", "?q=", "?q=a", "?q=" + "x" * 33, "?q=ab&limit=0", "?q=ab&limit=x"]


def test_search_rejects_bad_queries(client, member):
    me = member("alice")
    for query in BAD_SEARCHES:
        response = client.get(f"/api/users/search{query}", headers=me.headers)
        assert "query" in assert_error(response, 422, "validation_error")["errors"]


# -- password --------------------------------------------------------------------------


def test_password_change_revokes_every_other_token(client, member, login):
    alice = member("alice")
    other = login(alice.user)
    response = client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new secret"},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.get_json()
    assert client.get("/api/me", headers=alice.headers).status_code == 200
    assert_error(
        client.get("/api/me", headers=bearer(other["access_token"])),
        401,
        "unauthorized",
    )
    assert_error(
        client.post("/api/token/refresh", headers=bearer(other["refresh_token"])),
        401,
        "unauthorized",
    )
    assert_error(
        client.post("/api/login", json={"username": "alice", "password": PASSWORD}),
        401,
        "unauthorized",
    )
    fresh = client.post(
        "/api/login", json={"username": "alice", "password": "a brand new secret"}
    )
    assert fresh.status_code == 200
    assert (
        client.get(
            "/api/me", headers=bearer(fresh.get_json()["access_token"])
        ).status_code
        == 200
    )


def test_password_change_refused_sockets_of_revoked_tokens(
    client, member, login, socket_client
):
    alice = member("alice")
    other = login(alice.user)
    client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new secret"},
        headers=alice.headers,
    )
    assert not socket_client(other["access_token"]).is_connected()
    assert socket_client(alice.token).is_connected()


def test_password_change_needs_the_current_password(app, client, member):
    """A wrong current password is a 401 like a dead token, and names the field, so a
    client tells the two apart without guessing from the token's expiry."""
    alice = member("alice")
    with app.app_context():
        before = db.session.get(User, alice.id).password_hash
    body = assert_error(
        client.post(
            "/api/me/password",
            json={
                "current_password": "wrong password",
                "new_password": "another secret",
            },
            headers=alice.headers,
        ),
        401,
        "unauthorized",
    )
    assert body["errors"] == {
        "json": {"current_password": ["The current password is not right."]}
    }
    with app.app_context():
        assert db.session.get(User, alice.id).password_hash == before
    assert client.get("/api/me", headers=alice.headers).status_code == 200
    # A dead token on the same endpoint names no field.
    client.post("/api/logout", headers=alice.headers)
    body = assert_error(
        client.post(
            "/api/me/password",
            json={"current_password": "x" * 8, "new_password": "another secret"},
            headers=alice.headers,
        ),
        401,
        "unauthorized",
    )
    assert "errors" not in body


def change_password(client, who, current, new="another secret"):
    body = {"current_password": current, "new_password": new}
    return client.post("/api/me/password", json=body, headers=who.headers)


class TestPasswordGuessLimit:
    """A wrong current password spends the account's failed-login budget."""

    @pytest.fixture
    def app_settings(self):
        return {"RATELIMIT_ENABLED": True}

    def test_wrong_current_passwords_are_limited_like_failed_logins(
        self, app, client, member
    ):
        alice = member("alice")
        with app.app_context():
            before = db.session.get(User, alice.id).password_hash
        for _ in range(10):  # LOGIN_LIMIT_PER_ACCOUNT_ADDRESS: 10 per 15 minutes
            assert_error(
                change_password(client, alice, "wrong password"), 401, "unauthorized"
            )
        response = change_password(client, alice, PASSWORD)
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 0
        with app.app_context():
            assert db.session.get(User, alice.id).password_hash == before
        login = {"username": "alice", "password": PASSWORD}
        assert_error(client.post("/api/login", json=login), 429, "rate_limited")
        bob = member("bob")  # another account is not affected
        assert change_password(client, bob, PASSWORD).status_code == 200

    def test_failed_logins_and_wrong_current_passwords_share_one_budget(
        self, app, client, member
    ):
        app.config["LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"] = "3 per minute"
        alice = member("Alice")
        wrong = {"username": "alice", "password": "wrong password"}
        for _ in range(2):
            assert client.post("/api/login", json=wrong).status_code == 401
        assert change_password(client, alice, "wrong password").status_code == 401
        assert_error(change_password(client, alice, PASSWORD), 429, "rate_limited")

    def test_right_current_passwords_spend_nothing(self, client, member):
        alice = member("alice")
        secrets = [PASSWORD] + [f"secret number {n}" for n in range(12)]
        for current, new in zip(secrets, secrets[1:], strict=False):
            assert change_password(client, alice, current, new).status_code == 200


BAD_PASSWORD_BODIES = [
    {},
    {"current_password": PASSWORD},
    {"current_password": PASSWORD, "new_password": "short"},
    {"current_password": PASSWORD, "new_password": 12345678},
    {"current_password": PASSWORD, "new_password": " " * 8},
    {"current_password": PASSWORD, "new_password": "\u200b" * 8},
    {"current_password": PASSWORD, "new_password": "long enough", "extra": 1},
]


def test_password_change_refuses_a_new_password_of_white_space_alone(client, member):
    alice = member("alice")
    body = assert_error(
        client.post(
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": " " * 10},
            headers=alice.headers,
        ),
        422,
        "validation_error",
    )
    assert body["errors"] == {
        "json": {
            "new_password": ["Must not be only white space or invisible characters."]
        }
    }
    assert client.get("/api/me", headers=alice.headers).status_code == 200


def test_password_change_rejects_bad_bodies(app, client, member):
    alice = member("alice")
    for body in BAD_PASSWORD_BODIES:
        response = client.post("/api/me/password", json=body, headers=alice.headers)
        assert_error(response, 422, "validation_error")
    assert (
        client.post(
            "/api/login", json={"username": "alice", "password": PASSWORD}
        ).status_code
        == 200
    )


# -- blocks ----------------------------------------------------------------------------


def block(client, who, name, method="PUT"):
    return client.open(f"/api/me/blocks/{name}", method=method, headers=who.headers)


def test_block_stops_messages_both_ways_with_a_neutral_message(client, trio, connect):
    alice, bob, carol = trio
    send(client, bob, "alice", "hi")
    response = block(client, alice, "bob")
    assert response.status_code == 200
    assert response.get_json() == {"username": "bob", "blocked": True}
    one = assert_error(
        client.post(
            "/api/chat/messages/alice", json={"message": "x"}, headers=bob.headers
        ),
        403,
        "forbidden",
    )
    two = assert_error(
        client.post(
            "/api/chat/messages/bob", json={"message": "x"}, headers=alice.headers
        ),
        403,
        "forbidden",
    )
    assert one["message"] == two["message"]
    assert "block" not in one["message"].lower()
    sio = connect(bob)
    ack = sio.emit("send_message", {"receiver": "alice", "message": "x"}, callback=True)
    assert (
        ack["ok"] is False
        and ack["error"] == "forbidden"
        and ack["message"] == one["message"]
    )
    ack = sio.emit("typing", {"receiver": "alice", "is_typing": True}, callback=True)
    assert ack["ok"] is False and ack["error"] == "forbidden"
    assert [
        m["message"] for m in get(client, alice, "/api/chat/messages/bob")["items"]
    ] == ["hi"]
    send(client, carol, "alice", "others still can")
    assert get(client, alice, "/api/me/blocks")["items"][0]["username"] == "bob"
    assert get(client, bob, "/api/me/blocks")["items"] == []


@pytest.mark.parametrize("blocker", ["reader", "sender"])
def test_reading_across_a_block_tells_the_other_nothing(client, trio, connect, blocker):
    """Read receipts are live signs of the reader: across a block, either way, the
    sender gets no `messages_read` (it told them the reader was online), while the
    reader's own devices still learn what they marked read; without a block, both do."""
    alice, bob, carol = trio
    old = send(client, bob, "alice", "hi")["id"]
    other = send(client, carol, "alice", "hello")["id"]
    if blocker == "reader":
        block(client, alice, "bob")
    else:
        block(client, bob, "alice")
    a, b, c = connect(alice), connect(bob), connect(carol)
    for sio in (a, b, c):
        events(sio)
    ack = a.emit("mark_as_read", {"message_ids": [old, other]}, callback=True)
    assert ack["ok"] and sorted(ack["data"]["message_ids"]) == sorted([old, other])
    assert events(a, "messages_marked_read") == [ack["data"]]
    assert events(b) == []
    assert events(c, "messages_read") == [{"reader": "alice", "message_ids": [other]}]


def test_unblock_lets_messages_through_again(client, trio):
    alice, bob, _ = trio
    block(client, alice, "bob")
    assert block(client, alice, "bob").status_code == 200  # idempotent
    assert block(client, alice, "bob", "DELETE").get_json() == {
        "username": "bob",
        "blocked": False,
    }
    send(client, bob, "alice", "back")
    assert get(client, alice, "/api/me/blocks")["items"] == []


def test_the_blocked_one_cannot_lift_the_block(client, app, trio):
    alice, bob, _ = trio
    block(client, alice, "bob")
    assert block(client, bob, "alice", "DELETE").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(UserBlock)).one().blocker_id == alice.id
    assert_error(
        client.post(
            "/api/chat/messages/alice", json={"message": "x"}, headers=bob.headers
        ),
        403,
        "forbidden",
    )


def test_block_of_unknown_user_or_self_changes_nothing(app, client, trio):
    alice = trio[0]
    for method in ("PUT", "DELETE"):
        assert_error(block(client, alice, "nobody", method), 404, "not_found")
    assert_error(block(client, alice, "alice"), 422, "validation_error")
    assert count_rows(app, UserBlock) == 0


def test_what_refuses_oneself_is_keyed_by_the_path(app, client, trio, connect):
    """A message, block or mute aimed at oneself names the path's username, keyed by
    location as every REST validation failure is (API.md §1), lifting one too, and
    announces nothing to one's devices; the socket's payload has a `receiver`, and
    its answer names that."""
    alice = trio[0]
    sio = connect(alice)
    events(sio)
    for response in (
        client.post(
            "/api/chat/messages/ALICE", json={"message": "hi me"}, headers=alice.headers
        ),
        block(client, alice, "alice"),
        block(client, alice, "Alice", "DELETE"),
        client.put("/api/me/mutes/alice", headers=alice.headers),
        client.delete("/api/me/mutes/ALICE", headers=alice.headers),
    ):
        body = assert_error(response, 422, "validation_error")
        assert list(body["errors"]) == ["path"], body
        assert list(body["errors"]["path"]) == ["username"], body
    assert count_rows(app, Message) == 0
    assert events(sio) == []


def test_a_name_no_account_can_have_is_not_echoed_back(client, trio):
    """A 404 names a name that could be someone's; a 5,000-character path segment or
    markup is not repeated into the answer (or into a client's error toast)."""
    alice = trio[0]
    body = assert_error(block(client, alice, "nobody"), 404, "not_found")
    assert body["message"] == "No user named 'nobody'."
    for name in ("x" * 5000, "<img src=x onerror=alert(1)>"):
        for response in (
            block(client, alice, name),
            client.put(f"/api/me/mutes/{name}", headers=alice.headers),
            client.get(f"/api/chat/messages/{name}", headers=alice.headers),
        ):
            body = assert_error(response, 404, "not_found")
            assert body["message"] == "No user by that name.", body


@pytest.mark.parametrize("kind", ["blocks", "mutes"])
def test_blocks_and_mutes_list_whole_or_a_page_at_a_time(client, member, kind):
    """Without limit or cursor the whole list, most recent first, as before (and
    `next_cursor: null`); with either, a page like every other list."""
    me = member("me_")
    names = [member(f"sam{n}").username for n in range(5)]
    for name in names:
        response = client.put(f"/api/me/{kind}/{name}", headers=me.headers)
        assert response.status_code == 200, response.get_json()
    whole = get(client, me, f"/api/me/{kind}")
    assert whole["next_cursor"] is None
    assert sorted(i["username"] for i in whole["items"]) == names
    first = get(client, me, f"/api/me/{kind}?limit=2")
    assert len(first["items"]) == 2 and first["next_cursor"]
    paged, cursor = list(first["items"]), first["next_cursor"]
    while cursor:
        page = get(client, me, f"/api/me/{kind}?limit=2&cursor={cursor}")
        paged, cursor = paged + page["items"], page["next_cursor"]
    assert sorted(i["username"] for i in paged) == names and len(paged) == 5
    rest = get(client, me, f"/api/me/{kind}?cursor={first['next_cursor']}")
    assert len(rest["items"]) == 3 and rest["next_cursor"] is None


@pytest.mark.parametrize("kind", ["blocks", "mutes"])
@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=x", "cursor=!!", "cursor="]
)
def test_blocks_and_mutes_lists_reject_a_bad_page_query(client, member, kind, query):
    me = member("me_")
    response = client.get(f"/api/me/{kind}?{query}", headers=me.headers)
    assert "query" in assert_error(response, 422, "validation_error")["errors"]


TOKEN_ENDPOINTS = [
    ("GET", "/api/me/blocks"),
    ("PUT", "/api/me/blocks/bob"),
    ("DELETE", "/api/me/blocks/bob"),
    ("GET", "/api/me/mutes"),
    ("PUT", "/api/me/mutes/bob"),
    ("DELETE", "/api/me/mutes/bob"),
    ("GET", "/api/users/search?q=bo"),
    ("POST", "/api/me/password"),
    ("POST", "/api/reports"),
    ("GET", "/api/me/strikes"),
    ("POST", "/api/appeals"),
    ("DELETE", "/api/chat/messages/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api/admin/appeals"),
    ("POST", "/api/admin/appeals/1"),
    ("GET", "/api/admin/reports"),
    ("POST", "/api/admin/reports/1/review"),
    ("GET", "/api/admin/flagged/1/context"),
]


def test_people_endpoints_need_a_token(client):
    for method, path in TOKEN_ENDPOINTS:
        assert_error(client.open(path, method=method), 401, "unauthorized")


# -- mutes -----------------------------------------------------------------------------


def test_mute_keeps_messages_readable_but_quiet(client, trio, connect):
    alice, bob, _ = trio
    assert client.put("/api/me/mutes/bob", headers=alice.headers).get_json() == {
        "username": "bob",
        "muted": True,
    }
    sio = connect(alice)
    events(sio)
    send(client, bob, "alice", "psst")
    assert events(sio, "receive_message") == []
    assert [
        m["message"] for m in get(client, alice, "/api/chat/messages/bob")["items"]
    ] == ["psst"]
    conversation = get(client, alice, "/api/chat/conversations")[0]
    assert (
        conversation["last_message"]["message"] == "psst"
        and conversation["unread_count"] == 0
    )
    assert [m["username"] for m in get(client, alice, "/api/me/mutes")["items"]] == [
        "bob"
    ]
    # Bob is not told, and alice's own messages still reach bob live.
    bob_sio = connect(bob)
    events(bob_sio)
    send(client, alice, "bob", "hey")
    assert [m["message"] for m in events(bob_sio, "receive_message")] == ["hey"]
    assert (
        client.delete("/api/me/mutes/bob", headers=alice.headers).get_json()["muted"]
        is False
    )
    send(client, bob, "alice", "loud again")
    assert [m["message"] for m in events(sio, "receive_message")] == [
        "hey",
        "loud again",
    ]
    assert get(client, alice, "/api/chat/conversations")[0]["unread_count"] == 2


def test_mute_of_unknown_user_or_self_changes_nothing(app, client, trio):
    alice = trio[0]
    assert_error(
        client.put("/api/me/mutes/nobody", headers=alice.headers), 404, "not_found"
    )
    assert_error(
        client.put("/api/me/mutes/ALICE", headers=alice.headers),
        422,
        "validation_error",
    )
    assert count_rows(app, UserMute) == 0


# -- reports ---------------------------------------------------------------------------


def test_report_a_message_enters_the_admin_queue(app, client, trio, admin_headers):
    alice, bob, _ = trio
    message = send(client, bob, "alice", "you are not welcome here")
    response = client.post(
        "/api/reports",
        json={"message_id": message["id"], "reason": "Keeps bothering me"},
        headers=alice.headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["username"] == "bob" and body["message_id"] == message["id"]
    assert body["status"] == "pending" and body["reason"] == "Keeps bothering me"
    queue = client.get("/api/admin/reports", headers=admin_headers).get_json()["items"]
    assert len(queue) == 1
    item = queue[0]
    assert (item["reporter"], item["username"], item["content"]) == (
        "alice",
        "bob",
        "you are not welcome here",
    )
    with app.app_context():
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "user_report")
        ).one()
        assert (entry.actor_id, entry.target_user_id) == (alice.id, bob.id)


def test_report_a_user_and_review_it(app, client, trio, admin, admin_headers):
    alice, bob, _ = trio
    body = client.post(
        "/api/reports",
        json={"username": "bob", "reason": "Fake profile"},
        headers=alice.headers,
    )
    assert body.status_code == 201
    report_id = body.get_json()["id"]
    assert_error(
        client.post(
            "/api/reports",
            json={"username": "bob", "reason": "again"},
            headers=alice.headers,
        ),
        409,
        "conflict",
    )
    assert_error(
        client.post(
            f"/api/admin/reports/{report_id}/review",
            json={"action": "remove"},
            headers=admin_headers,
        ),
        422,
        "validation_error",
    )
    done = client.post(
        f"/api/admin/reports/{report_id}/review",
        json={"action": "dismiss", "note": "looks fine"},
        headers=admin_headers,
    )
    assert done.status_code == 200 and done.get_json()["review_action"] == "dismiss"
    assert (
        client.get("/api/admin/reports", headers=admin_headers).get_json()["items"]
        == []
    )
    assert_error(
        client.post(
            f"/api/admin/reports/{report_id}/review",
            json={"action": "dismiss"},
            headers=admin_headers,
        ),
        409,
        "conflict",
    )
    assert_error(
        client.get("/api/admin/reports", headers=alice.headers), 403, "forbidden"
    )


def test_removing_a_reported_message_hides_it_from_the_receiver(
    client, trio, connect, admin_headers
):
    alice, bob, _ = trio
    message = send(client, bob, "alice", "mean thing")
    report = report_message(client, alice, message["id"], "mean")
    a, b = connect(alice), connect(bob)
    events(a), events(b)
    client.post(
        f"/api/admin/reports/{report['id']}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    # Alice received it: her screen drops it. Bob sent it and still sees it.
    assert events(a, "message_deleted") == [{"id": message["id"]}]
    assert events(b, "message_deleted") == []
    assert get(client, alice, "/api/chat/messages/bob")["items"] == []
    assert [m["id"] for m in get(client, bob, "/api/chat/messages/alice")["items"]] == [
        message["id"]
    ]


BAD_REPORTS = [
    {},
    {"reason": "no target"},
    {"username": "bob"},
    {"username": "bob", "reason": ""},
    {"username": "bob", "reason": "   "},
    {"username": "bob", "reason": "x" * 501},
    {"username": 7, "reason": "x"},
    {"username": "   ", "reason": "only spaces"},
    {"username": "bob", "reason": "x", "extra": True},
    {"message_id": None, "username": None, "reason": "nothing named"},
    {"message_id": "not-a-uuid", "reason": "x"},
    {"message_id": 12, "reason": "x"},
]


def test_report_rejects_bad_bodies(app, client, trio):
    for body in BAD_REPORTS:
        response = client.post("/api/reports", json=body, headers=trio[0].headers)
        assert_error(response, 422, "validation_error")
    assert count_rows(app, UserReport) == 0


def test_report_reads_a_null_target_as_absent(client, trio):
    """Typed clients (kotlinx.serialization, JSON.stringify) send the optional
    field they leave out as null."""
    alice, bob, _ = trio
    message = send(client, bob, "alice", "you again")
    for body in (
        {"message_id": None, "username": "bob", "reason": "Fake profile"},
        {"message_id": message["id"], "username": None, "reason": "Rude"},
    ):
        response = client.post("/api/reports", json=body, headers=alice.headers)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["username"] == "bob"


def test_report_reads_a_username_as_login_does(client, trio):
    """Spaces around a name are dropped, as at login; they made "No user by that
    name." (404)."""
    alice, _, _ = trio
    response = client.post(
        "/api/reports",
        json={"username": " bob\t", "reason": "Fake profile"},
        headers=alice.headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["username"] == "bob"


def test_report_spoofs_change_nothing(app, client, trio):
    alice, bob, carol = trio
    message = send(client, bob, "alice", "private")
    cases = [
        # carol is no participant: the message does not exist for her.
        (carol, {"message_id": message["id"]}, 404, "not_found"),
        # bob cannot report his own message; alice cannot name another sender.
        (bob, {"message_id": message["id"]}, 422, "validation_error"),
        (
            alice,
            {"message_id": message["id"], "username": "carol"},
            422,
            "validation_error",
        ),
        (alice, {"username": "alice"}, 422, "validation_error"),
        (alice, {"username": "ghost"}, 404, "not_found"),
    ]
    for who, body, status, code in cases:
        response = client.post(
            "/api/reports", json={**body, "reason": "x"}, headers=who.headers
        )
        assert_error(response, status, code)
    assert count_rows(app, UserReport) == 0


# -- unsend ----------------------------------------------------------------------------


class TestReportLimit:
    """Reports are limited per reporter (REPORT_LIMIT_PER_USER): one account cannot
    bury the admins' queue under reports of every name the search lists."""

    @pytest.fixture
    def app_settings(self):
        return {"RATELIMIT_ENABLED": True, "REPORT_LIMIT_PER_USER": "3 per hour"}

    def test_reports_over_the_limit_are_refused_and_store_nothing(
        self, app, client, trio, member, admin_headers
    ):
        alice, _, _ = trio
        dave = member("dave")
        member("erin")
        for target in ("bob", "carol"):
            report = {"username": target, "reason": "spam"}
            response = client.post("/api/reports", json=report, headers=alice.headers)
            assert response.status_code == 201
        # Probing for names spends the budget too.
        unknown = {"username": "nobody", "reason": "spam"}
        response = client.post("/api/reports", json=unknown, headers=alice.headers)
        assert_error(response, 404, "not_found")
        over = {"username": "dave", "reason": "spam"}
        response = client.post("/api/reports", json=over, headers=alice.headers)
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 0
        assert "report" in response.get_json()["message"]
        assert count_rows(app, UserReport) == 2
        queue = client.get("/api/admin/reports", headers=admin_headers).get_json()
        assert [item["username"] for item in queue["items"]] == ["carol", "bob"]
        # Another reporter has a budget of its own.
        report = {"username": "erin", "reason": "spam"}
        assert (
            client.post("/api/reports", json=report, headers=dave.headers).status_code
            == 201
        )


def test_unsend_removes_the_message_for_both(
    app, client, trio, connect, admin_headers, flagging
):
    alice, bob, _ = trio
    kept = send(client, alice, "bob", "first")
    gone = send(client, alice, "bob", "second")
    a, b = connect(alice), connect(bob)
    events(a), events(b)
    response = client.delete(f"/api/chat/messages/{gone['id']}", headers=alice.headers)
    assert response.status_code == 200 and response.get_json() == {"id": gone["id"]}
    assert events(a, "message_deleted") == [{"id": gone["id"]}]
    assert events(b, "message_deleted") == [{"id": gone["id"]}]
    for who in (alice, bob):
        other = "bob" if who is alice else "alice"
        assert [
            m["id"] for m in get(client, who, f"/api/chat/messages/{other}")["items"]
        ] == [kept["id"]]
        assert (
            get(client, who, "/api/chat/conversations")[0]["last_message"]["id"]
            == kept["id"]
        )
    assert get(client, bob, "/api/chat/conversations")[0]["unread_count"] == 1
    # The moderation record and the audit trail stay for the admins.
    flags = client.get("/api/admin/flagged", headers=admin_headers).get_json()["items"]
    assert gone["id"] in {f["item_id"] for f in flags}
    with app.app_context():
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "message_unsent")
        ).one()
        assert entry.actor_id == alice.id and entry.details["message_id"] == gone["id"]
        assert (
            db.session.scalar(
                select(Message.deleted_at).where(Message.id == gone["id"])
            )
            is not None
        )
    assert_error(
        client.delete(f"/api/chat/messages/{gone['id']}", headers=alice.headers),
        404,
        "not_found",
    )


def removed_unheard(client, admin_headers, review_path, connections):
    """An admin's `remove` of a message already unsent: done, and none of the
    connections hears `message_deleted` or `user_left` again."""
    done = client.post(review_path, json={"action": "remove"}, headers=admin_headers)
    assert done.status_code == 200, done.get_json()
    for connection in connections:
        names = [item["name"] for item in events(connection)]
        assert "message_deleted" not in names and "user_left" not in names


def test_a_message_its_sender_unsent_can_still_be_reported(
    app, client, trio, connect, admin_headers
):
    """Unsending is no way out of a report: the receiver had the message, so they can
    report it after it is gone from both screens, and the report keeps its words. Its
    sender cannot report it, nor can anyone else see it. Removing it then tells nobody
    anything new: both were told when it was unsent."""
    alice, bob, carol = trio
    message = send(client, bob, "alice", "walk home alone and see what happens")
    assert (
        client.delete(
            f"/api/chat/messages/{message['id']}", headers=bob.headers
        ).status_code
        == 200
    )
    for who, status, code in ((bob, 404, "not_found"), (carol, 404, "not_found")):
        assert_error(
            client.post(
                "/api/reports",
                json={"message_id": message["id"], "reason": "x"},
                headers=who.headers,
            ),
            status,
            code,
        )
    assert count_rows(app, UserReport) == 0
    report = report_message(
        client, alice, message["id"], "He threatened me, then unsent it"
    )
    assert (report["username"], report["message_id"]) == ("bob", message["id"])
    queue = client.get("/api/admin/reports", headers=admin_headers).get_json()["items"]
    assert [(r["id"], r["content"]) for r in queue] == [
        (report["id"], "walk home alone and see what happens")
    ]
    a, b = connect(alice), connect(bob)
    events(a), events(b)
    path = f"/api/admin/reports/{report['id']}/review"
    removed_unheard(client, admin_headers, path, (a, b))
    assert get(client, alice, "/api/chat/messages/bob")["items"] == []
    assert get(client, bob, "/api/chat/messages/alice")["items"] == []
    with app.app_context():
        assert (
            db.session.scalar(select(Message.status).where(Message.id == message["id"]))
            == "withheld"
        )
        entry = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "report_remove")
        ).one()
        assert entry.details["removed"] is False


def test_removing_a_flagged_message_its_sender_unsent_announces_nothing(
    client, trio, connect, admin_headers, flagging
):
    """The flag stays in the queue after an unsend; an admin who removes it then finds
    it gone already and tells nobody again (no second `message_deleted`, no
    `user_left`)."""
    alice, bob, _ = trio
    message = send(client, bob, "alice", "loser")
    client.delete(f"/api/chat/messages/{message['id']}", headers=bob.headers)
    flags = client.get("/api/admin/flagged", headers=admin_headers).get_json()["items"]
    (flag,) = [f for f in flags if f["item_id"] == message["id"]]
    a, b = connect(alice), connect(bob)
    events(a), events(b)
    path = f"/api/admin/flagged/{flag['id']}/review"
    removed_unheard(client, admin_headers, path, (a, b))


def test_unsend_and_report_take_a_message_id_in_upper_case(client, trio):
    """UUIDs compare without regard to case; iOS's UUID().uuidString writes them in
    upper case."""
    alice, bob, _ = trio
    reported = send(client, bob, "alice", "you again")
    response = client.post(
        "/api/reports",
        json={"message_id": reported["id"].upper(), "reason": "Keeps bothering me"},
        headers=alice.headers,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["message_id"] == reported["id"]
    gone = send(client, alice, "bob", "taken back")
    response = client.delete(
        f"/api/chat/messages/{gone['id'].upper()}", headers=alice.headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"id": gone["id"]}


def test_only_the_sender_can_unsend(app, client, trio):
    alice, bob, carol = trio
    message = send(client, alice, "bob", "mine")
    assert_error(
        client.delete(f"/api/chat/messages/{message['id']}", headers=bob.headers),
        403,
        "forbidden",
    )
    assert_error(
        client.delete(f"/api/chat/messages/{message['id']}", headers=carol.headers),
        404,
        "not_found",
    )
    assert_error(
        client.delete("/api/chat/messages/not-a-message", headers=alice.headers),
        404,
        "not_found",
    )
    with app.app_context():
        assert db.session.scalar(select(Message.deleted_at)) is None
    assert len(get(client, bob, "/api/chat/messages/alice")["items"]) == 1


def gone(client, who, ids):
    return client.post("/api/chat/gone", json={"message_ids": ids}, headers=who.headers)


def test_a_device_back_from_offline_learns_which_messages_are_gone(
    client, trio, admin_headers
):
    """`message_deleted` reaches connections open at the time; a device that was
    offline asks which of the messages it shows are gone: unsent ones for both, one
    an admin removed for its receiver only, and ids it may not see at all."""
    alice, bob, carol = trio
    kept, unsent, removed = (
        send(client, bob, "alice", text)["id"] for text in ("one", "two", "mean thing")
    )
    theirs = send(client, carol, "bob", "not alice's")["id"]
    client.delete(f"/api/chat/messages/{unsent}", headers=bob.headers)
    report = report_message(client, alice, removed, "mean")
    client.post(
        f"/api/admin/reports/{report['id']}/review",
        json={"action": "remove"},
        headers=admin_headers,
    )
    shown = [kept, unsent, removed, theirs, "0" * 36, unsent.upper()]
    response = gone(client, alice, shown)
    assert response.status_code == 200
    assert response.get_json() == {"message_ids": [unsent, removed, theirs, "0" * 36]}
    # The sender still sees what an admin removed; carol's message is his.
    assert gone(client, bob, shown).get_json() == {"message_ids": [unsent, "0" * 36]}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message_ids": []},
        {"message_ids": "x"},
        {"message_ids": [1]},
        {"message_ids": [""]},
        {"message_ids": ["x" * 37]},
        {"message_ids": ["a"] * 501},
        {"message_ids": ["a"], "extra": 1},
    ],
)
def test_gone_refuses_bad_bodies(client, trio, body):
    alice, _, _ = trio
    response = client.post("/api/chat/gone", json=body, headers=alice.headers)
    assert_error(response, 422, "validation_error")


def test_gone_needs_a_token(client):
    response = client.post("/api/chat/gone", json={"message_ids": ["a"]})
    assert_error(response, 401, "unauthorized")

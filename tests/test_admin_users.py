"""Admin actions on users: block, unblock, mute, unmute, kick, list; all audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cyberscan.extensions import db
from cyberscan.models import AuditLog, User, utcnow
from tests.fixtures_realtime import events
from tests.helpers import PASSWORD, assert_error, bearer

ADMIN_USER_KEYS = {
    "id",
    "username",
    "email",
    "created_at",
    "is_admin",
    "is_blocked",
    "bullying_count",
    "muted_until",
    "blocked_at",
    "blocked_reason",
}


def audit(app):
    with app.app_context():
        return [
            (
                e.actor.username if e.actor else None,
                e.action,
                e.target.username,
                e.reason,
                e.details,
            )
            for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))
        ]


def set_count(app, user, count):
    with app.app_context():
        db.session.get(User, user.id).bullying_count = count
        db.session.commit()


def test_block_closes_live_connections_and_stops_tokens(
    client, app, member, connect, admin_headers
):
    bob = member("bob")
    phone, laptop = connect(bob), connect(bob)
    response = client.post(
        "/api/admin/users/bob/block", json={"reason": "spam"}, headers=admin_headers
    )
    assert response.status_code == 200
    user = response.get_json()["user"]
    assert set(user) == ADMIN_USER_KEYS
    assert user["is_blocked"] is True
    assert user["blocked_reason"] == "spam"
    assert user["blocked_at"].endswith("Z")
    for sio in (phone, laptop):
        assert events(sio, "account_blocked") == [{"reason": "spam"}]
        assert not sio.is_connected()
    assert_error(client.get("/api/me", headers=bob.headers), 403, "blocked")
    assert_error(
        client.post("/api/login", json={"username": "bob", "password": PASSWORD}),
        403,
        "blocked",
    )
    assert audit(app) == [("root_admin", "block", "bob", "spam", {"bullying_count": 0})]


def test_blocking_again_without_a_reason_keeps_the_reason(
    client, app, member, admin_headers
):
    member("bob")
    client.post(
        "/api/admin/users/bob/block", json={"reason": "spam"}, headers=admin_headers
    )
    again = client.post("/api/admin/users/bob/block", json={}, headers=admin_headers)
    assert again.status_code == 200
    assert again.get_json()["user"]["blocked_reason"] == "spam"
    body = assert_error(
        client.post("/api/login", json={"username": "bob", "password": PASSWORD}),
        403,
        "blocked",
    )
    assert body["reason"] == "spam"
    # A new reason replaces it; both blocks are in the audit log with their reasons.
    newer = client.post(
        "/api/admin/users/bob/block", json={"reason": "threats"}, headers=admin_headers
    )
    assert newer.get_json()["user"]["blocked_reason"] == "threats"
    assert [(row[1], row[3]) for row in audit(app)] == [
        ("block", "spam"),
        ("block", "spam"),
        ("block", "threats"),
    ]


def test_a_block_s_whole_reason_reaches_the_person(client, member, admin_headers):
    """The API takes a reason of 500 characters; the account kept 255 of it, so the
    person's blocked screen showed a reason cut mid-word."""
    member("bob")
    reason = ("Threats to several people in the group chat, see reports. " * 9)[:500]
    response = client.post(
        "/api/admin/users/bob/block", json={"reason": reason}, headers=admin_headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["user"]["blocked_reason"] == reason
    body = assert_error(
        client.post("/api/login", json={"username": "bob", "password": PASSWORD}),
        403,
        "blocked",
    )
    assert body["reason"] == reason


def test_a_blocked_account_s_tokens_are_refused_with_the_block_s_reason(
    client, make_user, login, admin_headers
):
    """A page reloaded after a block renews its token and shows why from the refusal:
    the refresh answered `blocked` without the reason, so the web client's blocked
    screen lost it until the person typed their password again."""
    bob = make_user("bob")
    tokens = login(bob)
    client.post(
        "/api/admin/users/bob/block", json={"reason": "spam"}, headers=admin_headers
    )
    for response in (
        client.get("/api/me", headers=bearer(tokens["access_token"])),
        client.post("/api/token/refresh", headers=bearer(tokens["refresh_token"])),
    ):
        assert assert_error(response, 403, "blocked")["reason"] == "spam"


def test_blocked_user_cannot_reconnect(client, member, socket_client, admin_headers):
    bob = member("bob")
    client.post("/api/admin/users/bob/block", json={}, headers=admin_headers)
    assert not socket_client(bob.token).is_connected()


def test_a_block_revokes_every_token_for_good_but_the_appeal_token_works(
    client, app, make_user, login, socket_client, admin_headers
):
    bob = make_user("bob")
    tokens = login(bob)
    old_access = bearer(tokens["access_token"])
    old_refresh = bearer(tokens["refresh_token"])
    client.post("/api/admin/users/bob/block", json={}, headers=admin_headers)
    assert_error(client.get("/api/me", headers=old_access), 403, "blocked")
    assert_error(client.post("/api/token/refresh", headers=old_refresh), 403, "blocked")
    body = assert_error(
        client.post("/api/login", json={"username": "bob", "password": PASSWORD}),
        403,
        "blocked",
    )
    appeal = bearer(body["appeal_token"])
    # Blocking again (a new reason) keeps the appeal token of the blocked login.
    client.post(
        "/api/admin/users/bob/block", json={"reason": "still"}, headers=admin_headers
    )
    assert client.get("/api/me/strikes", headers=appeal).status_code == 200

    client.post("/api/admin/users/bob/unblock", json={}, headers=admin_headers)

    assert_error(client.get("/api/me", headers=old_access), 401, "unauthorized")
    assert_error(
        client.post("/api/token/refresh", headers=old_refresh), 401, "unauthorized"
    )
    assert not socket_client(tokens["access_token"]).is_connected()
    fresh = login(bob)
    assert (
        client.get("/api/me", headers=bearer(fresh["access_token"])).status_code == 200
    )
    assert socket_client(fresh["access_token"]).is_connected()


def test_unblock_restores_login_and_resets_the_count(
    client, app, member, connect, admin_headers, login
):
    bob = member("bob")
    set_count(app, bob.user, 5)
    client.post("/api/admin/users/bob/block", json={}, headers=admin_headers)
    response = client.post(
        "/api/admin/users/bob/unblock",
        json={"reason": "appeal accepted"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    user = response.get_json()["user"]
    assert (user["is_blocked"], user["bullying_count"], user["blocked_at"]) == (
        False,
        0,
        None,
    )
    token = login(bob.user)["access_token"]
    assert connect(type(bob)(bob.user, token)).is_connected()
    assert audit(app)[-1] == (
        "root_admin",
        "unblock",
        "bob",
        "appeal accepted",
        {"reset_count": True, "previous_bullying_count": 5},
    )


def test_unblock_can_keep_the_count(client, app, member, admin_headers):
    bob = member("bob")
    set_count(app, bob.user, 3)
    body = client.post(
        "/api/admin/users/bob/unblock",
        json={"reset_count": False},
        headers=admin_headers,
    ).get_json()
    assert body["user"]["bullying_count"] == 3


@pytest.mark.parametrize("reset_count", ["no", "false", "true", "", 0, 1, [False]])
def test_unblock_with_a_reset_count_that_is_not_a_boolean_is_422_and_changes_nothing(
    client, app, member, admin_headers, reset_count
):
    bob = member("bob")
    set_count(app, bob.user, 5)
    client.post("/api/admin/users/bob/block", json={}, headers=admin_headers)
    body = assert_error(
        client.post(
            "/api/admin/users/bob/unblock",
            json={"reset_count": reset_count},
            headers=admin_headers,
        ),
        422,
        "validation_error",
    )
    assert "reset_count" in body["errors"]["json"]
    with app.app_context():
        user = db.session.get(User, bob.id)
        assert (user.is_blocked, user.bullying_count) == (True, 5)
    assert [entry[1] for entry in audit(app)] == ["block"]


def test_mute_tells_live_connections_and_sets_muted_until(
    client, app, member, connect, admin_headers
):
    bob = member("bob")
    sio = connect(bob)
    before = utcnow()
    response = client.post(
        "/api/admin/users/bob/mute",
        json={"minutes": 15, "reason": "cool down"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    muted_until = response.get_json()["user"]["muted_until"]
    with app.app_context():
        stored = db.session.get(User, bob.id).muted_until
    assert 14 * 60 < (stored - before).total_seconds() <= 15 * 60 + 5
    notices = events(sio, "muted")
    assert len(notices) == 1 and notices[0]["muted_until"] == muted_until
    assert sio.is_connected()
    assert audit(app)[-1][:4] == ("root_admin", "mute", "bob", "cool down")
    assert audit(app)[-1][4]["minutes"] == 15


def test_unmute_lifts_the_mute(client, app, member, connect, admin_headers):
    bob = member("bob")
    client.post(
        "/api/admin/users/bob/mute", json={"minutes": 60}, headers=admin_headers
    )
    sio = connect(bob)
    body = client.post(
        "/api/admin/users/bob/unmute", json={}, headers=admin_headers
    ).get_json()
    assert body["user"]["muted_until"] is None
    assert events(sio, "muted")[-1]["muted_until"] is None
    assert (
        client.post(
            "/api/post", json={"content": "back"}, headers=bob.headers
        ).status_code
        == 201
    )
    assert [row[1] for row in audit(app)] == ["mute", "unmute"]


def test_mute_expires_by_itself(client, app, member, admin_headers):
    bob = member("bob")
    client.post("/api/admin/users/bob/mute", json={"minutes": 1}, headers=admin_headers)
    assert_error(
        client.post("/api/post", json={"content": "hi"}, headers=bob.headers),
        403,
        "muted",
    )
    with app.app_context():  # the minute has passed
        db.session.get(User, bob.id).muted_until = utcnow().replace(year=2000)
        db.session.commit()
    assert (
        client.post(
            "/api/post", json={"content": "hi"}, headers=bob.headers
        ).status_code
        == 201
    )


def test_kick_closes_connections_without_blocking(
    client, app, member, connect, admin_headers
):
    bob = member("bob")
    sio = connect(bob)
    body = client.post(
        "/api/admin/users/bob/kick",
        json={"reason": "reconnect please"},
        headers=admin_headers,
    ).get_json()
    assert body["disconnected"] == 1
    assert body["user"]["is_blocked"] is False
    assert events(sio, "kicked") == [{"reason": "reconnect please"}]
    assert not sio.is_connected()
    assert connect(bob).is_connected()
    assert audit(app)[-1][:4] == ("root_admin", "kick", "bob", "reconnect please")


def test_kick_of_an_offline_user_is_fine(client, member, admin_headers):
    member("bob")
    body = client.post(
        "/api/admin/users/bob/kick", json={}, headers=admin_headers
    ).get_json()
    assert body["disconnected"] == 0


@pytest.mark.parametrize("action", ["block", "mute", "kick"])
def test_admin_cannot_act_on_themself(client, app, admin, admin_headers, action):
    body = {"minutes": 5} if action == "mute" else {}
    assert_error(
        client.post(
            f"/api/admin/users/root_admin/{action}", json=body, headers=admin_headers
        ),
        409,
        "conflict",
    )
    with app.app_context():
        me = db.session.get(User, admin.id)
        assert not me.is_blocked and me.muted_until is None
    assert audit(app) == []


@pytest.mark.parametrize("action", ["block", "unblock", "mute", "unmute", "kick"])
def test_action_on_unknown_user_is_404(client, admin_headers, action):
    body = {"minutes": 5} if action == "mute" else {}
    assert_error(
        client.post(
            f"/api/admin/users/nobody/{action}", json=body, headers=admin_headers
        ),
        404,
        "not_found",
    )


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("mute", {}),
        ("mute", {"minutes": 0}),
        ("mute", {"minutes": 10081}),
        ("mute", {"minutes": -5}),
        ("mute", {"minutes": "5"}),
        ("mute", {"minutes": 2.5}),
        ("mute", {"minutes": None}),
        ("mute", {"minutes": True}),
        ("mute", {"minutes": 5, "until": "tomorrow"}),
        ("block", {"reason": "x" * 501}),
        ("block", {"reason": 5}),
        ("block", {"is_blocked": False}),
        ("unblock", {"reset_count": "maybe"}),
        ("unblock", {"reset_count": None}),
        ("kick", {"reason": ["a"]}),
        ("unmute", {"minutes": 5}),
    ],
)
def test_bad_payloads_are_422_and_change_nothing(
    client, app, member, admin_headers, action, payload
):
    bob = member("bob")
    assert_error(
        client.post(
            f"/api/admin/users/bob/{action}", json=payload, headers=admin_headers
        ),
        422,
        "validation_error",
    )
    with app.app_context():
        user = db.session.get(User, bob.id)
        assert not user.is_blocked and user.muted_until is None
    assert audit(app) == []


def test_actions_accept_an_empty_body(client, app, member, admin_headers):
    member("bob")
    shown = []
    for action in ("block", "unblock", "unmute", "kick"):
        response = client.post(f"/api/admin/users/bob/{action}", headers=admin_headers)
        assert response.status_code == 200, (action, response.get_json())
        user = response.get_json()["user"]
        shown.append((user["username"], user["is_blocked"], user["muted_until"]))
    assert shown == [
        ("bob", True, None),
        ("bob", False, None),
        ("bob", False, None),
        ("bob", False, None),
    ]
    # No body means no reason: the defaults are stored, and every action is audited.
    entries = audit(app)
    assert [(e[1], e[2]) for e in entries] == [
        ("block", "bob"),
        ("unblock", "bob"),
        ("unmute", "bob"),
        ("kick", "bob"),
    ]
    assert entries[0][3] == "Blocked by an administrator."
    assert [e[3] for e in entries[1:]] == [None, None, None]


def test_username_is_matched_without_regard_to_case(client, member, admin_headers):
    member("Bob")
    body = client.post(
        "/api/admin/users/BOB/block", json={}, headers=admin_headers
    ).get_json()
    assert body["user"]["username"] == "Bob"


def test_user_list_is_paginated_and_shows_admin_fields(
    client, app, make_user, admin_headers
):
    for n in range(4):
        make_user(f"member{n}")
    first = client.get("/api/admin/users?limit=3", headers=admin_headers).get_json()
    assert [u["username"] for u in first["items"]] == [
        "root_admin",
        "member0",
        "member1",
    ]
    assert set(first["items"][1]) == ADMIN_USER_KEYS
    assert first["items"][1]["email"] == "member0@example.com"
    rest = client.get(
        f"/api/admin/users?limit=3&cursor={first['next_cursor']}", headers=admin_headers
    ).get_json()
    assert [u["username"] for u in rest["items"]] == ["member2", "member3"]
    assert rest["next_cursor"] is None
    assert "password_hash" not in str(first) + str(rest)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ALI", ["alice", "malina"]),
        ("example.org", ["zed"]),
        ("%", []),
        ("a_b", ["a_b"]),
    ],
)
def test_user_list_filters_by_name_or_email(
    client, make_user, admin_headers, q, expected
):
    make_user("alice")
    make_user("malina")
    make_user("zed", email="zed@example.org")
    make_user("a_b")
    make_user("axb")
    body = client.get(
        "/api/admin/users", query_string={"q": q}, headers=admin_headers
    ).get_json()
    assert [u["username"] for u in body["items"]] == expected


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "cursor=bad", "q=" + "x" * 255]
)
def test_user_list_rejects_bad_query(client, admin_headers, query):
    assert_error(
        client.get(f"/api/admin/users?{query}", headers=admin_headers),
        422,
        "validation_error",
    )


def test_blank_reason_is_no_reason(client, app, member, admin_headers):
    member("bob")
    client.post(
        "/api/admin/users/bob/mute",
        json={"minutes": 5, "reason": "   "},
        headers=admin_headers,
    )
    body = client.post(
        "/api/admin/users/bob/block", json={"reason": ""}, headers=admin_headers
    ).get_json()
    assert body["user"]["blocked_reason"] == "Blocked by an administrator."
    assert [row[3] for row in audit(app)] == [None, "Blocked by an administrator."]

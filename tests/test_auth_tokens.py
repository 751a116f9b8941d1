"""/api/me, /api/token/refresh and /api/logout: tokens that really die."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from flask_jwt_extended import create_access_token, create_refresh_token

from cyberscan.extensions import db
from cyberscan.models import RevokedToken, User, utcnow
from tests.helpers import assert_error, bearer, recorded_statements


def test_me_answers_the_tokens_user_with_email(client, make_user, login):
    user = make_user("kate")
    body = client.get("/api/me", headers=bearer(login(user)["access_token"])).get_json()
    assert body["user"]["id"] == user.id
    assert body["user"]["email"] == "kate@example.com"
    assert body["user"]["username"] == "kate"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": "Basic a2F0ZTpwYXNz"},
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."},
    ],
)
def test_me_without_a_valid_token_is_401(client, headers):
    assert_error(client.get("/api/me", headers=headers), 401, "unauthorized")


@pytest.mark.parametrize("scheme", ["bearer", "BEARER"])
def test_the_auth_scheme_is_read_in_any_case(client, make_user, login, scheme):
    """The scheme is case-insensitive (RFC 9110 §11.1), as the socket handshake
    reads it too."""
    token = login(make_user("kim"))["access_token"]
    response = client.get("/api/me", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["user"]["username"] == "kim"


def test_token_signed_with_another_key_is_401(client, app, make_user):
    user = make_user()
    other = type(app)("other")
    other.config.update(JWT_SECRET_KEY="a-completely-different-key-of-32-bytes!!")
    from flask_jwt_extended import JWTManager

    JWTManager(other)
    with other.app_context():
        forged = create_access_token(identity=str(user.id))
    assert_error(client.get("/api/me", headers=bearer(forged)), 401, "unauthorized")


def test_expired_token_is_401(client, app, make_user):
    user = make_user()
    with app.app_context():
        token = create_access_token(
            identity=str(user.id), expires_delta=timedelta(seconds=-5)
        )
    body = assert_error(
        client.get("/api/me", headers=bearer(token)), 401, "unauthorized"
    )
    assert "expired" in body["message"]


@pytest.mark.parametrize("subject", [str(10**30), str(2**63), str(-(2**63) - 1)])
def test_a_real_key_token_for_an_impossible_user_id_is_401(
    app, client, subject, caplog
):
    app.config["TESTING"] = False  # a bug would be a logged 500, not an exception
    with app.app_context():
        access = create_access_token(identity=subject)
        refresh = create_refresh_token(identity=subject)
    with caplog.at_level(logging.WARNING):
        me = client.get("/api/me", headers=bearer(access))
        renewed = client.post("/api/token/refresh", headers=bearer(refresh))
    assert_error(me, 401, "unauthorized")
    assert_error(renewed, 401, "unauthorized")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_refresh_token_is_not_an_access_token(client, make_user, login):
    tokens = login(make_user())
    assert_error(
        client.get("/api/me", headers=bearer(tokens["refresh_token"])),
        401,
        "unauthorized",
    )


def test_refresh_gives_a_working_access_token(client, make_user, login):
    tokens = login(make_user("leo"))
    response = client.post(
        "/api/token/refresh", headers=bearer(tokens["refresh_token"])
    )
    assert response.status_code == 200
    access = response.get_json()["access_token"]
    assert (
        client.get("/api/me", headers=bearer(access)).get_json()["user"]["username"]
        == "leo"
    )


def test_refresh_with_an_access_token_is_401(client, make_user, login):
    tokens = login(make_user())
    response = client.post("/api/token/refresh", headers=bearer(tokens["access_token"]))
    body = assert_error(response, 401, "unauthorized")
    assert body["message"] == "This needs a refresh token, not an access token."


def test_a_token_error_names_the_kind_of_token_the_endpoint_takes(
    client, make_user, login
):
    tokens = login(make_user())
    missing = assert_error(client.post("/api/token/refresh"), 401, "unauthorized")
    assert missing["message"] == "A valid refresh token is required."
    missing = assert_error(client.get("/api/me"), 401, "unauthorized")
    assert missing["message"] == "A valid access token is required."
    wrong = client.get("/api/me", headers=bearer(tokens["refresh_token"]))
    body = assert_error(wrong, 401, "unauthorized")
    assert body["message"] == "This needs an access token, not a refresh token."


def test_logout_revokes_the_access_and_refresh_tokens_persistently(
    client, app, make_user, login
):
    tokens = login(make_user())
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    assert client.post("/api/logout", headers=bearer(access)).status_code == 200
    assert_error(client.get("/api/me", headers=bearer(access)), 401, "unauthorized")
    assert_error(
        client.post("/api/token/refresh", headers=bearer(refresh)), 401, "unauthorized"
    )
    assert_error(
        client.post("/api/logout", headers=bearer(access)), 401, "unauthorized"
    )
    with app.app_context():
        kinds = sorted(t.token_type for t in db.session.query(RevokedToken))
    assert kinds == ["access", "refresh"]
    # A second app (a restarted or another process) sees the same revocation.
    from config import TestingConfig
    from cyberscan import create_app

    other = create_app(TestingConfig, DATABASE_URL=app.config["DATABASE_URL"])
    assert_error(
        other.test_client().get("/api/me", headers=bearer(access)), 401, "unauthorized"
    )
    with other.app_context():
        db.engine.dispose()


def test_logout_leaves_other_sessions_alive(client, make_user, login):
    user = make_user()
    first, second = login(user), login(user)
    client.post("/api/logout", headers=bearer(first["access_token"]))
    me = client.get("/api/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["user"]["username"] == user.username
    assert_error(
        client.get("/api/me", headers=bearer(first["access_token"])),
        401,
        "unauthorized",
    )


def test_access_token_from_refresh_dies_with_logout(client, make_user, login):
    tokens = login(make_user())
    fresh = client.post("/api/token/refresh", headers=bearer(tokens["refresh_token"]))
    fresh_access = fresh.get_json()["access_token"]
    client.post("/api/logout", headers=bearer(tokens["access_token"]))
    assert_error(
        client.get("/api/me", headers=bearer(fresh_access)), 401, "unauthorized"
    )


def test_blocking_stops_existing_tokens(client, app, make_user, login):
    user = make_user()
    token = login(user)["access_token"]
    with app.app_context():
        db.session.get(User, user.id).is_blocked = True
        db.session.commit()
    assert_error(client.get("/api/me", headers=bearer(token)), 403, "blocked")


def test_token_of_a_deleted_account_is_401(client, app, make_user, login):
    user = make_user()
    token = login(user)["access_token"]
    with app.app_context():
        db.session.delete(db.session.get(User, user.id))
        db.session.commit()
    assert_error(client.get("/api/me", headers=bearer(token)), 401, "unauthorized")


def test_an_authenticated_request_loads_the_tokens_user_once(
    app, client, make_user, login
):
    """The revocation check loads the user with it; the user lookup reuses that row."""
    user = make_user("quinn")
    headers = bearer(login(user)["access_token"])
    with recorded_statements(app) as statements:
        response = client.get("/api/me", headers=headers)
    assert response.get_json()["user"]["username"] == "quinn"
    assert len([s for s in statements if "FROM users" in s]) == 1, statements


def test_ended_sessions_are_those_a_connection_may_no_longer_hold(app, make_user):
    """What a serving process closes on its check (realtime/sessions):
    a session logged out, one another session's password change ended, one of a
    blocked or deleted account; never a live one, nor the session that changed it. A
    blocked account's sessions come with the block's reason (its `account_blocked`),
    also after the block revoked their tokens, as every block does."""
    from cyberscan.services import auth

    ada, bob, cy, di, eve = (
        make_user(name) for name in ("ada", "bob", "cy", "di", "eve")
    )
    with app.app_context():
        db.session.add(
            RevokedToken(
                jti="ada-gone",
                token_type="refresh",
                user_id=ada.id,
                expires_at=datetime(2099, 1, 1),
            )
        )
        user = db.session.get(User, bob.id)
        user.revoke_tokens(keep_session="bob-kept")  # a password change by bob-kept
        blocked = db.session.get(User, cy.id)
        blocked.revoke_tokens()  # blocked as the dashboard blocks: tokens revoked
        blocked.is_blocked, blocked.blocked_reason = True, "threats"
        db.session.get(User, di.id).is_blocked = True  # an old row without a reason
        fresh = db.session.get(User, eve.id)
        fresh.revoke_tokens()  # blocked a moment ago: its own event is on its way
        fresh.is_blocked, fresh.blocked_reason = True, "spam"
        fresh.blocked_at = utcnow()
        db.session.commit()
        held = {
            (ada.id, None, "ada-live"),
            (ada.id, None, "ada-gone"),
            (bob.id, 0, "bob-old"),
            (bob.id, None, "bob-older"),
            (bob.id, 0, "bob-kept"),
            (bob.id, 1, "bob-new"),
            (cy.id, 0, "cy-any"),
            (cy.id, None, "cy-older"),
            (di.id, 0, "di-any"),
            (eve.id, 0, "eve-any"),
            (999_999, 0, "nobody"),
        }
        ended = {
            (ada.id, None, "ada-gone"): None,
            (bob.id, 0, "bob-old"): None,
            (bob.id, None, "bob-older"): None,
            (cy.id, 0, "cy-any"): "threats",
            (cy.id, None, "cy-older"): "threats",
            (di.id, 0, "di-any"): "This account is blocked.",
            (999_999, 0, "nobody"): None,
        }
        assert auth.ended_sessions(held) == ended
        later = utcnow() + auth.FRESH_BLOCK + timedelta(seconds=1)
        assert auth.ended_sessions(held, now=later) == {
            **ended,
            (eve.id, 0, "eve-any"): "spam",
        }
        assert auth.ended_sessions(set()) == {}

"""POST /api/login, its rate limits, and blocked accounts."""

from __future__ import annotations

import io

import pytest

from cyberscan.extensions import db
from cyberscan.models import User
from tests.helpers import PASSWORD, assert_error


def test_login_by_username_answers_tokens_and_user(client, make_user):
    user = make_user("carol")
    response = client.post(
        "/api/login", json={"username": "carol", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "carol"
    assert body["user"]["id"] == user.id
    assert body["user"]["email"] == "carol@example.com"
    assert body["access_token"] and body["refresh_token"]


def test_no_api_answer_is_stored_or_sniffed(client, make_user, admin_headers):
    """Tokens, email addresses and exports stay out of browser and proxy caches
    (RFC 6749 §5.1 asks it of token answers), and no JSON answer is ever read as a
    page; the API docs page keeps its own policy."""
    make_user("carol")
    login = client.post("/api/login", json={"username": "carol", "password": PASSWORD})
    tokens = login.get_json()
    refresh = client.post(
        "/api/token/refresh",
        headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
    )
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    answers = [
        login,
        refresh,
        client.get("/api/me", headers=bearer),
        client.post("/api/login", json={"username": "carol", "password": "wrong1234"}),
        client.get("/api/no-such-thing"),
        client.get("/api/admin/export/users.csv", headers=admin_headers, buffered=True),
    ]
    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store", answer.request.path
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    docs = client.get("/api/docs")
    assert "script-src 'self'" in docs.headers["Content-Security-Policy"]


def test_login_by_email_ignores_case(client, make_user):
    make_user("dave", email="Dave@Example.com")
    response = client.post(
        "/api/login", json={"email": "dave@example.COM", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.get_json()["username"] == "dave"


def test_login_by_username_ignores_case(client, make_user):
    make_user("Erin")
    response = client.post(
        "/api/login", json={"username": "ERIN", "password": PASSWORD}
    )
    assert response.get_json()["username"] == "Erin"


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "frank", "password": "wrong password"},
        {"username": "nobody", "password": PASSWORD},
        {"email": "nobody@example.com", "password": PASSWORD},
    ],
)
def test_login_with_wrong_credentials_is_401_with_one_message(
    client, make_user, payload
):
    make_user("frank")
    body = assert_error(client.post("/api/login", json=payload), 401, "unauthorized")
    assert body["message"] == "Wrong username, email or password."


@pytest.mark.parametrize(
    "payload",
    [
        {"password": PASSWORD},
        {"username": "frank"},
        {"username": "frank", "email": "frank@example.com", "password": PASSWORD},
        {"username": 7, "password": PASSWORD},
        {"username": "frank", "password": ["x"]},
        {"username": "frank", "password": PASSWORD, "remember": True},
        {"username": None, "email": None, "password": PASSWORD},
        {"username": "   ", "password": PASSWORD},
        {},
    ],
)
def test_login_rejects_invalid_payloads(client, make_user, payload):
    make_user("frank")
    assert_error(client.post("/api/login", json=payload), 422, "validation_error")


@pytest.mark.parametrize(
    "payload",
    [
        # A phone keyboard's suggestion ends with a space; the identifiers hold none.
        {"username": "frank ", "password": PASSWORD},
        {"email": " frank@example.com ", "password": PASSWORD},
        # Typed clients (kotlinx.serialization, JSON.stringify) send the unused one
        # as null.
        {"username": "frank", "email": None, "password": PASSWORD},
        {"username": None, "email": "frank@example.com", "password": PASSWORD},
    ],
)
def test_login_reads_what_apps_send_around_the_identifier(client, make_user, payload):
    make_user("frank")
    response = client.post("/api/login", json=payload)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["username"] == "frank"


def test_blocked_account_cannot_log_in(client, app, make_user):
    user = make_user("grace")
    with app.app_context():
        db.session.get(User, user.id).is_blocked = True
        db.session.commit()
    response = client.post(
        "/api/login", json={"username": "grace", "password": PASSWORD}
    )
    assert_error(response, 403, "blocked")


class TestRateLimits:
    @pytest.fixture
    def app_settings(self):
        return {
            "RATELIMIT_ENABLED": True,
            "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
            "LOGIN_LIMIT_PER_ADDRESS": "6 per minute",
        }

    def test_failed_logins_are_limited_per_account(self, client, make_user):
        make_user("heidi")
        wrong = {"username": "heidi", "password": "wrong password"}
        for _ in range(3):
            assert client.post("/api/login", json=wrong).status_code == 401
        response = client.post(
            "/api/login", json={"username": "heidi", "password": PASSWORD}
        )
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 0
        other = client.post(
            "/api/login", json={"username": "ivan", "password": "wrong password"}
        )
        assert other.status_code == 401  # another account is not affected

    @pytest.mark.parametrize(
        "door",
        [
            {"username": " heidi"},
            {"username": "HEIDI  "},
            {"email": "heidi@example.com"},
            {"email": " Heidi@Example.com "},
        ],
        ids=["space-before", "case-and-spaces", "email", "email-spaced"],
    )
    def test_every_name_that_opens_an_account_spends_its_one_budget(
        self, client, make_user, door
    ):
        """Login ignores case and the spaces around a name, and an email opens the
        same account: none of those is a fresh budget for a guesser."""
        make_user("heidi", email="heidi@example.com")
        wrong = {"username": "heidi", "password": "wrong password"}
        for _ in range(3):
            assert client.post("/api/login", json=wrong).status_code == 401
        response = client.post("/api/login", json={**door, "password": PASSWORD})
        assert_error(response, 429, "rate_limited")

    def test_an_app_on_another_origin_may_read_retry_after(self, client, make_user):
        """A single-page app served from another origin reads only the response
        headers that CORS exposes: Retry-After must be one of them."""
        make_user("lena")
        wrong = {"username": "lena", "password": "wrong password"}
        for _ in range(3):
            assert client.post("/api/login", json=wrong).status_code == 401
        response = client.post(
            "/api/login",
            json={"username": "lena", "password": PASSWORD},
            headers={"Origin": "https://app.example"},
        )
        assert_error(response, 429, "rate_limited")
        assert response.headers["Access-Control-Allow-Origin"]
        exposed = response.headers.get("Access-Control-Expose-Headers", "")
        assert "retry-after" in {name.strip().lower() for name in exposed.split(",")}

    def test_the_dashboard_login_spends_the_same_account_budget(
        self, client, make_user
    ):
        make_user("kim", is_admin=True)
        wrong = {"username": "kim", "password": "wrong password"}
        for _ in range(3):
            assert client.post("/api/login", json=wrong).status_code == 401
        response = client.post(
            "/admin/login", json={"username": "kim", "password": PASSWORD}
        )
        assert_error(response, 429, "rate_limited")

    def test_logins_are_limited_per_address(self, client, make_user):
        make_user("judy")
        ok = {"username": "judy", "password": PASSWORD}
        for _ in range(6):
            assert client.post("/api/login", json=ok).status_code == 200
        assert_error(client.post("/api/login", json=ok), 429, "rate_limited")
        from_elsewhere = client.post(
            "/api/login", json=ok, environ_base={"REMOTE_ADDR": "10.9.9.9"}
        )
        assert from_elsewhere.status_code == 200

    @pytest.mark.parametrize("door", ["/api/login", "/admin/login"])
    @pytest.mark.parametrize("framing", ["content-length", "chunked"])
    def test_an_oversized_login_is_413_and_the_limits_keep_their_storage(
        self, client, caplog, door, framing
    ):
        """The per-account limits read the login's name from the body. A body over
        MAX_CONTENT_LENGTH is refused before they look: read by them first, its 413
        made Flask-Limiter take the storage for unreachable and fall back to memory."""
        body = b'{"username": "' + b"n" * 70_000 + b'", "password": "x"}'
        if framing == "chunked":
            sent = {  # as the servers pass it on: no length, the input ends itself
                "input_stream": io.BytesIO(body),
                "headers": {"Transfer-Encoding": "chunked"},
                "environ_overrides": {"wsgi.input_terminated": True},
            }
        else:
            sent = {"data": body}
        response = client.post(door, content_type="application/json", **sent)
        assert_error(response, 413, "payload_too_large")
        assert "storage unreachable" not in caplog.text

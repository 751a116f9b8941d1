"""Every failure answers the contract's error body (API.md §1); bad input changes nothing."""

from __future__ import annotations

import logging

import pytest

from config import TestingConfig
from cyberscan import create_app, errors
from cyberscan.extensions import db
from cyberscan.models import User
from tests.helpers import PASSWORD, assert_error, bearer, listening

REGISTER = {"username": "mallory", "email": "m@example.com", "password": "longenough"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not json at all", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"a string"', "application/json"),
        (b"42", "application/json"),
        (b"null", "application/json"),
        (b'{"username": "x"', "application/json"),
        (b'{"username": "\xff\xfe"}', "application/json"),
        # A byte order mark (RFC 8259 §8.1: not to be sent): refused as every other
        # body that is not UTF-8 JSON, in the same shape (it had webargs' own).
        (b'\xef\xbb\xbf{"username": "mallory"}', "application/json"),
        # NaN and Infinity: Python's parser takes them, JSON has no such values.
        (b'{"username": NaN, "email": "m@example.com"}', "application/json"),
        (b'{"username": "mallory", "age": -Infinity}', "application/json"),
        (b"username=mallory&password=x", "application/x-www-form-urlencoded"),
        (b'{"username": "mallory"}', "text/plain"),
    ],
)
def test_non_json_or_non_object_body_is_400(client, app, body, content_type):
    response = client.post("/api/register", data=body, content_type=content_type)
    error = assert_error(response, 400, "bad_request")
    assert "errors" not in error and error["message"].startswith(
        "The request body must"
    )
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_huge_body_is_413(client, app):
    blob = {"username": "mallory", "email": "m@example.com", "password": "x" * 200_000}
    assert_error(client.post("/api/register", json=blob), 413, "payload_too_large")
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_unknown_route_is_json_404(client):
    assert_error(client.get("/api/nowhere"), 404, "not_found")
    assert_error(client.get("/nowhere"), 404, "not_found")


def test_wrong_method_is_json_405(client):
    assert_error(client.get("/api/register"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "text",
    [
        "Robert'); DROP TABLE users;--",
        "<script>alert('x')</script>",
        "' OR '1'='1",
        "😀 emoji ünïcödé 漢字 \u202e",
        'back\\slash "quotes" %s %(x)s {0}',
    ],
)
def test_sql_and_script_passwords_round_trip_verbatim(client, text):
    account = {
        "username": "safe_name",
        "email": "o'brien+x@example.com",
        "password": text * 2,
    }
    created = client.post("/api/register", json=account)
    assert created.status_code == 201
    assert created.get_json()["user"]["email"] == "o'brien+x@example.com"
    response = client.post(
        "/api/login", json={"username": "safe_name", "password": text * 2}
    )
    assert response.status_code == 200
    wrong = client.post(
        "/api/login", json={"username": "safe_name", "password": text * 2 + " "}
    )
    assert_error(wrong, 401, "unauthorized")


def test_bug_is_500_without_internals(schema):
    app = create_app(TestingConfig, DATABASE_URL=schema, TESTING=False)

    @app.get("/api/boom")
    def boom():  # noqa: ANN202
        raise ZeroDivisionError("secret internals")

    response = app.test_client().get("/api/boom")
    body = assert_error(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert "ZeroDivisionError" not in response.get_data(as_text=True)
    assert body["message"]
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def down_app(tmp_path):
    """An app whose database cannot be reached."""
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}"
    return create_app(TestingConfig, DATABASE_URL=url, TESTING=False)


def test_database_down_is_503_on_write(down_app):
    response = down_app.test_client().post("/api/register", json=REGISTER)
    assert_error(response, 503, "unavailable")


def test_database_down_is_503_on_login(down_app):
    response = down_app.test_client().post(
        "/api/login", json={"username": "x", "password": PASSWORD}
    )
    assert_error(response, 503, "unavailable")


def test_an_outage_is_logged_once_then_counted(down_app, caplog, monkeypatch):
    """Every request refused while the database is down is not a log line: the first
    is, then one per OUTAGE_LOG_SECONDS that counts the others (a fake clock)."""
    now = [1000.0]
    monkeypatch.setattr(errors, "_outages", {})
    monkeypatch.setattr(errors.time, "monotonic", lambda: now[0])
    client = down_app.test_client()
    with caplog.at_level(logging.ERROR, logger=down_app.logger.name):
        for _ in range(5):
            assert_error(
                client.post("/api/register", json=REGISTER), 503, "unavailable"
            )
        now[0] += errors.OUTAGE_LOG_SECONDS
        assert_error(client.post("/api/register", json=REGISTER), 503, "unavailable")
    lines = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    # The driver's own error (docs/reliability.md), never the statement.
    down = "database unavailable: OperationalError unable to open database file"
    assert lines == [down, f"{down} (4 more refused since the last line)"]


def test_a_login_while_the_database_is_down_blames_the_database(
    tmp_path, caplog, monkeypatch
):
    """The login limits look the account up; that failing was taken by flask-limiter
    for its own storage failing ("Rate limit storage unreachable"), while the limits
    live in memory. The login is a 503 and the log names the database alone."""
    monkeypatch.setattr(errors, "_outages", {})  # no earlier outage's throttle
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}"
    app = create_app(
        TestingConfig, DATABASE_URL=url, TESTING=False, RATELIMIT_ENABLED=True
    )
    with caplog.at_level(logging.WARNING):
        response = app.test_client().post(
            "/api/login", json={"username": "x", "password": PASSWORD}
        )
    assert_error(response, 503, "unavailable")
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "storage" in m], messages
    assert [m for m in messages if m.startswith("database unavailable")], messages


def test_database_down_is_503_with_a_token(down_app):
    with down_app.app_context():
        from flask_jwt_extended import create_access_token

        token = create_access_token(identity="1")
    assert_error(
        down_app.test_client().get("/api/me", headers=bearer(token)), 503, "unavailable"
    )


def test_database_down_mid_request_leaves_nothing_half_written(client, app):
    """The database fails the COMMIT of a row it was really sent: 503, and the row is
    not there afterwards; the next request on the same engine works."""
    from sqlalchemy.exc import OperationalError

    sent: list[str] = []

    def record(conn, cursor, statement, *args):
        sent.append(statement.split()[0].upper())

    def fail_commit(conn):
        raise OperationalError("COMMIT", {}, Exception("server has gone away"))

    app.config["TESTING"] = False  # errors answer as in production, not raised here
    with app.app_context():
        engine = db.engine
    with listening(
        (engine, "before_cursor_execute", record), (engine, "commit", fail_commit)
    ):
        response = client.post("/api/register", json=REGISTER)
    assert_error(response, 503, "unavailable")
    assert "INSERT" in sent  # the row reached the database before the COMMIT failed
    with app.app_context():
        assert db.session.query(User).count() == 0
    assert client.post("/api/register", json=REGISTER).status_code == 201
    with app.app_context():
        assert [u.username for u in db.session.query(User)] == [REGISTER["username"]]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/me", 401, "unauthorized"),
        ("post", "/api/logout", 401, "unauthorized"),
        ("post", "/api/token/refresh", 401, "unauthorized"),
        ("get", "/api/missing", 404, "not_found"),
        ("delete", "/api/me", 405, "method_not_allowed"),
        ("post", "/api/login", 422, "validation_error"),
        ("post", "/api/register", 422, "validation_error"),
    ],
)
def test_every_error_status_uses_the_envelope(client, method, path, status, code):
    response = getattr(client, method)(path, json={} if method == "post" else None)
    assert_error(response, status, code)

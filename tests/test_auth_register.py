"""POST /api/register."""

from __future__ import annotations

import pytest

from cyberscan.extensions import db
from cyberscan.models import User
from tests.helpers import PASSWORD, assert_error

GOOD = {"username": "alice", "email": "alice@example.com", "password": "s3cret-pass"}


def test_register_creates_account_without_storing_the_password(client, app):
    response = client.post("/api/register", json=GOOD)
    assert response.status_code == 201
    user = response.get_json()["user"]
    assert user["username"] == "alice"
    assert user["email"] == "alice@example.com"
    assert user["is_admin"] is False and user["is_blocked"] is False
    assert user["bullying_count"] == 0
    assert user["created_at"].endswith("Z")
    assert "password" not in user and "password_hash" not in user
    with app.app_context():
        stored = db.session.get(User, user["id"])
        assert stored.password_hash.startswith("$argon2id$")
        assert "s3cret-pass" not in stored.password_hash


@pytest.mark.parametrize(
    "second",
    [
        {**GOOD, "email": "other@example.com"},
        {**GOOD, "username": "ALICE", "email": "other@example.com"},
        {**GOOD, "username": "bob"},
        {**GOOD, "username": "bob", "email": "Alice@Example.COM"},
    ],
)
def test_register_refuses_taken_name_or_email_regardless_of_case(client, app, second):
    assert client.post("/api/register", json=GOOD).status_code == 201
    assert_error(client.post("/api/register", json=second), 409, "conflict")
    with app.app_context():
        assert db.session.query(User).count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a@example.com", "password": "longenough"}, "username"),
        ({"username": "alice", "password": "longenough"}, "email"),
        ({"username": "alice", "email": "a@example.com"}, "password"),
        ({**GOOD, "username": "al"}, "username"),
        ({**GOOD, "username": "a" * 33}, "username"),
        ({**GOOD, "username": "bad name"}, "username"),
        ({**GOOD, "username": "<script>"}, "username"),
        ({**GOOD, "username": "rob'; DROP TABLE users;--"}, "username"),
        ({**GOOD, "username": "alice\n"}, "username"),
        ({**GOOD, "username": "ali\nce"}, "username"),
        ({**GOOD, "username": "alice\r\n"}, "username"),
        ({**GOOD, "username": 12345}, "username"),
        ({**GOOD, "username": None}, "username"),
        ({**GOOD, "username": ["alice"]}, "username"),
        ({**GOOD, "email": "not-an-email"}, "email"),
        ({**GOOD, "email": {"a": 1}}, "email"),
        ({**GOOD, "password": "short"}, "password"),
        ({**GOOD, "password": 12345678}, "password"),
        ({**GOOD, "password": "x" * 257}, "password"),
        ({**GOOD, "password": " " * 8}, "password"),
        ({**GOOD, "password": "\t \n \u3000\u200b  "}, "password"),
        ({**GOOD, "is_admin": True}, "is_admin"),
        ({**GOOD, "bullying_count": 0}, "bullying_count"),
    ],
)
def test_register_rejects_invalid_payloads(client, app, payload, field):
    body = assert_error(
        client.post("/api/register", json=payload), 422, "validation_error"
    )
    assert field in body["errors"]["json"]
    with app.app_context():
        assert db.session.query(User).count() == 0


@pytest.mark.parametrize("impostor", ["root\n", "root\r\n", "\nroot", "ro\not"])
def test_a_name_with_a_line_break_cannot_pose_as_an_existing_user(
    client, app, make_user, impostor
):
    make_user("root")
    payload = {"username": impostor, "email": "fake@ex.com", "password": "password123"}
    body = assert_error(
        client.post("/api/register", json=payload), 422, "validation_error"
    )
    assert "username" in body["errors"]["json"]
    with app.app_context():
        assert db.session.query(User).count() == 1
    # Logging in by such a name finds no one, not root.
    login = {"username": impostor, "password": PASSWORD}
    assert_error(client.post("/api/login", json=login), 401, "unauthorized")


def test_register_refuses_a_password_of_white_space_alone(client, app):
    body = assert_error(
        client.post("/api/register", json={**GOOD, "password": " " * 12}),
        422,
        "validation_error",
    )
    assert body["errors"] == {
        "json": {"password": ["Must not be only white space or invisible characters."]}
    }
    with app.app_context():
        assert db.session.query(User).count() == 0
    # Spaces around or inside a password that has other characters are part of it.
    spaced = {**GOOD, "password": "  two words  "}
    assert client.post("/api/register", json=spaced).status_code == 201
    login = {"username": "alice", "password": "  two words  "}
    assert client.post("/api/login", json=login).status_code == 200


def test_register_accepts_unicode_password_and_boundary_lengths(client):
    for username, email, password in (
        ("a" * 32, "x@example.com", "pässwörd🔒"),
        ("a.b", "y@example.com", "x" * 256),
    ):
        payload = {"username": username, "email": email, "password": password}
        response = client.post("/api/register", json=payload)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["user"]["username"] == username
        # The password stored is the one given: it logs in.
        login = client.post("/api/login", json={"email": email, "password": password})
        assert login.get_json()["user"]["username"] == username


@pytest.mark.parametrize(
    ("existing", "impostor"),
    [
        ("alice", "aIice"),  # capital I for small l
        ("Alice", "AIice"),
        ("bill", "biII"),
        ("bill", "bi1l"),  # digit one for small l
        ("root", "r00t"),  # zeros for o
        ("root", "rO0t"),
        ("mod", "rnod"),  # "rn" for m
        ("wendy", "vvendy"),  # "vv" for w
        ("marvin", "rnarvin"),
    ],
)
def test_register_refuses_a_name_that_reads_as_an_existing_one(
    client, app, make_user, existing, impostor
):
    make_user(existing)
    payload = {"username": impostor, "email": "fake@ex.com", "password": "password123"}
    body = assert_error(client.post("/api/register", json=payload), 409, "conflict")
    assert body["field"] == "username"
    with app.app_context():
        assert db.session.query(User).count() == 1


@pytest.mark.parametrize(
    ("existing", "newcomer"),
    [("alice", "allce"), ("bill", "bili"), ("root", "rot"), ("mod", "rod")],
)
def test_register_accepts_names_that_only_share_letters(
    client, make_user, existing, newcomer
):
    make_user(existing)
    payload = {"username": newcomer, "email": "new@ex.com", "password": "password123"}
    assert client.post("/api/register", json=payload).status_code == 201


@pytest.mark.parametrize(
    "name",
    [
        "admin",
        "ADMIN",
        "adm1n",
        "x.admin",
        "admin2024",
        "cyberscan_support",
        "Support_2024",
        "mod-team",
        "rnod",
        "0fficial",
        "moderat0r",
        "system",
    ],
)
def test_register_refuses_a_name_that_reads_as_staff(client, app, name):
    """A member cannot pose as the service speaking ("cyberscan_support" asking for a
    password); admins are made with `create-admin`, which may use such names."""
    payload = {"username": name, "email": "fake@ex.com", "password": "password123"}
    body = assert_error(
        client.post("/api/register", json=payload), 422, "validation_error"
    )
    assert "staff" in body["errors"]["json"]["username"][0]
    with app.app_context():
        assert db.session.query(User).count() == 0


@pytest.mark.parametrize(
    "name", ["badminton", "modesto", "supporter", "systems", "model", "teamlead"]
)
def test_register_accepts_names_that_only_contain_a_staff_word(client, name):
    payload = {"username": name, "email": f"{name}@ex.com", "password": "password123"}
    assert client.post("/api/register", json=payload).status_code == 201

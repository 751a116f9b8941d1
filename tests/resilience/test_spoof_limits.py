"""Rate limits that protect without handing out a lockout button, and the per-user
connection cap."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import PASSWORD

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {"RATELIMIT_ENABLED": True, "MAX_CONNECTIONS_PER_USER": 3}


def login(client: Any, name: str, password: str, where: dict[str, str]) -> Any:
    return client.post(
        "/api/login",
        json={"username": name, "password": password},
        environ_base=where,
    )


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(
    app, client, make_user
):
    """Defect 8: ten wrong passwords from any address locked the account for 15 min."""
    victim = make_user("victim")
    answers = [
        login(client, victim.username, "wrong password", ATTACKER).status_code
        for _ in range(12)
    ]
    assert answers[:10] == [401] * 10
    assert answers[-1] == 429  # the attacker's own pair is throttled
    response = login(client, victim.username, PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    assert response.get_json()["error"] == "rate_limited"
    response = login(client, victim.username, PASSWORD, OWNER)
    assert response.status_code == 200, response.get_json()


def test_a_slower_global_budget_still_stops_a_distributed_guesser(
    app, client, make_user
):
    victim = make_user("victim")
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "15 per hour"
    statuses = [
        login(
            client,
            victim.username,
            "wrong password",
            {"REMOTE_ADDR": f"192.0.2.{index}"},
        ).status_code
        for index in range(1, 20)
    ]
    assert statuses[:15] == [401] * 15
    assert statuses[-1] == 429


def test_registration_is_rate_limited_per_address(app, client):
    """Defect 9: 100 of 100 registrations from one address were accepted."""
    statuses = []
    for index in range(25):
        response = client.post(
            "/api/register",
            json={
                "username": f"spam{index}",
                "email": f"spam{index}@example.com",
                "password": PASSWORD,
            },
            environ_base=ATTACKER,
        )
        statuses.append(response.status_code)
    assert 201 in statuses
    assert statuses[-1] == 429, statuses
    response = client.post(
        "/api/register",
        json={"username": "honest", "email": "h@example.com", "password": PASSWORD},
        environ_base=OWNER,
    )
    assert response.status_code == 201


def test_connections_per_user_are_capped_with_a_clear_error(app, member, raw_socket):
    alice, bob = member("alice"), member("bob")
    opened = [raw_socket({"token": alice.token}) for _ in range(3)]
    assert all(sio.is_connected() for sio in opened)
    refused = raw_socket({"token": alice.token})
    assert not refused.is_connected()
    assert raw_socket({"token": bob.token}).is_connected()
    opened[0].disconnect()
    assert raw_socket({"token": alice.token}).is_connected()

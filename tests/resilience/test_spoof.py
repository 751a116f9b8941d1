"""The spoof matrix: hostile event names, packets and payloads refused cleanly.

In-process (Flask test clients): each case is answered with the contract's error shape
(an error ack on the socket, the JSON envelope over REST), changes nothing, and leaves
no traceback in the log.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cyberscan.extensions import db, socketio
from cyberscan.models import Message
from tests.fixtures_realtime import drain, events
from tests.resilience.frames import (
    RESERVED_AND_MALFORMED,
    deep,
    event_frame,
    send_frame,
)

NO_ACK_EXPECTED = {"binary ack"}


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    noisy = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not noisy, [r.getMessage() for r in noisy]


def still_serves(sio: Any, receiver: str) -> None:
    """The connection was neither stalled nor closed by what came before."""
    ack = sio.emit("typing", {"receiver": receiver, "is_typing": True}, callback=True)
    assert ack == {"ok": True, "data": ack["data"]}, ack


@pytest.mark.parametrize("case", sorted(RESERVED_AND_MALFORMED))
def test_reserved_and_malformed_event_names_are_refused(
    case, app, trio, connect, caplog
):
    alice, bob, _ = trio
    sio = connect(alice)
    drain(sio)
    caplog.set_level(logging.INFO)
    ack = send_frame(sio, RESERVED_AND_MALFORMED[case])
    if case in NO_ACK_EXPECTED:
        assert ack is None
    else:
        assert isinstance(ack, dict) and ack["ok"] is False, ack
        assert ack["error"] == "bad_request", ack
        assert isinstance(ack["message"], str) and ack["message"]
        assert events(sio, "error")[-1]["error"] == "bad_request"
    assert sio.is_connected()
    assert events(sio, "online_users") == []  # the connect handler did not re-run
    still_serves(sio, bob.username)
    assert_no_traceback(caplog)


def test_unknown_event_name_gets_an_error_ack(app, trio, connect):
    alice = trio[0]
    sio = connect(alice)
    ack = send_frame(sio, event_frame(3, "no_such_event", {}))
    assert ack["ok"] is False and ack["error"] == "not_found", ack


def test_a_disconnect_event_does_not_hide_a_connection_from_a_block(
    app, trio, connect, member, client
):
    """Defect 1: the spoofed `disconnect` removed the sid from presence, and the block
    then left that connection open, still receiving messages."""
    alice, bob, _ = trio
    boss = member("boss", is_admin=True)
    tab = connect(alice)
    spoofed = connect(alice)
    send_frame(spoofed, event_frame(None, "disconnect"))
    sender = connect(bob)
    drain(tab), drain(spoofed)
    response = client.post(
        f"/api/admin/users/{alice.username}/block",
        json={"reason": "spoof"},
        headers=boss.headers,
    )
    assert response.status_code == 200, response.get_json()
    assert not tab.is_connected()
    assert not spoofed.is_connected()
    assert [e["name"] for e in drain(spoofed)] == ["account_blocked"]
    sender.emit("send_message", {"receiver": alice.username, "message": "x"})
    assert drain(spoofed) == []


def test_logout_closes_the_sockets_of_that_token_only(
    app, trio, connect, client, login
):
    """Defect 7: a socket opened with a revoked token kept sending."""
    alice, bob, _ = trio
    other_token = login(alice.user)["access_token"]
    revoked = connect(alice)
    kept = socketio.test_client(
        app, auth={"token": other_token}, flask_test_client=client
    )
    assert kept.is_connected()
    response = client.post("/api/logout", headers=alice.headers)
    assert response.status_code == 200
    assert not revoked.is_connected()
    assert kept.is_connected()
    still_serves(kept, bob.username)
    kept.disconnect()


def test_password_change_closes_the_other_sessions_sockets(
    app, trio, connect, client, login
):
    """Defect 7: revocation by a password change reaches open sockets too."""
    alice, bob, _ = trio
    other_token = login(alice.user)["access_token"]
    current = connect(alice)
    other = socketio.test_client(
        app, auth={"token": other_token}, flask_test_client=client
    )
    response = client.post(
        "/api/me/password",
        json={
            "current_password": "correct horse battery",
            "new_password": "n3w pass phrase",
        },
        headers=alice.headers,
    )
    assert response.status_code == 200, response.get_json()
    assert not other.is_connected()
    assert current.is_connected()
    still_serves(current, bob.username)


SURROGATE = "\ud800"


def surrogate_requests(
    alice: Any, bob: Any, post_id: int
) -> list[tuple[str, str, Any]]:
    return [
        ("POST", "/api/post", {"content": f"hi {SURROGATE}"}),
        ("POST", f"/api/comment/{post_id}", {"content": SURROGATE}),
        ("POST", f"/api/chat/messages/{bob.username}", {"message": SURROGATE}),
        (
            "POST",
            f"/api/chat/messages/{bob.username}",
            {"message": "ok", "client_id": SURROGATE},
        ),
        ("POST", "/api/login", {"username": SURROGATE, "password": "whatever1"}),
        ("POST", "/api/login", {"username": alice.username, "password": SURROGATE}),
        (
            "POST",
            "/api/register",
            {"username": "newby", "email": "n@example.com", "password": SURROGATE * 9},
        ),
        (
            "POST",
            f"/api/admin/users/{bob.username}/mute",
            {"minutes": 5, "reason": SURROGATE},
        ),
        ("POST", f"/api/admin/users/{bob.username}/block", {"reason": SURROGATE}),
    ]


def test_lone_surrogates_are_a_validation_error_everywhere(
    app, trio, member, client, connect, caplog
):
    """Defect 5: lone UTF-16 surrogates gave 500 with a traceback."""
    app.config["TESTING"] = False
    alice, bob, _ = trio
    boss = member("boss", is_admin=True)
    post = client.post("/api/post", json={"content": "a post"}, headers=alice.headers)
    post_id = post.get_json()["id"]
    caplog.set_level(logging.INFO)
    for method, path, body in surrogate_requests(alice, bob, post_id):
        headers = boss.headers if "/admin/" in path else alice.headers
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 422, (
            path,
            body,
            response.get_data(as_text=True),
        )
        assert response.get_json()["error"] == "validation_error"
    sio = connect(alice)
    for payload in (
        {"receiver": bob.username, "message": SURROGATE},
        {"receiver": SURROGATE, "message": "hi"},
        {"receiver": bob.username, "message": "hi", "client_id": SURROGATE},
    ):
        ack = sio.emit("send_message", payload, callback=True)
        assert ack["error"] == "validation_error", (payload, ack)
    for event, payload in (
        ("mark_as_read", {"message_ids": [SURROGATE]}),
        ("typing", {"receiver": SURROGATE, "is_typing": True}),
    ):
        ack = sio.emit(event, payload, callback=True)
        assert ack["error"] == "validation_error", (event, ack)
    with app.app_context():
        assert db.session.query(Message).count() == 0
    assert_no_traceback(caplog)


@pytest.mark.parametrize(
    "path", ["/api/login", "/api/register", "/admin/login", "/api/post"]
)
def test_deeply_nested_json_is_a_bad_request_logged_once(
    path, app, trio, client, caplog
):
    """Defect 6: deep JSON gave 500 (unauthenticated on the login doors) and four
    tracebacks per request."""
    app.config["TESTING"] = False
    caplog.set_level(logging.INFO)
    response = client.post(
        path,
        data=deep(),
        content_type="application/json",
        headers=trio[0].headers if path == "/api/post" else {},
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "bad_request"
    assert_no_traceback(caplog)
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 1


def test_deeply_nested_json_on_the_socket_gets_an_error_ack(app, trio, connect, caplog):
    alice, bob, _ = trio
    sio = connect(alice)
    caplog.set_level(logging.INFO)
    ack = send_frame(sio, '29["send_message",' + deep() + "]")
    assert ack["ok"] is False and ack["error"] == "bad_request", ack
    ack = send_frame(
        sio, event_frame(10, "send_message", {"receiver": bob.username, "message": []})
    )
    assert ack["error"] == "validation_error"
    assert_no_traceback(caplog)

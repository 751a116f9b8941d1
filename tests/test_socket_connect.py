"""Socket.IO connect: identity comes only from the access token (API.md §5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_jwt_extended import create_access_token, decode_token
from flask_socketio import ConnectionRefusedError
from sqlalchemy import delete, select, update

from cyberscan.extensions import db
from cyberscan.live import context
from cyberscan.live.context import SocketEvent
from cyberscan.models import Message, User
from cyberscan.realtime.auth import authenticate
from cyberscan.services import auth
from tests.fixtures_realtime import events
from tests.helpers import recorded_statements, verbs
from tests.people import send


def test_connect_with_auth_token_gets_online_users(client, trio, connect):
    alice, bob, _ = trio
    client.post("/api/chat/messages/bob", json={"message": "hi"}, headers=alice.headers)
    connect(bob)
    sio = connect(alice)
    assert events(sio, "online_users") == [["alice", "bob"]]


def test_connect_with_token_query_parameter(trio, socket_client):
    alice = trio[0]
    sio = socket_client(None, query_string=f"token={alice.token}")
    assert sio.is_connected()
    assert events(sio, "online_users") == [["alice"]]


def test_connect_with_bearer_header(trio, socket_client):
    alice = trio[0]
    sio = socket_client(None, headers={"Authorization": f"Bearer {alice.token}"})
    assert sio.is_connected()


def test_connect_with_dashboard_cookie_from_same_origin(trio, client, socket_client):
    alice = trio[0]
    client.set_cookie("access_token_cookie", alice.token)
    sio = socket_client(None, headers={"Origin": "http://localhost"})
    assert sio.is_connected()


def test_cookie_from_another_origin_is_refused(trio, client, socket_client):
    alice = trio[0]
    client.set_cookie("access_token_cookie", alice.token)
    sio = socket_client(None, headers={"Origin": "https://evil.example"})
    assert not sio.is_connected()


@pytest.mark.parametrize(
    "auth",
    [None, {}, {"token": ""}, {"token": None}, {"token": 123}, {"token": "garbage"}],
)
def test_missing_or_malformed_token_is_refused(trio, raw_socket, auth):
    assert not raw_socket(auth).is_connected()


def test_username_field_without_token_is_refused(trio, raw_socket):
    sio = raw_socket({"username": "alice"}, query_string="username=alice")
    assert not sio.is_connected()


def test_refresh_token_is_refused(trio, login, make_user, socket_client):
    user = make_user("dave")
    sio = socket_client(login(user)["refresh_token"])
    assert not sio.is_connected()


def test_expired_token_is_refused(app, trio, socket_client):
    alice = trio[0]
    with app.app_context():
        token = create_access_token(
            identity=str(alice.id), expires_delta=timedelta(seconds=-60)
        )
    assert not socket_client(token).is_connected()


def test_revoked_token_is_refused(trio, client, socket_client):
    alice = trio[0]
    response = client.post("/api/logout", headers=alice.headers)
    assert response.status_code == 200
    assert not socket_client(alice.token).is_connected()


def test_blocked_account_is_refused(app, trio, socket_client):
    alice = trio[0]
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == alice.id).values(is_blocked=True)
        )
        db.session.commit()
    assert not socket_client(alice.token).is_connected()


@pytest.mark.parametrize(
    ("auth", "code"),
    [
        (None, "unauthorized"),
        ({"token": "x.y.z"}, "unauthorized"),
        ("blocked", "blocked"),
    ],
)
def test_refusal_data_is_error_and_message(app, trio, auth, code):
    alice = trio[0]
    if auth == "blocked":
        with app.app_context():
            db.session.execute(
                update(User).where(User.id == alice.id).values(is_blocked=True)
            )
            db.session.commit()
        auth = {"token": alice.token}
    with app.test_request_context("/socket.io/") as request_context:
        connecting = SocketEvent(
            "sid", "/", "connect", (request_context.request.environ, auth), {}
        )
        with (
            context.running(connecting),
            pytest.raises(ConnectionRefusedError) as refused,
        ):
            authenticate(auth)
    data = refused.value.error_args["data"]
    assert data["error"] == code
    assert isinstance(data["message"], str) and data["message"]
    # A block also says why (a block made without a reason says it is blocked).
    expected = (
        {"error", "message", "reason"} if code == "blocked" else {"error", "message"}
    )
    assert set(data) == expected
    if code == "blocked":
        assert data["reason"] == "This account is blocked."


def test_username_in_auth_or_query_does_not_change_identity(
    app, trio, raw_socket, socket_client
):
    """The old exploit: naming another user next to one's own token."""
    alice, bob, carol = trio
    spoof = raw_socket(
        {"token": alice.token, "username": "bob", "sender": "bob"},
        query_string="username=bob&sender=bob",
    )
    assert spoof.is_connected()
    receiver = socket_client(carol.token)
    events(receiver)
    ack = spoof.emit(
        "send_message", {"receiver": "carol", "message": "who am I"}, callback=True
    )
    assert ack["ok"] is True
    (received,) = events(receiver, "receive_message")
    assert received["sender"] == "alice"
    with app.app_context():
        stored = db.session.scalars(select(Message)).one()
        assert stored.sender_id == alice.id


def test_spoofed_sender_field_is_refused_and_nothing_stored(app, trio, connect):
    alice, bob, _ = trio
    sio = connect(alice)
    listener = connect(bob)
    events(sio), events(listener)
    ack = sio.emit(
        "send_message",
        {"sender": "bob", "receiver": "bob", "message": "hi"},
        callback=True,
    )
    assert ack["ok"] is False and ack["error"] == "forbidden"
    assert events(sio, "error")[0]["error"] == "forbidden"
    assert events(listener, "receive_message") == []
    assert sio.is_connected()
    with app.app_context():
        assert db.session.scalar(select(Message)) is None


def test_matching_sender_field_is_accepted(trio, connect):
    alice, bob, _ = trio
    sio = connect(alice)
    ack = sio.emit(
        "send_message",
        {"sender": "ALICE", "receiver": "bob", "message": "hi"},
        callback=True,
    )
    assert ack["ok"] is True


def test_block_holds_on_next_event_even_without_a_kick(app, trio, connect):
    alice, bob, _ = trio
    sio = connect(alice)
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == alice.id)
            .values(is_blocked=True, blocked_reason="threats")
        )
        db.session.commit()
    ack = sio.emit("send_message", {"receiver": "bob", "message": "hi"}, callback=True)
    assert ack["ok"] is False and ack["error"] == "blocked"
    ack = sio.emit("typing", {"receiver": "bob", "is_typing": True}, callback=True)
    assert ack["ok"] is False and ack["error"] == "blocked"
    assert ack["reason"] == "threats"


def test_token_whose_refresh_token_was_revoked_is_refused(app, trio, socket_client):
    """Revoking a login session (the refresh token) stops its access tokens."""
    alice = trio[0]
    with app.app_context():
        claims = decode_token(alice.token)
        refresh_claims = {
            "jti": claims[auth.REFRESH_CLAIM],
            "type": "refresh",
            "sub": claims["sub"],
            "exp": claims["exp"],
        }
        auth.revoke(refresh_claims)
    assert not socket_client(alice.token).is_connected()
    assert socket_client(trio[1].token).is_connected()


def test_token_of_a_deleted_account_is_refused(app, trio, socket_client):
    carol = trio[2]
    with app.app_context():
        db.session.execute(delete(User).where(User.id == carol.id))
        db.session.commit()
    assert not socket_client(carol.token).is_connected()


def test_a_connect_costs_one_query(app, client, trio, connect):
    """The token's user with its revocation check and the contacts with their names,
    in one statement; the connection goes back to the pool before presence and the
    events."""
    alice, bob, _ = trio
    send(client, bob, "alice", "hi")
    connect(bob)
    with recorded_statements(app) as statements:
        sio = connect(alice)
    assert events(sio, "online_users") == [["alice", "bob"]]
    assert len(statements) == 1, statements


def test_a_last_disconnect_costs_one_query(app, client, trio, connect):
    """`user_left` needs the user's name and contacts: one statement; the contact
    online hears it, the contact offline and the stranger do not."""
    alice, bob, carol = trio
    send(client, bob, "alice", "hi")
    send(client, carol, "bob", "hi")
    watcher = connect(bob)
    stranger = connect(carol)  # carol and alice are not contacts
    sio = connect(alice)
    events(watcher)
    events(stranger)
    with recorded_statements(app) as statements:
        sio.disconnect()
        assert events(watcher, "user_left") == ["alice"]
    assert events(stranger, "user_left") == []
    assert verbs(statements).count("SELECT") == 1


def test_the_handshake_is_readable_inside_connect_only(app):
    with app.test_request_context("/socket.io/?token=abc") as request_context:
        environ = request_context.request.environ
    with app.app_context():
        connecting = SocketEvent("sid", "/", "connect", (environ, None), {})
        with context.running(connecting):
            assert context.handshake().args["token"] == "abc"
        later = SocketEvent("sid", "/", "send_message", ({},), {})
        with context.running(later), pytest.raises(RuntimeError):
            context.handshake()

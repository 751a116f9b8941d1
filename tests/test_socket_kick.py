"""Blocks and kicks close every connection of the user (notify.account_blocked / kick)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from cyberscan.extensions import db
from cyberscan.live import notify, presence
from cyberscan.models import Message, User, utcnow
from cyberscan.realtime import events as events_module
from tests.fixtures_realtime import drain, events, eventually
from tests.helpers import PASSWORD, FixedScoreDetector


def test_account_blocked_reaches_every_tab_then_closes_them(app, client, trio, connect):
    alice, bob, carol = trio
    # Presence is private (§9): alice hears of bob because they are contacts.
    client.post("/api/chat/messages/bob", json={"message": "hi"}, headers=alice.headers)
    tab1, tab2 = connect(bob), connect(bob)
    watcher = connect(alice)
    events(watcher)
    with app.app_context():
        notify.account_blocked(bob.id, "Abusive messages.")
    for tab in (tab1, tab2):
        assert not tab.is_connected()
        received = [item["name"] for item in drain(tab)]
        assert received[-1] == "account_blocked"
    assert watcher.is_connected()
    assert events(watcher, "user_left") == ["bob"]
    with app.app_context():
        assert presence.online_user_ids() == {alice.id}


def test_account_blocked_payload_is_the_reason(app, trio, connect):
    bob = trio[1]
    tab = connect(bob)
    drain(tab)
    with app.app_context():
        notify.account_blocked(bob.id, "Abusive messages.")
    assert [(e["name"], e["args"]) for e in drain(tab)] == [
        ("account_blocked", [{"reason": "Abusive messages."}])
    ]


def test_kick_sends_kicked_and_closes(app, trio, connect):
    alice, bob, _ = trio
    tab = connect(bob)
    other = connect(alice)
    drain(tab)
    with app.app_context():
        assert notify.kicked(bob.id, "Please reconnect.") == 1
    assert not tab.is_connected()
    assert [(e["name"], e["args"]) for e in drain(tab)] == [
        ("kicked", [{"reason": "Please reconnect."}])
    ]
    assert other.is_connected()


def test_kick_of_offline_user_is_harmless(app, trio):
    with app.app_context():
        assert notify.kicked(trio[0].id, "nobody home") == 0


def test_muted_notice(app, trio, connect):
    bob = trio[1]
    tab = connect(bob)
    drain(tab)
    until = utcnow() + timedelta(minutes=5)
    with app.app_context():
        notify.muted(bob.id, until)
        notify.muted(bob.id, None)
    notices = events(tab, "muted")
    assert notices[0]["muted_until"].endswith("Z")
    assert notices[1]["muted_until"] is None


def test_reaching_the_strike_limit_blocks_and_disconnects(app, trio, connect):
    app.config["MAX_BULLYING_COUNT"] = 2
    app.extensions["detector"] = FixedScoreDetector(0.97)
    alice, bob, _ = trio
    sender, other_tab = connect(alice), connect(alice)
    receiver = connect(bob)
    ack = sender.emit(
        "send_message", {"receiver": "bob", "message": "x"}, callback=True
    )
    assert ack["ok"] and ack["data"]["is_bullying"] is True
    warning = events(sender, "moderation_warning")
    assert warning[0]["remaining"] == 1
    ack = sender.emit(
        "send_message", {"receiver": "bob", "message": "y"}, callback=True
    )
    # Stored, so acknowledged: the sending connection is closed only after its ack.
    assert ack["ok"] is True
    assert not other_tab.is_connected()
    assert eventually(lambda: not sender.is_connected())
    assert "account_blocked" in [e["name"] for e in drain(sender)]
    assert len(events(receiver, "receive_message")) == 2
    with app.app_context():
        assert db.session.get(User, alice.id).is_blocked
        assert len(db.session.scalars(select(Message)).all()) == 2
        assert presence.online_user_ids() == {bob.id}


# A connect checks its token, then joins the rooms a logout or a block closes: a close
# decided in between (or while the connect handler still runs, when python-socketio
# ignores a disconnect) must still end the connection. Each case runs the real connect
# handler and ends the session through the real endpoint at one step of it.
END_SESSION = {
    "logout": lambda client, who, admin_headers: client.post(
        "/api/logout", headers=who.headers
    ),
    "block": lambda client, who, admin_headers: client.post(
        f"/api/admin/users/{who.username}/block", json={}, headers=admin_headers
    ),
}
# After the token check, before the rooms; after the rooms, inside the handler.
CONNECT_STEPS = ["authenticate", "check_connection_cap"]


def elsewhere(request, *args, **kwargs):
    """Run a request on another thread, as another client's would be (not inside the
    connect handler's context), and wait for its answer."""
    answers = []
    thread = threading.Thread(target=lambda: answers.append(request(*args, **kwargs)))
    thread.start()
    thread.join()
    return answers[0]


@pytest.mark.parametrize("step", CONNECT_STEPS)
@pytest.mark.parametrize("ending", sorted(END_SESSION))
def test_a_session_ended_while_its_socket_connects_closes_it(
    app, client, trio, connect, socket_client, admin_headers, monkeypatch, step, ending
):
    alice, bob, _ = trio
    client.post("/api/chat/messages/bob", json={"message": "hi"}, headers=alice.headers)
    watcher = connect(bob)
    real = getattr(events_module, step)

    def then_end_the_session(*args, **kwargs):
        answer = real(*args, **kwargs)
        response = elsewhere(END_SESSION[ending], client, alice, admin_headers)
        assert response.status_code == 200, response.get_json()
        return answer

    monkeypatch.setattr(events_module, step, then_end_the_session)
    sio = socket_client(alice.token)
    monkeypatch.undo()
    assert eventually(lambda: not sio.is_connected())
    sent = client.post(
        "/api/chat/messages/alice",
        json={"message": "still there?"},
        headers=bob.headers,
    )
    assert sent.status_code == 201
    assert "receive_message" not in [e["name"] for e in drain(sio)]
    with app.app_context():
        assert eventually(lambda: presence.online_user_ids() == {bob.id})
    assert watcher.is_connected()


def test_a_password_change_while_connecting_keeps_its_own_session(
    app, client, trio, socket_client, monkeypatch
):
    """Changing the password closes the user's other sessions, not the one that
    changed it: a socket of that session opening meanwhile stays."""
    alice = trio[0]
    real = events_module.authenticate

    def then_change_the_password(*args, **kwargs):
        answer = real(*args, **kwargs)
        response = elsewhere(
            client.post,
            "/api/me/password",
            json={"current_password": PASSWORD, "new_password": PASSWORD + "-new"},
            headers=alice.headers,
        )
        assert response.status_code == 200, response.get_json()
        return answer

    monkeypatch.setattr(events_module, "authenticate", then_change_the_password)
    sio = socket_client(alice.token)
    monkeypatch.undo()
    assert sio.is_connected()

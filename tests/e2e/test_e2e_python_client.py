"""python-socketio's client against a live server: catch-up, refusals, kicks."""

from __future__ import annotations

import time

import pytest
import socketio
import websocket

from tests.e2e.pyclient import PyClient, block_closes_tabs

pytestmark = pytest.mark.e2e


def test_offline_receiver_catches_up_from_history(single, clients):
    alice, bob = single.account("a"), single.account("b")
    url = single.first.url
    sender = clients(url, alice.token)
    receiver = clients(url, bob.token)
    first = sender.call("send_message", {"receiver": bob.username, "message": "one"})
    assert first["ok"] and first["data"]["status"] == "delivered"
    seen = receiver.wait("receive_message")
    assert seen["id"] == first["data"]["id"]
    receiver.close()
    sender.wait("user_left", lambda name: name == bob.username)

    missed = [
        sender.call("send_message", {"receiver": bob.username, "message": text})
        for text in ("two", "three")
    ]
    assert [ack["data"]["status"] for ack in missed] == ["saved", "saved"]

    back = clients(url, bob.token)
    assert bob.username in back.wait("online_users")
    caught_up = single.first.get(
        f"/api/chat/messages/{alice.username}?after={seen['id']}", bob.token
    )
    assert [m["message"] for m in caught_up["items"]] == ["two", "three"]
    assert [m["id"] for m in caught_up["items"]] == [a["data"]["id"] for a in missed]
    (conversation,) = single.first.get("/api/chat/conversations", bob.token)
    assert conversation["username"] == alice.username
    assert conversation["unread_count"] == 3
    assert conversation["online"] is True
    assert back.named("receive_message") == []


def test_spoofed_sender_and_bad_payloads_over_python_client(single, clients):
    alice, bob = single.account("a"), single.account("b")
    sender = clients(single.first.url, alice.token, transports=("websocket",))
    ack = sender.call(
        "send_message",
        {"sender": bob.username, "receiver": bob.username, "message": "x"},
    )
    assert ack["ok"] is False and ack["error"] == "forbidden"
    for payload in (None, [], "x", 1, {"receiver": bob.username}):
        assert sender.call("send_message", payload)["error"] == "validation_error"
    assert sender.sio.connected
    assert len(sender.named("error")) == 6
    history = single.first.get(f"/api/chat/messages/{bob.username}", alice.token)
    assert history["items"] == []


def test_bad_token_is_refused(single):
    # websocket: after a refusal over polling, python-engineio's client waits for its
    # pending long-poll (~25 s under gevent) before connect() raises.
    client = PyClient(single.first.url, "not-a-token", transports=("websocket",))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect()
    assert not client.sio.connected


def test_admin_block_closes_every_connection_of_the_user(single, clients):
    admin, bob, carol = (
        single.account("adm", admin=True),
        single.account("b"),
        single.account("c"),
    )
    url = single.first.url
    # Presence is private (API.md §9): carol hears of bob because they are contacts.
    status, _ = single.first.request(
        "POST", f"/api/chat/messages/{bob.username}", {"message": "hi"}, carol.token
    )
    assert status == 201
    tabs = [clients(url, bob.token), clients(url, bob.token, transports=("websocket",))]
    watcher = clients(url, carol.token)
    block_closes_tabs(single.first, admin.token, bob.username, "e2e", tabs)
    watcher.wait("user_left", lambda name: name == bob.username)
    assert watcher.sio.connected
    refused = PyClient(url, bob.token, transports=("websocket",))
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect()


def test_a_typing_flood_at_a_stranger_stops_at_the_connection(limited, clients):
    flooder, stranger = limited.account("f"), limited.account("s")
    url = limited.first.url
    sender = clients(url, flooder.token, transports=("websocket",))
    victim = clients(url, stranger.token, transports=("websocket",))
    typing = {"receiver": stranger.username, "is_typing": True}
    acks = [sender.call("typing", typing) for _ in range(8)]
    assert [ack["ok"] for ack in acks] == [True] * 5 + [False] * 3
    assert {ack["error"] for ack in acks[5:]} == {"rate_limited"}
    assert all(ack["retry_after"] >= 1 for ack in acks[5:])
    assert sender.call("no_such_event", {})["error"] == "rate_limited"
    assert sender.sio.connected
    # Another connection has a budget of its own; its event reaches the victim after
    # every earlier one did.
    other = clients(url, flooder.token, transports=("websocket",))
    done = {"receiver": stranger.username, "is_typing": False}
    assert other.call("typing", done)["ok"] is True
    victim.wait("user_typing", lambda event: event["is_typing"] is False)
    shown = [event for event in victim.named("user_typing") if event["is_typing"]]
    assert len(shown) == 5


def test_a_transport_that_never_connects_is_closed(limited, clients):
    """Without a Socket.IO connect (no token ever shown), an Engine.IO connection that
    answers every ping held its place for ever: enough of them, opened by anyone,
    would fill the server's connection cap."""
    alice = limited.account("a")
    person = clients(limited.first.url, alice.token, transports=("websocket",))
    address = limited.first.url.replace("http://", "ws://")
    idle = websocket.create_connection(
        f"{address}/socket.io/?EIO=4&transport=websocket", timeout=5
    )
    give_up = time.monotonic() + 60  # pings come every 25 s: two of them answered
    closed = False
    try:
        assert idle.recv().startswith("0{")  # the Engine.IO open packet
        while not closed and time.monotonic() < give_up:
            try:
                frame = idle.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except websocket.WebSocketConnectionClosedException:
                closed = True
                break
            if frame == "2":
                idle.send("3")  # a live peer, only never connecting
            closed = frame in ("", "1") or not idle.connected
    finally:
        idle.close()
    assert closed
    # A person who did connect is not touched.
    assert person.sio.connected
    ack = person.call("no_such_event", {})
    assert ack["error"] == "not_found"

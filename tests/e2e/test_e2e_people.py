"""Private presence across two server processes sharing Redis (API.md §9)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.e2e


def say(server, sender, receiver, text="hi"):
    status, body = server.request(
        "POST",
        f"/api/chat/messages/{receiver.username}",
        {"message": text},
        sender.token,
    )
    assert status == 201, body


def test_presence_reaches_contacts_on_the_other_process_only(pair, clients):
    alice, bob, carol = pair.account("a"), pair.account("b"), pair.account("c")
    one, two = pair.servers
    say(one, alice, bob)
    alice_socket = clients(one.url, alice.token)
    carol_socket = clients(one.url, carol.token)
    bob_socket = clients(two.url, bob.token)
    assert set(bob_socket.wait("online_users")) == {alice.username, bob.username}
    assert alice_socket.wait("user_joined") == bob.username
    for server in pair.servers:
        assert server.get("/api/chat/online-users", alice.token) == [
            {"username": bob.username, "online": True}
        ]
        assert server.get("/api/chat/online-users", carol.token) == []
    # A block on process one hides each from the other on process two.
    status, _ = one.request("PUT", f"/api/me/blocks/{bob.username}", token=alice.token)
    assert status == 200
    assert bob_socket.wait("user_left") == alice.username
    assert alice_socket.wait("user_left") == bob.username
    bob_socket.close()
    time.sleep(0.5)  # nothing more may arrive: the close is not news to anyone
    assert alice_socket.named("user_left") == [bob.username]
    assert carol_socket.named("user_joined") == carol_socket.named("user_left") == []


def test_typing_from_a_muted_person_on_another_process_does_not_arrive(pair, clients):
    """The mute is checked where the typing arrives, before anything is published, so
    no process relays it; the read receipt after it is the sentinel (both travel the
    same queue from process two, in order)."""
    alice, bob = pair.account("a"), pair.account("b")
    one, two = pair.servers
    status, sent = one.request(
        "POST", f"/api/chat/messages/{bob.username}", {"message": "hi"}, alice.token
    )
    assert status == 201, sent
    alice_socket = clients(one.url, alice.token)
    bob_socket = clients(two.url, bob.token)
    typing = {"receiver": alice.username, "is_typing": True}
    assert bob_socket.call("typing", typing)["ok"] is True
    assert alice_socket.wait("user_typing") == {
        "sender": bob.username,
        "is_typing": True,
    }
    status, _ = one.request("PUT", f"/api/me/mutes/{bob.username}", token=alice.token)
    assert status == 200
    assert bob_socket.call("typing", typing)["ok"] is True
    read = bob_socket.call("mark_as_read", {"message_ids": [sent["id"]]})
    assert read["ok"] is True
    assert alice_socket.wait("messages_read")["message_ids"] == [sent["id"]]
    assert len(alice_socket.named("user_typing")) == 1

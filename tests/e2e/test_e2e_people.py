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

"""A person's own devices learn at once of a block, unblock, mute or unmute (API.md §9).

`block_changed` {username, blocked} and `mute_changed` {username, muted} go to every
connection of the person who acted, mirroring the REST answer, and to nobody else: the
blocked or muted person learns nothing. Every successful PUT or DELETE announces the
state it leaves, even one that changed nothing.
"""

from __future__ import annotations

import pytest

from tests.e2e.pyclient import PyClient
from tests.fixtures_realtime import events
from tests.helpers import assert_error
from tests.people import send
from tests.test_admin_live_processes import two_processes  # noqa: F401  (a fixture)

OWN_EVENTS = ("block_changed", "mute_changed")

CONTROLS = [
    ("/api/me/blocks", "block_changed"),
    ("/api/me/mutes", "mute_changed"),
]


def change(client, who, path, name, method):
    """PUT or DELETE a block or mute; the REST answer."""
    response = client.open(f"{path}/{name}", method=method, headers=who.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def told(sio):
    """The own-control events a connection received since last drained, in order."""
    return [
        (item["name"], item["args"][0])
        for item in events(sio)
        if item["name"] in OWN_EVENTS
    ]


@pytest.mark.parametrize(("path", "event"), CONTROLS)
def test_every_device_of_the_person_who_acts_is_told_and_nobody_else(
    client, trio, connect, path, event
):
    alice, bob, carol = trio
    send(client, bob, "alice", "hi")  # contacts: a block also hides their presence
    phone, laptop = connect(alice), connect(alice)
    bob_sio, carol_sio = connect(bob), connect(carol)
    for sio in (phone, laptop, bob_sio, carol_sio):
        events(sio)

    for method in ("PUT", "DELETE"):
        # Any case in the path: the event names the person as the answer does.
        answer = change(client, alice, path, "BOB", method)
        assert answer["username"] == "bob"
        for sio in (phone, laptop):
            assert told(sio) == [(event, answer)]
        assert told(bob_sio) == [] and told(carol_sio) == []


@pytest.mark.parametrize(("path", "event"), CONTROLS)
def test_a_repeated_request_is_announced_again(client, trio, connect, path, event):
    alice, bob, _ = trio
    phone = connect(alice)
    for method in ("PUT", "PUT", "DELETE", "DELETE"):
        answer = change(client, alice, path, "bob", method)
        assert told(phone) == [(event, answer)]


@pytest.mark.parametrize(("path", "event"), CONTROLS)
def test_a_refused_request_announces_nothing(client, trio, connect, path, event):
    alice = trio[0]
    phone = connect(alice)
    events(phone)
    assert_error(client.put(f"{path}/nobody", headers=alice.headers), 404, "not_found")
    assert_error(
        client.delete(f"{path}/nobody", headers=alice.headers), 404, "not_found"
    )
    assert_error(
        client.put(f"{path}/alice", headers=alice.headers), 422, "validation_error"
    )
    assert told(phone) == []


# -- across processes ------------------------------------------------------------------


def owned(sock: PyClient) -> list[tuple[str, object]]:
    return [(name, arg) for name, arg in sock.log if name in OWN_EVENTS]


@pytest.mark.e2e
def test_a_device_on_another_process_is_told_and_the_other_person_is_not(
    two_processes,  # noqa: F811  (the fixture imported above)
    clients,
):
    """Alice acts over REST on process A; her phone is on process B, with Bob's only
    connection. Emits travel the Redis queue in order, so once Bob has a message Alice
    sent after her changes, anything addressed to him before it has arrived too."""
    a, b = two_processes
    alice, bob = "sync_alice", "sync_bob"
    tokens = {name: a.register(name) for name in (alice, bob)}
    phone = clients(b.url, tokens[alice])
    laptop = clients(a.url, tokens[alice])
    bob_b = clients(b.url, tokens[bob])

    expected = []
    for (path, event), key in zip(CONTROLS, ("blocked", "muted"), strict=True):
        for method in ("PUT", "DELETE"):
            status, answer = a.request(method, f"{path}/{bob}", token=tokens[alice])
            assert status == 200, answer
            assert answer == {"username": bob, key: method == "PUT"}
            expected.append((event, answer))
    for sock in (phone, laptop):
        sock.wait(expected[-1][0], lambda arg: arg == expected[-1][1])
        assert owned(sock) == expected

    status, answer = a.request(
        "POST", f"/api/chat/messages/{bob}", {"message": "still here"}, tokens[alice]
    )
    assert status == 201, answer
    bob_b.wait("receive_message", lambda m: m["message"] == "still here")
    assert owned(bob_b) == []

"""Private presence (API.md §5, §9): online_users, user_joined, user_left and
/api/chat/online-users concern only contacts, and a connect costs events in proportion
to the user's contacts, not to everyone connected."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis

from cyberscan.extensions import socketio
from cyberscan.live.presence import MemoryPresence, RedisPresence
from tests.fixtures_realtime import events
from tests.helpers import FixedScoreDetector
from tests.people import get, report_message, send


def test_only_contacts_learn_who_comes_and_goes(client, trio, connect):
    alice, bob, carol = trio
    send(client, alice, "bob", "hi")
    bob_sio, carol_sio = connect(bob), connect(carol)
    assert events(bob_sio, "online_users") == [["bob"]]
    assert events(carol_sio, "online_users") == [["carol"]]
    first = connect(alice)
    assert events(first, "online_users") == [["alice", "bob"]]
    second = connect(alice)
    assert events(bob_sio, "user_joined") == ["alice"]
    assert events(carol_sio) == []  # carol exchanged nothing with alice
    first.disconnect()
    assert events(bob_sio, "user_left") == []
    second.disconnect()
    assert events(bob_sio, "user_left") == ["alice"]
    assert events(carol_sio) == []


def test_online_users_endpoint_lists_contacts_only(client, trio, connect):
    alice, bob, carol = trio
    send(client, bob, "alice", "hi")
    connect(carol)
    assert get(client, alice, "/api/chat/online-users") == [
        {"username": "bob", "online": False}
    ]
    connect(bob)
    assert get(client, alice, "/api/chat/online-users") == [
        {"username": "bob", "online": True}
    ]
    assert get(client, carol, "/api/chat/online-users") == []


def test_blocking_hides_presence_both_ways_and_unblocking_shows_it(
    client, trio, connect
):
    alice, bob, _ = trio
    send(client, alice, "bob", "hi")
    a, b = connect(alice), connect(bob)
    events(a), events(b)
    client.put("/api/me/blocks/bob", headers=alice.headers)
    assert events(a, "user_left") == ["bob"]
    assert events(b, "user_left") == ["alice"]
    assert get(client, alice, "/api/chat/online-users") == []
    assert get(client, bob, "/api/chat/online-users") == []
    assert get(client, bob, "/api/chat/conversations")[0]["online"] is False
    late = connect(bob)
    assert events(late, "online_users") == [["bob"]]
    assert events(a) == []
    client.delete("/api/me/blocks/bob", headers=alice.headers)
    assert events(a, "user_joined") == ["bob"]
    assert events(b, "user_joined") == ["alice"]


def test_a_first_message_makes_two_online_strangers_see_each_other(
    client, trio, connect
):
    alice, bob, carol = trio
    a, b, c = connect(alice), connect(bob), connect(carol)
    events(a), events(b), events(c)
    ack = a.emit("send_message", {"receiver": "bob", "message": "hi"}, callback=True)
    assert ack["ok"] is True
    assert events(a, "user_joined") == ["bob"]
    assert events(b, "user_joined") == ["alice"]
    send(client, bob, "alice", "hello back")  # already contacts: nothing new
    assert events(a, "user_joined") == [] and events(b, "user_joined") == []
    assert events(c) == []
    b.disconnect()
    assert events(a, "user_left") == ["bob"]


def test_unsending_the_only_message_hides_presence_both_ways(client, trio, connect):
    alice, bob, _ = trio
    a, b = connect(alice), connect(bob)
    first = send(client, alice, "bob", "hi")
    second = send(client, alice, "bob", "there")
    events(a), events(b)
    client.delete(f"/api/chat/messages/{first['id']}", headers=alice.headers)
    assert events(a, "user_left") == [] and events(b, "user_left") == []
    client.delete(f"/api/chat/messages/{second['id']}", headers=alice.headers)
    assert events(a, "user_left") == ["bob"]
    assert events(b, "user_left") == ["alice"]
    assert get(client, alice, "/api/chat/online-users") == []
    send(client, bob, "alice", "hi again")  # contacts again
    assert events(a, "user_joined") == ["bob"]
    assert events(b, "user_joined") == ["alice"]


def review(client, admin_headers, path: str) -> None:
    response = client.post(path, json={"action": "remove"}, headers=admin_headers)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("app_settings", [{"FLAGGED_MESSAGE_POLICY": "deliver"}])
@pytest.mark.parametrize("first", ["flagged", "reports"])
def test_an_admin_removing_the_last_message_hides_presence_both_ways(
    app, client, trio, connect, admin_headers, first
):
    """A message an admin removed is withheld: the sender still sees it, but like a
    message withheld by policy it makes no contact (API.md §9), so presence follows
    what online-users and conversations answer, as after an unsend."""
    alice, bob, _ = trio
    a, b = connect(alice), connect(bob)
    app.extensions["detector"] = FixedScoreDetector(0.97)
    last = send(client, bob, "alice", "you loser")
    report = report_message(client, alice, last["id"], "mean")
    (flag,) = client.get("/api/admin/flagged", headers=admin_headers).get_json()[
        "items"
    ]
    assert flag["item_id"] == last["id"]
    paths = {
        "flagged": f"/api/admin/flagged/{flag['id']}/review",
        "reports": f"/api/admin/reports/{report['id']}/review",
    }
    events(a), events(b)

    review(client, admin_headers, paths.pop(first))

    assert events(a, "user_left") == ["bob"]
    assert events(b, "user_left") == ["alice"]
    assert get(client, alice, "/api/chat/online-users") == []
    assert get(client, bob, "/api/chat/online-users") == []
    assert get(client, alice, "/api/chat/conversations") == []
    conversation = get(client, bob, "/api/chat/conversations")
    assert [(c["username"], c["online"]) for c in conversation] == [("alice", False)]
    assert conversation[0]["last_message"]["id"] == last["id"]  # the sender sees it
    late = connect(alice)
    assert events(late, "online_users") == [["alice"]]
    # Removing it again (the other queue) changes nothing: it made no contact.
    review(client, admin_headers, paths.popitem()[1])
    assert events(a, "user_left") == [] and events(late, "user_left") == []
    assert events(b, "user_left") == []
    # A new message makes them contacts again, at once (no stale contact cache).
    app.extensions["detector"] = FixedScoreDetector(0.05)
    send(client, alice, "bob", "sorry?")
    assert events(a, "user_joined") == ["bob"]
    assert events(b, "user_joined") == ["alice"]


def test_an_admin_removing_one_of_several_messages_keeps_contacts(
    app, client, trio, connect, admin_headers
):
    alice, bob, _ = trio
    a, b = connect(alice), connect(bob)
    removed = send(client, bob, "alice", "hi")
    send(client, alice, "bob", "hello")
    report = report_message(client, alice, removed["id"], "spam")
    events(a), events(b)
    review(client, admin_headers, f"/api/admin/reports/{report['id']}/review")
    assert events(a, "user_left") == [] and events(b, "user_left") == []
    assert get(client, alice, "/api/chat/online-users") == [
        {"username": "bob", "online": True}
    ]


@pytest.mark.parametrize("app_settings", [{"FLAGGED_MESSAGE_POLICY": "deliver"}])
def test_a_flagged_but_delivered_first_message_makes_contacts(
    app, client, trio, connect
):
    alice, bob, _ = trio
    a, b = connect(alice), connect(bob)
    events(a), events(b)
    app.extensions["detector"] = FixedScoreDetector(0.97)
    send(client, alice, "bob", "rude")
    assert events(a, "user_joined") == ["bob"]
    assert events(b, "user_joined") == ["alice"]


@pytest.mark.parametrize("app_settings", [{"FLAGGED_MESSAGE_POLICY": "withhold"}])
def test_a_withheld_first_message_makes_no_contact(app, client, trio, connect):
    alice, bob, _ = trio
    a, b = connect(alice), connect(bob)
    events(a), events(b)
    app.extensions["detector"] = FixedScoreDetector(0.97)
    withheld = send(client, alice, "bob", "nasty")
    assert events(a, "user_joined") == [] and events(b, "user_joined") == []
    client.delete(f"/api/chat/messages/{withheld['id']}", headers=alice.headers)
    assert events(a, "user_left") == [] and events(b, "user_left") == []


def test_a_connect_costs_events_per_online_contact_not_per_connected_user(
    client, member, connect, monkeypatch
):
    hub = member("hub")
    contacts = [member(f"friend{n}") for n in range(3)]
    for friend in contacts:
        send(client, hub, friend.username, "hello")
    crowd = [connect(member(f"crowd{n}")) for n in range(30)]
    friends = [connect(friend) for friend in contacts[:2]]
    for sio in crowd + friends:
        events(sio)
    emitted: list[tuple[str, Any]] = []
    original = socketio.server.emit

    def counting(event: str, *args: Any, **kwargs: Any) -> Any:
        emitted.append((event, kwargs.get("to") or kwargs.get("room")))
        return original(event, *args, **kwargs)

    monkeypatch.setattr(socketio.server, "emit", counting)
    sio = connect(hub)
    # One `online_users` to the new connection, one `user_joined` per online contact.
    assert sorted(event for event, _ in emitted) == [
        "online_users",
        "user_joined",
        "user_joined",
    ]
    assert events(sio, "online_users") == [["friend0", "friend1", "hub"]]
    assert [events(f, "user_joined") for f in friends] == [["hub"], ["hub"]]
    assert all(events(c) == [] for c in crowd)
    emitted.clear()
    sio.disconnect()
    assert sorted(event for event, _ in emitted) == ["user_left", "user_left"]


def test_online_users_pages_with_a_limit(client, member, connect):
    hub = member("hub")
    friends = [member(f"friend{n}") for n in range(3)]
    for friend in friends:
        send(client, friend, "hub", "hi")
    connect(friends[1])
    first = get(client, hub, "/api/chat/online-users?limit=2")
    rest = get(
        client, hub, f"/api/chat/online-users?limit=2&cursor={first['next_cursor']}"
    )
    assert first["items"] + rest["items"] == [
        {"username": "friend0", "online": False},
        {"username": "friend1", "online": True},
        {"username": "friend2", "online": False},
    ]
    assert rest["next_cursor"] is None
    for bad in ("?limit=0", "?limit=101", "?limit=x", "?limit=2&cursor=%%%"):
        response = client.get(f"/api/chat/online-users{bad}", headers=hub.headers)
        assert response.status_code == 422, (bad, response.get_json())


def test_online_users_cursor_alone_continues_the_pages(client, member):
    """A client that follows `next_cursor` with `?cursor=` alone, as other lists allow,
    gets the next page, not the whole list as a bare array again."""
    hub = member("hub")
    for n in range(3):
        send(client, member(f"friend{n}"), "hub", "hi")
    first = get(client, hub, "/api/chat/online-users?limit=2")
    rest = get(client, hub, f"/api/chat/online-users?cursor={first['next_cursor']}")
    assert rest == {
        "items": [{"username": "friend2", "online": False}],
        "next_cursor": None,
    }
    response = client.get("/api/chat/online-users?cursor=%%%", headers=hub.headers)
    assert response.status_code == 422, response.get_json()


def test_online_among_answers_for_the_given_users_only():
    url, prefix = "redis://127.0.0.1:6379/7", f"cyberscan:test:{uuid.uuid4().hex}"
    one, two = RedisPresence(url, prefix), RedisPresence(url, prefix)
    try:
        one.add(1, "a")
        two.add(2, "b")
        assert one.online_among([1, 2, 3]) == two.online_among({1, 2, 3}) == {1, 2}
        assert one.online_among([]) == set()
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
    memory = MemoryPresence()
    memory.add(5, "x")
    assert memory.online_among([5, 6]) == {5}

"""The client manager's room index (live/roomindex.py): a disconnect leaves every room
the connection was in, exactly as python-socketio's own scan of all rooms does."""

from __future__ import annotations

import random
from typing import Any

import socketio

from cyberscan.extensions import socketio as server_socketio
from cyberscan.live import connections, rooms
from tests.fixtures_realtime import events
from tests.helpers import recorded_statements, verbs

NS = "/"


def manager(kind: type) -> Any:
    """A real python-socketio server's manager (no connections: the test drives it)."""
    return socketio.Server(client_manager=kind(), async_mode="threading").manager


def state(made: Any, rename: dict[str, str]) -> dict[Any, dict[Any, Any]]:
    """The manager's rooms, its sids (and sid rooms) renamed: ids are random."""
    return {
        namespace: {
            rename.get(room, room): {rename[sid]: eio for sid, eio in members.items()}
            for room, members in by_room.items()
        }
        for namespace, by_room in made.rooms.items()
    }


def test_the_index_keeps_the_same_rooms_as_upstreams_scan():
    """The same random joins, leaves, room closes and disconnects on our manager and
    on python-socketio's stock one leave the same rooms, and each connection reports
    the same rooms, after every step."""
    ours, stock = manager(connections.ClosingManager), manager(socketio.Manager)
    draw = random.Random(7)
    live: list[str] = []
    same: dict[str, str] = {}  # our sid -> the stock manager's sid, same connection
    ours_as, stock_as = {}, {}
    for step in range(3000):
        action = draw.random()
        if action < 0.25 or not live:
            eio = f"e{step}"
            sid = ours.connect(eio, NS)
            same[sid] = stock.connect(eio, NS)
            ours_as[sid] = stock_as[same[sid]] = f"c{step}"
            live.append(sid)
        elif action < 0.6:
            sid, room = draw.choice(live), f"r{draw.randrange(40)}"
            ours.enter_room(sid, NS, room)
            stock.enter_room(same[sid], NS, room)
        elif action < 0.75:
            sid, room = draw.choice(live), f"r{draw.randrange(40)}"
            ours.leave_room(sid, NS, room)
            stock.leave_room(same[sid], NS, room)
        elif action < 0.8:
            room = f"r{draw.randrange(40)}"
            ours.close_room(room, NS)
            stock.close_room(room, NS)
        else:
            sid = live.pop(draw.randrange(len(live)))
            ours.pre_disconnect(sid, NS)
            stock.pre_disconnect(same[sid], NS)
            ours.disconnect(sid, NS)
            stock.disconnect(same[sid], NS)
            assert ours.get_rooms(sid, NS) == []
            assert (NS, sid) not in ours.joined
        assert state(ours, ours_as) == state(stock, stock_as)
        assert ours.pending_disconnect == stock.pending_disconnect == {}
        for sid in live:
            # The same rooms (upstream lists them in the rooms' creation order).
            assert sorted(ours_as.get(r, r) for r in ours.get_rooms(sid, NS)) == sorted(
                stock_as.get(r, r) for r in stock.get_rooms(same[sid], NS)
            )
    for sid in live:
        ours.disconnect(sid, NS)
    assert ours.rooms == {} and ours.joined == {}


def test_disconnect_forgets_the_connections_callbacks(app, trio, connect):
    sio = connect(trio[0])
    made = server_socketio.server.manager
    sid = next(iter(made.joined))[1]
    made._generate_ack_id(sid, lambda *args: None)
    assert sid in made.callbacks
    sio.disconnect()
    assert sid not in made.callbacks
    assert all(
        sid not in members
        for by_room in made.rooms.values()
        for members in by_room.values()
    )


def test_a_closed_connection_leaves_its_user_and_token_rooms(app, trio, connect):
    alice, bob, _ = trio
    first, second, other = connect(alice), connect(alice), connect(bob)
    made = server_socketio.server.manager
    user_room = rooms.user(alice.id)
    members = {sid for sid, _ in made.get_participants(NS, user_room)}
    assert len(members) == 2
    joined = {sid: made.get_rooms(sid, NS) for sid in members}
    first.disconnect()
    (left,) = members - {sid for sid, _ in made.get_participants(NS, user_room)}
    for room in joined[left]:
        assert left not in made.rooms[NS].get(room, {})
    assert made.get_rooms(left, NS) == []
    # The rooms the others are in still reach them.
    events(second), events(other)
    server_socketio.emit("ping_room", {"x": 1}, to=user_room)
    assert events(second, "ping_room") == [{"x": 1}]
    assert events(other, "ping_room") == []


def test_the_last_disconnect_announces_user_left_with_one_query(app, trio, connect):
    """The name comes from the connection (no users query); the contacts are read
    at the disconnect, so only current contacts hear of it."""
    alice, bob, carol = trio
    leaving, watcher, outsider = connect(alice), connect(bob), connect(carol)
    assert leaving.emit(
        "send_message", {"receiver": "bob", "message": "hi"}, callback=True
    )["ok"]
    events(watcher), events(outsider)
    with recorded_statements(app) as statements:
        leaving.disconnect()
    assert events(watcher, "user_left") == ["alice"]
    assert events(outsider) == []
    assert verbs(statements) == ["SELECT"]


def test_a_connection_being_disconnected_is_sent_nothing_more():
    """python-socketio sends a connection its DISCONNECT, runs the disconnect handler,
    then takes it out of its rooms: an emit meanwhile (a message to a user whose block
    is closing the socket) went to it after its DISCONNECT, and a socket.io client
    keeps such an event for its next connect. From the DISCONNECT on, it is in no
    room's participants, while it is still in its rooms for the handler to read."""
    ours = manager(connections.ClosingManager)
    leaving, staying = ours.connect("e1", NS), ours.connect("e2", NS)
    for sid in (leaving, staying):
        ours.enter_room(sid, NS, "user:7")
    ours.pre_disconnect(leaving, NS)
    for room in ("user:7", None, leaving):
        assert [sid for sid, _ in ours.get_participants(NS, room)] == (
            [] if room == leaving else [staying]
        ), room
    assert ours.get_rooms(leaving, NS) == [leaving, "user:7"]
    ours.disconnect(leaving, NS)
    assert [sid for sid, _ in ours.get_participants(NS, "user:7")] == [staying]
    assert ours.pending_disconnect == {}

"""A client manager mixin that knows which rooms each connection is in.

python-socketio (5.18) keeps only room -> connections. To disconnect one connection
`basic_disconnect` copies and scans every room of the namespace, and `get_rooms`
scans them all too: with N users online (a user room, a token room and a sid room
each) one disconnect costs O(N), and N disconnects at once (a process restart, a
network blip) O(N^2), measured at 3-5% of the process under churn. This index
(connection -> its rooms, in the order joined) is kept by the two primitives every
join and leave goes through (`basic_enter_room`, `basic_leave_room`, which
`basic_close_room` also uses), so a disconnect leaves exactly the rooms it was in.

The rest of `basic_disconnect` (acknowledgement callbacks, the pending connect and
disconnect lists) is upstream's, unchanged; tests/test_socket_rooms.py holds the
result equal to upstream's on the same manager state.
"""

from __future__ import annotations

from typing import Any

# (namespace, sid) -> {room: None}: a dict keeps the order the rooms were joined in.
Joined = dict[tuple[str, str], dict[Any, None]]


class RoomIndexMixin:
    """Reverse index sid -> rooms for python-socketio's `BaseManager` (see module doc)."""

    rooms: dict[str, dict[Any, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.joined: Joined = {}

    def basic_enter_room(
        self, sid: str, namespace: str, room: Any, eio_sid: str | None = None
    ) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        self.joined.setdefault((namespace, sid), {})[room] = None

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        key = (namespace, sid)
        joined = self.joined.get(key)
        if joined is not None:
            joined.pop(room, None)
            if not joined:
                del self.joined[key]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        if namespace not in self.rooms:
            return
        for room in list(self.joined.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        self.joined.pop((namespace, sid), None)
        if sid in self.callbacks:
            del self.callbacks[sid]
        for pending in (self.pending_connect, self.pending_disconnect):
            if namespace in pending and sid in pending[namespace]:
                pending[namespace].remove(sid)
                if len(pending[namespace]) == 0:
                    del pending[namespace]

    def get_rooms(self, sid: str, namespace: str) -> list[Any]:
        """The rooms a connection is in (not the namespace's `None` room)."""
        return [
            room for room in self.joined.get((namespace, sid), ()) if room is not None
        ]

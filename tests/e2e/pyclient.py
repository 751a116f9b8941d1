"""The python-socketio client, recording every event, for the end-to-end tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import socketio

from tests.live import LiveServer


class PyClient:
    """A real Socket.IO client (python-socketio) connected with an access token."""

    def __init__(
        self, url: str, token: str | None, transports: tuple[str, ...] = ("polling",)
    ) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.log: list[tuple[str, Any]] = []
        self.closed = threading.Event()
        self._changed = threading.Condition()
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self._disconnected)
        self.url, self.token, self.transports = url, token, list(transports)

    def connect(self) -> PyClient:
        self.sio.connect(
            self.url,
            auth={"token": self.token} if self.token is not None else None,
            transports=self.transports,
            wait_timeout=15,
        )
        return self

    def _record(self, event: str, *args: Any) -> None:
        with self._changed:
            self.log.append((event, args[0] if args else None))
            self._changed.notify_all()

    def _disconnected(self, *args: Any) -> None:
        self.closed.set()
        with self._changed:
            self._changed.notify_all()

    def wait(
        self,
        event: str,
        predicate: Callable[[Any], bool] = lambda _: True,
        timeout: float = 15,
    ) -> Any:
        """The first `event` matching `predicate`, received already or within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for name, arg in self.log:
                    if name == event and predicate(arg):
                        return arg
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no {event!r} within {timeout}s; got {self.log}"
                    )
                self._changed.wait(remaining)

    def named(self, event: str) -> list[Any]:
        with self._changed:
            return [arg for name, arg in self.log if name == event]

    def call(self, event: str, payload: Any, timeout: float = 15) -> Any:
        return self.sio.call(event, payload, timeout=timeout)

    def close(self) -> None:
        """Disconnect once the client's write loop is idle.

        python-engineio's polling write loop exits without sending the CLOSE packet
        when disconnect() lands while it is still posting an earlier packet; the server
        then only notices at the next ping timeout (~25 s). Waiting for the send queue
        to drain avoids that client race.
        """
        if not self.sio.connected:
            return
        queue = getattr(self.sio.eio, "queue", None)
        deadline = time.monotonic() + 5
        while (
            queue is not None and queue.unfinished_tasks and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        self.sio.disconnect()


def block_closes_tabs(
    server: LiveServer,
    admin_token: str,
    username: str,
    reason: str,
    tabs: Iterable[PyClient],
) -> None:
    """An admin blocks `username` over REST: each tab hears why, then is disconnected."""
    status, body = server.request(
        "POST",
        f"/api/admin/users/{username}/block",
        {"reason": reason},
        token=admin_token,
    )
    assert status == 200, body
    for tab in tabs:
        assert tab.wait("account_blocked")["reason"]
        assert tab.closed.wait(15)

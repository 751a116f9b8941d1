"""Closing connections by room on every process: the Socket.IO client managers.

Presence (Redis) can miss a connection (a restart of Redis, a race at connect), so a
block or a revocation does not look sids up there. It emits the `CLOSE` marker to a
room instead: the emit reaches every process through the message queue, in order
after the events before it (`account_blocked` first), and each process closes its own
connections in that room. Emits that carry a decision (blocks, kicks, closes) that
cannot be published while Redis is down are kept and published when it is back; a
`flask` command, which exits once it has published, keeps nothing and counts them
instead (`unpublished`), so that it can say so in one line.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import click
import socketio
from flask import Flask

from config import redis_queue_url
from cyberscan.live.context import current_sid
from cyberscan.live.roomindex import RoomIndexMixin

log = logging.getLogger(__name__)

CLOSE = "cyberscan.close"
# A key every process drops from what it remembers (`forget_local`): a change made on
# one process that another process's cached answer must not outlive. Emitted to a room
# of the same name, which no connection joins.
FORGET = "cyberscan.forget"
# Emits that must reach every process even if the queue is down when they are made.
DURABLE_EVENTS = frozenset({CLOSE, "account_blocked", "kicked"})
# The events that announce a close: the connection whose event led to it (the send
# that reached the block limit) gets them after that event's acknowledgement.
CLOSING_EVENTS = frozenset({"account_blocked", "kicked"})
ACK_GRACE_SECONDS = 0.05
# How long a close is remembered for the connects that were checking their token
# when it came, and how long a close waits for a connect handler to end: longer than
# any connect handler runs.
PENDING_CONNECT_SECONDS = 60.0
RETRY_SECONDS = 1.0
GIVE_UP_SECONDS = 60.0
# Seconds between a listener's attempts to subscribe again after Redis went away.
# python-socketio doubles its wait up to 60 s, and pub/sub keeps nothing for a process
# that has not subscribed again: what others published in the meantime (a message, a
# typing notice) never reached its connections, with Redis up and health "ok".
LISTEN_RETRY_SECONDS = 1.0


class ClosingMixin(RoomIndexMixin):
    """`emit(CLOSE, keep_room, to=room)` closes this process's connections in `room`;
    a disconnect leaves the rooms the connection is in without scanning them all.

    A connect checks its token, then joins its rooms: a close decided in between
    finds it in none of them. So the closes are numbered and remembered for a while:
    a connect takes `close_mark()` before its check and asks `closed_since()` once it
    is in its rooms. A close that comes later finds it in its rooms; python-socketio
    ignores a disconnect while the connect handler runs, so that one is made when the
    handler has ended.

    The connection whose event is being handled gets its acknowledgement first: a
    `CLOSING_EVENTS` emit and a close that reach it wait, in the order they were made,
    until its handler has returned (`_after_ack`); every other connection gets them at
    once."""

    server: Any
    # Emits a `flask` command could not publish (the message queue was down).
    unpublished = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (number, when, room, keep_room), oldest first.
        self._closes: collections.deque[tuple[int, float, str, str | None]] = (
            collections.deque()
        )
        self._close_count = 0
        self._closes_lock = threading.Lock()
        self._forgetters: list[Callable[[str], Any]] = []
        # (sid, namespace) -> what waits for its acknowledgement: (event, data), or
        # None for the close, in order.
        self._after: dict[tuple[str, str], list[tuple[str, Any] | None]] = {}
        self._after_lock = threading.Lock()

    def get_participants(self, namespace: str, room: Any) -> Iterator[tuple[str, str]]:
        """The room's connections, less those being disconnected. python-socketio sends
        a connection its DISCONNECT, runs the disconnect handler, and only then takes it
        out of its rooms: an event emitted meanwhile (a message to a user whose block is
        closing the socket) went out after the DISCONNECT, and a socket.io client keeps
        such an event for its next connect. Every emit and close reads the rooms here."""
        participants = super().get_participants(namespace, room)  # type: ignore[misc]
        leaving = self.pending_disconnect.get(namespace)
        if not leaving:
            return participants
        return ((sid, eio) for sid, eio in participants if sid not in leaving)

    def emit(
        self, event: Any, data: Any, namespace: Any, room: Any = None, **kwargs: Any
    ) -> Any:
        if event in CLOSING_EVENTS and not kwargs.get("ignore_queue"):
            self._hold_for_ack(event, data, namespace or "/", room, kwargs)
        return super().emit(event, data, namespace, room=room, **kwargs)

    def _hold_for_ack(
        self, event: str, data: Any, namespace: str, room: Any, kwargs: dict[str, Any]
    ) -> None:
        """When the room holds the connection whose event is being handled, that
        connection gets the event after its acknowledgement: kept here, and skipped
        in `kwargs` (the emit, on every process, is for the others)."""
        sid, to, skip = current_sid(), kwargs.get("to") or room, kwargs.get("skip_sid")
        skips = [] if skip is None else [skip] if isinstance(skip, str) else list(skip)
        if sid is None or sid in skips or not isinstance(to, str):
            return
        if to in self.joined.get((namespace, sid), ()):
            self._after_ack(sid, namespace, (event, data))
            kwargs["skip_sid"] = [*skips, sid]

    def on_forget(self, forget: Callable[[str], Any]) -> None:
        """Call `forget(key)` for every FORGET emitted, on any process."""
        self._forgetters.append(forget)

    def forget_local(self, key: str) -> None:
        for forget in self._forgetters:
            forget(key)

    def close_mark(self) -> int:
        """How many closes this process has made: a connect takes it before its
        token check."""
        return self._close_count

    def closed_since(self, mark: int, joined: Iterable[str]) -> bool:
        """Whether a close made after `mark` was for one of the `joined` rooms (and
        spared none of them): it came after the token check, before the joins."""
        rooms = set(joined)
        with self._closes_lock:
            for number, _, room, keep_room in reversed(self._closes):
                if number <= mark:
                    return False
                if room in rooms and keep_room not in rooms:
                    return True
        return False

    def _remember_close(self, room: str, keep_room: str | None) -> None:
        now = time.monotonic()
        with self._closes_lock:
            self._close_count += 1
            self._closes.append((self._close_count, now, room, keep_room))
            while self._closes[0][1] < now - PENDING_CONNECT_SECONDS:
                self._closes.popleft()

    def close_local(self, namespace: str, room: str, keep_room: str | None) -> int:
        """Close every local connection in `room` except those also in `keep_room`."""
        # Remembered before the room is read: a connect that joins after the read
        # asks `closed_since` after joining, so one of the two sees the other.
        self._remember_close(room, keep_room)
        keep = (
            {sid for sid, _ in self.get_participants(namespace, keep_room)}  # type: ignore[attr-defined]
            if keep_room
            else set()
        )
        sids = [
            sid
            for sid, _ in self.get_participants(namespace, room)  # type: ignore[attr-defined]
            if sid not in keep
        ]
        current = current_sid()
        for sid in sids:
            if (
                sid == current
                or self.is_pre_connected(sid, namespace)  # type: ignore[attr-defined]
                or (sid, namespace) in self._after
            ):
                # The event's acknowledgement (say, the send that reached the block
                # limit, already committed) goes out when the handler returns, and
                # must reach the client before the DISCONNECT packet, after what
                # waits for it already (`account_blocked`; with a queue the close
                # comes back from Redis, outside the handler); a connection whose
                # connect handler still runs cannot be closed before it ends.
                self._after_ack(sid, namespace, None)
            else:
                self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
        return len(sids)

    def _after_ack(
        self, sid: str, namespace: str, item: tuple[str, Any] | None
    ) -> None:
        """Send `item` (an event and its data; None: close) to `sid` once the event
        being handled there is acknowledged, after what waits already."""
        key = (sid, namespace)
        with self._after_lock:
            waiting = self._after.setdefault(key, [])
            waiting.append(item)
            if len(waiting) > 1:
                return
        self.server.start_background_task(self._send_after_ack, key)

    def _send_after_ack(self, key: tuple[str, str]) -> None:
        sid, namespace = key
        deadline = time.monotonic() + PENDING_CONNECT_SECONDS
        self.server.sleep(ACK_GRACE_SECONDS)
        while self.is_pre_connected(sid, namespace) and time.monotonic() < deadline:  # type: ignore[attr-defined]
            self.server.sleep(ACK_GRACE_SECONDS)
        with self._after_lock:
            waiting = self._after.pop(key, [])
        for item in waiting:
            if item is None:
                self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
                return
            event, data = item
            self.server.emit(
                event, data, to=sid, namespace=namespace, ignore_queue=True
            )


class ClosingManager(ClosingMixin, socketio.Manager):
    """One process, no message queue."""

    def emit(
        self, event: Any, data: Any, namespace: Any, room: Any = None, **kwargs: Any
    ) -> Any:
        if event == CLOSE:
            return self.close_local(namespace or "/", kwargs.get("to") or room, data)
        if event == FORGET:
            return self.forget_local(data)
        return super().emit(event, data, namespace, room=room, **kwargs)


class ClosingRedisManager(ClosingMixin, socketio.RedisManager):
    """Several processes over Redis; durable emits survive a Redis outage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: collections.deque[dict[str, Any]] = collections.deque()
        self._pending_lock = threading.Lock()
        self._retrying = False
        # The most processes a publish ever reached: after an outage a kept emit is
        # published again until every one of them listens again (pub/sub keeps
        # nothing for a subscriber that has not re-subscribed yet).
        self._listeners = 0
        # Built for a `flask` command: it publishes a few emits and exits, so nothing
        # kept would ever be published again.
        self._one_shot = from_command_line()

    def _handle_emit(self, message: dict[str, Any]) -> None:
        event, data = message.get("event"), message.get("data") or [None]
        if event == CLOSE:
            self.close_local(
                message.get("namespace") or "/", message.get("room"), data[0]
            )
            return
        if event == FORGET:
            self.forget_local(data[0])
            return
        super()._handle_emit(message)

    def _listen_channels(self) -> tuple[str, ...]:
        """The pub/sub channels this process listens to."""
        return (self.channel,)

    def _redis_listen_with_retries(self) -> Any:  # pragma: no cover (fault tests)
        """python-socketio's loop, subscribing again every LISTEN_RETRY_SECONDS (not
        after a wait that doubles up to 60 s), and saying once that it stopped and
        once that it listens again."""
        lost = False
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(*self._listen_channels())
                if lost:
                    lost = False
                    log.warning("message queue listener subscribed again")
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001  as the stock loop: retry
                if not lost:
                    lost = True
                    self._get_logger().error(
                        "Cannot receive from redis... retrying every %g secs",
                        LISTEN_RETRY_SECONDS,
                        extra={"redis_exception": str(exc)},
                    )
                self.server.sleep(LISTEN_RETRY_SECONDS)

    def _local_sid(self, data: dict[str, Any]) -> bool:
        """An emit to one connection (its sid) that this process holds: delivered
        here already, and a sid lives on one process only."""
        room = data.get("room")
        return (
            data.get("method") == "emit"
            and isinstance(room, str)
            and room in self.rooms.get(data.get("namespace") or "/", {}).get(None, {})
        )

    def _publish(self, data: dict[str, Any]) -> Any:
        if self._local_sid(data):
            return 0  # not published (nor logged as lost while Redis is down)
        if self._one_shot:
            return self._publish_once(data)
        result = super()._publish(data)
        durable = data.get("method") == "emit" and data.get("event") in DURABLE_EVENTS
        if result is None:
            if durable:
                self._keep(data)
        elif durable and int(result) < self._listeners:
            # Published while some process had not subscribed again after Redis came
            # back: pub/sub dropped it for them, so publish it again when they listen
            # (a second close of a closed connection changes nothing).
            self._keep(data, f"reached {int(result)} of {self._listeners} processes")
        else:
            self._listeners = max(self._listeners, int(result))
        return result

    def _publish_once(self, data: dict[str, Any]) -> Any:
        """A command's publish: one try on a fresh connection, counted when it fails
        (the command says so; python-socketio would log two errors)."""
        try:
            if not self.connected:
                self._redis_connect()
            return self.redis.publish(self.channel, self.json.dumps(data))
        except Exception:  # noqa: BLE001  any failure of Redis: the command says so
            self.connected = False
            self.unpublished += 1
            return None

    def pending(self) -> int:
        """Durable emits waiting for the queue to come back."""
        return len(self._pending)

    def _keep(self, data: dict[str, Any], why: str = "message queue down") -> None:
        with self._pending_lock:
            self._pending.append(data)
            if self._retrying:
                return
            self._retrying = True
        log.warning(
            "%s: %s kept to publish when every process listens",
            why,
            data.get("event"),
        )
        self.server.start_background_task(self._publish_pending)

    def _publish_pending(self) -> None:
        """Publish the kept emits, in order, once Redis answers and every process that
        listened before listens again (or GIVE_UP_SECONDS after Redis is back)."""
        back_since: float | None = None
        while True:
            self.server.sleep(RETRY_SECONDS)
            try:
                if not self.connected:
                    self._redis_connect()
                listening = self.redis.pubsub_numsub(self.channel)[0][1]
            except Exception:  # noqa: BLE001  still down: try again later
                self.connected = False
                back_since = None
                continue
            back_since = back_since or time.monotonic()
            waited = time.monotonic() - back_since
            if listening < self._listeners and waited < GIVE_UP_SECONDS:
                continue
            with self._pending_lock:
                batch = list(self._pending)
            try:
                for data in batch:
                    self.redis.publish(self.channel, self.json.dumps(data))
                    with self._pending_lock:
                        self._pending.popleft()
            except Exception:  # noqa: BLE001  down again: keep the rest
                self.connected = False
                back_since = None
                continue
            # A process that did not come back within GIVE_UP_SECONDS is gone: wait
            # for the ones that listen now from here on.
            self._listeners = listening
            with self._pending_lock:
                if not self._pending:
                    self._retrying = False
                    log.warning(
                        "message queue back: %d kept emits published to %d processes",
                        len(batch),
                        listening,
                    )
                    return


def from_command_line(command: str | None = None) -> bool:
    """Whether the app is being built by the `flask` command line (FlaskGroup loads
    the app inside its click context), by `command` when one is named: a process that
    serves nobody (servers start from run.py; `flask run` is refused, cli.py)."""
    context = click.get_current_context(silent=True)
    return context is not None and command in (None, context.info_name)


def manager(app: Flask) -> ClosingMixin:
    """The app's client manager (every manager it builds closes by room)."""
    return app.extensions["socketio"].server.manager


def client_manager(app: Flask) -> socketio.Manager:
    """The Socket.IO client manager for the app: Redis-backed when REDIS_URL is set."""
    url = redis_queue_url(app.config.get("REDIS_URL"))
    if not url:
        return ClosingManager()
    channel = app.config.get("SOCKETIO_CHANNEL") or "flask-socketio"
    return ClosingRedisManager(url, channel=channel)

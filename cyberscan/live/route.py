"""The routed message queue: an emit to one user goes only to the processes that hold
that user's connections (`SOCKETIO_ROUTE=process`; docs/scaling.md).

The stock Redis queue publishes every emit on one channel that every process decodes,
so each process pays for all of the cluster's traffic. Here every process also
subscribes to a channel of its own, `<channel>:proc:<process id>`, the process id being
the one presence records for its connections (`<prefix>:user:<uid>` maps sid -> process
id). An emit to a user's room (`rooms.user(id)`) is published by one Lua script that
reads the user's presence entry and publishes to each process found there except this
one (this one delivers locally, as with the stock queue): nothing when the user is
offline. Lookup and publish are one atomic step in Redis, ordered with presence's own
scripts, so a connection registered before the script runs gets the emit and one
registered after it connected after the message was committed (its history has it).

An emit to one connection (its sid) held by this process is not published at all
(`connections.ClosingRedisManager`, on either route).
Everything else keeps the stock shared channel: broadcasts, the admins' room, token
rooms, the durable decisions (`CLOSE`, `account_blocked`, `kicked`: a block must close
connections presence may miss, and survives an outage), disconnects, room changes and
callbacks. When a process listed for the user does not listen on its own channel (a
process on the stock route during a rolling change, one that died and is not swept
yet, one re-subscribing after an outage), the emit takes the shared channel instead.
After Redis lost its data (a restart, a flush), presence is empty until every process
re-registers its connections (at its next heartbeat): for a heartbeat and
WARM_MARGIN_SECONDS after the script first finds its marker missing, routed emits take
the shared channel too.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import Any

import socketio
from flask import Flask

from config import redis_queue_url
from cyberscan.live import connections, presence

log = logging.getLogger(__name__)

USER_ROOM = re.compile(r"user:\d+\Z")
# The warm-up lasts a heartbeat and this margin: longer than presence's rebuild after
# a Redis restart, at the next heartbeat, or at the next retry when the heartbeat saw
# the outage.
WARM_MARGIN_SECONDS = 5

# KEYS: the user's presence hash, the epoch marker, the warm-up marker.
# ARGV: process channel prefix, this process's id, the message, the shared channel,
# the warm-up's seconds. Answers the number of processes published to; -1: shared channel
# (warm-up), -2: shared channel (a holder not listening on its own channel).
ROUTE_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], '1')
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[5])
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('PUBLISH', ARGV[4], ARGV[3])
  return -1
end
local seen, targets = {}, {}
for _, pid in ipairs(redis.call('HVALS', KEYS[1])) do
  if pid ~= ARGV[2] and not seen[pid] then
    seen[pid] = true
    local channel = ARGV[1] .. pid
    if redis.call('PUBSUB', 'NUMSUB', channel)[2] == 0 then
      redis.call('PUBLISH', ARGV[4], ARGV[3])
      return -2
    end
    table.insert(targets, channel)
  end
end
for _, channel in ipairs(targets) do
  redis.call('PUBLISH', channel, ARGV[3])
end
return #targets
"""


def process_channel(channel: str, process_id: str) -> str:
    """The pub/sub channel only the process `process_id` listens to."""
    return f"{channel}:proc:{process_id}"


class RoutedRedisManager(connections.ClosingRedisManager):
    """ClosingRedisManager that publishes an emit to one user to the processes holding
    that user's connections only.

    `registry` answers the presence registry (a RedisPresence: its `redis`, `prefix`
    and `process_id`), looked up when first needed: the app builds it after Socket.IO.
    """

    name = "redis-routed"

    def __init__(self, url: str, *, registry: Callable[[], Any], **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self._registry_of = registry
        self._registry: Any = None
        self._script: Any = None
        self._warm_seconds = 0

    def registry(self) -> Any:
        if self._registry is None:
            self._registry = self._registry_of()
            self._script = self._registry.redis.register_script(ROUTE_SCRIPT)
            self._warm_seconds = (
                math.ceil(self._registry.heartbeat_seconds) + WARM_MARGIN_SECONDS
            )
        return self._registry

    @property
    def own_channel(self) -> str:
        return process_channel(self.channel, self.registry().process_id)

    def _publish(self, data: dict[str, Any]) -> Any:
        if not self._routable(data):  # an emit to a sid held here: not published
            return super()._publish(data)
        registry = self.registry()
        keys = [
            f"{registry.prefix}:user:{data['room'].split(':', 1)[1]}",
            f"{registry.prefix}:route:epoch",
            f"{registry.prefix}:route:warm",
        ]
        args = [
            process_channel(self.channel, ""),
            registry.process_id,
            self.json.dumps(data),
            self.channel,
            self._warm_seconds,
        ]
        for retries_left in (1, 0):
            try:
                return self._script(keys=keys, args=args)
            except Exception as error:  # noqa: BLE001  as the stock queue: log, go on
                if not retries_left:
                    log.error("cannot publish to redis, giving up: %r", error)
        return None

    @staticmethod
    def _routable(data: dict[str, Any]) -> bool:
        room = data.get("room")
        return (
            data.get("method") == "emit"
            and data.get("callback") is None
            and data.get("event") not in connections.DURABLE_EVENTS
            and isinstance(room, str)
            and USER_ROOM.match(room) is not None
        )

    def _listen_channels(self) -> tuple[str, ...]:
        """The shared channel and this process's own."""
        return (self.channel, self.own_channel)

    def _listen(self) -> Any:
        channels = {self.channel.encode(), self.own_channel.encode()}
        for message in self._redis_listen_with_retries():
            if (
                message["channel"] in channels
                and message["type"] == "message"
                and "data" in message
            ):
                yield message["data"]


def client_manager(app: Flask) -> socketio.Manager:
    """The app's client manager: the routed one when SOCKETIO_ROUTE is `process` and a
    Redis queue is configured, else the stock one (live/connections.py)."""
    url = redis_queue_url(app.config.get("REDIS_URL"))
    if not url or app.config.get("SOCKETIO_ROUTE", "shared") != "process":
        return connections.client_manager(app)
    channel = app.config.get("SOCKETIO_CHANNEL") or "flask-socketio"
    return RoutedRedisManager(
        url, channel=channel, registry=lambda: app.extensions[presence.EXTENSION]
    )

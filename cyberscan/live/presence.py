"""Who is online: user id -> that user's Socket.IO sids, across every server process.

Without REDIS_URL the registry lives in this process's memory (one process). With it,
every process shares it in Redis:

- `<prefix>:user:<uid>`   hash sid -> process id (every live connection of the user)
- `<prefix>:online`       set of user ids with at least one connection
- `<prefix>:proc:<pid>`   hash sid -> uid (what one process holds, for cleanup)
- `<prefix>:alive:<pid>`  heartbeat key with a TTL, refreshed by each process
- `<prefix>:procs`        set of process ids that registered connections

A process that dies stops refreshing its heartbeat; the next sweep by any other process
(at its start and on every heartbeat) drops the dead process's connections, and users
left with none are announced as gone (`user_left`). Changes to one user's entries run
as Lua scripts, so exactly one connection is a user's first and exactly one its last
even when two processes race.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import redis
from flask import Flask, current_app

log = logging.getLogger(__name__)

EXTENSION = "cyberscan.presence"
# Default of PRESENCE_HEARTBEAT_SECONDS: how often each process refreshes its heartbeat
# and sweeps dead processes. A process is dead once three beats (plus 5 s) are missed.
HEARTBEAT_SECONDS = 10
RETRY_SECONDS = 1


def alive_ttl(heartbeat_seconds: float) -> int:
    """Seconds a heartbeat key lives: three missed beats and 5 s (35 s by default)."""
    return math.ceil(3 * heartbeat_seconds + 5)


class Presence(Protocol):
    def add(self, user_id: int, sid: str) -> bool: ...
    def join(
        self, user_id: int, sid: str, limit: int, among: Iterable[int]
    ) -> tuple[bool, set[int]] | None: ...
    def remove(self, user_id: int, sid: str) -> bool: ...
    def sids(self, user_id: int) -> set[str]: ...
    def is_online(self, user_id: int) -> bool: ...
    def online_user_ids(self) -> set[int]: ...
    def routing(self, receiver_id: int, sender_id: int) -> tuple[bool, set[str]]: ...
    def online_among(self, user_ids: Iterable[int]) -> set[int]: ...


class MemoryPresence:
    """One process: a dict behind a lock."""

    def __init__(self) -> None:
        self._sids: dict[int, set[str]] = {}
        self._lock = threading.Lock()

    def add(self, user_id: int, sid: str) -> bool:
        """Register a connection; True when it is the user's first."""
        with self._lock:
            sids = self._sids.setdefault(user_id, set())
            first = not sids
            sids.add(sid)
            return first

    def join(
        self, user_id: int, sid: str, limit: int, among: Iterable[int]
    ) -> tuple[bool, set[int]] | None:
        """Register a connection unless the user already has `limit` (0: no limit);
        answers whether it is the user's first and which of `among` are online, or
        None when refused."""
        with self._lock:
            if limit and len(self._sids.get(user_id, ())) >= limit:
                return None
            sids = self._sids.setdefault(user_id, set())
            first = not sids
            sids.add(sid)
            return first, {uid for uid in among if self._sids.get(uid)}

    def remove(self, user_id: int, sid: str) -> bool:
        """Forget a connection; True when it was the user's last."""
        with self._lock:
            sids = self._sids.get(user_id)
            if not sids or sid not in sids:
                return False
            sids.discard(sid)
            if not sids:
                del self._sids[user_id]
                return True
            return False

    def sids(self, user_id: int) -> set[str]:
        with self._lock:
            return set(self._sids.get(user_id, ()))

    def is_online(self, user_id: int) -> bool:
        with self._lock:
            return bool(self._sids.get(user_id))

    def online_user_ids(self) -> set[int]:
        with self._lock:
            return set(self._sids)

    def routing(self, receiver_id: int, sender_id: int) -> tuple[bool, set[str]]:
        """Whether the receiver is online, and the sender's connections."""
        with self._lock:
            return bool(self._sids.get(receiver_id)), set(self._sids.get(sender_id, ()))

    def online_among(self, user_ids: Iterable[int]) -> set[int]:
        """Those of these users with a live connection."""
        with self._lock:
            return {uid for uid in user_ids if self._sids.get(uid)}


ADD_SCRIPT = """
local prefix, pid, uid, sid, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ukey = prefix .. ':user:' .. uid
redis.call('SET', prefix .. ':alive:' .. pid, '1', 'EX', ttl)
redis.call('SADD', prefix .. ':procs', pid)
redis.call('HSET', prefix .. ':proc:' .. pid, sid, uid)
local added = redis.call('HSET', ukey, sid, pid)
redis.call('SADD', prefix .. ':online', uid)
if added == 1 and redis.call('HLEN', ukey) == 1 then return 1 end
return 0
"""

# ADD_SCRIPT within a connection cap, and which of the given users are online, in one
# round trip: answers {-1} when the user already has `limit` connections (0: none),
# else {first (0/1), the online ones of ARGV[7..]...}.
JOIN_SCRIPT = """
local prefix, pid, uid, sid, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local limit = tonumber(ARGV[6])
local ukey = prefix .. ':user:' .. uid
if limit > 0 and redis.call('HLEN', ukey) >= limit then return {-1} end
redis.call('SET', prefix .. ':alive:' .. pid, '1', 'EX', ttl)
redis.call('SADD', prefix .. ':procs', pid)
redis.call('HSET', prefix .. ':proc:' .. pid, sid, uid)
local added = redis.call('HSET', ukey, sid, pid)
redis.call('SADD', prefix .. ':online', uid)
local answer = {0}
if added == 1 and redis.call('HLEN', ukey) == 1 then answer[1] = 1 end
local online = prefix .. ':online'
for i = 7, #ARGV do
  if redis.call('SISMEMBER', online, ARGV[i]) == 1 then
    table.insert(answer, tonumber(ARGV[i]))
  end
end
return answer
"""

REMOVE_SCRIPT = """
local prefix, pid, uid, sid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ukey = prefix .. ':user:' .. uid
redis.call('HDEL', prefix .. ':proc:' .. pid, sid)
local removed = redis.call('HDEL', ukey, sid)
if removed == 1 and redis.call('HLEN', ukey) == 0 then
  redis.call('SREM', prefix .. ':online', uid)
  return 1
end
return 0
"""

# Drop every connection of one dead process; answers the user ids left with none.
SWEEP_SCRIPT = """
local prefix, pid = ARGV[1], ARGV[2]
if redis.call('EXISTS', prefix .. ':alive:' .. pid) == 1 then return {} end
local pkey = prefix .. ':proc:' .. pid
local entries = redis.call('HGETALL', pkey)
local gone = {}
for i = 1, #entries, 2 do
  local sid, uid = entries[i], entries[i + 1]
  local ukey = prefix .. ':user:' .. uid
  if redis.call('HDEL', ukey, sid) == 1 and redis.call('HLEN', ukey) == 0 then
    redis.call('SREM', prefix .. ':online', uid)
    table.insert(gone, uid)
  end
end
redis.call('DEL', pkey)
redis.call('SREM', prefix .. ':procs', pid)
return gone
"""


class RedisPresence:
    """Shared by every process that uses the same Redis and key prefix."""

    def __init__(
        self,
        url: str,
        prefix: str,
        process_id: str | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        # Every message asks presence once: under load hundreds of greenlets do at
        # once, and redis-py's default pool raises past 100 connections. Wait for one.
        # from_pool: the client owns its pool, so closing it closes the connections.
        self.redis = redis.Redis.from_pool(
            redis.BlockingConnectionPool.from_url(
                url, max_connections=200, timeout=20, decode_responses=True
            )
        )
        self.prefix = prefix
        self.process_id = process_id or uuid.uuid4().hex
        self.heartbeat_seconds = heartbeat_seconds
        self.alive_ttl = alive_ttl(heartbeat_seconds)
        self._add = self.redis.register_script(ADD_SCRIPT)
        self._join = self.redis.register_script(JOIN_SCRIPT)
        self._remove = self.redis.register_script(REMOVE_SCRIPT)
        self._sweep = self.redis.register_script(SWEEP_SCRIPT)
        # This process's own connections (sid -> user id), to re-register them when
        # Redis comes back empty.
        self._local: dict[str, int] = {}

    def _key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def add(self, user_id: int, sid: str) -> bool:
        """Register a connection; True when it is the user's first on any process."""
        args = [self.prefix, self.process_id, user_id, sid, self.alive_ttl]
        first = bool(self._add(args=args))
        self._local[sid] = user_id
        return first

    def join(
        self, user_id: int, sid: str, limit: int, among: Iterable[int]
    ) -> tuple[bool, set[int]] | None:
        """Register a connection unless the user already has `limit` on all processes
        (0: no limit), atomically; answers whether it is the user's first and which of
        `among` are online, or None when refused. One round trip."""
        args = [self.prefix, self.process_id, user_id, sid, self.alive_ttl, limit]
        answer = self._join(args=[*args, *among])
        if answer[0] == -1:
            return None
        self._local[sid] = user_id
        return bool(answer[0]), {int(uid) for uid in answer[1:]}

    def remove(self, user_id: int, sid: str) -> bool:
        """Forget a connection; True when it was the user's last on any process."""
        self._local.pop(sid, None)
        return bool(self._remove(args=[self.prefix, self.process_id, user_id, sid]))

    def sids(self, user_id: int) -> set[str]:
        return set(self.redis.hkeys(self._key("user", user_id)))

    def is_online(self, user_id: int) -> bool:
        return bool(self.redis.sismember(self._key("online"), str(user_id)))

    def online_user_ids(self) -> set[int]:
        return {int(uid) for uid in self.redis.smembers(self._key("online"))}

    def routing(self, receiver_id: int, sender_id: int) -> tuple[bool, set[str]]:
        """Whether the receiver is online, and the sender's connections: one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.sismember(self._key("online"), str(receiver_id))
        pipe.hkeys(self._key("user", sender_id))
        online, sids = pipe.execute()
        return bool(online), set(sids)

    def online_among(self, user_ids: Iterable[int]) -> set[int]:
        """Those of these users online on any process, in one round trip."""
        ids = list(user_ids)
        if not ids:
            return set()
        found = self.redis.smismember(self._key("online"), [str(uid) for uid in ids])
        return {uid for uid, online in zip(ids, found, strict=True) if online}

    def heartbeat(self) -> int | None:
        """Tell the other processes this one is alive; when Redis lost this process's
        marker (a restart), re-register its connections and answer how many."""
        self.redis.set(self._key("alive", self.process_id), "1", ex=self.alive_ttl)
        marker = self._key("registered", self.process_id)
        if self.redis.set(marker, "1", ex=self.alive_ttl, get=True) is not None:
            return None
        for sid, user_id in list(self._local.items()):
            self._add(args=[self.prefix, self.process_id, user_id, sid, self.alive_ttl])
        return len(self._local)

    def sweep(self) -> set[int]:
        """Drop the connections of processes whose heartbeat expired; users now offline."""
        gone: set[int] = set()
        for pid in self.redis.smembers(self._key("procs")):
            if pid != self.process_id:
                gone.update(int(uid) for uid in self._sweep(args=[self.prefix, pid]))
        return gone

    def forget_process(self) -> set[int]:
        """On shutdown: drop this process's connections at once (users now offline)."""
        self.redis.delete(self._key("alive", self.process_id))
        return {int(uid) for uid in self._sweep(args=[self.prefix, self.process_id])}


def key_prefix(app: Flask) -> str:
    """One registry per Socket.IO channel, so separate deployments share no state."""
    channel = app.config.get("SOCKETIO_CHANNEL") or "flask-socketio"
    return f"cyberscan:presence:{channel}"


def build(app: Flask) -> Presence:
    url = app.config.get("REDIS_URL")
    if not url:
        return MemoryPresence()
    return RedisPresence(
        url,
        key_prefix(app),
        heartbeat_seconds=app.config.get(
            "PRESENCE_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS
        ),
    )


def init_app(app: Flask) -> Presence:
    """Create the app's registry (in memory, or in Redis when REDIS_URL is set)."""
    presence = build(app)
    app.extensions[EXTENSION] = presence
    return presence


def get_presence() -> Presence:
    return current_app.extensions[EXTENSION]


def start_heartbeat(
    presence: Presence,
    start_task: Callable[..., Any],
    sleep: Callable[[float], Any],
    on_gone: Callable[[Iterable[int]], None],
) -> bool:
    """Run the Redis heartbeat and sweep in a background task (once per registry)."""
    if not isinstance(presence, RedisPresence) or getattr(presence, "_beating", False):
        return False
    presence._beating = True  # type: ignore[attr-defined]

    def beat() -> None:
        failing = False
        while True:
            rebuilt = None
            try:
                rebuilt = presence.heartbeat()
                gone = presence.sweep()
                if gone:
                    on_gone(gone)
            except redis.RedisError as error:
                # Beat every second until Redis is back, then re-register at once.
                if not failing:
                    log.warning("presence heartbeat failed: %r", error)
                failing = True
                sleep(RETRY_SECONDS)
                continue
            except Exception:  # noqa: BLE001  a bug: log it, keep beating
                log.exception("presence heartbeat failed")
            if failing and rebuilt is not None:
                log.warning("presence rebuilt: %d connections re-registered", rebuilt)
            failing = False
            sleep(presence.heartbeat_seconds)

    presence.heartbeat()
    start_task(beat)
    return True


def online_user_ids() -> set[int]:
    """Ids of the users with at least one live connection, on any process."""
    return get_presence().online_user_ids()


def is_online(user_id: int) -> bool:
    """True when the user has a live connection on any process."""
    return get_presence().is_online(user_id)

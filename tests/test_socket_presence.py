"""Presence: online_users, user_joined/user_left, several tabs, the Redis registry."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import redis
from flask import Flask

from cyberscan.live import presence, route
from cyberscan.live.presence import MemoryPresence, RedisPresence
from tests.fixtures_realtime import events

REDIS_URL = "redis://127.0.0.1:6379/0"


def test_joined_on_first_connection_left_on_last(client, trio, connect):
    alice, bob, carol = trio
    # Presence is private (§9): carol hears of alice because they are contacts.
    client.post(
        "/api/chat/messages/alice", json={"message": "hi"}, headers=carol.headers
    )
    watcher = connect(carol)
    events(watcher)
    first = connect(alice)
    second = connect(alice)
    assert events(watcher, "user_joined") == ["alice"]
    assert events(second, "online_users") == [["alice", "carol"]]
    first.disconnect()
    assert events(watcher, "user_left") == []
    second.disconnect()
    assert events(watcher, "user_left") == ["alice"]


def test_online_users_includes_self_and_others_only_online(client, trio, connect):
    alice, bob, carol = trio
    for other in ("bob", "carol"):
        client.post(
            f"/api/chat/messages/{other}", json={"message": "hi"}, headers=alice.headers
        )
    connect(bob)
    sio = connect(alice)
    assert events(sio, "online_users") == [["alice", "bob"]]


def test_online_user_ids_for_the_admin_summary(app, trio, connect):
    alice, bob, _ = trio
    connect(alice)
    connect(alice)
    connect(bob)
    with app.app_context():
        assert presence.online_user_ids() == {alice.id, bob.id}
        assert presence.is_online(alice.id)


def test_refused_connection_is_not_online(app, trio, raw_socket):
    raw_socket({"token": "nope"})
    with app.app_context():
        assert presence.online_user_ids() == set()


def test_memory_presence_counts_connections():
    registry = MemoryPresence()
    assert registry.add(1, "a") is True
    assert registry.add(1, "b") is False
    assert registry.sids(1) == {"a", "b"}
    assert registry.remove(1, "a") is False
    assert registry.remove(1, "a") is False
    assert registry.remove(1, "b") is True
    assert registry.online_user_ids() == set()


@pytest.fixture
def redis_prefix():
    prefix = f"cyberscan:test:{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_redis_presence_is_shared_by_processes(redis_prefix):
    one = RedisPresence(REDIS_URL, redis_prefix)
    two = RedisPresence(REDIS_URL, redis_prefix)
    assert one.add(7, "sid-a") is True
    assert two.add(7, "sid-b") is False
    assert two.online_user_ids() == {7}
    assert one.sids(7) == {"sid-a", "sid-b"}
    assert one.remove(7, "sid-a") is False
    assert two.is_online(7)
    assert two.remove(7, "sid-b") is True
    assert one.online_user_ids() == set()
    assert not one.is_online(7)


def test_redis_sweep_drops_a_dead_process(redis_prefix):
    alive = RedisPresence(REDIS_URL, redis_prefix)
    dead = RedisPresence(REDIS_URL, redis_prefix)
    alive.add(1, "a1")
    dead.add(1, "d1")
    dead.add(2, "d2")
    assert alive.sweep() == set()  # the other process is still beating
    redis.Redis.from_url(REDIS_URL).delete(f"{redis_prefix}:alive:{dead.process_id}")
    assert alive.sweep() == {2}
    assert alive.online_user_ids() == {1}
    assert alive.sids(1) == {"a1"}
    assert alive.sweep() == set()


def test_redis_forget_process_on_shutdown(redis_prefix):
    one = RedisPresence(REDIS_URL, redis_prefix)
    two = RedisPresence(REDIS_URL, redis_prefix)
    one.add(1, "a")
    one.add(2, "b")
    two.add(2, "c")
    assert one.forget_process() == {1}
    assert two.online_user_ids() == {2}


class StopBeating(Exception):
    pass


def run_now(task) -> None:
    """Start a heartbeat task inline; its first sleep stops it."""
    with pytest.raises(StopBeating):
        task()


def test_heartbeat_sweeps_dead_processes_and_announces_them(redis_prefix):
    alive = RedisPresence(REDIS_URL, redis_prefix)
    dead = RedisPresence(REDIS_URL, redis_prefix)
    dead.add(5, "d5")
    redis.Redis.from_url(REDIS_URL).delete(f"{redis_prefix}:alive:{dead.process_id}")
    announced: list[set[int]] = []

    def sleep(seconds: float) -> None:
        raise StopBeating

    assert presence.start_heartbeat(
        alive, run_now, sleep, lambda ids: announced.append(set(ids))
    )
    assert announced == [{5}]
    assert alive.online_user_ids() == set()
    assert redis.Redis.from_url(REDIS_URL).exists(
        f"{redis_prefix}:alive:{alive.process_id}"
    )
    # once per registry
    assert not presence.start_heartbeat(alive, run_now, sleep, announced.append)


def test_the_heartbeat_setting_sets_the_beat_the_ttl_and_the_warm_up():
    """PRESENCE_HEARTBEAT_SECONDS reaches the registry the app builds: the heartbeat
    task sleeps that long, a process's heartbeat key lives three beats and 5 s, and
    the routed queue's warm-up after Redis lost its data lasts a beat and 5 s."""
    channel = f"test-{uuid.uuid4().hex}"
    prefix = f"cyberscan:presence:{channel}"
    store = redis.Redis.from_url(REDIS_URL)
    try:
        for setting, beat, ttl, warm in ((None, 10, 35, 15), (2, 2, 11, 7)):
            app = Flask("presence-config")
            app.config.update(REDIS_URL=REDIS_URL, SOCKETIO_CHANNEL=channel)
            if setting is not None:
                app.config["PRESENCE_HEARTBEAT_SECONDS"] = setting
            registry = presence.build(app)
            assert registry.heartbeat_seconds == beat
            slept: list[float] = []

            def sleep(seconds: float, slept: list[float] = slept) -> None:
                slept.append(seconds)
                raise StopBeating

            assert presence.start_heartbeat(registry, run_now, sleep, lambda ids: None)
            assert slept == [beat]
            # TTL rounds to whole seconds: the key was set a moment ago
            assert store.ttl(f"{prefix}:alive:{registry.process_id}") in (ttl - 1, ttl)
            registry.add(1, f"sid-{beat}")
            assert store.ttl(f"{prefix}:alive:{registry.process_id}") in (ttl - 1, ttl)
            # A routed emit that finds the epoch marker missing starts the warm-up.
            store.delete(f"{prefix}:route:epoch")
            queue = route.RoutedRedisManager(
                REDIS_URL, channel=channel, registry=lambda r=registry: r
            )
            queue._publish(
                {"method": "emit", "event": "e", "room": "user:1", "callback": None}
            )
            assert store.ttl(f"{prefix}:route:warm") in (warm - 1, warm)
            registry.redis.close()
    finally:
        for key in store.scan_iter(f"{prefix}:*"):
            store.delete(key)
        store.close()


def test_memory_registry_needs_no_heartbeat():
    assert not presence.start_heartbeat(MemoryPresence(), None, None, None)


def test_memory_join_registers_within_the_cap_and_answers_online_contacts():
    registry = MemoryPresence()
    registry.add(5, "friend")
    assert registry.join(1, "a", 2, [5, 6]) == (True, {5})
    assert registry.join(1, "b", 2, []) == (False, set())
    assert registry.join(1, "c", 2, [5]) is None  # the third is refused
    assert registry.sids(1) == {"a", "b"}
    registry.remove(1, "a")
    assert registry.join(1, "c", 2, [5, 6]) == (False, {5})
    assert registry.join(2, "x", 0, []) == (True, set())  # 0: no cap


def test_redis_join_holds_the_cap_across_processes(redis_prefix):
    one = RedisPresence(REDIS_URL, redis_prefix)
    two = RedisPresence(REDIS_URL, redis_prefix)
    two.add(5, "friend")
    assert one.join(1, "a", 2, [5, 6]) == (True, {5})
    assert two.join(1, "b", 2, [6]) == (False, set())
    assert one.join(1, "c", 2, [5]) is None
    assert one.sids(1) == {"a", "b"}
    assert two.remove(1, "b") is False
    assert two.join(1, "c", 2, [5, 6]) == (False, {5})
    assert one.sids(1) == {"a", "c"}
    # A refused join leaves nothing behind; an accepted one is re-registered by its
    # own process when Redis comes back empty.
    assert "c" in two._local and "a" not in two._local


def test_redis_join_cap_is_atomic_when_connects_race(redis_prefix):
    registries = [RedisPresence(REDIS_URL, redis_prefix) for _ in range(4)]
    results: list[Any] = []

    def connect(n: int) -> None:
        results.append(registries[n % 4].join(9, f"sid-{n}", 5, []))

    threads = [threading.Thread(target=connect, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [r for r in results if r is not None]
    assert len(accepted) == 5
    assert sum(first for first, _ in accepted) == 1
    assert len(registries[0].sids(9)) == 5
    for registry in registries:
        registry.redis.close()

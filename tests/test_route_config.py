"""SOCKETIO_ROUTE picks the client manager; anything but `shared`/`process` is refused."""

from __future__ import annotations

import pytest
from flask import Flask

from config import ConfigError, TestingConfig
from cyberscan import create_app
from cyberscan.live import connections, route


def manager_for(**config: object) -> object:
    app = Flask("route-config")
    app.config.update(config)
    return route.client_manager(app)


def test_the_route_picks_the_client_manager():
    url = "redis://127.0.0.1:6379/0"
    routed = manager_for(REDIS_URL=url, SOCKETIO_ROUTE="process", SOCKETIO_CHANNEL="c")
    assert isinstance(routed, route.RoutedRedisManager)
    assert routed.channel == "c"
    stock = manager_for(REDIS_URL=url, SOCKETIO_ROUTE="shared")
    assert type(stock) is connections.ClosingRedisManager
    assert type(manager_for(REDIS_URL=url)) is connections.ClosingRedisManager
    # No Redis, no queue: one process, whatever the route says.
    assert type(manager_for(SOCKETIO_ROUTE="process")) is connections.ClosingManager


def test_an_unknown_route_is_refused_at_start():
    with pytest.raises(ConfigError, match="SOCKETIO_ROUTE"):
        create_app(TestingConfig, DATABASE_URL="sqlite://", SOCKETIO_ROUTE="nearest")


def test_only_emits_to_one_user_are_routed():
    routable = route.RoutedRedisManager._routable
    emit = {"method": "emit", "event": "receive_message", "callback": None}
    assert routable({**emit, "room": "user:42"})
    assert not routable({**emit, "room": "user:42:x"})
    assert not routable({**emit, "room": "admins"})
    assert not routable({**emit, "room": "token:abc"})
    assert not routable({**emit, "room": None})
    assert not routable({**emit, "room": ["user:1", "user:2"]})
    assert not routable({**emit, "room": "user:42", "callback": ["user:42", "/", 1]})
    for event in connections.DURABLE_EVENTS:
        assert not routable({**emit, "event": event, "room": "user:42"})
    assert not routable({"method": "close_room", "room": "user:42"})

"""Liveness of the parts the server needs: the database, Redis, the model."""

from __future__ import annotations

from typing import Any

import redis
from flask import current_app
from sqlalchemy import text

from cyberscan.detector import get_detector
from cyberscan.extensions import db


def check_database() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001  any failure means "down", and is reported as such
        db.session.rollback()
        return False


HEALTH_REDIS = "cyberscan.health_redis"


def redis_client(url: str) -> redis.Redis:
    """The app's client for the probe, kept: a load balancer asking every few seconds
    reuses its connection instead of opening (and leaving to the collector) a new one."""
    kept = current_app.extensions.get(HEALTH_REDIS)
    if kept is None or kept[0] != url:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        kept = current_app.extensions[HEALTH_REDIS] = (url, client)
    return kept[1]


def check_redis(url: str) -> bool:
    try:
        return bool(redis_client(url).ping())
    except redis.RedisError:
        return False


def health() -> dict[str, Any]:
    """Each part's state ("ok" or "unavailable") and the model version."""
    parts: dict[str, Any] = {"database": "ok" if check_database() else "unavailable"}
    url = current_app.config.get("REDIS_URL")
    if url:
        parts["redis"] = "ok" if check_redis(url) else "unavailable"
    parts["model"] = {"version": get_detector().version}
    return parts


def failing(parts: dict[str, Any]) -> list[str]:
    """The parts that are down."""
    return [name for name, state in parts.items() if state == "unavailable"]

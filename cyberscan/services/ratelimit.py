"""Per-user sliding-window limits for socket events (REST routes use Flask-Limiter)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from cyberscan.errors import RateLimited

EXTENSION = "cyberscan.ratelimit"


@dataclass
class Limiter:
    strategy: MovingWindowRateLimiter
    enabled: bool
    items: dict[str, RateLimitItem]


def _limiter(app: Flask) -> Limiter:
    """One limiter per app: Redis storage when REDIS_URL is set (shared by processes)."""
    limiter = app.extensions.get(EXTENSION)
    if limiter is None:
        uri = app.config.get("REDIS_URL") or "memory://"
        limiter = Limiter(
            MovingWindowRateLimiter(storage_from_string(uri)),
            bool(app.config.get("RATELIMIT_ENABLED", True)),
            {},
        )
        app.extensions[EXTENSION] = limiter
    return limiter


def hit(setting: str, *identifiers: str | int) -> None:
    """Count one use of the limit named by config `setting`; RateLimited when over it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    limiter = _limiter(app)
    if not limiter.enabled:
        return
    item = limiter.items.get(setting)
    if item is None:
        item = limiter.items[setting] = parse(app.config[setting])
    # The channel separates deployments (and test runs) that share one Redis.
    channel = app.config.get("SOCKETIO_CHANNEL") or "flask-socketio"
    keys = [channel, setting, *map(str, identifiers)]
    if not limiter.strategy.hit(item, *keys):
        stats = limiter.strategy.get_window_stats(item, *keys)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            retry_after, f"Too many messages; try again in {retry_after} s."
        )

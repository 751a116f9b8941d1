"""Liveness and dependencies (API.md §8)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import text

from cyberscan.api.errors import error_body
from cyberscan.detector import get_detector
from cyberscan.extensions import db

bp = Blueprint("health", __name__, url_prefix="/api", description="Operations")


def check_database() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001  any failure means "down", and is reported as such
        db.session.rollback()
        return False


def check_redis(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


@bp.get("/health")
def health() -> tuple[dict[str, Any], int]:
    """200 when the database (and Redis, when configured) answer; 503 naming what failed."""
    parts: dict[str, Any] = {"database": "ok" if check_database() else "unavailable"}
    if current_app.config.get("REDIS_URL"):
        parts["redis"] = (
            "ok" if check_redis(current_app.config["REDIS_URL"]) else "unavailable"
        )
    parts["model"] = {"version": get_detector().version}
    failing = [name for name, state in parts.items() if state == "unavailable"]
    if failing:
        message = f"Unavailable: {', '.join(failing)}."
        return error_body(503, "unavailable", message, **parts), 503
    return {"status": "ok", **parts}, 200

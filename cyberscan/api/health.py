"""Liveness and dependencies (API.md §8)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from cyberscan.api.errors import error_body
from cyberscan.services import health as checks

bp = Blueprint("health", __name__, url_prefix="/api", description="Operations")


@bp.get("/health")
@bp.doc(security=[])  # public: no token
def health() -> tuple[dict[str, Any], int]:
    """200 when the database (and Redis, when configured) answer; 503 naming what failed."""
    parts = checks.health()
    failing = checks.failing(parts)
    if failing:
        message = f"Unavailable: {', '.join(failing)}."
        return error_body(503, "unavailable", message, **parts), 503
    return {"status": "ok", **parts}, 200

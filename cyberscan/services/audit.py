"""The audit log: who did what to whom, why, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cyberscan.extensions import db
from cyberscan.models import AuditLog, User, utcnow


def record(
    actor: User | None,
    action: str,
    target: User | int | None,
    reason: str | None = None,
    *,
    at: datetime | None = None,
    **details: Any,
) -> AuditLog:
    """Stage one audit entry in the caller's transaction (None actor: the system)."""
    target_id = target.id if isinstance(target, User) else target
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        action=action,
        target_user_id=target_id,
        reason=reason,
        details=details,
        created_at=at or utcnow(),
    )
    db.session.add(entry)
    return entry

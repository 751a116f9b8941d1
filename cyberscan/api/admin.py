"""Admin REST (API.md §7): admins only; everyone else gets 403, no token 401."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, stream_with_context
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint

from cyberscan.errors import Forbidden
from cyberscan.models import AuditLog, Flag, User, utcnow
from cyberscan.pages import NO_STORE
from cyberscan.schemas.admin import (
    AdminUserEnvelopeSchema,
    AdminUserSchema,
    AuditEntrySchema,
    FlagQuerySchema,
    FlagSchema,
    KickResultSchema,
    MuteSchema,
    ReasonSchema,
    ReviewSchema,
    StatsQuerySchema,
    StatsSchema,
    SummarySchema,
    UnblockSchema,
    UserQuerySchema,
)
from cyberscan.schemas.common import PageQuerySchema, page_of
from cyberscan.services import admin, exports, reports
from cyberscan.services.pagination import Page

bp = Blueprint(
    "admin", __name__, url_prefix="/api/admin", description="Moderation and admin"
)

F = TypeVar("F", bound=Callable[..., Any])
CSV_DOC = {"200": {"description": "Streamed CSV", "content": {"text/csv": {}}}}


def admin_required(view: F) -> F:
    """A valid access token (401 otherwise) of an admin (403 otherwise)."""

    @wraps(view)
    @jwt_required()
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            raise Forbidden("Only administrators can do that.")
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def csv_response(chunks: Any, name: str) -> Response:
    """A streamed CSV download; the generator runs after the view returns."""
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(chunks),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"',
            **NO_STORE,
        },
    )


@bp.get("/summary")
@admin_required
@bp.response(200, SummarySchema)
def get_summary() -> dict[str, Any]:
    """Headline numbers: users, messages, flags, blocked, muted and online users."""
    return reports.summary()


@bp.get("/stats")
@admin_required
@bp.arguments(StatsQuerySchema, location="query")
@bp.response(200, StatsSchema)
def get_stats(query: dict[str, Any]) -> dict[str, Any]:
    """Messages and flagged share per hour, and the top offenders, for the dashboard."""
    return reports.stats(**query)


@bp.get("/flagged")
@admin_required
@bp.arguments(FlagQuerySchema, location="query")
@bp.response(200, page_of(FlagSchema))
def list_flagged(query: dict[str, Any]) -> Page[Flag]:
    """The moderation queue: flagged messages, posts and comments, newest first."""
    return admin.list_flags(**query)


@bp.post("/flagged/<int:flag_id>/review")
@admin_required
@bp.arguments(ReviewSchema, location="json")
@bp.response(200, FlagSchema)
def review_flagged(payload: dict[str, Any], flag_id: int) -> Flag:
    """Dismiss a flag (keep the item) or remove the flagged item."""
    return admin.review_flag(current_user, flag_id, **payload)


@bp.get("/users")
@admin_required
@bp.arguments(UserQuerySchema, location="query")
@bp.response(200, page_of(AdminUserSchema))
def list_users(query: dict[str, Any]) -> Page[User]:
    """Accounts with email, block, strike and mute state; `q` filters name or email."""
    return admin.list_users(**query)


@bp.post("/users/<username>/block")
@admin_required
@bp.arguments(ReasonSchema, location="json")
@bp.response(200, AdminUserEnvelopeSchema)
def block_user(payload: dict[str, Any], username: str) -> dict[str, Any]:
    """Block an account and close its live connections everywhere."""
    return {"user": admin.block_user(current_user, username, **payload)}


@bp.post("/users/<username>/unblock")
@admin_required
@bp.arguments(UnblockSchema, location="json")
@bp.response(200, AdminUserEnvelopeSchema)
def unblock_user(payload: dict[str, Any], username: str) -> dict[str, Any]:
    """Unblock an account; its bullying count restarts at 0 unless reset_count is false."""
    return {"user": admin.unblock_user(current_user, username, **payload)}


@bp.post("/users/<username>/mute")
@admin_required
@bp.arguments(MuteSchema, location="json")
@bp.response(200, AdminUserEnvelopeSchema)
def mute_user(payload: dict[str, Any], username: str) -> dict[str, Any]:
    """Mute a user for 1 to 10080 minutes: no sending, posting or commenting."""
    return {"user": admin.mute_user(current_user, username, **payload)}


@bp.post("/users/<username>/unmute")
@admin_required
@bp.arguments(ReasonSchema, location="json")
@bp.response(200, AdminUserEnvelopeSchema)
def unmute_user(payload: dict[str, Any], username: str) -> dict[str, Any]:
    """Lift a mute."""
    return {"user": admin.unmute_user(current_user, username, **payload)}


@bp.post("/users/<username>/kick")
@admin_required
@bp.arguments(ReasonSchema, location="json")
@bp.response(200, KickResultSchema)
def kick_user(payload: dict[str, Any], username: str) -> dict[str, Any]:
    """Close a user's live connections without blocking the account."""
    user, closed = admin.kick_user(current_user, username, **payload)
    return {"user": user, "disconnected": closed}


@bp.get("/audit-log")
@admin_required
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, page_of(AuditEntrySchema))
def list_audit_log(query: dict[str, Any]) -> Page[AuditLog]:
    """Who did what to whom, why and when; newest first."""
    return reports.audit_log(**query)


@bp.get("/export/users.csv")
@admin_required
@bp.doc(responses=CSV_DOC)
def export_users() -> Response:
    """Every account as a streamed CSV (no password hashes)."""
    return csv_response(exports.export_users_csv(), "users")


@bp.get("/export/messages.csv")
@admin_required
@bp.doc(responses=CSV_DOC)
def export_messages() -> Response:
    """Every message with its verdict as a streamed CSV."""
    return csv_response(exports.export_messages_csv(), "messages")

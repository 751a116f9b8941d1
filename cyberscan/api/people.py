"""People's controls (API.md §9): search, password, blocks, mutes, reports, strikes
and appeals."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_jwt_extended import current_user, get_jwt, jwt_required
from flask_smorest import Blueprint

from cyberscan.models import Appeal, User, UserBlock, UserMute, UserReport
from cyberscan.schemas.common import page_of
from cyberscan.schemas.people import (
    AppealCreateSchema,
    AppealSchema,
    BlockedUserSchema,
    BlockStateSchema,
    MessageResultSchema,
    MutedUserSchema,
    MuteStateSchema,
    PasswordChangeSchema,
    ReportCreateSchema,
    ReportSchema,
    StrikesSchema,
    UsernameSchema,
    UserSearchQuerySchema,
    WholeOrPageQuerySchema,
)
from cyberscan.services import appeals, auth, contacts, reporting
from cyberscan.services.pagination import Page
from cyberscan.services.ratelimit import password_check_limits

bp = Blueprint(
    "people",
    __name__,
    url_prefix="/api",
    description="People's controls: search, blocks, mutes, reports, strikes, appeals",
)

# The only endpoints an appeal token (a blocked login's) opens.
APPEAL_TOKEN_ENDPOINTS = frozenset({"people.get_strikes", "people.create_appeal"})


def token_scope_allows(header: dict[str, Any], claims: dict[str, Any]) -> bool:
    """An appeal token is good on the strikes and appeal endpoints only."""
    return (
        not auth.is_appeal_token(claims) or request.endpoint in APPEAL_TOKEN_ENDPOINTS
    )


@bp.get("/users/search")
@jwt_required()
@bp.arguments(UserSearchQuerySchema, location="query")
@bp.response(200, page_of(UsernameSchema))
def search_users(query: dict[str, Any]) -> Page[User]:
    """Users whose name starts with `q` (2 characters or more), to start a conversation."""
    return contacts.search(current_user, **query)


@bp.post("/me/password")
@jwt_required()
@password_check_limits
@bp.arguments(PasswordChangeSchema, location="json")
@bp.response(200, MessageResultSchema)
def change_password(payload: dict[str, Any]) -> dict[str, str]:
    """Change the password; every other token of the user is revoked."""
    auth.change_password(current_user, get_jwt(), **payload)
    return {"message": "Password changed; your other sessions are logged out."}


@bp.get("/me/blocks")
@jwt_required()
@bp.arguments(WholeOrPageQuerySchema, location="query")
@bp.response(200, page_of(BlockedUserSchema))
def list_blocks(query: dict[str, Any]) -> Page[UserBlock]:
    """The users the caller blocked, most recent first; `?limit=` pages them."""
    return contacts.blocks(current_user, **query)


@bp.put("/me/blocks/<string:username>")
@jwt_required()
@bp.response(200, BlockStateSchema)
def block_user(username: str) -> dict[str, Any]:
    """Block a user: neither can message the other or see the other's presence."""
    return {
        "username": contacts.block(current_user, username).username,
        "blocked": True,
    }


@bp.delete("/me/blocks/<string:username>")
@jwt_required()
@bp.response(200, BlockStateSchema)
def unblock_user(username: str) -> dict[str, Any]:
    """Lift the caller's block of a user."""
    other = contacts.unblock(current_user, username)
    return {"username": other.username, "blocked": False}


@bp.get("/me/mutes")
@jwt_required()
@bp.arguments(WholeOrPageQuerySchema, location="query")
@bp.response(200, page_of(MutedUserSchema))
def list_mutes(query: dict[str, Any]) -> Page[UserMute]:
    """The users the caller muted, most recent first; `?limit=` pages them."""
    return contacts.mutes(current_user, **query)


@bp.put("/me/mutes/<string:username>")
@jwt_required()
@bp.response(200, MuteStateSchema)
def mute_user(username: str) -> dict[str, Any]:
    """Mute a user: their messages are kept and readable, with no live event or unread."""
    return {"username": contacts.mute(current_user, username).username, "muted": True}


@bp.delete("/me/mutes/<string:username>")
@jwt_required()
@bp.response(200, MuteStateSchema)
def unmute_user(username: str) -> dict[str, Any]:
    """Lift a mute."""
    return {
        "username": contacts.unmute(current_user, username).username,
        "muted": False,
    }


@bp.post("/reports")
@jwt_required()
@bp.arguments(ReportCreateSchema, location="json")
@bp.response(201, ReportSchema)
def create_report(payload: dict[str, Any]) -> UserReport:
    """Report a message or a user to the moderators."""
    return reporting.file_report(current_user, **payload)


@bp.get("/me/strikes")
@jwt_required()
@bp.response(200, StrikesSchema)
def get_strikes() -> dict[str, Any]:
    """The caller's strikes and standing; an appeal token may read it."""
    return appeals.standing(current_user)


@bp.post("/appeals")
@jwt_required()
@bp.arguments(AppealCreateSchema, location="json")
@bp.response(201, AppealSchema)
def create_appeal(payload: dict[str, Any]) -> Appeal:
    """Contest one active strike; an appeal token may file it."""
    return appeals.file_appeal(current_user, **payload)

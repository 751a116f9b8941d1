"""Register, log in, refresh, log out, me (API.md §2)."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import current_user, get_jwt, jwt_required
from flask_smorest import Blueprint

from cyberscan.schemas.user import (
    AccessTokenSchema,
    LoginResultSchema,
    LoginSchema,
    LogoutResultSchema,
    RegisterSchema,
    UserEnvelopeSchema,
)
from cyberscan.services import auth
from cyberscan.services.ratelimit import login_limits, registration_limit

bp = Blueprint("auth", __name__, url_prefix="/api", description="Accounts and tokens")


@bp.post("/register")
@bp.doc(security=[])  # public: no token
@registration_limit
@bp.arguments(RegisterSchema, location="json")
@bp.response(201, UserEnvelopeSchema)
def register(payload: dict[str, Any]) -> dict[str, Any]:
    """Create an account."""
    return {"user": auth.register(**payload, member=True)}


@bp.post("/login")
@bp.doc(security=[])  # public: no token
@login_limits
@bp.arguments(LoginSchema, location="json")
@bp.response(200, LoginResultSchema)
def login(payload: dict[str, Any]) -> dict[str, Any]:
    """Log in by email or username; answers an access and a refresh token."""
    return auth.login(**payload)


@bp.post("/token/refresh")
@jwt_required(refresh=True)
@bp.response(200, AccessTokenSchema)
def refresh_token() -> dict[str, str]:
    """Trade a live refresh token for a new access token."""
    return {"access_token": auth.refresh(current_user, get_jwt()["jti"])}


@bp.post("/logout")
@jwt_required()
@bp.response(200, LogoutResultSchema)
def logout() -> dict[str, str]:
    """Revoke the access token used and its refresh token."""
    auth.revoke(get_jwt())
    return {"message": "Logged out."}


@bp.get("/me")
@jwt_required()
@bp.response(200, UserEnvelopeSchema)
def me() -> dict[str, Any]:
    """The current user, email included."""
    return {"user": current_user}

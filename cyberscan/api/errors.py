"""One error body for every REST failure (API.md §1)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from cyberscan.errors import (
    ERROR_CODES,
    CyberscanError,
    database_detail,
    error_body,
    log_unavailable,
)
from cyberscan.extensions import db, jwt
from cyberscan.services.auth import APPEAL_ONLY

MESSAGES = {
    400: "The request body must be a JSON object.",
    404: "Not found.",
    405: "That method is not allowed here.",
    413: "The request body is too large.",
    414: "The request line is too long.",
    422: "The request is not valid.",
    429: "Too many requests; slow down.",
    500: "Something went wrong on our side.",
    503: "A service this request needs is unavailable; nothing was changed.",
}


def http_error_body(error: HTTPException, payload: dict[str, Any]) -> dict[str, Any]:
    """flask-smorest's payload plus the contract's `error` code and a readable message."""
    status = error.code or 500
    message = payload.get("message") or MESSAGES.get(status) or error.name
    extra = {"errors": payload["errors"]} if "errors" in payload else {}
    return error_body(status, ERROR_CODES.get(status, "error"), message, **extra)


def error_response(status: int, code: str, message: str, **extra: Any):  # noqa: ANN201
    return jsonify(error_body(status, code, message, **extra)), status


def handle_domain_error(error: CyberscanError):  # noqa: ANN201
    db.session.rollback()
    response, status = error_response(
        error.status_code, error.code, error.message, **error.details
    )
    if error.status_code == 429:
        response.headers["Retry-After"] = str(error.details.get("retry_after", 1))
    return response, status


def handle_integrity_error(error: IntegrityError):  # noqa: ANN201
    db.session.rollback()
    return error_response(409, "conflict", "That conflicts with existing data.")


def handle_database_down(error: DBAPIError):  # noqa: ANN201
    db.session.rollback()
    log_unavailable(current_app.logger, "database", database_detail(error))
    return error_response(503, "unavailable", MESSAGES[503])


def handle_queue_down(error: RedisError):  # noqa: ANN201
    db.session.rollback()
    log_unavailable(current_app.logger, "Redis", str(error))
    return error_response(503, "unavailable", MESSAGES[503])


def handle_internal_error(error: HTTPException):  # noqa: ANN201
    # Flask has logged the exception with its traceback already: once is enough.
    db.session.rollback()
    original = getattr(error, "original_exception", None)
    if isinstance(original, OperationalError):
        return handle_database_down(original)
    if isinstance(original, RedisError):
        return handle_queue_down(original)
    return error_response(500, "internal_error", MESSAGES[500])


class DepthSafeJSONProvider(DefaultJSONProvider):
    """JSON nested too deeply for the parser is a client's bad JSON (400), not a
    RecursionError (500 and a traceback); Flask turns the ValueError into 400. So are
    NaN and Infinity, which Python's parser takes and JSON (RFC 8259) has not."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", not_json)
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON is nested too deeply.") from None


def not_json(constant: str) -> Any:
    """The `parse_constant` of the API's parser: NaN and ±Infinity are not JSON."""
    raise ValueError(f"{constant} is not JSON.")


def register_error_handlers(app: Flask) -> None:
    """Route every failure to the one error body."""
    app.json = DepthSafeJSONProvider(app)
    app.register_error_handler(CyberscanError, handle_domain_error)
    app.register_error_handler(RedisError, handle_queue_down)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InternalServerError, handle_internal_error)
    register_jwt_errors()


# The one endpoint that takes a refresh token (`api.auth.refresh_token`).
REFRESH_ENDPOINT = "auth.refresh_token"
# Flask-JWT-Extended's words for a token of the other kind, and ours.
WRONG_KIND = {
    "Only refresh tokens are allowed": "This needs a refresh token, not an access token.",
    "Only non-refresh tokens are allowed": (
        "This needs an access token, not a refresh token."
    ),
}


def register_jwt_errors() -> None:
    @jwt.unauthorized_loader
    def missing_token(reason: str):  # noqa: ANN202
        kind = "refresh" if request.endpoint == REFRESH_ENDPOINT else "access"
        return error_response(401, "unauthorized", f"A valid {kind} token is required.")

    @jwt.invalid_token_loader
    def invalid_token(reason: str):  # noqa: ANN202
        message = WRONG_KIND.get(reason, "The token is invalid.")
        return error_response(401, "unauthorized", message)

    @jwt.expired_token_loader
    def expired_token(header: dict, payload: dict):  # noqa: ANN202
        return error_response(401, "unauthorized", "The token has expired.")

    @jwt.revoked_token_loader
    def revoked_token(header: dict, payload: dict):  # noqa: ANN202
        return error_response(401, "unauthorized", "The token has been revoked.")

    @jwt.token_verification_failed_loader
    def wrong_scope(header: dict, payload: dict):  # noqa: ANN202
        # The one token that fails verification: an appeal token off its two endpoints.
        return error_response(401, "unauthorized", APPEAL_ONLY)

    @jwt.needs_fresh_token_loader
    def not_fresh(header: dict, payload: dict):  # noqa: ANN202
        return error_response(401, "unauthorized", "A fresh token is required.")

    @jwt.user_lookup_error_loader
    def unknown_user(header: dict, payload: dict):  # noqa: ANN202
        return error_response(
            401, "unauthorized", "The token's account no longer exists."
        )

"""Domain errors: services raise them, the REST and socket edges shape them; and how
the edges log a dependency being down."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from cyberscan.models.base import isoformat

# The contract's `error` code of each HTTP status (API.md §1).
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "bad_request",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def error_body(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The contract's error body (API.md §1): REST, the health check and the answers
    made below the app all build it here."""
    body = {
        "code": status,
        "status": HTTP_STATUS_CODES.get(status, "Error"),
        "error": code,
        "message": message,
    }
    body.update(extra)
    return body


class CyberscanError(Exception):
    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.details}


class BadRequest(CyberscanError):
    status_code, code = 400, "bad_request"


class ValidationFailed(CyberscanError):
    status_code, code = 422, "validation_error"
    message = "The request is not valid."


class Unauthorized(CyberscanError):
    status_code, code = 401, "unauthorized"
    message = "Authentication is required."


class Forbidden(CyberscanError):
    status_code, code = 403, "forbidden"
    message = "You are not allowed to do that."


class AccountBlocked(CyberscanError):
    status_code, code = 403, "blocked"
    message = "This account is blocked."

    @classmethod
    def because(cls, reason: str | None) -> AccountBlocked:
        """The refusal with ``{reason}``, as `account_blocked` says it."""
        return cls(reason=block_reason(reason))


def block_reason(reason: str | None) -> str:
    """What a blocked account is told: its ``blocked_reason``, or that it is blocked."""
    return reason or AccountBlocked.message


class Muted(CyberscanError):
    status_code, code = 403, "muted"
    message = "You are muted."

    def __init__(self, until: datetime) -> None:
        super().__init__(
            f"You are muted until {isoformat(until)}.", muted_until=isoformat(until)
        )


class NotFound(CyberscanError):
    status_code, code = 404, "not_found"
    message = "Not found."


class Conflict(CyberscanError):
    status_code, code = 409, "conflict"
    message = "That conflicts with existing data."


class RateLimited(CyberscanError):
    status_code, code = 429, "rate_limited"
    message = "Too many requests; slow down."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class Unavailable(CyberscanError):
    status_code, code = 503, "unavailable"
    message = "A service this request needs is unavailable; nothing was changed."


# While the database or Redis is down every request that needs it is refused: the log
# says so at once, then at most once per OUTAGE_LOG_SECONDS with how many more were
# refused, not once a request.
OUTAGE_LOG_SECONDS = 30.0
_outages: dict[tuple[str, str], tuple[float, int]] = {}
_outages_lock = threading.Lock()


def database_detail(exc: BaseException) -> str:
    """One log line for a database failure: the class and the driver's own message
    with its error code (the DBAPI error SQLAlchemy wraps, never the statement), e.g.
    ``OperationalError (2003, "Can't connect ...")``."""
    cause = getattr(exc, "orig", None) or exc
    return " ".join(f"{type(exc).__name__} {cause}".split())


def log_unavailable(logger: logging.Logger, what: str, detail: str) -> None:
    """Log that a request was refused because `what` ("database", "Redis") is down."""
    key, now = (logger.name, what), time.monotonic()
    with _outages_lock:
        last, skipped = _outages.get(key, (now - OUTAGE_LOG_SECONDS, 0))
        if now - last < OUTAGE_LOG_SECONDS:
            _outages[key] = (last, skipped + 1)
            return
        _outages[key] = (now, 0)
    more = f" ({skipped} more refused since the last line)" if skipped else ""
    logger.error("%s unavailable: %s%s", what, detail, more)

"""Rate limits: per-user sliding windows for sending, and the login budgets.

Sending (socket, REST, posts, comments) counts through `hit`; the login routes of the
API and the dashboard share `login_limits` (Flask-Limiter, keyed per request).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request
from flask_jwt_extended import current_user
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.exc import DBAPIError

from cyberscan.errors import RateLimited
from cyberscan.extensions import db
from cyberscan.extensions import limiter as login_limiter
from cyberscan.services import users

EXTENSION = "cyberscan.ratelimit"
LOGIN_KEY = "cyberscan_login_account_key"


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


def _item(app: Flask, limiter: Limiter, setting: str) -> RateLimitItem:
    """The limit config `setting` names, parsed once per app."""
    item = limiter.items.get(setting)
    if item is None:
        item = limiter.items[setting] = parse(app.config[setting])
    return item


def _active(setting: str) -> tuple[Flask, Limiter, RateLimitItem] | None:
    """The app, its limiter and the limit config `setting` names; None when limits
    are off."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    limiter = _limiter(app)
    if not limiter.enabled:
        return None
    return app, limiter, _item(app, limiter, setting)


def hit(setting: str, *identifiers: str | int, what: str = "messages") -> None:
    """Count one use of the limit named by config `setting`; RateLimited when over it
    (its message says "Too many `what`")."""
    active = _active(setting)
    if active is None:
        return
    app, limiter, item = active
    # The channel separates deployments (and test runs) that share one Redis.
    channel = app.config.get("SOCKETIO_CHANNEL") or "flask-socketio"
    keys = [channel, setting, *map(str, identifiers)]
    if not limiter.strategy.hit(item, *keys):
        stats = limiter.strategy.get_window_stats(item, *keys)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            retry_after, f"Too many {what}; try again in {retry_after} s."
        )


BUDGET_KEY = "event_budget"


def spend_event(connection: MutableMapping[str, Any]) -> None:
    """Spend one of a socket connection's SOCKET_EVENT_LIMIT events; RateLimited when
    none is left. A token bucket kept in the connection's own session (a connection
    lives on one process: no Redis round trip per event), refilled evenly over the
    limit's window, so a burst up to the limit passes and a flood stops here, before
    any query or delivery."""
    active = _active("SOCKET_EVENT_LIMIT")
    if active is None:
        return
    item = active[2]
    capacity, window = item.amount, item.get_expiry()
    now = time.monotonic()
    left, since = connection.get(BUDGET_KEY, (capacity, now))
    left = min(capacity, left + (now - since) * capacity / window)
    if left < 1:
        connection[BUDGET_KEY] = (left, now)
        retry_after = max(1, math.ceil((1 - left) * window / capacity))
        raise RateLimited(
            retry_after,
            f"Too many events on this connection; try again in {retry_after} s.",
        )
    connection[BUDGET_KEY] = (left - 1, now)


def account_key(user_id: int) -> str:
    """Rate-limit key of an account's failed password checks."""
    return f"login-account:{user_id}"


def login_account_key() -> str:
    """Rate-limit key for the account a login names (failures only count): the
    account's own, whichever name opens it (its username or its email, in any case,
    with the spaces around it that login ignores), so each spelling does not get a
    budget of its own. A name no account has is keyed by itself, as login reads it.
    Looked up once a request (the limits ask for it before and after the view)."""
    key = g.get(LOGIN_KEY)
    if key is None:
        body = request.get_json(silent=True)
        given = body if isinstance(body, dict) else {}
        email, username = (
            value.strip(" ")[:254] if isinstance(value, str) else None
            for value in (given.get("email"), given.get("username"))
        )
        try:
            user = users.find_by_login(username=username, email=email)
        except DBAPIError:
            # The view meets the same failure and answers 503; flask-limiter would
            # take an error here for its own storage failing, and log so.
            db.session.rollback()
            user = None
        name = (email or username or "").lower()
        key = account_key(user.id) if user else f"login-name:{name}"
        g.setdefault(LOGIN_KEY, key)
    return key


def current_account_key() -> str:
    """Rate-limit key for the token's account: the one its logins spend."""
    return account_key(current_user.id)


def login_failed(response: Any) -> bool:
    return response.status_code in (401, 403)


def failed_password_limits(
    view: Callable[..., Any], key: Callable[[], str]
) -> Callable[..., Any]:
    """The per-account budgets of failed password checks: every wrong password for
    the account `key` names spends one per address and one overall, whichever door
    it came through (login, dashboard login, password change)."""
    per_account_address = login_limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"],
        scope="login-account-address",
        key_func=lambda: f"{key()}:{request.remote_addr or ''}",
        deduct_when=login_failed,
    )
    per_account = login_limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
        scope="login-account",
        key_func=key,
        deduct_when=login_failed,
    )
    return per_account_address(per_account(view))


def login_limits(view: Callable[..., Any]) -> Callable[..., Any]:
    """Rate limits shared by every login door (API and dashboard): one budget per
    address; failed attempts spend one per account and address, and a slower one per
    account. Keyed on the name alone, ten wrong passwords from anywhere locked the
    owner out: now a guesser throttles only its own address, and only a distributed
    guess at the global budget's scale reaches the account itself."""
    per_address = login_limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], scope="login-address"
    )
    return per_address(failed_password_limits(view, login_account_key))


def password_check_limits(view: Callable[..., Any]) -> Callable[..., Any]:
    """A wrong current password (a logged-in guesser's) spends the account's failed
    login budgets; once over them, the check answers 429 without running the hash.
    Goes under `jwt_required`: the key is the token's user."""
    return failed_password_limits(view, current_account_key)


def registration_limit(view: Callable[..., Any]) -> Callable[..., Any]:
    """Registrations per client address."""
    return login_limiter.limit(
        lambda: current_app.config["REGISTER_LIMIT_PER_ADDRESS"],
        scope="register-address",
    )(view)

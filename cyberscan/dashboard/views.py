"""Dashboard routes: login/logout with an HttpOnly JWT cookie, the page, its assets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_jwt_extended import (
    get_current_user,
    get_jwt,
    set_access_cookies,
    unset_jwt_cookies,
    verify_jwt_in_request,
)
from flask_jwt_extended.exceptions import CSRFError, JWTExtendedException
from jwt import PyJWTError
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from cyberscan.errors import (
    AccountBlocked,
    BadRequest,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from cyberscan.models import User
from cyberscan.pages import add_security_headers
from cyberscan.schemas.user import LoginSchema, UserPrivateSchema
from cyberscan.services import auth
from cyberscan.services.ratelimit import login_limits

bp = Blueprint("dashboard", __name__, url_prefix="/admin", template_folder="templates")

STATIC_DIR = Path(__file__).resolve().parent / "static"
# What the login page itself loads; everything else under /admin/static is admin-only
# so that nothing under /admin answers a non-admin (the assets hold no data either way).
PUBLIC_ASSETS = frozenset({"dashboard.css", "login.js", "session-keys.js"})
PUBLIC_ENDPOINTS = frozenset(
    {"dashboard.login_page", "dashboard.login", "dashboard.logout"}
)

bp.after_request(add_security_headers)


def wants_html() -> bool:
    """A browser navigation (GET that prefers HTML) rather than a script's request."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.method == "GET" and best == "text/html"


def current_admin() -> User:
    """The admin this request is authenticated as (cookie or Bearer header)."""
    try:
        found = verify_jwt_in_request()
    except CSRFError as exc:
        raise Unauthorized(
            "The X-CSRF-TOKEN header is missing or does not match."
        ) from exc
    except (JWTExtendedException, PyJWTError) as exc:
        raise Unauthorized("Log in as an administrator.") from exc
    user = get_current_user() if found else None  # None for exempt (OPTIONS) requests
    if user is None:
        raise Unauthorized("Log in as an administrator.")
    if not user.is_admin:
        raise Forbidden(auth.ADMINS_ONLY)
    return user


@bp.before_request
def require_admin() -> ResponseReturnValue | None:
    """Refuse every /admin URL to anyone but an admin, except the login page's needs."""
    if request.endpoint in PUBLIC_ENDPOINTS or (
        request.endpoint == "dashboard.static_file"
        and (request.view_args or {}).get("filename") in PUBLIC_ASSETS
    ):
        return None
    try:
        g.admin = current_admin()
    except Unauthorized:
        if wants_html():
            return redirect(url_for("dashboard.login_page"))
        raise
    except (Forbidden, AccountBlocked) as exc:
        if wants_html():
            page = render_template("dashboard/forbidden.html", message=exc.message)
            return page, exc.status_code
        raise
    return None


def json_object() -> dict[str, Any]:
    """The request body as a JSON object (400 otherwise)."""
    body = request.get_json(silent=True)
    if not request.is_json or not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


@bp.get("/login")
def login_page() -> str:
    """The login form (public)."""
    return render_template("dashboard/login.html")


@bp.post("/login")
@login_limits
def login() -> Response:
    """Log an admin in: sets the HttpOnly access cookie and its CSRF cookie."""
    try:
        payload = LoginSchema().load(json_object())
    except ValidationError as exc:
        raise ValidationFailed(errors={"json": exc.messages}) from exc
    user, access = auth.dashboard_login(**payload)
    response = jsonify(
        {"username": user.username, "user": UserPrivateSchema().dump(user)}
    )
    set_access_cookies(response, access)
    return response


@bp.post("/logout")
def logout() -> Response:
    """Revoke the cookie's token (when it is still valid) and clear the cookies."""
    try:
        verify_jwt_in_request(locations=["cookies"])
    except CSRFError as exc:  # a valid session is only ended by its own page
        raise Unauthorized(
            "The X-CSRF-TOKEN header is missing or does not match."
        ) from exc
    except (JWTExtendedException, PyJWTError, AccountBlocked):
        pass  # no usable token: there is nothing to revoke, only cookies to clear
    else:
        auth.revoke(get_jwt())
    response = jsonify({"message": "Logged out."})
    unset_jwt_cookies(response)
    return response


@bp.post("/session")
def renew_session() -> Response:
    """A fresh access cookie for an admin at work, so the session slides while in use,
    up to ADMIN_SESSION_HOURS after its login."""
    claims = get_jwt()
    token = auth.refresh(
        g.admin, claims.get(auth.REFRESH_CLAIM), auth.dashboard_session_end(claims)
    )
    response = jsonify({"message": "Session renewed."})
    set_access_cookies(response, token)
    return response


@bp.get("")
@bp.get("/")
def dashboard_page() -> str:
    """The dashboard (admins only)."""
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return render_template(
        "dashboard/dashboard.html",
        admin=g.admin,
        session_seconds=int(lifetime.total_seconds()),
    )


@bp.get("/static/<path:filename>")
def static_file(filename: str) -> Response:
    """The dashboard's CSS, scripts and vendored libraries."""
    return send_from_directory(STATIC_DIR, filename, max_age=0)


@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(anything: str) -> Response:
    """Unknown /admin URLs: only admins get as far as learning that they do not exist."""
    raise NotFound()

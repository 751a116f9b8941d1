"""The /admin dashboard: cookie login, CSRF, CSP, and refusal of everyone but admins."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from flask_jwt_extended import decode_token, get_csrf_token

from cyberscan.extensions import db
from cyberscan.models import User
from cyberscan.services import auth
from tests.helpers import PASSWORD, assert_error, bearer

DASHBOARD = Path(__file__).resolve().parent.parent / "cyberscan" / "dashboard"

# Every URL under /admin that needs an admin (the catch-all answers admins with 404).
ADMIN_ONLY = [
    ("GET", "/admin", 200),
    ("GET", "/admin/", 200),
    ("GET", "/admin/static/dashboard.js", 200),
    ("GET", "/admin/static/charts.js", 200),
    ("GET", "/admin/static/api.js", 200),
    ("POST", "/admin/session", 200),
    ("GET", "/admin/static/vendor/socket.io.min.js", 200),
    ("GET", "/admin/static/vendor/socket.io-client.LICENSE", 200),
    ("GET", "/admin/static/no-such-file.js", 404),
    ("GET", "/admin/users", 404),
    ("POST", "/admin/anything", 404),
    ("DELETE", "/admin/static/dashboard.js", 404),
]
# The public URLs, with what each must hold: the form, and the files it loads.
PUBLIC = {
    "/admin/login": (
        "text/html",
        [
            '<form id="login-form"',
            '<input id="login-name"',
            '<input id="login-password" name="password" type="password"',
            '<button id="login-submit" type="submit"',
            '<script type="module" src="/admin/static/login.js">',
            '<link rel="stylesheet" href="/admin/static/dashboard.css">',
        ],
    ),
    "/admin/static/login.js": (
        "text/javascript",
        ['document.getElementById("login-form")', 'fetch("/admin/login"'],
    ),
    "/admin/static/session-keys.js": (
        "text/javascript",
        ['export const SESSION_ENDED = "cyberscan-admin:session-ended"'],
    ),
    "/admin/static/dashboard.css": ("text/css", [".login-card {"]),
}
JSON_ACCEPT = {"Accept": "application/json"}
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def cookie_login(client: FlaskClient, user: User, password: str = PASSWORD) -> Any:
    """POST /admin/login; the test client keeps the cookies it sets."""
    return client.post(
        "/admin/login", json={"username": user.username, "password": password}
    )


def set_cookies(response: Any) -> dict[str, SimpleCookie]:
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        for name in parsed:
            cookies[name] = header
    return cookies


def csrf_headers(client: FlaskClient) -> dict[str, str]:
    cookie = client.get_cookie("csrf_access_token")
    assert cookie is not None
    return {"X-CSRF-TOKEN": cookie.value}


def call(client: FlaskClient, method: str, url: str, **kwargs: Any) -> Any:
    """A request whose body is read and whose file (static assets) is closed."""
    headers = {**JSON_ACCEPT, **kwargs.pop("headers", {})}
    response = client.open(url, method=method, headers=headers, **kwargs)
    response.get_data()
    response.close()
    return response


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user("plain_user")


# ---------------------------------------------------------------- refusal everywhere


@pytest.mark.parametrize(("method", "url", "admin_status"), ADMIN_ONLY)
def test_admin_urls_refuse_requests_without_a_token(client, method, url, admin_status):
    response = call(client, method, url)
    assert_error(response, 401, "unauthorized")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.mark.parametrize(("method", "url", "admin_status"), ADMIN_ONLY)
def test_admin_urls_refuse_a_user_with_a_bearer_header(
    client, user, auth_headers, method, url, admin_status
):
    response = call(client, method, url, headers=auth_headers(user))
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize(("method", "url", "admin_status"), ADMIN_ONLY)
def test_admin_urls_refuse_a_user_with_the_session_cookie(
    app, client, user, login, method, url, admin_status
):
    # A user cannot get the cookie from /admin/login, so plant their API token in it,
    # with a matching CSRF header: the refusal is the admin check, not the CSRF check.
    token = login(user)["access_token"]
    with app.app_context():
        csrf = get_csrf_token(token)
    client.set_cookie("access_token_cookie", token)
    client.set_cookie("csrf_access_token", csrf)
    response = call(client, method, url, headers={"X-CSRF-TOKEN": csrf})
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize(("method", "url", "admin_status"), ADMIN_ONLY)
def test_admin_urls_refuse_a_cookie_without_its_csrf_header_for_changes(
    client, admin, method, url, admin_status
):
    assert cookie_login(client, admin).status_code == 200
    response = call(client, method, url)
    if method == "GET":
        assert response.status_code == admin_status
    else:
        assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize(("method", "url", "admin_status"), ADMIN_ONLY)
def test_admin_urls_answer_an_admin_with_a_bearer_header(
    client, admin, admin_headers, method, url, admin_status
):
    response = call(client, method, url, headers=admin_headers)
    assert response.status_code == admin_status, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize(("method", "url", "admin_status"), ADMIN_ONLY)
def test_admin_urls_answer_an_admin_with_the_session_cookie(
    client, admin, method, url, admin_status
):
    assert cookie_login(client, admin).status_code == 200
    response = call(client, method, url, headers=csrf_headers(client))
    assert response.status_code == admin_status, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("url", PUBLIC)
def test_login_page_and_its_assets_are_public(client, url):
    response = call(client, "GET", url, headers=HTML_ACCEPT)
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers
    mimetype, holds = PUBLIC[url]
    assert response.mimetype == mimetype
    body = response.get_data(as_text=True)
    for part in holds:
        assert part in body, (url, part)


def test_public_assets_hold_no_data(client):
    css = call(client, "GET", "/admin/static/dashboard.css").get_data(as_text=True)
    scripts = "".join(
        call(client, "GET", f"/admin/static/{name}").get_data(as_text=True)
        for name in ("login.js", "session-keys.js")
    )
    assert "/api/admin" not in css + scripts


def test_a_browser_without_a_session_is_sent_to_the_login_page(client):
    response = client.get("/admin", headers=HTML_ACCEPT)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/login")


def test_a_logged_in_user_browsing_to_admin_gets_a_forbidden_page(
    client, user, auth_headers
):
    response = client.get("/admin", headers={**HTML_ACCEPT, **auth_headers(user)})
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "administrators only" in response.get_data(as_text=True)
    assert "Content-Security-Policy" in response.headers


def test_a_blocked_admin_is_refused(app, client, make_user):
    admin = make_user("fallen_admin", is_admin=True)
    assert cookie_login(client, admin).status_code == 200
    with app.app_context():
        db.session.get(User, admin.id).is_blocked = True
        db.session.commit()
    assert_error(call(client, "GET", "/admin"), 403, "blocked")
    page = client.get("/admin", headers=HTML_ACCEPT)
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert_error(cookie_login(client, admin), 403, "blocked")


def test_a_forged_or_expired_cookie_is_refused(app, client, admin, login):
    token = login(admin)["access_token"]
    client.set_cookie("access_token_cookie", token[:-4] + "AAAA")
    assert_error(call(client, "GET", "/admin"), 401, "unauthorized")
    with app.app_context():
        from datetime import timedelta

        from flask_jwt_extended import create_access_token

        expired = create_access_token(
            identity=str(admin.id), expires_delta=timedelta(seconds=-60)
        )
    client.set_cookie("access_token_cookie", expired)
    assert_error(call(client, "GET", "/admin"), 401, "unauthorized")


# ---------------------------------------------------------------- login and logout


def test_admin_login_sets_an_httponly_strict_cookie_and_a_csrf_cookie(client, admin):
    response = cookie_login(client, admin)
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == admin.username
    assert body["user"]["is_admin"] is True
    assert "access_token" not in body and "refresh_token" not in body
    cookies = set_cookies(response)
    access = cookies["access_token_cookie"].lower()
    assert "httponly" in access and "samesite=strict" in access and "path=/" in access
    csrf = cookies["csrf_access_token"].lower()
    assert "httponly" not in csrf and "samesite=strict" in csrf
    page = client.get("/admin")
    assert page.status_code == 200
    assert admin.username in page.get_data(as_text=True)


def test_login_accepts_an_email_too(client, admin):
    response = client.post(
        "/admin/login", json={"email": "ROOT_ADMIN@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200


def test_a_non_admin_gets_no_cookie_from_the_dashboard_login(client, user):
    response = cookie_login(client, user)
    assert_error(response, 403, "forbidden")
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("access_token_cookie") is None


@pytest.fixture
def tokens_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kind of every token the auth service makes from here on."""
    made: list[str] = []
    for kind in ("access", "refresh"):
        name = f"create_{kind}_token"
        real = getattr(auth, name)

        def counted(*args: Any, _real: Any = real, _kind: str = kind, **kw: Any) -> str:
            made.append(_kind)
            return _real(*args, **kw)

        monkeypatch.setattr(auth, name, counted)
    return made


def test_the_dashboard_login_makes_one_token_for_an_admin_and_none_for_others(
    app, client, admin, user, tokens_made
):
    assert_error(cookie_login(client, user), 403, "forbidden")
    assert tokens_made == []
    assert cookie_login(client, admin).status_code == 200
    assert tokens_made == ["access"]  # the cookie's: no refresh token leaves the server
    with app.app_context():
        claims = decode_token(client.get_cookie("access_token_cookie").value)
    assert claims["rjti"] != claims["jti"]  # the session's id, which logout revokes


def test_wrong_password_is_refused_without_a_cookie(client, admin):
    response = cookie_login(client, admin, password="not the password")
    assert_error(response, 401, "unauthorized")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"password": PASSWORD},
        {"username": "root_admin"},
        {"username": "root_admin", "email": "root@example.com", "password": PASSWORD},
        {"username": 7, "password": PASSWORD},
        {"username": "root_admin", "password": PASSWORD, "is_admin": True},
    ],
)
def test_login_rejects_bad_payloads(client, admin, payload):
    body = assert_error(
        client.post("/admin/login", json=payload), 422, "validation_error"
    )
    assert "json" in body["errors"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("username=root_admin", "application/x-www-form-urlencoded"),
        ("[1]", "application/json"),
        ("{", "application/json"),
    ],
)
def test_login_rejects_a_body_that_is_not_a_json_object(client, data, content_type):
    response = client.post("/admin/login", data=data, content_type=content_type)
    assert_error(response, 400, "bad_request")


def test_cookie_requests_that_change_state_need_the_csrf_header(client, admin):
    assert cookie_login(client, admin).status_code == 200
    assert_error(client.post("/api/logout"), 401, "unauthorized")
    wrong = {"X-CSRF-TOKEN": "not-the-token"}
    assert_error(client.post("/api/logout", headers=wrong), 401, "unauthorized")
    assert_error(client.post("/admin/logout", headers=wrong), 401, "unauthorized")
    assert client.get("/admin").status_code == 200  # the session survived
    assert client.get("/api/me").get_json()["user"]["username"] == admin.username


def test_the_admin_api_takes_the_cookie_but_only_with_the_csrf_header(
    app, client, admin, user
):
    """The page calls /api/admin/* with the cookie; a forged form post cannot."""
    assert cookie_login(client, admin).status_code == 200
    assert client.get("/api/admin/summary").status_code == 200
    url = f"/api/admin/users/{user.username}/block"
    assert_error(client.post(url, json={}), 401, "unauthorized")
    with app.app_context():
        assert db.session.get(User, user.id).is_blocked is False
    response = client.post(url, json={}, headers=csrf_headers(client))
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        assert db.session.get(User, user.id).is_blocked is True


def test_logout_revokes_the_cookie_token_and_clears_the_cookies(client, admin):
    assert cookie_login(client, admin).status_code == 200
    token = client.get_cookie("access_token_cookie").value
    response = client.post("/admin/logout", headers=csrf_headers(client))
    assert response.status_code == 200
    cleared = set_cookies(response)
    assert {"access_token_cookie", "csrf_access_token"} <= set(cleared)
    assert client.get_cookie("access_token_cookie") is None
    assert_error(call(client, "GET", "/admin"), 401, "unauthorized")
    # The token itself is dead, not just forgotten by this browser.
    assert_error(client.get("/api/me", headers=bearer(token)), 401, "unauthorized")
    client.set_cookie("access_token_cookie", token)
    assert_error(call(client, "GET", "/admin"), 401, "unauthorized")


def test_logout_without_a_session_just_clears_cookies(client):
    response = client.post("/admin/logout")
    assert response.status_code == 200
    assert "access_token_cookie" in set_cookies(response)


class TestLoginRateLimit:
    @pytest.fixture
    def app_settings(self) -> dict[str, Any]:
        return {
            "RATELIMIT_ENABLED": True,
            "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
            "LOGIN_LIMIT_PER_ADDRESS": "20 per minute",
        }

    def test_failed_dashboard_logins_are_limited_per_account(self, client, admin):
        for _ in range(3):
            assert cookie_login(client, admin, "wrong password").status_code == 401
        response = cookie_login(client, admin)
        assert_error(response, 429, "rate_limited")
        assert int(response.headers["Retry-After"]) > 0


# ---------------------------------------------------------------- page hardening


def test_pages_send_a_strict_content_security_policy(client, admin):
    cookie_login(client, admin)
    for url in ("/admin", "/admin/login"):
        response = client.get(url)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_script_and_load_nothing_from_elsewhere(client, admin):
    cookie_login(client, admin)
    for url in ("/admin", "/admin/login"):
        html = client.get(url).get_data(as_text=True)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
        assert scripts
        for attrs, body in scripts:
            assert 'src="/admin/static/' in attrs and not body.strip()
        assert not re.search(r"\son[a-z]+\s*=", html)  # no inline event handlers
        assert not re.search(r"(src|href)=\"(https?:)?//", html)  # no CDN


def test_the_admin_name_is_escaped_in_the_page(app, client, make_user):
    admin = make_user("x.admin", is_admin=True)
    with app.app_context():  # usernames are restricted; prove escaping all the same
        db.session.get(User, admin.id).username = "<b>x</b>"
        db.session.commit()
    client.post("/admin/login", json={"email": admin.email, "password": PASSWORD})
    html = client.get("/admin").get_data(as_text=True)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_scripts_never_write_markup_from_data():
    """User strings reach the DOM through textContent only (checked in the browser too)."""
    modules = sorted((DASHBOARD / "static").glob("*.js"))
    assert {
        "dashboard.js",
        "api.js",
        "queue.js",
        "users.js",
        "charts.js",
        "live.js",
    } <= {path.name for path in modules}
    for path in modules:
        source = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in source, (path.name, sink)


def test_every_module_import_resolves_to_a_served_module(client, admin):
    """The ES modules import each other by relative path; a typo is a blank page."""
    cookie_login(client, admin)
    html = client.get("/admin").get_data(as_text=True)
    assert 'type="module" src="/admin/static/dashboard.js"' in html
    for path in (DASHBOARD / "static").glob("*.js"):
        for target in re.findall(r'from "\./([\w-]+\.js)"', path.read_text()):
            response = call(client, "GET", f"/admin/static/{target}")
            assert response.status_code == 200, (path.name, target)
            assert response.mimetype == "text/javascript", target


def test_renewing_the_session_slides_it_and_logout_still_ends_it(app, client, admin):
    assert cookie_login(client, admin).status_code == 200
    html = client.get("/admin").get_data(as_text=True)
    lifetime = int(app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
    assert f'data-session-seconds="{lifetime}"' in html
    first = client.get_cookie("access_token_cookie").value
    time.sleep(1.1)  # token times are whole seconds: the renewed one must end later
    response = client.post("/admin/session", headers=csrf_headers(client))
    assert response.status_code == 200, response.get_json()
    assert {"access_token_cookie", "csrf_access_token"} <= set(set_cookies(response))
    renewed = client.get_cookie("access_token_cookie").value
    with app.app_context():
        old, new = decode_token(first), decode_token(renewed)
    assert new["exp"] > old["exp"] and new["sub"] == old["sub"]
    assert new["rjti"] == old["rjti"]  # same login: one logout ends every renewal
    assert call(client, "GET", "/admin").status_code == 200
    assert client.post("/admin/logout", headers=csrf_headers(client)).status_code == 200
    for token in (first, renewed):
        assert_error(client.get("/api/me", headers=bearer(token)), 401, "unauthorized")


def test_an_api_token_renewed_here_ends_its_hours_after_it_was_issued(
    app, client, admin, admin_headers
):
    """An admin's API access token (Bearer) may start a dashboard session, but that
    session ends ADMIN_SESSION_HOURS after the token was issued: renewing it chained
    fresh tokens without an end."""
    with app.app_context():
        issued = decode_token(admin_headers["Authorization"].split()[1])
    hours = app.config["ADMIN_SESSION_HOURS"]
    response = client.post("/admin/session", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        renewed = decode_token(client.get_cookie("access_token_cookie").value)
    assert renewed["send"] == issued["iat"] + hours * 3600
    assert renewed["exp"] <= renewed["send"]
    again = client.post(
        "/admin/session", headers=bearer(client.get_cookie("access_token_cookie").value)
    )
    assert again.status_code == 200, again.get_json()
    with app.app_context():
        last = decode_token(client.get_cookie("access_token_cookie").value)
    assert last["send"] == renewed["send"]  # a renewal never moves the end


def test_a_session_ends_its_hours_after_login_however_much_it_is_renewed(
    app, client, admin
):
    """ADMIN_SESSION_HOURS after the login, renewals included, the session is over."""
    from cyberscan.services import auth

    assert cookie_login(client, admin).status_code == 200
    with app.app_context():
        login = decode_token(client.get_cookie("access_token_cookie").value)
    hours = app.config["ADMIN_SESSION_HOURS"]
    assert abs(login["send"] - (login["iat"] + hours * 3600)) <= 2
    assert login["exp"] <= login["send"]
    response = client.post("/admin/session", headers=csrf_headers(client))
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        renewed = decode_token(client.get_cookie("access_token_cookie").value)
    assert renewed["send"] == login["send"]  # a renewal never moves the end
    # The same login one second before its end: the cookie's token ends with it.
    with app.app_context():
        user = db.session.get(User, admin.id)
        last = auth.refresh(user, login["rjti"], int(time.time()) + 1)
        assert decode_token(last)["exp"] <= decode_token(last)["send"]
    client.set_cookie("access_token_cookie", last)
    time.sleep(2.1)  # token times are whole seconds
    response = client.post("/admin/session", headers=csrf_headers(client))
    assert_error(response, 401, "unauthorized")
    assert_error(call(client, "GET", "/admin"), 401, "unauthorized")


def test_vendored_socket_io_client_matches_the_lockfile():
    import json

    root = Path(__file__).resolve().parent.parent
    lock = json.loads((root / "dashboard-ui" / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/socket.io-client"]["version"]
    bundle = (DASHBOARD / "static" / "vendor" / "socket.io.min.js").read_text()
    assert f"Socket.IO v{version}" in bundle[:200]

"""Everything under /api/admin is for admins only: 401 without a token, 403 otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cyberscan.extensions import db
from cyberscan.models import AuditLog, User
from tests.helpers import assert_error, bearer

# (method, path, body): every admin route, with a body that would be valid for an admin.
ADMIN_ROUTES = [
    ("GET", "/api/admin/summary", None),
    ("GET", "/api/admin/stats", None),
    ("GET", "/api/admin/flagged", None),
    ("POST", "/api/admin/flagged/1/review", {"action": "dismiss"}),
    ("GET", "/api/admin/users", None),
    ("POST", "/api/admin/users/victim/block", {"reason": "x"}),
    ("POST", "/api/admin/users/victim/unblock", {}),
    ("POST", "/api/admin/users/victim/mute", {"minutes": 5}),
    ("POST", "/api/admin/users/victim/unmute", {}),
    ("POST", "/api/admin/users/victim/kick", {}),
    ("GET", "/api/admin/audit-log", None),
    ("GET", "/api/admin/export/users.csv", None),
    ("GET", "/api/admin/export/messages.csv", None),
    ("GET", "/api/admin/flagged/1/context", None),
    ("GET", "/api/admin/appeals", None),
    ("POST", "/api/admin/appeals/1", {"decision": "accept"}),
    ("GET", "/api/admin/reports", None),
    ("POST", "/api/admin/reports/1/review", {"action": "dismiss"}),
]


def call(client, method, path, body, headers=None):
    return client.open(path, method=method, json=body, headers=headers or {})


def test_the_list_covers_every_admin_route(app):
    """A new admin route must be added to ADMIN_ROUTES, so it is tested for 401/403."""
    listed = {
        (method, path.replace("victim", "<username>"))
        for method, path, _ in ADMIN_ROUTES
    }
    listed = {
        (
            method,
            path.replace("/flagged/1/", "/flagged/<int:flag_id>/")
            .replace("/appeals/1", "/appeals/<int:appeal_id>")
            .replace("/reports/1/", "/reports/<int:report_id>/"),
        )
        for method, path in listed
    }
    registered = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/admin")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert registered == listed


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_route_without_token_is_401(client, make_user, method, path, body):
    make_user("victim")
    assert_error(call(client, method, path, body), 401, "unauthorized")
    assert_error(
        call(client, method, path, body, bearer("not.a.jwt")), 401, "unauthorized"
    )


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_route_for_a_regular_user_is_403_and_changes_nothing(
    client, app, make_user, auth_headers, method, path, body
):
    victim = make_user("victim")
    headers = auth_headers(make_user("mallory"))
    assert_error(call(client, method, path, body, headers), 403, "forbidden")
    with app.app_context():
        user = db.session.get(User, victim.id)
        assert not user.is_blocked and user.muted_until is None
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def stored_victim(app):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "victim"))
        actions = db.session.scalars(select(AuditLog.action)).all()
        return user, actions


def json_ok(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def csv_rows(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return response.get_data(as_text=True).lstrip("\ufeff").splitlines()


def acted(response, app, action, **state):
    """The answer shows the victim changed, the database holds it, the audit log says so."""
    body = json_ok(response)
    assert body["user"]["username"] == "victim"
    user, actions = stored_victim(app)
    for name, value in state.items():
        shown = body["user"][name]
        assert (shown is not None) if value is ... else shown == value, name
        stored = getattr(user, name)
        assert (stored is not None) if value is ... else stored == value, name
    assert actions == [action]
    return body


# What an admin sees from each route, on a database holding root_admin and victim.
ADMIN_SEES = {
    "/api/admin/summary": lambda r, app: (
        json_ok(r)["total_users"] == 2 and json_ok(r)["blocked_users"] == 0
    ),
    "/api/admin/stats": lambda r, app: len(json_ok(r)["hours"]) == 24,
    "/api/admin/flagged": lambda r, app: (
        json_ok(r) == {"items": [], "next_cursor": None}
    ),
    "/api/admin/flagged/1/review": lambda r, app: (
        assert_error(r, 404, "not_found") and stored_victim(app)[1] == []
    ),
    "/api/admin/users": lambda r, app: (
        [u["username"] for u in json_ok(r)["items"]] == ["root_admin", "victim"]
    ),
    "/api/admin/users/victim/block": lambda r, app: acted(
        r, app, "block", is_blocked=True, blocked_reason="x"
    ),
    "/api/admin/users/victim/unblock": lambda r, app: acted(
        r, app, "unblock", is_blocked=False, bullying_count=0
    ),
    "/api/admin/users/victim/mute": lambda r, app: acted(
        r, app, "mute", muted_until=...
    ),
    "/api/admin/users/victim/unmute": lambda r, app: acted(
        r, app, "unmute", muted_until=None
    ),
    "/api/admin/users/victim/kick": lambda r, app: (
        acted(r, app, "kick", is_blocked=False)["disconnected"] == 0
    ),
    "/api/admin/audit-log": lambda r, app: (
        json_ok(r) == {"items": [], "next_cursor": None}
    ),
    "/api/admin/export/users.csv": lambda r, app: (
        [row.split(",")[1] for row in csv_rows(r)]
        == ["username", "root_admin", "victim"]
    ),
    "/api/admin/export/messages.csv": lambda r, app: (
        csv_rows(r)
        == [
            "id,timestamp,sender,receiver,message,is_bullying,"
            "bullying_probability,model_version,status,is_read"
        ]
    ),
    "/api/admin/flagged/1/context": lambda r, app: (
        assert_error(r, 404, "not_found") and stored_victim(app)[1] == []
    ),
    "/api/admin/appeals": lambda r, app: (
        json_ok(r) == {"items": [], "next_cursor": None}
    ),
    "/api/admin/appeals/1": lambda r, app: (
        assert_error(r, 404, "not_found") and stored_victim(app)[1] == []
    ),
    "/api/admin/reports": lambda r, app: (
        json_ok(r) == {"items": [], "next_cursor": None}
    ),
    "/api/admin/reports/1/review": lambda r, app: (
        assert_error(r, 404, "not_found") and stored_victim(app)[1] == []
    ),
}


def test_every_admin_route_has_an_expected_answer():
    assert sorted(ADMIN_SEES) == sorted(path for _, path, _ in ADMIN_ROUTES)


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_route_shows_an_admin_what_it_did(
    client, app, make_user, admin_headers, method, path, body
):
    make_user("victim")
    response = call(client, method, path, body, admin_headers)
    assert ADMIN_SEES[path](response, app) is not False, response.get_data(as_text=True)


def test_blocked_admin_is_refused_as_blocked(
    client, make_user, auth_headers, admin_headers
):
    other = make_user("second_admin", is_admin=True)
    headers = auth_headers(other)
    client.post("/api/admin/users/second_admin/block", json={}, headers=admin_headers)
    assert_error(client.get("/api/admin/summary", headers=headers), 403, "blocked")


def test_refresh_token_is_not_an_admin_credential(client, admin, login):
    refresh = login(admin)["refresh_token"]
    assert_error(
        client.get("/api/admin/summary", headers=bearer(refresh)), 401, "unauthorized"
    )

"""The web client's page and assets at / (the browser tests drive it for real), and
the dashboard's words for what the server writes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cyberscan.schemas.admin import REVIEW_ACTIONS
from cyberscan.schemas.people import DECISIONS, REPORT_ACTIONS

ROOT = Path(__file__).resolve().parents[1]
VENDORED = ROOT / "cyberscan/dashboard/static/vendor/socket.io.min.js"


def test_the_page_is_public_html_under_the_dashboards_strict_policy(client):
    page = client.get("/")
    admin = client.get("/admin/login")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert policy == admin.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    html = page.get_data(as_text=True)
    # No inline script or style the policy would refuse, and nothing from elsewhere.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert "<style" not in html and " style=" not in html
    assert re.findall(r"(?:src|href)=\"(?:https?:)?//", html) == []
    assert 'type="module" src="/web/static/js/main.js"' in html


def test_every_asset_the_page_names_is_served_with_a_script_or_style_type(client):
    html = client.get("/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/web/[^"]+)"', html)
    assert len(assets) == 3, assets
    modules = {"/web/static/js/main.js"}
    for path in sorted(ROOT.glob("cyberscan/web/static/js/*.js")):
        modules.add(f"/web/static/js/{path.name}")
        for imported in re.findall(r'from "\./([a-z]+\.js)"', path.read_text()):
            modules.add(f"/web/static/js/{imported}")
    for url in [*assets, *modules]:
        with client.get(url) as response:  # a file response holds the file open
            assert response.status_code == 200, url
            assert response.mimetype in {"text/javascript", "text/css"}, url
            assert response.headers["Content-Security-Policy"]


def test_the_socketio_bundle_is_the_dashboards_own_copy(client):
    with client.get("/web/vendor/socket.io.min.js") as response:
        assert response.status_code == 200
        assert response.get_data() == VENDORED.read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/web/vendor/socket.io-client.LICENSE",
        "/web/vendor/dashboard.js",
        "/web/static/js/nothing.js",
        "/web/static/../../config/__init__.py",
        "/nothing-here",
    ],
)
def test_anything_else_is_the_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


# An action code built from a value (f"review_{action}") takes its values from here; a
# new prefix must be added (with its values) or the test below fails.
COMPUTED_ACTIONS = {
    "review_": REVIEW_ACTIONS,
    "report_": REPORT_ACTIONS,
    "appeal_": DECISIONS,
}


def audit_action_codes() -> set[str]:
    """Every action the server can write to the audit log: the second argument of each
    `audit.record(...)` call in the package, a literal or a prefix plus known values."""
    codes: set[str] = set()
    for path in sorted((ROOT / "cyberscan").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            action = node.args[1] if len(node.args) > 1 else None
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                codes.add(action.value)
            elif (
                isinstance(action, ast.JoinedStr)
                and len(action.values) == 2
                and isinstance(action.values[0], ast.Constant)
                and action.values[0].value in COMPUTED_ACTIONS
            ):
                prefix = action.values[0].value
                codes.update(prefix + value for value in COMPUTED_ACTIONS[prefix])
            else:
                raise AssertionError(f"{where}: an audit action this test cannot read")
    return codes


def test_the_dashboard_has_words_for_every_audit_action():
    codes = audit_action_codes()
    assert {"block", "report_dismiss", "appeal_accept", "flag_context_viewed"} <= codes
    script = (ROOT / "cyberscan/dashboard/static/audit.js").read_text()
    labels = re.search(r"ACTION_LABELS = \{(.*?)\};", script, re.S)
    assert labels, "audit.js has no ACTION_LABELS map"
    named = set(re.findall(r"^\s*(\w+):", labels.group(1), re.M))
    assert codes - named == set(), "audit actions with no label in the dashboard"

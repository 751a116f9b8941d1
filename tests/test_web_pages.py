"""The web client's page and assets at / (the browser tests drive it for real)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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

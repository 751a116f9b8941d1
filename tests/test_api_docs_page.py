"""/api/docs references only assets this server serves, under the strict CSP."""

from __future__ import annotations

import re

from cyberscan.pages import CONTENT_SECURITY_POLICY


def test_api_docs_page_loads_only_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = page.get_data(as_text=True)
    assert 'data-spec-url="/api/openapi.json"' in html
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert {a.rsplit("/", 1)[-1] for a in assets} == {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "docs.js",
    }
    for asset in assets:
        assert asset.startswith("/api/docs/static/"), asset  # no CDN
        with client.get(asset) as served:
            assert served.status_code == 200, asset
            assert len(served.data) > 200, asset
    assert "<script>" not in html  # the CSP would block an inline script

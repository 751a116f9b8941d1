"""/api/docs references only assets this server serves, under the strict CSP."""

from __future__ import annotations

import re

# Written out, not imported: a weakened policy in the code must fail here.
STRICT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def test_api_docs_page_loads_only_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == STRICT_POLICY
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


PUBLIC = {("post", "/api/register"), ("post", "/api/login"), ("get", "/api/health")}


def test_the_openapi_document_says_which_operations_take_a_bearer_token(client):
    spec = client.get("/api/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes == {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    assert spec["security"] == [{"bearerAuth": []}]  # every operation, unless it says
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            needs = operation.get("security", spec["security"])
            # What the document says is what the server does without a token.
            url = re.sub(r"\{[^}]+\}", "1", path)
            answer = client.open(url, method=method.upper(), json={})
            if (method, path) in PUBLIC:
                assert needs == [], (method, path)
                assert answer.status_code != 401, (method, path)
            else:
                assert needs == [{"bearerAuth": []}], (method, path)
                assert answer.status_code == 401, (method, path, answer.status_code)
    assert "security" not in spec["paths"]["/api/me"]["get"]

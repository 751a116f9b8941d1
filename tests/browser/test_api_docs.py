"""/api/docs in headless Chromium: Swagger UI renders every operation from local assets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.browser.live import watched_page
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_api_docs_lists_the_operations_under_the_strict_csp(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    spec = live_server.get("/api/openapi.json", token="")
    operations = [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert ("POST", "/api/login") in operations

    page, problems = watched_page(chromium, 1280)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).netloc))

    response = page.goto(live_server.url + "/api/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        spec["info"]["title"]
    )
    shown = page.locator(".opblock-summary")
    expect(shown).to_have_count(len(operations))
    login = page.locator(".opblock-post .opblock-summary-path[data-path='/api/login']")
    expect(login).to_be_visible()
    login.click()  # an operation opens and shows its request body
    expect(page.locator(".opblock-post.is-open .opblock-body")).to_contain_text(
        "Request body"
    )

    assert hosts <= {urlparse(live_server.url).netloc, ""}, hosts  # nothing off-site
    assert problems == []  # a CSP violation is a console error
    page.context.close()


def test_api_docs_authorize_sends_the_token_with_try_it_out(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    token = live_server.register("docs_reader")
    page, problems = watched_page(chromium, 1280)
    page.goto(live_server.url + "/api/docs")
    page.locator(".swagger-ui .btn.authorize").first.click()
    dialog = page.locator(".swagger-ui .dialog-ux .modal-ux")
    expect(dialog).to_contain_text("bearerAuth")
    dialog.locator("input").first.fill(token)
    dialog.locator(".auth-btn-wrapper .authorize").click()
    dialog.locator(".auth-btn-wrapper .btn-done").click()

    me = page.locator(".opblock-get", has=page.locator("[data-path='/api/me']"))
    me.locator(".opblock-summary").click()
    me.locator(".try-out__btn").click()
    me.locator(".execute").click()
    answer = me.locator(".live-responses-table .response .response-col_status")
    expect(answer.first).to_have_text("200")
    expect(me.locator(".live-responses-table")).to_contain_text("docs_reader")
    assert problems == []
    page.context.close()

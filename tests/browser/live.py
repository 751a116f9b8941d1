"""What the browser tests add to tests/live.py: Debian's Chromium and its switches."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking switches Chromium dials out at start-up, and this
# machine's closed network refuses those connections noisily.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# The dashboard's server must be healthy within 45 s and answer each request within 20 s.
START_TIMEOUT = 45.0
REQUEST_TIMEOUT = 20.0

# An init script: `window.__answersRead` counts the answers the page has finished
# reading. A macrotask after `response.json()` settles runs after every `.then` chained
# on it, so the page has acted on the answer.
COUNT_READ_ANSWERS = """
window.__answersRead = 0;
const fetchOf = window.fetch;
window.fetch = function () {
  return fetchOf.apply(this, arguments).then(function (response) {
    const json = response.json.bind(response);
    response.json = function () {
      return json().finally(function () {
        setTimeout(function () { window.__answersRead += 1; }, 0);
      });
    };
    return response;
  });
};
"""


def wait_until(
    page: Any, check: Callable[[], Any], what: str, tries: int = 400
) -> None:
    """Until `check()` is true, looking every 50 ms while Playwright waits (route
    handlers run only then; `wait_for_function` evaluates a string, which the CSP
    forbids); AssertionError(what) after `tries` looks."""
    for _ in range(tries):
        if check():
            return
        page.wait_for_timeout(50)
    raise AssertionError(what)


Frames = Callable[[Any, str | bytes], None]


def route_socket(
    page: Any, from_server: Frames | None = None, from_page: Frames | None = None
) -> None:
    """Route the page's Socket.IO WebSocket: each frame from the server goes to
    `from_server(ws, frame)`, which hands it on with `ws.send(frame)` or keeps it; each
    frame from the page to `from_page(server, frame)`, which hands it on with
    `server.send(frame)`. A direction without a filter passes everything."""

    def route(ws: Any) -> None:
        server = ws.connect_to_server()
        if from_server is not None:
            server.on_message(lambda frame: from_server(ws, frame))
        if from_page is not None:
            ws.on_message(lambda frame: from_page(server, frame))

    page.route_web_socket(re.compile(r"/socket\.io/"), route)


def watched_page(browser: Any, width: int, height: int = 900) -> tuple[Any, list[str]]:
    """A page in a fresh context, with its script errors and console errors collected
    (a CSP violation is a console error); answers (page, problems)."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: msg.type == "error" and problems.append(f"console: {msg.text}"),
    )
    return page, problems

"""The dashboard's people's side (API.md §9) in headless Chromium against a live server:
reports from people beside the flags, a flag's context, and the appeal queue."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_dashboard import (
    ABUSE,
    admin_token,
    ask_to_remove_a_message_and_cancel,
    flag_of,
    send,
)
from tests.helpers import PASSWORD
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def call(server: LiveServer, method: str, path: str, body: Any, token: str) -> Any:
    status, answer = server.request(method, path, body, token)
    assert status in (200, 201), (path, status, answer)
    return answer


def report_and_appeal(  # noqa: PLR0913
    server: LiveServer,
    message_id: str,
    reader: str,
    report_reason: str,
    author: str,
    appeal_reason: str,
) -> None:
    """The reader (a token) reports the message; its author (a token) appeals the
    strike it earned (their first)."""
    call(
        server,
        "POST",
        "/api/reports",
        {"message_id": message_id, "reason": report_reason},
        reader,
    )
    strike = call(server, "GET", "/api/me/strikes", None, author)["strikes"][0]
    call(
        server,
        "POST",
        "/api/appeals",
        {"strike_id": strike["id"], "reason": appeal_reason},
        author,
    )


def test_admin_reads_reports_and_context_and_accepts_an_appeal(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("mod_people")
    amy = live_server.register("amy_p")
    ben = live_server.register("ben_p")
    token = admin_token(live_server, "mod_people")
    send(live_server, ben, "amy_p", "hello amy, how was the film?")
    message = send(live_server, amy, "ben_p", ABUSE)
    assert message["is_bullying"] is True, message
    flag = flag_of(live_server, token, message["id"])
    report_and_appeal(
        live_server, message["id"], ben, "That hurt", amy, "A quote from the film"
    )

    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.goto(live_server.url + "/admin/login")
    page.fill("#login-name", "mod_people")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#admin-name")).to_have_text("mod_people")

    report = page.locator("#reports-body tr.report-row")
    expect(report).to_have_count(1)
    expect(report).to_contain_text("That hurt")
    expect(report.locator(".content-text")).to_have_text(ABUSE)
    expect(report).to_contain_text("reported by ben_p")
    expect(page.locator('[data-key="pending_reports"] .card-value')).to_have_text("1")

    row = page.locator(f'#queue-body tr[data-flag-id="{flag["id"]}"]')
    row.get_by_role("button", name="Context").click()
    shown = page.locator("#queue-body tr.context-row")
    expect(shown).to_contain_text("Sent to ben_p")
    expect(shown.locator(".context-line")).to_have_count(2)
    expect(shown.locator(".context-flagged")).to_contain_text(ABUSE)
    audit = call(live_server, "GET", "/api/admin/audit-log", None, token)["items"]
    assert "flag_context_viewed" in [entry["action"] for entry in audit]

    appeal = page.locator("#appeals-body tr.appeal-row")
    expect(appeal).to_have_count(1)
    expect(appeal).to_contain_text("A quote from the film")
    expect(appeal.locator(".strikes")).to_have_text("1 strike")  # amy has one
    appeal.get_by_label("Note to amy_p").fill("Fair enough")
    appeal.get_by_role("button", name="Accept").click()
    expect(page.locator("#appeals-empty")).to_be_visible()
    after = call(live_server, "GET", "/api/me/strikes", None, amy)
    assert after["strikes"][0]["status"] == "dismissed" and after["bullying_count"] == 0
    assert after["strikes"][0]["appeal"]["note"] == "Fair enough"

    # The audit log says it all in words, never in the server's action codes.
    page.reload()
    lines = page.locator("#audit .audit-line")
    expect(lines.filter(has_text="accepted an appeal by amy_p")).to_have_count(1)
    expect(
        lines.filter(has_text="read the conversation around a flag on")
    ).to_have_count(1)
    codes = {entry["action"] for entry in audit} | {"appeal_accept"}
    for line in lines.all_text_contents():
        assert not codes & set(line.split()), line
    assert problems == []
    context.close()


def test_removing_a_reported_message_asks_first(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    from tests.browser.test_dashboard_together import open_dashboard, report

    live_server.create_admin("mod_careful")
    for person in ("rm_writer", "rm_reader"):
        live_server.sign_up(person)
    reported = report(live_server, "rm_reader", "rm_writer", "see you never")

    page, problems = open_dashboard(live_server, chromium, "mod_careful")
    row = page.locator(f'#reports-body tr[data-report-id="{reported}"]')
    # As in the queue, a removal cannot be undone: one stray click must not do it.
    remove = row.get_by_role("button", name="Remove message")
    ask_to_remove_a_message_and_cancel(page, remove)
    expect(row.get_by_role("button", name="Remove message")).to_be_visible()
    token = admin_token(live_server, "mod_careful")
    pending = live_server.get("/api/admin/reports", token)["items"]
    assert reported in [item["id"] for item in pending]

    row.get_by_role("button", name="Remove message").click()
    page.click("#confirm-ok")
    expect(row).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("The reported message was removed.")
    assert problems == []
    page.context.close()

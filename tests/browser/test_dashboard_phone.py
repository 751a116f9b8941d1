"""The dashboard on a phone, in headless Chromium against a live server: a full day's
lists at 375 px stay inside the screen, each table row a card whose every button is in
reach, and a dropped connection is said in words."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_dashboard import ABUSE, send
from tests.browser.test_dashboard_people import report_and_appeal
from tests.browser.test_dashboard_together import open_dashboard
from tests.browser.test_web_client import OVERFLOWING
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

LONGEST = "w" * 32  # the longest username the API accepts


def labels(page: Any, row: str) -> list[str]:
    """The column names a stacked row shows above its cells, in order (hidden cells
    left out)."""
    return page.locator(row).evaluate(
        """row => Array.from(row.cells)
          .filter(cell => getComputedStyle(cell).display !== 'none')
          .map(cell => getComputedStyle(cell, '::before').content.replace(/^"|"$/g, ''))"""
    )


def test_a_busy_dashboard_fits_a_phone_screen(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("pocket_admin")
    writer = live_server.register(LONGEST)
    reader = live_server.register("pocket_reader")
    message = send(live_server, writer, "pocket_reader", ABUSE + " " + "W" * 200)
    assert message["is_bullying"] is True, message
    report_and_appeal(
        live_server,
        message["id"],
        reader,
        "Not the first time",
        writer,
        "We were joking",
    )

    page, problems = open_dashboard(live_server, chromium, "pocket_admin", width=375)
    expect(page.locator(f'#users-body tr[data-username="{LONGEST}"]')).to_have_count(1)
    for table in ("queue", "reports", "appeals"):
        expect(page.locator(f"#{table}-body tr")).to_have_count(1)
    # Nothing on the page ends past the screen's right edge: not the page, not a table,
    # not one of the rows' buttons (a six-column table used to hide them to the side).
    assert page.evaluate(OVERFLOWING) == []
    for action in ("Block author", "Mute 60 min", "Remove message", "Reject", "Mute"):
        box = page.get_by_role("button", name=action).first.bounding_box()
        assert box is not None and 0 <= box["x"] <= box["x"] + box["width"] <= 375, (
            action,
            box,
        )
    # Each row is a card, each of its cells under its column's name; the admin's own
    # row has no actions, and no empty "Actions" heading either.
    expect(page.locator("#queue thead")).to_be_hidden()
    assert labels(page, "#queue-body tr") == [
        "Time",
        "Type",
        "Author",
        "Content and triggering terms",
        "Score",
        "Actions",
    ]
    assert labels(page, '#users-body tr[data-username="pocket_admin"]') == [
        "User",
        "Strikes",
        "Status",
    ]
    page.locator("#queue-body").get_by_role("button", name="Block author").click()
    expect(page.locator("#confirm-title")).to_have_text(f"Block {LONGEST}?")
    page.click("#confirm-cancel")
    # A name that fits its column is never broken inside (the phone's columns are
    # narrow: a break-anywhere name read "pocket_rea / der").
    reader = page.locator('#users-body tr[data-username="pocket_reader"] .author-name')
    assert (
        reader.evaluate(
            """node => { const range = document.createRange();
          range.selectNodeContents(node); return range.getClientRects().length; }"""
        )
        == 1
    )
    for part in ("#user-search", ".exports", "#audit-title"):
        box = page.locator(part).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 375, (part, box)
    assert problems == []
    page.context.close()


def test_an_action_without_a_connection_says_so(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("offline_admin")
    writer = live_server.register("offline_writer")
    live_server.register("offline_reader")
    assert send(live_server, writer, "offline_reader", ABUSE)["is_bullying"] is True

    page, problems = open_dashboard(live_server, chromium, "offline_admin")
    row = page.locator('#queue-body tr[data-author="offline_writer"]')
    expect(row).to_have_count(1)
    page.context.set_offline(True)
    row.get_by_role("button", name="Dismiss").click()
    # Not the browser's "Failed to fetch": what happened, and what to do.
    expect(page.locator("#toasts .toast-error")).to_have_text(
        "The server cannot be reached. Check the connection and try again."
    )
    page.context.set_offline(False)
    expect(row).to_have_count(1)  # nothing was dismissed
    assert [p for p in problems if "ERR_INTERNET_DISCONNECTED" not in p] == []
    page.context.close()

"""The dashboard with a screen reader, in headless Chromium against a live server:
every button in a list says which row it acts on, so a list of buttons read out of
the table ("Dismiss, Dismiss, Dismiss…") still tells them apart."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_dashboard import ABUSE, send
from tests.browser.test_dashboard_together import (
    flagged,
    moderator_and_writer,
    open_dashboard,
    report,
    strike_and_appeal,
)
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def button_names(page: Any, part: str) -> list[str]:
    """The accessible names of the buttons in `part`, as Chromium exposes them."""
    return re.findall(r'button "([^"]*)"', page.locator(part).aria_snapshot())


def test_each_row_button_names_its_row(live_server: LiveServer, chromium: Any) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("sr_admin")
    live_server.register("sr_reader")
    strike_and_appeal(live_server, "sr_amy", "sr_reader", "A song lyric")
    strike_and_appeal(live_server, "sr_ann", "sr_reader", "A film quote")
    report(live_server, "sr_reader", "sr_amy", "go away")
    report(live_server, "sr_reader", "sr_ann", "go away")
    again = "nobody likes you, you worthless pathetic loser"
    assert send(live_server, live_server.login("sr_amy"), "sr_reader", again)[
        "is_bullying"
    ]

    page, problems = open_dashboard(live_server, chromium, "sr_admin")
    expect(page.locator('#queue-body tr[data-author="sr_ann"]').first).to_be_visible()
    expect(page.locator("#reports-body tr")).to_have_count(2)
    expect(page.locator("#appeals-body tr")).to_have_count(2)
    expect(page.locator('#users-body tr[data-username="sr_ann"]')).to_have_count(1)
    for part in ("#queue-body", "#reports-body", "#appeals-body", "#users-body"):
        names = button_names(page, part)
        assert names, part
        duplicates = sorted({name for name in names if names.count(name) > 1})
        assert duplicates == [], (part, duplicates)
    # Each says whom it is about, the visible label first (voice control still works).
    ann_row = page.locator('#users-body tr[data-username="sr_ann"]')
    expect(
        ann_row.get_by_role("button", name="Block sr_ann", exact=True)
    ).to_be_visible()
    appeal = page.locator('#appeals-body tr[data-author="sr_ann"]')
    expect(
        appeal.get_by_role("button", name="Accept the appeal by sr_ann")
    ).to_be_visible()
    assert problems == []
    page.context.close()


ARABIC = "لا أحد يحبك في هذه المدرسة!"
ARABIC_REASON = "هذه الرسالة مؤذية جدًا."


def test_right_to_left_text_reads_right_to_left(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("rtl_admin")
    for person in ("rtl_writer", "rtl_reader"):
        live_server.sign_up(person)
    reported = report(live_server, "rtl_reader", "rtl_writer", ARABIC, ARABIC_REASON)

    page, problems = open_dashboard(live_server, chromium, "rtl_admin")
    row = page.locator(f'#reports-body tr[data-report-id="{reported}"]')
    expect(row.locator(".content-text")).to_have_text(ARABIC)
    # Each piece of text people wrote takes its direction from its own first letters
    # (dir="auto"), so the "!" and "." end an Arabic sentence on its left, not its right.
    for part in (".content-text", ".report-reason"):
        assert row.locator(part).evaluate("node => node.matches(':dir(rtl)')"), part
    assert page.locator("#reports-title").evaluate("node => node.matches(':dir(ltr)')")
    assert problems == []
    page.context.close()


def test_an_error_stays_until_closed_or_replaced(
    live_server: LiveServer, chromium: Any
) -> None:
    """A moderator may be away from the screen or slow to read: an error waits for
    them (a newer error takes its place); a success may fade."""
    from playwright.sync_api import expect

    token, writer = moderator_and_writer(live_server, "te")
    flags = [
        flagged(live_server, token, writer, "te_reader", text)
        for text in (ABUSE, "you pathetic loser")
    ]
    page, problems = open_dashboard(live_server, chromium, "te_mod")
    page.clock.install()
    rows = [page.locator(f'#queue-body tr[data-flag-id="{f["id"]}"]') for f in flags]
    expect(rows[1]).to_have_count(1)
    errors = page.locator("#toasts .toast-error")
    page.context.set_offline(True)
    for row in rows:
        row.get_by_role("button", name="Dismiss").click()
        expect(errors).to_have_count(1)  # the newer one in place of the older
    page.context.set_offline(False)
    rows[0].get_by_role("button", name="Dismiss").click()
    expect(rows[0]).to_have_count(0)
    expect(page.locator("#toasts .toast-ok")).to_have_count(1)
    page.clock.run_for(60_000)
    expect(page.locator("#toasts .toast-ok")).to_have_count(0)
    expect(errors).to_have_text(
        "The server cannot be reached. Check the connection and try again."
    )
    errors.get_by_role("button", name="Close").click()
    expect(errors).to_have_count(0)
    assert [p for p in problems if "ERR_INTERNET_DISCONNECTED" not in p] == []
    page.context.close()


def test_the_exports_say_they_hold_everything_whatever_the_search(
    live_server: LiveServer, chromium: Any
) -> None:
    """The export endpoints take no filter: next to the buttons, in words and in each
    link's description, the page says the files hold every account and message."""
    from playwright.sync_api import expect

    live_server.create_admin("ex_admin")
    for person in ("ex_amy", "ex_ben"):
        live_server.register(person)
    page, problems = open_dashboard(live_server, chromium, "ex_admin")
    page.fill("#user-search", "ex_amy")
    expect(page.locator("#users-body tr")).to_have_count(1)
    everything = re.compile(r"every account and every message.*users search")
    expect(page.locator(".exports-note")).to_have_text(everything)
    for name in ("Users CSV", "Messages CSV"):
        link = page.get_by_role("link", name=name)
        expect(link).to_have_accessible_description(everything)
    users_csv = page.evaluate(
        "fetch('/api/admin/export/users.csv').then(answer => answer.text())"
    )
    assert "ex_amy" in users_csv and "ex_ben" in users_csv
    assert problems == []
    page.context.close()


def test_the_queue_filter_is_one_tab_stop_walked_with_the_arrow_keys(
    live_server: LiveServer, chromium: Any
) -> None:
    """The queue's Pending / Reviewed / All filter is a tab list: Tab reaches only the
    selected tab, and the arrow keys, Home and End select another and show its rows."""
    from playwright.sync_api import expect

    token, writer = moderator_and_writer(live_server, "tk")
    flag = flagged(live_server, token, writer, "tk_reader", ABUSE)
    page, problems = open_dashboard(live_server, chromium, "tk_mod")
    row = page.locator(f'#queue-body tr[data-flag-id="{flag["id"]}"]')
    expect(row).to_have_count(1)
    tabs = {
        name: page.get_by_role("tab", name=name)
        for name in ("Pending", "Reviewed", "All")
    }

    def selected(name: str) -> None:
        for other, tab in tabs.items():
            expect(tab).to_have_attribute(
                "aria-selected", "true" if other == name else "false"
            )
            expect(tab).to_have_attribute("tabindex", "0" if other == name else "-1")
        expect(tabs[name]).to_be_focused()

    # Tab from the queue's heading lands on the selected tab, and the next Tab leaves
    # the tab list: one tab stop.
    page.locator("#queue-title").evaluate("h => h.setAttribute('tabindex', '-1')")
    page.locator("#queue-title").focus()
    page.keyboard.press("Tab")
    selected("Pending")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('role')") != "tab"
    page.keyboard.press("Shift+Tab")
    selected("Pending")

    page.keyboard.press("ArrowRight")
    selected("Reviewed")
    expect(row).to_have_count(0)  # the pending flag is not a reviewed one
    page.keyboard.press("ArrowRight")
    selected("All")
    expect(row).to_have_count(1)
    page.keyboard.press("ArrowRight")  # wraps round
    selected("Pending")
    expect(row).to_have_count(1)
    page.keyboard.press("ArrowLeft")  # and back
    selected("All")
    page.keyboard.press("Home")
    selected("Pending")
    page.keyboard.press("End")
    selected("All")
    tabs["Reviewed"].click()  # a click still selects, and keeps the one tab stop
    selected("Reviewed")
    expect(row).to_have_count(0)
    assert problems == []
    page.context.close()


def test_focus_in_an_error_notice_goes_back_where_it_was_when_the_notice_goes(
    live_server: LiveServer, chromium: Any
) -> None:
    """A keyboard moderator who closes an error is put back on the control that failed,
    not at the top of the page; a newer error in its place keeps them on its Close; and
    when the control is gone, focus lands on the page's main part."""
    from playwright.sync_api import expect

    token, writer = moderator_and_writer(live_server, "fb")
    flag = flagged(live_server, token, writer, "fb_reader", ABUSE)
    page, problems = open_dashboard(live_server, chromium, "fb_mod")
    row = page.locator(f'#queue-body tr[data-flag-id="{flag["id"]}"]')
    dismiss = row.get_by_role("button", name="Dismiss")
    errors = page.locator("#toasts .toast-error")
    close = errors.get_by_role("button", name="Close")
    expect(dismiss).to_be_visible()
    page.context.set_offline(True)

    dismiss.focus()
    page.keyboard.press("Enter")
    expect(errors).to_have_count(1)
    expect(dismiss).to_be_focused()  # a notice never takes focus by itself
    close.focus()
    page.keyboard.press("Enter")
    expect(errors).to_have_count(0)
    expect(dismiss).to_be_focused()

    page.keyboard.press("Enter")
    expect(errors).to_have_count(1)
    close.focus()
    errors.evaluate("notice => notice.classList.add('older')")
    dismiss.dispatch_event("click")  # fails again: a newer error takes the place
    expect(page.locator("#toasts .older")).to_have_count(0)
    expect(errors).to_have_count(1)
    expect(close).to_be_focused()
    page.keyboard.press("Enter")
    expect(dismiss).to_be_focused()

    page.keyboard.press("Enter")
    expect(errors).to_have_count(1)
    close.focus()
    row.evaluate("row => row.remove()")  # as a reload that dropped the row would
    page.keyboard.press("Enter")
    expect(errors).to_have_count(0)
    expect(page.locator("#main")).to_be_focused()
    assert [p for p in problems if "ERR_INTERNET_DISCONNECTED" not in p] == []
    page.context.close()

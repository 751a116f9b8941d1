"""Two moderators at once, in headless Chromium against a live server: what one decides
shows on the other's screen, a decision someone else made first is shown rather than
left as a stale row, and a live refresh never throws away what a moderator is typing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.live import watched_page
from tests.browser.test_dashboard import ABUSE, admin_token, flag_of, send
from tests.browser.test_dashboard_people import call
from tests.helpers import PASSWORD
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def strike_and_appeal(server: LiveServer, author: str, reader: str, why: str) -> int:
    """`author` is flagged writing to `reader` and appeals the strike; answers its id."""
    token = server.register(author)
    message = send(server, token, reader, ABUSE)
    assert message["is_bullying"] is True, message
    strike = call(server, "GET", "/api/me/strikes", None, token)["strikes"][0]
    appeal = call(
        server,
        "POST",
        "/api/appeals",
        {"strike_id": strike["id"], "reason": why},
        token,
    )
    return appeal["id"]


def report(
    server: LiveServer, reporter: str, author: str, text: str, why: str = "Unkind"
) -> int:
    """`author` writes `text` to `reporter`, who reports it; answers the report's id."""
    token = server.login(author)
    message = send(server, token, reporter, text)
    answer = call(
        server,
        "POST",
        "/api/reports",
        {"message_id": message["id"], "reason": why},
        server.login(reporter),
    )
    return answer["id"]


def flagged(server: LiveServer, admin: str, writer: str, reader: str, text: str) -> Any:
    """`writer` (a token) sends `text` to `reader`; answers its flag, as `admin` sees it."""
    return flag_of(server, admin, send(server, writer, reader, text)["id"])


def moderator_and_writer(server: LiveServer, prefix: str) -> tuple[str, str]:
    """The admin `<prefix>_mod`, `<prefix>_writer` and `<prefix>_reader`; answers the
    admin's and the writer's tokens."""
    server.create_admin(f"{prefix}_mod")
    writer = server.register(f"{prefix}_writer")
    server.register(f"{prefix}_reader")
    return admin_token(server, f"{prefix}_mod"), writer


def open_dashboard(
    server: LiveServer, chromium: Any, admin: str, width: int = 1440
) -> tuple[Any, Any]:
    """A fresh page logged in as `admin`, its socket live; answers (page, problems)."""
    from playwright.sync_api import expect

    page, problems = watched_page(chromium, width)
    page.goto(server.url + "/admin/login")
    page.fill("#login-name", admin)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#admin-name")).to_have_text(admin)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    return page, problems


def with_an_appeal(
    server: LiveServer, chromium: Any, prefix: str, why: str
) -> tuple[Any, Any, int]:
    """`<prefix>_amy` appeals a strike; the dashboard of the admin `<prefix>_mod` is
    open. Answers (page, problems, the appeal's id)."""
    server.create_admin(f"{prefix}_mod")
    server.register(f"{prefix}_reader")
    appeal = strike_and_appeal(server, f"{prefix}_amy", f"{prefix}_reader", why)
    page, problems = open_dashboard(server, chromium, f"{prefix}_mod")
    return page, problems, appeal


def test_what_another_admin_decides_shows_and_a_late_click_says_so(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("mod_one")
    live_server.create_admin("mod_two")
    other = admin_token(live_server, "mod_two")
    live_server.register("tg_reader")
    first = strike_and_appeal(live_server, "tg_amy", "tg_reader", "Quoting a film")
    second = strike_and_appeal(live_server, "tg_ann", "tg_reader", "Song lyrics")
    reported = report(live_server, "tg_reader", "tg_amy", "nobody likes you")

    page, problems = open_dashboard(live_server, chromium, "mod_one")
    first_row = page.locator(f'#appeals-body tr[data-appeal-id="{first}"]')
    second_row = page.locator(f'#appeals-body tr[data-appeal-id="{second}"]')
    report_row = page.locator(f'#reports-body tr[data-report-id="{reported}"]')
    expect(first_row).to_have_count(1)
    expect(second_row).to_have_count(1)
    expect(report_row).to_have_count(1)

    # The other moderator decides the first appeal and the report: both leave this
    # screen's open lists without a reload (the socket says the numbers changed).
    call(
        live_server,
        "POST",
        f"/api/admin/appeals/{first}",
        {"decision": "reject"},
        other,
    )
    call(
        live_server,
        "POST",
        f"/api/admin/reports/{reported}/review",
        {"action": "dismiss"},
        other,
    )
    expect(first_row).to_have_count(0)
    expect(report_row).to_have_count(0)
    expect(page.locator("#reports-empty")).to_be_visible()
    expect(second_row).to_have_count(1)

    # This screen misses the news (its summary requests are held), the other moderator
    # accepts the second appeal, and this one clicks Reject a moment later: the 409 is
    # said, and the row then shows what really happened instead of staying open.
    held: list[Any] = []
    summary = re.compile(r"/api/admin/summary")
    page.route(summary, lambda route: held.append(route))
    call(
        live_server,
        "POST",
        f"/api/admin/appeals/{second}",
        {"decision": "accept"},
        other,
    )
    second_row.get_by_role("button", name="Reject").click()
    expect(page.locator("#toasts")).to_contain_text("already been decided")
    expect(second_row).to_have_count(0)
    page.locator("#appeal-status").select_option("decided")
    expect(second_row.locator(".reviewed")).to_have_text("Accepted by mod_two")
    assert held  # the page did ask, and was kept from the news
    page.unroute(summary)  # lets the held requests go on
    # Chromium logs the refused POST; nothing else may go wrong.
    assert [p for p in problems if "status of 409" not in p] == []
    page.context.close()


def test_a_keyboard_moderator_keeps_their_place_through_reloads(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    token, writer = moderator_and_writer(live_server, "kb")
    first = flagged(live_server, token, writer, "kb_reader", ABUSE)
    second = flagged(live_server, token, writer, "kb_reader", "you pathetic loser")

    # Other tests' flags are dealt with, so the queue ends with this one's three.
    for flag in live_server.get("/api/admin/flagged?limit=100", token)["items"]:
        if flag["author"] != "kb_writer":
            path = f"/api/admin/flagged/{flag['id']}/review"
            call(live_server, "POST", path, {"action": "dismiss"}, token)

    page, problems = open_dashboard(live_server, chromium, "kb_mod")
    older = page.locator(f'#queue-body tr[data-flag-id="{first["id"]}"]')
    newer = page.locator(f'#queue-body tr[data-flag-id="{second["id"]}"]')
    expect(older).to_have_count(1)

    # The context under the older flag stays unfolded when a new flag arrives live,
    # and its button says so (aria-expanded) before and after the reload.
    toggle = older.get_by_role("button", name="Context")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.focus()
    page.keyboard.press("Enter")
    context = page.locator("#queue-body tr.context-row")
    expect(context).to_contain_text("Sent to kb_reader")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    text = "worthless pathetic loser, go away"
    third = flagged(live_server, token, writer, "kb_reader", text)
    expect(page.locator(f'#queue-body tr[data-flag-id="{third["id"]}"]')).to_have_count(
        1
    )
    expect(context).to_have_count(1)
    assert page.evaluate(
        "document.querySelector('#queue-body tr.context-row')"
        ".previousElementSibling.dataset.flagId"
    ) == str(first["id"])
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Enter")  # folded again
    expect(context).to_have_count(0)
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # Dismissing by keyboard: the row goes, and focus moves to the row in its place.
    newer.get_by_role("button", name="Dismiss").focus()
    page.keyboard.press("Enter")
    expect(newer).to_have_count(0)
    focused = page.locator("#queue-body tr:focus-within")
    expect(focused).to_have_count(1)
    expect(page.locator("#queue-body button:focus")).to_have_text("Dismiss")
    # Dismissing the rest, by keyboard only, ends on the queue's "nothing here" line.
    rows = page.locator("#queue-body tr.queue-row")
    for left in (1, 0):
        page.keyboard.press("Enter")
        expect(rows).to_have_count(left)
    expect(page.locator("#queue-empty")).to_be_focused()
    assert problems == []
    page.context.close()


def test_a_user_blocked_elsewhere_shows_on_the_page_loaded_with_load_more(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("mod_pages")
    live_server.create_admin("mod_pages_too")
    other = admin_token(live_server, "mod_pages_too")
    for number in range(17):  # more than one page of the users table (15)
        live_server.sign_up(f"pg_user{number:02d}")

    page, problems = open_dashboard(live_server, chromium, "mod_pages")
    page.fill("#user-search", "pg_user")
    rows = page.locator("#users-body tr")
    expect(rows.first).to_have_attribute("data-username", "pg_user00")
    expect(rows).to_have_count(15)
    page.click("#users-more")
    last = page.locator('#users-body tr[data-username="pg_user16"]')
    expect(last).to_have_count(1)
    shown = rows.count()
    assert shown > 15

    # Another moderator blocks the user at the bottom of page two: the reload that
    # follows shows the badge there, without folding the list back to page one.
    call(live_server, "POST", "/api/admin/users/pg_user16/block", {}, other)
    expect(last.locator(".badge-blocked")).to_be_visible()
    expect(rows).to_have_count(shown)
    assert problems == []
    page.context.close()


def test_a_half_typed_note_survives_a_live_reload_and_the_session_ending(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    page, problems, first = with_an_appeal(live_server, chromium, "nt", "A joke")
    row = page.locator(f'#appeals-body tr[data-appeal-id="{first}"]')
    note = row.get_by_label("Note to nt_amy")
    note.click()
    page.keyboard.type("Please be kinder")

    # A new appeal arrives live while the note is half written: the list reloads.
    second = strike_and_appeal(live_server, "nt_ann", "nt_reader", "Misread")
    expect(page.locator(f'#appeals-body tr[data-appeal-id="{second}"]')).to_have_count(
        1
    )
    expect(note).to_have_value("Please be kinder")
    expect(note).to_be_focused()
    page.keyboard.type(" next time")
    expect(note).to_have_value("Please be kinder next time")

    # The session ends while the page is open (here: its cookies are gone); the next
    # poll sends the page to the login form, and the note is back after logging in.
    page.context.clear_cookies()
    expect(page).to_have_url(live_server.url + "/admin/login")
    page.fill("#login-name", "nt_mod")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(live_server.url + "/admin")
    expect(note).to_have_value("Please be kinder next time")

    # Once decided, the draft is forgotten.
    row.get_by_role("button", name="Accept").click()
    expect(note).to_have_count(0)
    assert page.evaluate("sessionStorage.length") == 0
    assert [p for p in problems if "status of 401" not in p] == []
    page.context.close()


def test_a_dialog_open_through_a_live_reload_gives_focus_back_to_its_row(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    token, writer = moderator_and_writer(live_server, "dl")
    flag = flagged(live_server, token, writer, "dl_reader", ABUSE)

    page, problems = open_dashboard(live_server, chromium, "dl_mod")
    row = page.locator(f'#queue-body tr[data-flag-id="{flag["id"]}"]')
    block = row.get_by_role("button", name="Block author")
    block.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-reason")).to_be_focused()

    # A new flag arrives while the dialog is open: the queue is rebuilt behind it.
    newer = "you worthless pathetic loser"
    newer_flag = flagged(live_server, token, writer, "dl_reader", newer)
    expect(
        page.locator(f'#queue-body tr[data-flag-id="{newer_flag["id"]}"]')
    ).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#confirm")).to_be_hidden()
    # Focus is back on the button that opened the dialog, in the rebuilt row.
    expect(block).to_be_focused()
    assert problems == []
    page.context.close()

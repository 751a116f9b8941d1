"""Fixes for an outside audit of the moderation dashboard, in headless Chromium against
a live server: a stale dialog changes nothing another moderator already changed, the
mute minutes are read as written, a mute from the queue says when the one in force
ends, buttons read at AA contrast, the Remove dialog and
the top offenders chart say what is true, a moderator is not offered to block
themself, decided appeals show their note, skip links reach each panel, and a session
that ends with a dialog open says so and keeps the unfinished action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cyberscan.schemas.admin import USER_QUERY_MAX
from tests.browser.live import watched_page
from tests.browser.test_dashboard import ABUSE, admin_token
from tests.browser.test_dashboard_people import call
from tests.browser.test_dashboard_together import (
    flagged,
    open_dashboard,
    strike_and_appeal,
)
from tests.browser.test_web_audit_fixes import CONTRAST
from tests.helpers import PASSWORD
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def act(server: LiveServer, token: str, username: str, action: str, body: Any) -> Any:
    """An admin action over REST (the other moderator); answers the user."""
    path = f"/api/admin/users/{username}/{action}"
    return call(server, "POST", path, body, token)["user"]


def user_of(server: LiveServer, token: str, username: str) -> Any:
    items = server.get(f"/api/admin/users?q={username}", token)["items"]
    return next(user for user in items if user["username"] == username)


def mute_left(server: LiveServer, token: str, username: str) -> tuple[timedelta, str]:
    """How long `username`'s mute has left, and its end as the API answers it."""
    until = user_of(server, token, username)["muted_until"]
    return datetime.fromisoformat(until.replace("Z", "+00:00")) - datetime.now(
        UTC
    ), until


def users_row(page: Any, username: str) -> Any:
    """The users table searched down to `username`; answers its row."""
    from playwright.sync_api import expect

    page.fill("#user-search", username)
    row = page.locator(f'#users-body tr[data-username="{username}"]')
    expect(row).to_have_count(1)
    return row


def flagged_writer(server: LiveServer, admin: str, name: str, times: int = 1) -> str:
    """`name` writes ABUSE `times` times to `<name>_to`; answers their token."""
    token = server.register(name)
    server.register(f"{name}_to")
    for _ in range(times):
        flagged(server, admin, token, f"{name}_to", ABUSE)
    return token


def test_a_stale_unblock_or_block_dialog_changes_nothing(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("st_mod1")
    live_server.create_admin("st_mod2")
    mod1 = admin_token(live_server, "st_mod1")
    flagged_writer(live_server, mod1, "st_bully")
    act(live_server, mod1, "st_bully", "block", {})

    page, problems = open_dashboard(live_server, chromium, "st_mod2")
    row = users_row(page, "st_bully")
    expect(row.locator("td.num")).to_have_text("1")
    row.get_by_role("button", name="Unblock st_bully").click()
    expect(page.locator("#confirm-title")).to_have_text("Unblock st_bully?")
    expect(page.locator("#confirm-reset")).to_be_checked()

    # Meanwhile the other moderator unblocks, keeping the strike.
    act(live_server, mod1, "st_bully", "unblock", {"reset_count": False})
    page.click("#confirm-ok")
    expect(page.locator("#toasts")).to_contain_text(
        "st_bully was already unblocked by another moderator; nothing was changed."
    )
    # The strike is still counted, and the row now shows them unblocked.
    expect(row.get_by_role("button", name="Block st_bully", exact=True)).to_be_visible()
    expect(row.locator("td.num")).to_have_text("1")
    assert user_of(live_server, mod1, "st_bully")["bullying_count"] == 1

    # The same the other way round: a Block dialog left open while someone blocks.
    row.get_by_role("button", name="Block st_bully", exact=True).click()
    page.fill("#confirm-reason", "Mine")
    act(live_server, mod1, "st_bully", "block", {"reason": "Theirs"})
    page.click("#confirm-ok")
    expect(page.locator("#toasts")).to_contain_text(
        "st_bully was already blocked by another moderator; nothing was changed."
    )
    expect(row.get_by_role("button", name="Unblock st_bully")).to_be_visible()
    assert user_of(live_server, mod1, "st_bully")["blocked_reason"] == "Theirs"
    assert problems == []
    page.context.close()


def test_mute_minutes_are_read_as_written_and_refused_unless_whole_and_in_range(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("mm_mod")
    token = admin_token(live_server, "mm_mod")
    live_server.register("mm_user")

    page, problems = open_dashboard(live_server, chromium, "mm_mod")
    row = users_row(page, "mm_user")
    row.get_by_role("button", name="Mute mm_user").click()
    error = page.locator("#confirm-error")
    for refused in ("1.5", "0", "10081", ""):
        page.fill("#confirm-minutes", refused)
        page.click("#confirm-ok")
        expect(page.locator("#confirm")).to_be_visible()
        expect(error).to_have_text(
            "Give the minutes as a whole number from 1 to 10080 (a week)."
        )
        expect(page.locator("#confirm-minutes")).to_be_focused()
    assert user_of(live_server, token, "mm_user")["muted_until"] is None

    page.fill("#confirm-minutes", "1e3")  # 1000, not 1
    page.click("#confirm-ok")
    expect(page.locator("#confirm")).to_be_hidden()
    expect(page.locator("#toasts")).to_contain_text("mm_user is muted for 1000 min.")
    left, until = mute_left(live_server, token, "mm_user")
    assert timedelta(minutes=990) < left <= timedelta(minutes=1000), until
    assert problems == []
    page.context.close()


def test_every_button_reads_at_aa_contrast(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("ct_mod")
    live_server.register("ct_reader")
    strike_and_appeal(live_server, "ct_amy", "ct_reader", "A quote")  # Remove, Reject

    page, problems = open_dashboard(live_server, chromium, "ct_mod")
    expect(page.locator("#appeals-body .btn-warn")).to_have_count(1)
    expect(page.locator("#queue-body .btn-warn").first).to_be_visible()
    low = {}
    for button in page.locator(".btn").all():
        if not button.is_visible():
            continue
        ratio = button.evaluate(CONTRAST)
        if ratio < 4.5:
            low[button.inner_text()] = round(ratio, 2)
    assert low == {}
    # The orange Remove and Reject in particular.
    assert page.locator("#queue-body .btn-warn").first.evaluate(CONTRAST) >= 4.5
    assert page.locator("#appeals-body .btn-warn").evaluate(CONTRAST) >= 4.5
    assert problems == []
    page.context.close()


def test_the_remove_dialog_says_when_the_strike_was_already_dismissed(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("rd_mod")
    token = admin_token(live_server, "rd_mod")
    writer = live_server.register("rd_writer")
    live_server.register("rd_reader")
    kept = flagged(live_server, token, writer, "rd_reader", ABUSE)
    act(live_server, token, "rd_writer", "block", {})
    act(live_server, token, "rd_writer", "unblock", {"reset_count": True})
    again = live_server.login("rd_writer")  # the block revoked its tokens
    fresh = flagged(live_server, token, again, "rd_reader", ABUSE)

    page, problems = open_dashboard(live_server, chromium, "rd_mod")
    for flag, says, not_said in (
        (
            kept,
            "Its strike was already dismissed; removing does not count it again.",
            "The author's strike stays.",
        ),
        (fresh, "The author's strike stays.", "already dismissed"),
    ):
        row = page.locator(f'#queue-body tr[data-flag-id="{flag["id"]}"]')
        row.get_by_role("button", name="Remove").click()
        expect(page.locator("#confirm-text")).to_contain_text(says)
        expect(page.locator("#confirm-text")).not_to_contain_text(not_said)
        page.click("#confirm-cancel")
        expect(page.locator("#confirm")).to_be_hidden()
    assert problems == []
    page.context.close()


def test_top_offenders_are_drawn_by_flagged_items_with_strikes_in_the_label(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("to_mod")
    token = admin_token(live_server, "to_mod")
    flagged_writer(live_server, token, "to_many", times=3)
    act(live_server, token, "to_many", "block", {})
    act(live_server, token, "to_many", "unblock", {"reset_count": True})  # 0 strikes
    flagged_writer(live_server, token, "to_few", times=1)  # 1 strike
    flagged_writer(live_server, token, "to_gone", times=2)
    act(live_server, token, "to_gone", "block", {})

    page, problems = open_dashboard(live_server, chromium, "to_mod")
    chart = page.locator("#chart-offenders")
    expect(chart).to_contain_text("3 flagged · 0 strikes")
    labels = chart.locator("text.bar-label").all_text_contents()
    values = chart.locator("text.bar-value").all_text_contents()
    bars = chart.locator("rect").all()
    by_name = {
        name: (value, float(bar.get_attribute("width")), bar.get_attribute("class"))
        for name, value, bar in zip(labels, values, bars, strict=True)
    }
    # In the API's order: most flagged items first, whatever the strikes now.
    assert labels.index("to_many") < labels.index("to_gone") < labels.index("to_few")
    assert by_name["to_many"][0] == "3 flagged · 0 strikes"
    assert by_name["to_gone"][0] == "2 flagged · 2 strikes · blocked"
    assert by_name["to_few"][0] == "1 flagged · 1 strike"
    assert by_name["to_many"][1] > by_name["to_gone"][1] > by_name["to_few"][1]
    assert by_name["to_gone"][2] == "bar-blocked"  # blocked still drawn dark
    assert by_name["to_many"][2] == "bar-main"
    assert problems == []
    page.context.close()


def test_a_moderator_is_not_offered_to_block_or_mute_themself_in_the_queue(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("ow_mod")
    token = admin_token(live_server, "ow_mod")
    live_server.register("ow_reader")
    own = flagged(live_server, token, token, "ow_reader", ABUSE)
    other = flagged(live_server, token, live_server.login("ow_reader"), "ow_mod", ABUSE)

    page, problems = open_dashboard(live_server, chromium, "ow_mod")
    mine = page.locator(f'#queue-body tr[data-flag-id="{own["id"]}"]')
    theirs = page.locator(f'#queue-body tr[data-flag-id="{other["id"]}"]')
    expect(theirs.get_by_role("button", name="Block author")).to_be_visible()
    expect(theirs.get_by_role("button", name="Mute 60 min")).to_be_visible()
    expect(mine.get_by_role("button", name="Remove")).to_be_visible()
    expect(mine.get_by_role("button", name="Block author")).to_have_count(0)
    expect(mine.get_by_role("button", name="Mute 60 min")).to_have_count(0)
    expect(mine.get_by_role("button", name="Unblock")).to_have_count(0)
    assert problems == []
    page.context.close()


def test_a_mute_from_the_queue_says_when_the_one_in_force_ends_before_replacing_it(
    live_server: LiveServer, chromium: Any
) -> None:
    """The queue does not show mutes, and a new mute replaces the end of one in force:
    its dialog reads the author first and says so, so an hour's mute does not silently
    cut short a week's."""
    from playwright.sync_api import expect

    live_server.create_admin("qm_mod")
    token = admin_token(live_server, "qm_mod")
    writer = live_server.register("qm_user")
    live_server.register("qm_reader")
    flag = flagged(live_server, token, writer, "qm_reader", ABUSE)
    week = act(live_server, token, "qm_user", "mute", {"minutes": 10080})["muted_until"]

    page, problems = open_dashboard(live_server, chromium, "qm_mod")
    row = page.locator(f'#queue-body tr[data-flag-id="{flag["id"]}"]')
    row.get_by_role("button", name="Mute 60 min").click()
    expect(page.locator("#confirm-title")).to_have_text("Mute qm_user again?")
    expect(page.locator("#confirm-text")).to_contain_text("qm_user is muted until ")
    expect(page.locator("#confirm-text")).to_contain_text(
        "A new mute replaces that end"
    )
    page.click("#confirm-cancel")
    expect(page.locator("#confirm")).to_be_hidden()
    assert user_of(live_server, token, "qm_user")["muted_until"] == week

    # Once the mute is lifted, the same button asks plainly, and mutes for an hour.
    act(live_server, token, "qm_user", "unmute", {})
    row.get_by_role("button", name="Mute 60 min").click()
    expect(page.locator("#confirm-title")).to_have_text("Mute qm_user?")
    expect(page.locator("#confirm-text")).to_have_text(
        "They cannot send, post or comment until the time is up."
    )
    page.click("#confirm-ok")
    expect(page.locator("#toasts")).to_contain_text("qm_user is muted for 60 min.")
    left, until = mute_left(live_server, token, "qm_user")
    assert timedelta(minutes=55) < left <= timedelta(minutes=60), until
    assert problems == []
    page.context.close()


def test_a_decided_appeal_shows_the_moderator_s_note_as_text(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("dn_mod")
    token = admin_token(live_server, "dn_mod")
    live_server.register("dn_reader")
    appeal = strike_and_appeal(live_server, "dn_amy", "dn_reader", "A quote")
    note = "<b>Fair</b> <img src=x onerror=window.__pwned=1> next time"
    call(
        live_server,
        "POST",
        f"/api/admin/appeals/{appeal}",
        {"decision": "accept", "note": note},
        token,
    )

    page, problems = open_dashboard(live_server, chromium, "dn_mod")
    page.select_option("#appeal-status", "decided")
    row = page.locator(f'#appeals-body tr[data-appeal-id="{appeal}"]')
    expect(row).to_contain_text("Accepted by dn_mod")
    expect(row.locator(".decision-note")).to_have_text("Note: " + note)
    assert row.locator("b, img").count() == 0
    assert page.evaluate("window.__pwned === undefined")
    assert problems == []
    page.context.close()


SKIPS = {
    "Skip to the moderation queue": "#queue-title",
    "Skip to reports from people": "#reports-title",
    "Skip to appeals": "#appeals-title",
    "Skip to the charts": "#activity-title",
    "Skip to users": "#users-title",
    "Skip to the audit log": "#audit-title",
}


def appeals(server: LiveServer, prefix: str, count: int = 6) -> None:
    """`<prefix>_amy0`.. are each flagged once and appeal it: `count` rows in the queue
    and in the appeals."""
    server.register(f"{prefix}_reader")
    for n in range(count):
        strike_and_appeal(
            server, f"{prefix}_amy{n}", f"{prefix}_reader", "I was joking"
        )


def wait_shown(page: Any, heading: str) -> None:
    """Waits until `heading` is in the viewport and is what shows at its own top left:
    not under the sticky top bar nor scrolled away (a focused, "in viewport" heading
    can be both, hidden)."""
    page.wait_for_function(
        """heading => {
          const element = document.querySelector(heading);
          const box = element.getBoundingClientRect();
          if (box.top < 0 || box.bottom > innerHeight) return false;
          const seen = document.elementFromPoint(box.left + 4, box.top + 4);
          return seen !== null && element.contains(seen);
        }""",
        arg=heading,
    )


def test_skip_links_lead_the_keyboard_to_each_panel(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("sk_mod")
    appeals(live_server, "sk")  # rows in the panels: the page is longer than the window
    page, problems = open_dashboard(live_server, chromium, "sk_mod")
    # Loaded: the page is longer than the window (a jump made while loading: below).
    expect(page.locator('#appeals-body tr[data-author^="sk_amy"]')).to_have_count(6)
    page.locator("body").focus()
    page.keyboard.press("Tab")  # the first tab stop is the first skip link, shown
    first = page.get_by_role("link", name="Skip to the moderation queue")
    expect(first).to_be_focused()
    box = first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 50
    for presses, (name, heading) in enumerate(SKIPS.items()):
        first.focus()  # the links follow one another in the tab order
        for _ in range(presses):
            page.keyboard.press("Tab")
        link = page.get_by_role("link", name=name)
        expect(link).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator(heading)).to_be_focused()
        wait_shown(page, heading)
    # From the appeals heading, the next Tab is inside the appeals panel.
    page.get_by_role("link", name="Skip to appeals").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("#appeal-status")).to_be_focused()
    assert problems == []
    page.context.close()


def test_a_skip_made_while_the_tables_load_stays_on_its_panel(
    live_server: LiveServer, chromium: Any
) -> None:
    """The keyboard jumps to Appeals before the queue and the reports above it have
    loaded; when they load, the Appeals heading is still the one shown, and a wheel
    scroll afterwards is the person's own."""
    from playwright.sync_api import expect

    live_server.create_admin("sl_mod")
    appeals(live_server, "sl")
    page, problems = watched_page(chromium, 1440)
    held: list[Any] = []  # the tables' first answers, held back until the jump

    def hold(route: Any) -> None:
        held.append(route) if held is not None else route.continue_()

    for path in ("flagged", "reports", "appeals", "users", "audit-log", "stats"):
        page.route(f"**/api/admin/{path}?*", hold)
    page.goto(live_server.url + "/admin/login")
    page.fill("#login-name", "sl_mod")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.get_by_role("link", name="Skip to appeals").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#appeals-title")).to_be_focused()
    wait_shown(page, "#appeals-title")
    waiting, held = held, None
    for route in waiting:
        route.continue_()
    expect(page.locator('#queue-body tr[data-author^="sl_amy"]')).to_have_count(6)
    expect(page.locator('#appeals-body tr[data-author^="sl_amy"]')).to_have_count(6)
    wait_shown(page, "#appeals-title")
    # The person scrolls on: the page no longer pulls the heading back.
    page.mouse.move(700, 500)
    at = page.evaluate("scrollY") + 400
    page.mouse.wheel(0, 400)
    page.wait_for_function("at => scrollY === at", arg=at)
    page.evaluate(
        "document.body.append(Object.assign(document.createElement('p'), {textContent: 'x'}))"
    )
    page.wait_for_timeout(300)
    assert page.evaluate("scrollY") == at
    assert problems == []
    page.context.close()


def test_the_block_reason_takes_500_characters(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("rl_mod")
    live_server.register("rl_user")
    page, problems = open_dashboard(live_server, chromium, "rl_mod")
    users_row(page, "rl_user").get_by_role("button", name="Block rl_user").click()
    reason = page.locator("#confirm-reason")
    reason.focus()
    page.keyboard.insert_text("r" * 520)
    expect(reason).to_have_attribute("maxlength", "500")
    assert len(reason.input_value()) == 500
    page.click("#confirm-cancel")
    assert problems == []
    page.context.close()


def test_a_session_ending_with_a_dialog_open_says_so_and_keeps_the_action(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("se_mod")
    token = admin_token(live_server, "se_mod")
    live_server.register("se_bully")
    page, problems = open_dashboard(live_server, chromium, "se_mod")
    users_row(page, "se_bully").get_by_role("button", name="Block se_bully").click()
    page.fill("#confirm-reason", "Threats in three chats")

    # The session ends (its cookies are gone); the next poll goes to the login form.
    page.context.clear_cookies()
    expect(page).to_have_url(live_server.url + "/admin/login")
    notice = page.locator("#login-notice")
    expect(notice).to_contain_text("Your session ended; log in again.")
    expect(notice).to_contain_text(
        "You were about to block se_bully; your reason is kept"
    )
    page.fill("#login-name", "se_mod")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(live_server.url + "/admin")
    expect(page.locator("#toasts")).to_contain_text(
        "You were about to block se_bully; your reason is kept."
    )
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-title")).to_have_text("Block se_bully?")
    expect(page.locator("#confirm-reason")).to_have_value("Threats in three chats")
    assert user_of(live_server, token, "se_bully")["is_blocked"] is False  # not done
    page.click("#confirm-ok")
    expect(page.locator("#toasts")).to_contain_text("se_bully is blocked.")
    blocked = user_of(live_server, token, "se_bully")
    assert blocked["blocked_reason"] == "Threats in three chats"
    assert page.evaluate("sessionStorage.length") == 0
    assert [p for p in problems if "status of 401" not in p] == []
    page.context.close()


def test_a_user_search_longer_than_the_server_takes_is_cut_where_typed(
    live_server: LiveServer, chromium: Any
) -> None:
    """A search over 254 characters was refused by the server (422) while the table
    said "No users match.": the box now holds no more than the server reads."""
    from playwright.sync_api import expect

    live_server.create_admin("ls_mod")
    live_server.register("ls_" + "a" * 20)
    page, problems = open_dashboard(live_server, chromium, "ls_mod")
    box = page.locator("#user-search")
    box.focus()
    page.keyboard.insert_text("ls_" + "a" * 400)  # a paste
    assert len(box.input_value()) == USER_QUERY_MAX
    row = page.locator(f'#users-body tr[data-username="ls_{"a" * 20}"]')
    expect(page.locator("#users-empty")).to_be_visible()
    box.fill("ls_" + "a" * 20)
    expect(row).to_have_count(1)
    expect(page.locator("#toasts .toast")).to_have_count(0)
    assert problems == []
    page.context.close()


def test_a_click_pressed_before_a_reload_and_released_after_it_counts(
    live_server: LiveServer, chromium: Any
) -> None:
    """A reload of a table that lands while one of its buttons is pressed waits for
    the release (the table is aria-busy meanwhile), so the click counts: rebuilt in
    between, the press and the release would land on two buttons and no click would
    happen. The reload is drawn right after it."""
    from playwright.sync_api import expect

    live_server.create_admin("kr_mod")
    token = admin_token(live_server, "kr_mod")
    flagged_writer(live_server, token, "kr_other")
    writer = live_server.register("kr_user")
    live_server.register("kr_reader")
    flag = flagged(live_server, token, writer, "kr_reader", ABUSE)

    page, problems = open_dashboard(live_server, chromium, "kr_mod")
    body = page.locator("#queue-body")
    row = body.locator(f'tr[data-flag-id="{flag["id"]}"]')
    other = body.locator('tr[data-author="kr_other"]')
    expect(other.get_by_role("button", name="Block author")).to_have_count(1)
    box = row.get_by_role("button", name="Mute 60 min").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    # Meanwhile another moderator blocks kr_other, and the queue reloads, as a live
    # event or a poll reloads it.
    act(live_server, token, "kr_other", "block", {})
    page.evaluate(
        """() => import(document.querySelector('script[src$="dashboard.js"]').src
              .replace(/dashboard\\.js$/, "state.js"))
            .then((m) => m.refresh({ queue: true }))"""
    )
    expect(body).to_have_attribute("aria-busy", "true")
    expect(other.get_by_role("button", name="Unblock")).to_have_count(0)
    page.mouse.up()
    expect(page.locator("#confirm-title")).to_have_text("Mute kr_user?")
    expect(other.get_by_role("button", name="Unblock")).to_have_count(1)
    expect(body).not_to_have_attribute("aria-busy", "true")
    page.click("#confirm-cancel")
    expect(page.locator("#confirm")).to_be_hidden()
    expect(row.get_by_role("button", name="Mute 60 min")).to_be_focused()
    assert problems == []
    page.context.close()

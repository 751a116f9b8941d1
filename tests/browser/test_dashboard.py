"""The admin dashboard in headless Chromium against a live server.

An admin logs in through the login page, a flagged message appears in the moderation
queue without a reload, hostile markup in it stays text, and "Block author" blocks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import COUNT_READ_ANSWERS, wait_until, watched_page
from tests.helpers import PASSWORD
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

ABUSE = "you are a worthless pathetic loser, kill yourself"
HOSTILE = (
    '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> '
    "nobody wants you here, worthless pathetic loser, kill yourself"
)
SCREENSHOT = Path("/tmp/cyberscan-dashboard.png")


def admin_token(server: LiveServer, username: str) -> str:
    status, body = server.request(
        "POST", "/api/login", {"username": username, "password": PASSWORD}
    )
    assert status == 200, body
    return body["access_token"]


def send(server: LiveServer, token: str, receiver: str, text: str) -> dict[str, Any]:
    """A private message over REST: the same pipeline and events as the socket."""
    status, message = server.request(
        "POST", f"/api/chat/messages/{receiver}", {"message": text}, token
    )
    assert status == 201, message
    return message


def flag_of(server: LiveServer, token: str, message_id: str) -> dict[str, Any]:
    status, page = server.request("GET", "/api/admin/flagged?status=all", token=token)
    assert status == 200, page
    found = [flag for flag in page["items"] if flag["item_id"] == message_id]
    assert len(found) == 1, page
    return found[0]


def ask_to_remove_a_message_and_cancel(page: Any, remove: Any) -> None:
    """Click a Remove button: the dialog asks, saying the receiver no longer sees the
    message; Cancel closes it."""
    from playwright.sync_api import expect

    remove.click()
    expect(page.locator("#confirm-title")).to_have_text("Remove this message?")
    expect(page.locator("#confirm")).to_contain_text(
        "The receiver no longer sees it; its sender still does."
    )
    page.click("#confirm-cancel")
    expect(page.locator("#confirm")).to_be_hidden()


def test_admin_sees_a_flag_arrive_live_and_blocks_its_author(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("dash_admin")
    bully = live_server.register("bully_bob")
    live_server.register("victim_vic")
    token = admin_token(live_server, "dash_admin")

    page, problems = watched_page(chromium, 1440)
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # No session: /admin sends the browser to the login page, which refuses non-admins.
    page.goto(live_server.url + "/admin")
    expect(page).to_have_url(live_server.url + "/admin/login")
    page.fill("#login-name", "victim_vic")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("administrators only")
    expect(page).to_have_url(live_server.url + "/admin/login")
    problems.clear()  # the console logs that refused POST; from here on, nothing

    page.fill("#login-name", "dash_admin")
    page.click("#login-submit")
    expect(page).to_have_url(live_server.url + "/admin")
    expect(page.locator("#admin-name")).to_have_text("dash_admin")
    cookies = page.evaluate("document.cookie")
    assert "csrf_access_token=" in cookies
    assert "access_token_cookie" not in cookies  # HttpOnly: no script can read it
    # Socket.IO connected with the session cookie (polling is only the fallback).
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator('[data-key="flagged_items"] .card-value')).to_have_text("0")
    page.evaluate("window.__sameDocument = true")  # a reload would forget this

    message = send(live_server, bully, "victim_vic", ABUSE)
    assert message["is_bullying"] is True, message  # the committed model flags it
    flag = flag_of(live_server, token, message["id"])
    assert flag["terms"], flag

    row = page.locator(f'#queue-body tr[data-flag-id="{flag["id"]}"]')
    expect(row).to_have_count(1)
    assert page.evaluate("window.__sameDocument") is True  # arrived live
    expect(row.locator(".author-name")).to_have_text("bully_bob")
    expect(row.locator(".content-text")).to_have_text(ABUSE)
    expect(row.locator(".term")).to_have_text(flag["terms"])
    expect(row.locator("mark.term-hit").first).to_be_visible()
    expect(page.locator('[data-key="flagged_items"] .card-value')).to_have_text("1")
    expect(page.locator('[data-key="pending_flags"] .card-value')).to_have_text("1")

    # Moderation queues are full of hostile strings: they must stay text.
    hostile = send(live_server, bully, "victim_vic", HOSTILE)
    assert hostile["is_bullying"] is True, hostile
    hostile_flag = flag_of(live_server, token, hostile["id"])
    hostile_row = page.locator(f'#queue-body tr[data-flag-id="{hostile_flag["id"]}"]')
    expect(hostile_row.locator(".content-text")).to_have_text(HOSTILE)
    assert page.locator("#queue img, #queue script").count() == 0
    assert page.evaluate("window.__pwned === undefined")

    row.get_by_role("button", name="Block author").click()
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-title")).to_have_text("Block bully_bob?")
    page.click("#confirm-cancel")  # changing one's mind blocks no one (counted below)
    expect(page.locator("#confirm")).to_be_hidden()

    row.get_by_role("button", name="Block author").click()
    page.fill("#confirm-reason", "Abusive private messages")
    page.click("#confirm-ok")
    expect(page.locator("#confirm")).to_be_hidden()

    expect(row.locator(".badge-blocked")).to_be_visible()
    expect(row.get_by_role("button", name="Unblock")).to_be_visible()
    expect(row.get_by_role("button", name="Block author")).to_have_count(0)
    user_row = page.locator('#users-body tr[data-username="bully_bob"]')
    expect(user_row.locator(".badge-blocked")).to_be_visible()
    expect(page.locator("#audit")).to_contain_text("dash_admin blocked bully_bob")
    expect(page.locator('[data-key="blocked_users"] .card-value')).to_have_text("1")
    status, body = live_server.request("GET", "/api/me", token=bully)
    assert status == 403 and body["error"] == "blocked", body
    status, log = live_server.request("GET", "/api/admin/audit-log", token=token)
    blocks = [e for e in log["items"] if e["action"] == "block"]
    assert [(e["target"], e["reason"]) for e in blocks] == [
        ("bully_bob", "Abusive private messages")
    ]

    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # Reviewing takes a flag out of the pending queue and into the reviewed one.
    hostile_row.get_by_role("button", name="Dismiss").click()
    expect(hostile_row).to_have_count(0)
    expect(row).to_have_count(1)
    expect(page.locator("#audit")).to_contain_text("dash_admin dismissed a flag on")
    # Removing a message hides it from its receiver only: the question says so.
    ask_to_remove_a_message_and_cancel(page, row.get_by_role("button", name="Remove"))
    page.get_by_role("tab", name="Reviewed").click()
    expect(hostile_row.locator(".reviewed")).to_have_text("Dismissed by dash_admin")
    expect(row).to_have_count(0)

    page.fill("#user-search", "victim")
    expect(page.locator("#users-body tr")).to_have_count(1)
    expect(page.locator("#users-body tr")).to_have_attribute(
        "data-username", "victim_vic"
    )

    assert page.evaluate("window.__sameDocument") is True
    # The CSP's connect-src 'self' lets Socket.IO upgrade to a same-origin WebSocket.
    assert any("transport=websocket" in url for url in sockets), sockets
    assert dialogs == []
    assert problems == []

    page.click("#logout")
    expect(page).to_have_url(live_server.url + "/admin/login")
    page.goto(live_server.url + "/admin")
    expect(page).to_have_url(live_server.url + "/admin/login")
    page.context.close()


def test_summary_cards_say_what_they_count_and_their_captions_fit(
    live_server: LiveServer, chromium: Any
) -> None:
    from playwright.sync_api import expect

    live_server.create_admin("cards_admin")
    author = live_server.register("card_author")
    live_server.register("card_reader")
    status, post = live_server.request(
        "POST", "/api/post", {"content": ABUSE}, token=author
    )
    assert status == 201 and post["is_bullying"] is True, post
    send(live_server, author, "card_reader", "see you at lunch tomorrow")
    token = admin_token(live_server, "cards_admin")
    summary = live_server.get("/api/admin/summary", token)
    items = sum(summary[f"total_{kind}"] for kind in ("messages", "posts", "comments"))
    flagged = sum(
        summary[f"flagged_{kind}"] for kind in ("messages", "posts", "comments")
    )
    assert summary["flagged_share"] == pytest.approx(flagged / items)

    for width in (1440, 1280, 1024):
        context = chromium.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(live_server.url + "/admin/login")
        page.fill("#login-name", "cards_admin")
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        expect(page.locator('[data-key="flagged_items"] .card-value')).to_have_text(
            str(flagged)
        )
        share = page.locator('[data-key="flagged_share"]')
        # The share is of messages, posts and comments, and its caption says so.
        expect(share.locator(".card-sub")).to_have_text(f"{flagged} of {items} items")
        percent = round(100 * flagged / items)
        expect(share.locator(".card-value")).to_have_text(f"{percent}%")
        clipped = page.evaluate(
            """() => [...document.querySelectorAll('#summary .card')].flatMap(card => {
                 const box = card.getBoundingClientRect();
                 return [...card.querySelectorAll('.card-label, .card-sub, .card-value')]
                   .filter(el => el.scrollWidth > el.clientWidth + 1
                     || el.getBoundingClientRect().right > box.right
                     || el.getBoundingClientRect().bottom > box.bottom)
                   .map(el => card.dataset.key + ': ' + el.textContent);
               })"""
        )
        assert clipped == [], (width, clipped)
        if width == 1280:
            page.screenshot(path="/tmp/cyberscan-dashboard-1280.png")
        context.close()


def test_a_slow_answer_never_replaces_a_newer_one(
    live_server: LiveServer, chromium: Any
) -> None:
    """A table shows the page of the latest request: an answer to an earlier one (a
    filter or a search changed meanwhile) that arrives last is dropped."""
    from playwright.sync_api import expect

    live_server.create_admin("race_admin")
    amy = live_server.register("race_amy")
    live_server.register("race_ben")
    token = admin_token(live_server, "race_admin")
    flag = flag_of(live_server, token, send(live_server, amy, "race_ben", ABUSE)["id"])

    page, problems = watched_page(chromium, 1440)
    page.add_init_script(COUNT_READ_ANSWERS)
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.goto(live_server.url + "/admin/login")
    page.fill("#login-name", "race_admin")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page).to_have_url(live_server.url + "/admin")
    row = page.locator(f'#queue-body tr[data-flag-id="{flag["id"]}"]')
    expect(row).to_have_count(1)

    def wait_until_held() -> None:
        wait_until(page, lambda: held, "the request to hold was never made", 200)

    def answer_last(pattern: re.Pattern[str]) -> None:
        """Release the held request and wait until the page has read its answer."""
        assert len(held) == 1, pattern
        read = page.evaluate("window.__answersRead")
        held.pop().continue_()
        wait_until(
            page,
            lambda: page.evaluate("window.__answersRead") > read,
            "the held answer was never read",
        )
        page.unroute(pattern, hold)

    # The queue: "Reviewed" (empty) is asked first and answers after "Pending".
    reviewed = re.compile(r"/api/admin/flagged\?status=reviewed&")
    page.route(reviewed, hold)
    page.get_by_role("tab", name="Reviewed").click()
    wait_until_held()
    page.get_by_role("tab", name="Pending").click()
    expect(row).to_have_count(1)
    answer_last(reviewed)
    expect(row).to_have_count(1)
    expect(page.locator("#queue-empty")).to_be_hidden()

    # The people list: a search for "amy" answers after the search for "ben".
    amy_search = re.compile(r"/api/admin/users\?q=race_amy&")
    page.route(amy_search, hold)
    page.fill("#user-search", "race_amy")
    wait_until_held()  # the search waits 250 ms for typing to stop
    page.fill("#user-search", "race_ben")
    users = page.locator("#users-body tr")
    expect(users).to_have_count(1)
    expect(users).to_have_attribute("data-username", "race_ben")
    answer_last(amy_search)
    expect(users).to_have_count(1)
    expect(users).to_have_attribute("data-username", "race_ben")
    assert problems == []
    page.context.close()


def test_the_header_fits_a_phone_screen(live_server: LiveServer, chromium: Any) -> None:
    from playwright.sync_api import expect

    from tests.browser.test_web_client import OVERFLOWING

    live_server.create_admin("phone_admin")
    page, problems = watched_page(chromium, 375)
    page.goto(live_server.url + "/admin/login")
    page.fill("#login-name", "phone_admin")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#admin-name")).to_have_text("phone_admin")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    overflowing = [
        item
        for item in page.evaluate(OVERFLOWING)
        if "topbar" in item or "page" in item
    ]
    assert overflowing == []
    for part in ("#logout", ".admin-name", "#live-status"):
        expect(page.locator(part)).to_be_in_viewport(ratio=1)
    assert problems == []
    page.context.close()

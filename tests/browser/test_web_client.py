"""The people's web client at / in headless Chromium, against a live server and the
committed model: what two people see when they chat, go offline, get flagged, get
blocked, appeal, and block each other.

Set WEB_SCREENSHOTS=docs/img to refresh the README's screenshots.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.browser.live import route_socket
from tests.browser.test_dashboard_people import call
from tests.helpers import PASSWORD
from tests.live import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 760}
TIMEOUT_MS = 20_000
# Five texts the committed model flags (MAX_BULLYING_COUNT is 5).
ABUSE = [
    "you are a worthless pathetic loser, kill yourself",
    "nobody likes you, you ugly stupid idiot",
    "shut up you worthless moron",
    "go kill yourself loser",
    "you are so dumb and ugly, everyone hates you",
]
HOSTILE = '<img src=x onerror="window.__pwned=1"> you are a worthless pathetic loser'


def name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:6]}"


def screenshot(page: Any, filename: str, full_page: bool = False) -> None:
    """Saved under WEB_SCREENSHOTS when set (docs/img for the README), else nowhere."""
    target = os.environ.get("WEB_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / filename), full_page=full_page)


class Person:
    """One browser context (its own storage, like another device) on the web client."""

    def __init__(
        self,
        browser: Any,
        server: LiveServer,
        viewport: dict[str, int],
        **options: Any,
    ):
        """`options` go to the browser context (e.g. locale, timezone_id)."""
        from playwright.sync_api import expect

        self.server = server
        self.context = browser.new_context(viewport=viewport, **options)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        self.problems: list[str] = []
        self.page.on("pageerror", lambda exc: self.problems.append(str(exc)))
        self.page.on("dialog", lambda d: (self.problems.append(d.message), d.dismiss()))
        self.username = ""

    def open(self) -> None:
        self.page.goto(self.server.url + "/")

    def log_in(self, username: str) -> None:
        from playwright.sync_api import expect

        self.username = username
        self.open()
        self.page.fill("#login-name", username)
        self.page.fill("#login-password", PASSWORD)
        self.page.click("#login-submit")
        expect(self.page.locator("#me-name")).to_have_text(username)
        expect(self.page.locator("#conn-status")).to_have_attribute(
            "data-state", "online"
        )

    def start_chat(self, other: str) -> None:
        from playwright.sync_api import expect

        self.page.fill("#new-chat-name", other)
        self.page.press("#new-chat-name", "Enter")
        expect(self.page.locator("#peer-name")).to_have_text(other)

    def open_chat(self, other: str) -> None:
        from playwright.sync_api import expect

        self.conversation(other).click()
        expect(self.page.locator("#peer-name")).to_have_text(other)

    def send(self, text: str) -> None:
        self.page.fill("#composer-input", text)
        self.page.press("#composer-input", "Enter")

    def second_tab(self, other: str) -> Any:
        """Another tab of this person (the same storage, so the same outbox) on the
        conversation with `other`, connected."""
        from playwright.sync_api import expect

        page = self.context.new_page()
        page.on("pageerror", lambda exc: self.problems.append(str(exc)))
        page.goto(self.server.url + "/")
        page.click(f'#conversation-list .conv[data-username="{other}"]')
        expect(page.locator("#peer-name")).to_have_text(other)
        expect(page.locator("#conn-status")).to_have_attribute("data-state", "online")
        return page

    def conversation(self, other: str) -> Any:
        return self.page.locator(f'#conversation-list .conv[data-username="{other}"]')

    def bubbles(self, text: str) -> Any:
        """Messages in the open conversation whose text is exactly `text`."""
        return self.page.locator("#messages li.msg").filter(
            has=self.page.locator(".text", has_text=text)
        )

    def close(self) -> None:
        self.context.close()
        assert self.problems == []


@pytest.fixture
def people(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    """A factory of Persons; each one's context is closed after the test."""
    made: list[Person] = []

    def make(viewport: dict[str, int] = DESKTOP, **options: Any) -> Person:
        person = Person(chromium, live_server, viewport, **options)
        made.append(person)
        return person

    yield make
    for person in made:
        person.close()


@pytest.fixture(scope="module")
def admin(live_server: LiveServer) -> str:
    """An admin's access token. The CLI way is the dashboard test's; this is faster."""
    admin_name = name("boss")
    user_id = live_server.sign_up(admin_name)["id"]
    engine = sa.create_engine(live_server.env["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE users SET is_admin = :yes WHERE id = :id"),
            {"yes": True, "id": user_id},
        )
    engine.dispose()
    return live_server.login(admin_name)


def lose_acknowledgements(page: Any) -> dict[str, Any]:
    """Route the page's WebSocket; once armed, drop the server's next answer to a send.

    The answer comes twice: the acknowledgement (Socket.IO packet `43<id>[...]`) and
    the `message_sent` event; both are dropped, as when a connection dies after the
    server committed the message. While `deaf` is set, read receipts (`messages_read`)
    are dropped too, as when they arrive while the connection is down.
    """
    state: dict[str, Any] = {"armed": False, "dropped": [], "deaf": False}

    def from_server(ws: Any, frame: str | bytes) -> None:
        if (
            state["deaf"]
            and isinstance(frame, str)
            and frame.startswith('42["messages_read"')
        ):
            return
        if state["armed"] and isinstance(frame, str):
            kind = "ack" if frame.startswith("43") else None
            if frame.startswith('42["message_sent"'):
                kind = "message_sent"
            if kind and kind not in state["dropped"]:
                state["dropped"].append(kind)
                state["armed"] = len(state["dropped"]) < 2
                return
        ws.send(frame)

    route_socket(page, from_server)
    return state


def history(server: LiveServer, token: str, other: str) -> list[str]:
    page = server.get(f"/api/chat/messages/{other}?limit=100", token)
    return [item["message"] for item in page["items"]]


def read_on_server(server: LiveServer, token: str, other: str, text: str) -> bool:
    page = server.get(f"/api/chat/messages/{other}?limit=100", token)
    return any(i["is_read"] for i in page["items"] if i["message"] == text)


def test_two_people_chat_live_with_typing_read_ticks_and_reload(
    live_server: LiveServer, people: Any
) -> None:
    from playwright.sync_api import expect

    ana, ben = people(), people()
    ana_name, ben_name = name("ana"), name("ben")
    ben_token = live_server.register(ben_name)

    # Ana creates her account on the page itself.
    ana.open()
    expect(ana.page.locator("#login-form")).to_be_visible()
    screenshot(ana.page, "web-login.png")
    ana.page.click("#tab-register")
    ana.page.fill("#register-username", ana_name)
    ana.page.fill("#register-email", f"{ana_name}@example.com")
    ana.page.fill("#register-password", "short")
    ana.page.click("#register-submit")
    refused = ana.page.locator("#register-error")
    expect(refused).to_contain_text("not valid")
    # Each wrong field on a line of its own, named as the form names it.
    assert refused.inner_text().splitlines() == [
        "The request is not valid.",
        "Password: Length must be between 8 and 256.",
    ]
    ana.page.fill("#register-password", PASSWORD)
    ana.page.click("#register-submit")
    expect(ana.page.locator("#me-name")).to_have_text(ana_name)
    ana.username = ana_name
    ben.log_in(ben_name)

    ana.start_chat(ben_name)
    ana.send("Hi Ben! Are you coming to practice tomorrow?")
    mine = ana.bubbles("Are you coming to practice")
    expect(mine).to_have_attribute("data-status", "delivered")

    # Ben's list shows the new conversation live: last message and an unread badge.
    conv = ben.conversation(ana_name)
    expect(conv.locator(".conv-last")).to_have_text(
        "Hi Ben! Are you coming to practice tomorrow?"
    )
    expect(conv.locator(".unread-badge")).to_have_text("1")
    expect(conv.locator(".presence")).to_have_attribute("data-online", "1")
    expect(ben.page).to_have_title("(1) CyberScan Messenger")
    ben.open_chat(ana_name)
    expect(ben.bubbles("Are you coming to practice")).to_have_count(1)
    expect(conv.locator(".unread-badge")).to_have_count(0)
    expect(ben.page).to_have_title("CyberScan Messenger")
    expect(mine).to_have_attribute("data-status", "read")  # Ben has read it

    # Typing shows on the other side, and stops when the message arrives.
    ben.page.fill("#composer-input", "Yes")
    ben.page.type("#composer-input", ", see")
    expect(ana.page.locator("#typing-indicator")).to_be_visible()
    expect(ana.page.locator("#typing-text")).to_have_text(f"{ben_name} is typing…")
    ben.page.type("#composer-input", " you there at six.")
    ben.page.press("#composer-input", "Enter")
    reply = ana.bubbles("Yes, see you there at six.")
    expect(reply).to_have_count(1)
    expect(reply).to_have_class("msg theirs")
    expect(ana.page.locator("#typing-indicator")).to_be_hidden()
    expect(ana.page.locator("#messages")).to_have_attribute("aria-live", "polite")

    # A message sent over REST reaches the list live too, on top, with its badge.
    coach_name = name("coach")
    coach_token = live_server.register(coach_name)
    status, body = live_server.request(
        "POST",
        f"/api/chat/messages/{ana_name}",
        {"message": "Practice moves to the big hall this week."},
        coach_token,
    )
    assert status == 201, body
    expect(ana.page.locator("#conversation-list .conv")).to_have_count(2)
    expect(ana.page.locator("#conversation-list .conv").first).to_have_attribute(
        "data-username", coach_name
    )
    expect(ana.conversation(coach_name).locator(".unread-badge")).to_have_text("1")
    expect(ana.conversation(ben_name).locator(".unread-badge")).to_have_count(0)
    screenshot(ana.page, "web-conversation.png")

    # Hostile markup is text, never markup.
    ben.send(HOSTILE)
    expect(ana.page.locator("#messages li.msg")).to_have_count(3)
    assert ana.page.locator("#messages img").count() == 0
    assert ana.page.evaluate("window.__pwned === undefined")

    # A reload keeps the session (refresh token) and shows the same conversation.
    ana.page.reload()
    expect(ana.page.locator("#me-name")).to_have_text(ana_name)
    expect(ana.conversation(ben_name)).to_have_count(1)
    ana.open_chat(ben_name)
    expect(ana.bubbles("Are you coming to practice")).to_have_attribute(
        "data-status", "read"
    )
    expect(ana.page.locator("#messages li.msg")).to_have_count(3)

    # An unknown name answers the server's own message.
    status, error = live_server.request(
        "GET", "/api/chat/messages/nobody_by_that_name", token=ben_token
    )
    assert status == 404, error
    ana.page.fill("#new-chat-name", "nobody_by_that_name")
    ana.page.press("#new-chat-name", "Enter")
    expect(ana.page.locator(".toast")).to_have_text(error["message"])

    # Logging out revokes the session: a reload shows the login form.
    ana.page.click("#logout")
    expect(ana.page.locator("#login-form")).to_be_visible()
    ana.page.reload()
    expect(ana.page.locator("#login-form")).to_be_visible()


def test_messages_sent_while_offline_arrive_once_after_reconnecting(
    live_server: LiveServer, people: Any
) -> None:
    from playwright.sync_api import expect

    cara, dan = people(), people()
    cara_name, dan_name = name("cara"), name("dan")
    cara_token = live_server.register(cara_name)
    dan_token = live_server.register(dan_name)
    lost = lose_acknowledgements(cara.page)
    cara.log_in(cara_name)
    dan.log_in(dan_name)
    cara.start_chat(dan_name)
    cara.send("Are you there?")
    dan.open_chat(cara_name)
    expect(dan.bubbles("Are you there?")).to_have_count(1)

    expect(cara.page.locator("#peer-status")).to_have_text("Online")
    dan.context.set_offline(True)
    expect(dan.page.locator("#conn-status")).to_have_attribute("data-state", "offline")
    expect(cara.page.locator("#peer-status")).to_have_text("Offline")  # user_left
    # Dan writes while offline: the message waits in the outbox.
    dan.send("Written on the train, no signal")
    waiting = dan.bubbles("Written on the train")
    expect(waiting).to_have_attribute("data-status", "pending")
    # Cara writes to Dan while he is away.
    for text in ("First while you were away", "Second while you were away"):
        cara.send(text)
        expect(cara.bubbles(text)).to_have_attribute("data-status", "sent")
    expect(dan.bubbles("while you were away")).to_have_count(0)

    # On reconnecting, the page fetches the conversation list, then catches up. Hold
    # that list until Dan's queued message is answered, so the answer comes first (as
    # on a slow network): catching up must still start from before the gap.
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    dan.page.route("**/api/chat/conversations", hold)
    dan.context.set_offline(False)
    expect(dan.page.locator("#conn-status")).to_have_attribute("data-state", "online")
    expect(cara.page.locator("#peer-status")).to_have_text("Online")  # user_joined
    expect(waiting).to_have_attribute("data-status", re.compile("^(delivered|read)$"))
    assert held, "the conversation list was not fetched on reconnecting"
    for route in held:
        route.continue_()
    dan.page.unroute("**/api/chat/conversations")
    expect(dan.bubbles("First while you were away")).to_have_count(1)
    expect(dan.bubbles("Second while you were away")).to_have_count(1)
    expect(waiting).to_have_attribute("data-status", "read")  # Cara's page is open
    expect(cara.bubbles("Written on the train")).to_have_count(1)

    # Once each on the server too, in the server's order on the page, and after a reload.
    texts = history(live_server, dan_token, cara_name)
    assert dan.page.locator("#messages li.msg .text").all_text_contents() == texts
    assert texts.count("Written on the train, no signal") == 1, texts
    assert texts.count("First while you were away") == 1, texts
    dan.page.reload()
    dan.open_chat(cara_name)
    expect(dan.page.locator("#messages li.msg")).to_have_count(4)
    assert history(live_server, cara_token, dan_name) == texts

    # The server stores a message but its answer is lost with the connection: the
    # retry after the reconnect carries the same client_id and stores nothing new. Dan
    # reads it meanwhile and his receipt is lost too (as when it comes while Cara is
    # offline): the retry's answer must say it was read.
    lost["armed"] = lost["deaf"] = True
    cara.send("Did this one arrive?")
    expect(dan.bubbles("Did this one arrive?")).to_have_count(1)
    unanswered = cara.bubbles("Did this one arrive?")
    expect(unanswered).to_have_attribute("data-status", "pending")
    for _ in range(100):  # the page's route handler runs while the page waits
        if len(lost["dropped"]) == 2 and read_on_server(
            live_server, cara_token, dan_name, "Did this one arrive?"
        ):
            break
        cara.page.wait_for_timeout(100)
    assert sorted(lost["dropped"]) == ["ack", "message_sent"]
    assert read_on_server(live_server, cara_token, dan_name, "Did this one arrive?")
    cara.context.set_offline(True)
    expect(cara.page.locator("#conn-status")).to_have_attribute("data-state", "offline")
    lost["deaf"] = False
    # Hold Cara's catching up until the retry is answered, so the answer comes first
    # (then catching up finds the message already shown).
    held_up: list[Any] = []

    def hold_catch_up(route: Any) -> None:
        if "after=" in route.request.url:
            held_up.append(route)
        else:
            route.continue_()

    cara.page.route("**/api/chat/messages/**", hold_catch_up)
    cara.context.set_offline(False)
    expect(unanswered).to_have_attribute(
        "data-status", re.compile("^(delivered|read)$")
    )
    for route in held_up:
        route.continue_()
    cara.page.unroute("**/api/chat/messages/**")
    expect(unanswered).to_have_attribute("data-status", "read")
    expect(unanswered).to_have_count(1)
    expect(dan.bubbles("Did this one arrive?")).to_have_count(1)
    texts = history(live_server, dan_token, cara_name)
    assert texts.count("Did this one arrive?") == 1, texts


def test_a_message_unsent_while_offline_is_gone_after_reconnecting(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    """`message_deleted` reaches only connections open at the time: a device that was
    offline when a message was unsent (or removed by a moderator) drops it once it is
    back, and keeps the rest."""
    from playwright.sync_api import expect

    gil = people()
    gil_name, hal_name = name("gil"), name("hal")
    gil_token = live_server.register(gil_name)
    hal_token = live_server.register(hal_name)
    sent = {}
    for text in ("Keep this one", "Oops, not for you", "You are a loser"):
        status, body = live_server.request(
            "POST", f"/api/chat/messages/{gil_name}", {"message": text}, hal_token
        )
        assert status == 201, body
        sent[text] = body["id"]
    gil.log_in(gil_name)
    gil.open_chat(hal_name)
    for text in sent:
        expect(gil.bubbles(text)).to_have_count(1)

    gil.context.set_offline(True)
    expect(gil.page.locator("#conn-status")).to_have_attribute("data-state", "offline")
    status, _ = live_server.request(
        "DELETE", f"/api/chat/messages/{sent['Oops, not for you']}", token=hal_token
    )
    assert status == 200
    status, report = live_server.request(
        "POST",
        "/api/reports",
        {"message_id": sent["You are a loser"], "reason": "mean"},
        gil_token,
    )
    assert status == 201, report
    status, _ = live_server.request(
        "POST",
        f"/api/admin/reports/{report['id']}/review",
        {"action": "remove"},
        admin,
    )
    assert status == 200
    gil.context.set_offline(False)
    expect(gil.page.locator("#conn-status")).to_have_attribute("data-state", "online")
    expect(gil.bubbles("Oops, not for you")).to_have_count(0)
    expect(gil.bubbles("You are a loser")).to_have_count(0)
    expect(gil.bubbles("Keep this one")).to_have_count(1)


def test_flagged_messages_are_collapsed_and_five_flags_block_the_author(
    live_server: LiveServer, people: Any
) -> None:
    from playwright.sync_api import expect

    eve, fay = people(), people()
    eve_name, fay_name = name("eve"), name("fay")
    live_server.sign_up(eve_name)
    live_server.sign_up(fay_name)
    eve.log_in(eve_name)
    fay.log_in(fay_name)
    eve.start_chat(fay_name)
    eve.send("hey fay, did you finish the homework?")
    fay.open_chat(eve_name)
    expect(fay.bubbles("did you finish the homework")).to_have_count(1)

    eve.send(ABUSE[0])
    # The author is warned in the open, with the strikes left.
    expect(eve.page.locator("#moderation-banner")).to_be_visible()
    banner = eve.page.locator("#moderation-banner-text")
    expect(banner).to_contain_text("1 of 5 strikes. 4 more flagged")
    expect(banner).to_contain_text("4 more")
    expect(eve.bubbles(ABUSE[0]).locator(".flag-mark")).to_be_visible()
    screenshot(eve.page, "web-warning.png")

    # The receiver sees it collapsed, and can open, hide or report it.
    flagged = fay.page.locator("#messages li.msg.flagged")
    expect(flagged).to_have_count(1)
    reveal = flagged.get_by_role("button", name="This message may be hurtful — show it")
    expect(reveal).to_be_visible()
    expect(flagged.locator(".text")).to_be_hidden()
    screenshot(fay.page, "web-conversation-flagged.png")
    reveal.click()
    expect(flagged.locator(".text")).to_have_text(ABUSE[0])
    expect(flagged.get_by_role("button", name="Report")).to_be_visible()
    expect(flagged.get_by_role("button", name=f"Block {eve_name}")).to_be_visible()
    flagged.get_by_role("button", name="Hide").click()
    expect(flagged.locator(".text")).to_be_hidden()
    expect(fay.conversation(eve_name).locator(".conv-last")).to_have_text(
        "A message that may be hurtful"
    )

    # Four more flags reach the limit: the blocked screen says why.
    for text in ABUSE[1:]:
        eve.send(text)
    expect(eve.page.locator("#screen-blocked")).to_be_visible()
    expect(eve.page.locator("#blocked-title")).to_have_text("Your account is blocked")
    expect(eve.page.locator("#blocked-reason")).not_to_be_empty()
    expect(fay.page.locator("#messages li.msg.flagged")).to_have_count(5)
    # A blocked account cannot log back in: the page keeps showing why.
    eve.page.reload()
    expect(eve.page.locator("#screen-blocked")).to_be_visible()


def test_a_blocked_person_appeals_and_is_let_back_in(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    from playwright.sync_api import expect

    gus_name, hana_name = name("gus"), name("hana")
    gus_token = live_server.register(gus_name)
    status, body = live_server.request("GET", "/api/me/strikes", token=gus_token)
    assert status == 200, body  # the endpoint the blocked screen is built on
    live_server.sign_up(hana_name)
    for text in ABUSE:
        status, body = live_server.request(
            "POST", f"/api/chat/messages/{hana_name}", {"message": text}, gus_token
        )
        assert status == 201 and body["is_bullying"], body

    gus = people()
    gus.open()
    gus.page.fill("#login-name", gus_name)
    gus.page.fill("#login-password", PASSWORD)
    gus.page.click("#login-submit")
    expect(gus.page.locator("#screen-blocked")).to_be_visible()
    strikes = gus.page.locator("#blocked-strikes li.strike")
    expect(strikes).to_have_count(5)
    expect(gus.page.locator("#blocked-count")).to_contain_text("5 of 5 strikes")
    first = strikes.filter(has_text=ABUSE[0])
    first.get_by_role("button", name="Contest this strike").click()
    first.get_by_label("Why was this not bullying?").fill(
        "It was a quote from a film we were discussing."
    )
    screenshot(gus.page, "web-blocked-appeal.png", full_page=True)
    first.get_by_role("button", name="Send appeal").click()
    expect(first.locator(".appeal-state")).to_contain_text("Appeal sent")

    queue = live_server.get("/api/admin/appeals", admin)
    appeal = next(
        item for item in queue["items"] if item["reason"].startswith("It was")
    )
    status, body = live_server.request(
        "POST", f"/api/admin/appeals/{appeal['id']}", {"decision": "accept"}, admin
    )
    assert status == 200, body

    expect(gus.page.locator("#blocked-outcome")).to_contain_text("unblocked")
    # The whole screen says so: no "blocked" title or block reason above the outcome.
    expect(gus.page.locator("#blocked-title")).to_have_text("Your account is unblocked")
    expect(gus.page.locator("#blocked-reason")).to_be_hidden()
    expect(gus.page.locator("#blocked-strikes-section")).to_be_hidden()
    expect(gus.page.locator("#blocked-relogin")).to_be_in_viewport()
    gus.page.click("#blocked-relogin")
    gus.page.fill("#login-password", PASSWORD)
    gus.page.click("#login-submit")
    expect(gus.page.locator("#me-name")).to_have_text(gus_name)

    # Back in: the strikes are in the account dialog, and a decision arrives live.
    gus.page.click("#open-settings")
    strikes = gus.page.locator("#strikes li.strike")
    expect(strikes).to_have_count(5)
    expect(strikes.filter(has_text=ABUSE[0])).to_have_attribute(
        "data-status", "dismissed"
    )
    expect(strikes.filter(has_text=ABUSE[0]).locator(".appeal-state")).to_have_text(
        "Appeal accepted: this strike no longer counts."
    )
    second = strikes.filter(has_text=ABUSE[1])
    second.get_by_role("button", name="Contest this strike").click()
    second.get_by_label("Why was this not bullying?").fill("Song lyrics.")
    second.get_by_role("button", name="Send appeal").click()
    expect(second.locator(".appeal-state")).to_contain_text("Appeal sent")
    queue = live_server.get("/api/admin/appeals", admin)
    appeal = next(item for item in queue["items"] if item["reason"] == "Song lyrics.")
    status, body = live_server.request(
        "POST",
        f"/api/admin/appeals/{appeal['id']}",
        {"decision": "reject", "note": "Not lyrics we know."},
        admin,
    )
    assert status == 200, body
    expect(
        gus.page.locator(".toast", has_text="Your appeal was rejected")
    ).to_be_visible()
    expect(second.locator(".appeal-state")).to_have_text(
        "Appeal rejected: the strike stays. “Not lyrics we know.”"
    )


def test_block_mute_report_and_unsend_from_a_conversation(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    from playwright.sync_api import expect

    ivo, jo = people(), people()
    ivo_name, jo_name = name("ivo"), name("jo")
    live_server.sign_up(ivo_name)
    jo_token = live_server.register(jo_name)
    status, body = live_server.request("GET", "/api/me/blocks", token=jo_token)
    assert status == 200, body  # the endpoint the block button is built on
    ivo.log_in(ivo_name)
    jo.log_in(jo_name)

    # Search finds a person by the start of their name.
    jo.page.fill("#new-chat-name", ivo_name[:5])
    jo.page.locator(f'#search-results button[data-username="{ivo_name}"]').click()
    expect(jo.page.locator("#peer-name")).to_have_text(ivo_name)
    jo.send("oops, wrong chat")
    ivo.open_chat(jo_name)
    expect(ivo.bubbles("oops, wrong chat")).to_have_count(1)
    jo.bubbles("oops, wrong chat").get_by_role("button", name="Unsend").click()
    expect(jo.bubbles("oops, wrong chat")).to_have_count(0)
    expect(ivo.bubbles("oops, wrong chat")).to_have_count(0)

    jo.send("you again?")
    expect(ivo.bubbles("you again?")).to_have_count(1)

    # Mute and report from the conversation's menu.
    ivo.page.click("#peer-menu summary")
    ivo.page.click("#action-mute")
    expect(ivo.conversation(jo_name).locator(".tag")).to_have_text("muted")
    ivo.page.click("#peer-menu summary")
    ivo.page.click("#action-report")
    ivo.page.fill("#report-reason", "Keeps writing to me after I said stop.")
    ivo.page.click("#report-submit")
    expect(ivo.page.locator(".toast", has_text="A moderator will look")).to_be_visible()
    reports = live_server.get("/api/admin/reports", admin)["items"]
    assert [(r["reporter"], r["username"]) for r in reports] == [(ivo_name, jo_name)]

    ivo.page.click("#peer-menu summary")
    ivo.page.click("#action-block")
    expect(ivo.page.locator("#peer-blocked-banner")).to_be_visible()
    expect(ivo.page.locator("#composer-input")).to_be_disabled()

    jo.send("can you hear me?")
    refused = jo.bubbles("can you hear me?")
    expect(refused).to_have_attribute("data-status", "failed")
    expect(refused.locator(".msg-note")).not_to_be_empty()
    status, body = live_server.request(
        "POST", f"/api/chat/messages/{ivo_name}", {"message": "and now?"}, jo_token
    )
    assert status == 403 and body["error"] == "forbidden", body
    ivo.page.reload()
    ivo.open_chat(jo_name)
    expect(ivo.bubbles("you again?")).to_have_count(1)
    expect(ivo.bubbles("can you hear me?")).to_have_count(0)
    expect(ivo.bubbles("and now?")).to_have_count(0)
    expect(ivo.page.locator("#composer-input")).to_be_disabled()

    # A new password logs the other devices out; this one carries on.
    jo.page.click("#open-settings")
    jo.page.fill("#current-password", PASSWORD)
    jo.page.fill("#new-password", "a brand new passphrase")
    jo.page.click("#password-submit")
    expect(jo.page.locator("#password-done")).to_be_visible()
    status, body = live_server.request("GET", "/api/me", token=jo_token)
    assert status == 401, body
    jo.page.click("#settings-dialog .dialog-close")
    jo.page.reload()
    expect(jo.page.locator("#me-name")).to_have_text(jo_name)


def test_phone_sized_screen_by_keyboard(live_server: LiveServer, people: Any) -> None:
    from playwright.sync_api import expect

    kim_name, leo_name = name("kim"), name("leo")
    kim_token = live_server.register(kim_name)
    leo_token = live_server.register(leo_name)
    # More than one page of history (the client asks for 30 at a time).
    for index in range(40):
        status, body = live_server.request(
            "POST",
            f"/api/chat/messages/{leo_name}",
            {"message": f"old {index}"},
            kim_token,
        )
        assert status == 201, body
    status, body = live_server.request(
        "POST",
        f"/api/chat/messages/{kim_name}",
        {"message": "Lunch at noon?"},
        leo_token,
    )
    assert status == 201, body

    kim = people(PHONE)
    kim.open()
    page = kim.page
    # Keyboard only: the first field has focus, Tab moves on, Enter submits.
    expect(page.locator("#login-name")).to_be_focused()
    page.keyboard.type(kim_name)
    page.keyboard.press("Tab")
    expect(page.locator("#login-password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#me-name")).to_have_text(kim_name)
    conv = kim.conversation(leo_name)
    expect(conv.locator(".unread-badge")).to_have_text("1")
    expect(page.locator("#conversation")).to_be_hidden()  # one pane at a time
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online")
    screenshot(page, "web-phone.png")
    conv.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#sidebar")).to_be_hidden()
    expect(page.locator("#composer-input")).to_be_focused()
    # Enter sends here, so a phone's keyboard labels its Enter key "send".
    expect(page.locator("#composer-input")).to_have_attribute("enterkeyhint", "send")
    page.keyboard.type("Sounds good")
    page.keyboard.press("Enter")
    expect(kim.bubbles("Sounds good")).to_have_count(1)
    expect(kim.bubbles("Lunch at noon?")).to_have_count(1)
    messages = page.locator("#messages li.msg")
    expect(messages).to_have_count(31)
    expect(page.locator("#history-start")).to_be_hidden()
    # Scrolling up loads the older page above, keeping the order.
    page.locator("#messages-scroll").evaluate("box => { box.scrollTop = 0; }")
    expect(messages).to_have_count(42)
    expect(page.locator("#history-start")).to_be_visible()
    expect(messages.first.locator(".text")).to_have_text("old 0")
    expect(messages.nth(10).locator(".text")).to_have_text("old 10")
    expect(messages.last.locator(".text")).to_have_text("Sounds good")
    page.get_by_role("button", name="Back to conversations").click()
    expect(page.locator("#sidebar")).to_be_visible()
    expect(conv.locator(".conv-last")).to_have_text("You: Sounds good")
    expect(conv.locator(".unread-badge")).to_have_count(0)


# Everything on the page that sticks out of the viewport or clips its own text.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > width) {
    out.push('page ' + document.documentElement.scrollWidth + ' > ' + width);
  }
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (!box.width || getComputedStyle(el).visibility === 'hidden') continue;
    if (box.right > width + 0.5) out.push((el.id || el.className) + ' ends at ' + box.right);
  }
  return out;
}"""


@pytest.mark.parametrize("width", [375, 1200])
def test_the_offline_pill_fits_and_the_page_never_overflows(
    live_server: LiveServer, people: Any, width: int
) -> None:
    from playwright.sync_api import expect

    olga_name = name("olga")
    live_server.sign_up(olga_name)
    olga = people({"width": width, "height": 700})
    olga.log_in(olga_name)
    olga.context.set_offline(True)
    pill = olga.page.locator("#conn-status")
    expect(pill).to_have_attribute("data-state", "offline")
    expect(pill).to_have_text("Offline: messages wait to be sent")
    assert olga.page.evaluate(OVERFLOWING) == []
    # Its whole text shows, inside the sidebar (the conversation pane never covers it).
    clipped = pill.evaluate(
        """pill => {
             const box = pill.getBoundingClientRect();
             const side = document.getElementById('sidebar').getBoundingClientRect();
             return pill.scrollWidth > pill.clientWidth
               || pill.scrollHeight > pill.clientHeight
               || box.left < side.left || box.right > side.right;
           }"""
    )
    assert not clipped
    expect(olga.page.locator("#logout")).to_be_in_viewport()
    olga.context.set_offline(False)
    expect(pill).to_have_attribute("data-state", "online")


def test_a_block_and_unblock_by_hand_are_told_as_they_are(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    """A moderator blocks someone with no strikes, then unblocks them with no appeal:
    the blocked screen says the account is blocked and why, then that it is unblocked,
    never that strikes are left or that an appeal was accepted."""
    from playwright.sync_api import expect

    pia_name = name("pia")
    live_server.sign_up(pia_name)
    pia = people()
    pia.log_in(pia_name)
    call(
        live_server,
        "POST",
        f"/api/admin/users/{pia_name}/block",
        {"reason": "Spamming people"},
        admin,
    )
    expect(pia.page.locator("#screen-blocked")).to_be_visible()
    pia.page.fill("#blocked-password", PASSWORD)
    pia.page.click("#blocked-login-submit")
    count = pia.page.locator("#blocked-count")
    expect(count).to_be_visible()
    expect(count).to_contain_text("Your account is blocked")
    expect(count).not_to_contain_text("more flagged")
    expect(pia.page.locator("#blocked-reason")).to_have_text("Spamming people")

    call(live_server, "POST", f"/api/admin/users/{pia_name}/unblock", {}, admin)
    outcome = pia.page.locator("#blocked-outcome")
    expect(outcome).to_contain_text("Your account is unblocked")
    expect(outcome).not_to_contain_text("appeal")
    expect(count).not_to_contain_text("is blocked")
    expect(pia.page.locator("#blocked-title")).to_have_text("Your account is unblocked")
    expect(pia.page.locator("#blocked-reason")).to_be_hidden()


def test_an_admin_mute_shows_at_login_in_local_time_and_its_end_shows_too(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    from playwright.sync_api import expect

    quinn_name = name("quinn")
    live_server.sign_up(quinn_name)
    body = call(
        live_server,
        "POST",
        f"/api/admin/users/{quinn_name}/mute",
        {"minutes": 90},
        admin,
    )
    until = body["user"]["muted_until"]

    # A person in New York, muted before logging in.
    quinn = people(locale="en-US", timezone_id="America/New_York")
    quinn.log_in(quinn_name)
    banner = quinn.page.locator("#muted-banner")
    expect(banner).to_be_visible()
    local = quinn.page.evaluate(
        """until => new Date(until).toLocaleString([], {dateStyle: "medium", timeStyle: "short"})""",
        until,
    )
    assert "AM" in local or "PM" in local  # en-US, not the UTC timestamp
    expect(banner).to_contain_text(f"You are muted until {local}")
    expect(banner).not_to_contain_text(until[:16])
    quinn.page.reload()  # and after a reload
    expect(quinn.page.locator("#me-name")).to_have_text(quinn_name)
    expect(banner).to_contain_text(f"You are muted until {local}")
    expect(quinn.page.locator("#conn-status")).to_have_attribute("data-state", "online")

    call(live_server, "POST", f"/api/admin/users/{quinn_name}/unmute", {}, admin)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("You can send messages again.")
    banner.get_by_role("button", name="Dismiss").click()
    expect(banner).to_be_hidden()


def test_any_received_message_can_be_reported(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    from playwright.sync_api import expect

    rae_name, sam_name = name("rae"), name("sam")
    sam_token = live_server.register(sam_name)
    live_server.sign_up(rae_name)
    sent = call(
        live_server,
        "POST",
        f"/api/chat/messages/{rae_name}",
        {"message": "are you coming to the party on saturday?"},
        sam_token,
    )
    assert not sent["is_bullying"], sent  # not flagged
    rae = people()
    rae.log_in(rae_name)
    rae.open_chat(sam_name)
    plain = rae.bubbles("coming to the party")
    expect(plain).to_have_count(1)
    plain.hover()
    plain.get_by_role("button", name="Report this message").click()
    expect(rae.page.locator("#report-quote")).to_have_text(sent["message"])
    rae.page.fill("#report-reason", "A threat.")
    rae.page.click("#report-submit")
    expect(rae.page.locator(".toast", has_text="A moderator will look")).to_be_visible()
    reports = live_server.get("/api/admin/reports", admin)["items"]
    mine = [r for r in reports if r["reporter"] == rae_name]
    assert [(r["message_id"], r["username"], r["reason"]) for r in mine] == [
        (sent["id"], sam_name, "A threat.")
    ]


def posts_of(page: Any) -> list[str]:
    """The API paths the page POSTs to from now on, in order (`me/password`, …)."""
    calls: list[str] = []
    page.on(
        "request",
        lambda request: (
            request.method == "POST"
            and "/api/" in request.url
            and calls.append(request.url.split("/api/", 1)[1])
        ),
    )
    return calls


def dead_token_once(page: Any, pattern: str) -> None:
    """The page's next request to `pattern` goes out with a token the server does
    not know (as an expired one); later ones as the page sends them."""
    spoiled: list[str] = []

    def spoil(route: Any) -> None:
        if spoiled:
            route.continue_()
            return
        spoiled.append(route.request.url)
        headers = {**route.request.headers, "authorization": "Bearer not.a.token"}
        route.continue_(headers=headers)

    page.route(pattern, spoil)


def test_a_wrong_current_password_is_said_once_and_keeps_the_session(
    live_server: LiveServer, people: Any
) -> None:
    from playwright.sync_api import expect

    uma_name = name("uma")
    live_server.sign_up(uma_name)
    uma = people()
    uma.log_in(uma_name)
    calls = posts_of(uma.page)
    uma.page.click("#open-settings")
    uma.page.fill("#current-password", "not my password at all")
    uma.page.fill("#new-password", "a brand new passphrase")
    uma.page.click("#password-submit")
    expect(uma.page.locator("#password-error")).to_have_text(
        "The current password is not right."
    )
    assert calls == ["me/password"]  # no token refresh, no second try
    uma.page.click("#settings-dialog .dialog-close")
    expect(uma.page.locator("#me-name")).to_have_text(uma_name)  # still logged in
    uma.page.reload()
    expect(uma.page.locator("#me-name")).to_have_text(uma_name)


def test_a_dead_token_on_the_password_change_is_renewed_and_the_change_goes_through(
    live_server: LiveServer, people: Any
) -> None:
    """The server's own 401 for a dead token (it names no field) makes the page renew
    its token and send the change again; only a 401 naming `current_password` is an
    answer. The first try goes out with a token the server does not know."""
    from playwright.sync_api import expect

    vic_name = name("vic")
    live_server.sign_up(vic_name)
    vic = people()
    vic.log_in(vic_name)
    calls = posts_of(vic.page)
    dead_token_once(vic.page, "**/api/me/password")
    vic.page.click("#open-settings")
    vic.page.fill("#current-password", PASSWORD)
    vic.page.fill("#new-password", "a brand new passphrase")
    vic.page.click("#password-submit")
    expect(vic.page.locator("#password-done")).to_contain_text("Password changed")
    assert calls == ["me/password", "token/refresh", "me/password", "login"], calls
    status, body = live_server.request(
        "POST",
        "/api/login",
        {"username": vic_name, "password": "a brand new passphrase"},
    )
    assert status == 200, body


def all_delivered(pages: Any, texts: list[str]) -> None:
    """Waits until each page shows each of `texts` (one's own) ticked delivered."""
    from playwright.sync_api import expect

    for page in pages:
        for text in texts:
            bubble = page.locator("#messages li.msg").filter(
                has=page.locator(".text", has_text=text)
            )
            expect(bubble).to_have_attribute("data-status", "delivered")


def statuses(page: Any) -> dict[str, str]:
    """Each message's text in the open conversation and its tick state."""
    return page.eval_on_selector_all(
        "#messages li.msg",
        "nodes => Object.fromEntries(nodes.map(n =>"
        " [n.querySelector('.text').textContent, n.dataset.status || 'theirs']))",
    )


def hold_received_messages(page: Any) -> dict[str, Any]:
    """Route the page's WebSocket; while `hold` is set, `receive_message` events wait
    in `held` until `release()` hands them on, in order."""
    state: dict[str, Any] = {"hold": False, "held": []}

    def from_server(ws: Any, frame: str | bytes) -> None:
        if (
            state["hold"]
            and isinstance(frame, str)
            and frame.startswith('42["receive_message"')
        ):
            state["held"].append((ws, frame))
            return
        ws.send(frame)

    def release() -> None:
        state["hold"] = False
        while state["held"]:
            ws, frame = state["held"].pop(0)
            ws.send(frame)

    state["release"] = release
    route_socket(page, from_server)
    return state


def test_an_unread_message_counts_once_whichever_comes_first_its_event_or_the_list(
    live_server: LiveServer, people: Any
) -> None:
    """The list asked for again and a message's live event can cross. A list that
    already holds the message, read before its event comes, is not counted twice; a
    list asked for before the message, read after its event, is asked for again."""
    from playwright.sync_api import expect

    from tests.browser.live import COUNT_READ_ANSWERS, wait_until

    ana_name, coach_name, zed_name = name("ana"), name("coach"), name("zed")
    live_server.register(ana_name)
    coach = live_server.register(coach_name)
    live_server.register(zed_name)
    ana = people()
    ana.page.add_init_script(COUNT_READ_ANSWERS)
    socket = hold_received_messages(ana.page)
    ana.log_in(ana_name)
    ana.start_chat(zed_name)  # coach's messages come in while another chat is open
    ana.send("hi zed")
    badge = ana.conversation(coach_name).locator(".unread-badge")
    last = ana.conversation(coach_name).locator(".conv-last")

    def coach_says(text: str) -> None:
        status, body = live_server.request(
            "POST", f"/api/chat/messages/{ana_name}", {"message": text}, coach
        )
        assert status == 201, body

    # 1. The event waits; a list asked for meanwhile (a message sent) holds the message.
    socket["hold"] = True
    coach_says("Practice moves to the big hall.")
    wait_until(ana.page, lambda: socket["held"], "the event never came")
    ana.send("see you there")
    expect(last).to_have_text("Practice moves to the big hall.")
    expect(badge).to_have_text("1")
    socket["release"]()
    coach_says("Bring water.")  # comes after the released event, on the same socket
    expect(last).to_have_text("Bring water.")
    expect(badge).to_have_text("2")  # not 3
    expect(ana.page).to_have_title("(2) CyberScan Messenger")

    # 2. A list asked for before a message answers after its event: asked for again.
    held: list[Any] = []

    def hold(route: Any) -> None:
        if held:
            route.continue_()  # only the first waits
        else:
            held.append(route)

    ana.page.route(re.compile(r"/api/chat/conversations$"), hold)
    ana.send("on my way")
    wait_until(ana.page, lambda: held, "the list was never asked for")
    stale = held[0].fetch()  # the server answers now, before the next message
    coach_says("Hall B, not hall A.")
    expect(last).to_have_text("Hall B, not hall A.")
    expect(badge).to_have_text("3")
    read = ana.page.evaluate("window.__answersRead")
    held[0].fulfill(response=stale)
    wait_until(
        ana.page,
        lambda: ana.page.evaluate("window.__answersRead") > read,
        "the stale list was never read",
    )
    expect(last).to_have_text("Hall B, not hall A.")
    expect(badge).to_have_text("3")  # not the stale list's 2
    assert ana.problems == []


def test_two_tabs_on_one_conversation_each_see_their_messages_sent(
    live_server: LiveServer, people: Any
) -> None:
    """Two tabs of one person share the outbox in localStorage: the tab that shows the
    server's echo of a message settles it there, often before the sending tab has its
    answer, and the sending tab's bubble must still leave its clock."""
    from playwright.sync_api import expect

    kim_name, lee_name = name("kim"), name("lee")
    live_server.sign_up(kim_name)
    live_server.sign_up(lee_name)
    kim, lee = people(), people()
    kim.log_in(kim_name)
    lee.log_in(lee_name)
    kim.start_chat(lee_name)
    kim.send("hello from the first tab")
    expect(kim.bubbles("hello from the first tab")).to_have_attribute(
        "data-status", "delivered"
    )
    second = kim.second_tab(lee_name)

    first_texts = [f"first tab {i}" for i in range(4)]
    for text in first_texts:
        kim.send(text)
    second_texts = [f"second tab {i}" for i in range(4)]
    for text in second_texts:
        second.fill("#composer-input", text)
        second.press("#composer-input", "Enter")
    every = ["hello from the first tab", *first_texts, *second_texts]
    all_delivered((kim.page, second), every)
    # The two tabs send at once, so the server may store a second-tab message between
    # two of the first tab's (it did once in CI): its order is the truth. It keeps each
    # tab's own order, and both tabs show that order.
    stored = history(live_server, live_server.login(lee_name), kim_name)
    assert sorted(stored) == sorted(every)
    assert stored[0] == every[0]
    assert [t for t in stored if t in first_texts] == first_texts
    assert [t for t in stored if t in second_texts] == second_texts
    for page in (kim.page, second):
        assert list(statuses(page)) == stored, (statuses(page), stored)


def test_a_message_another_tab_stored_between_two_of_mine_shows_in_the_servers_order(
    live_server: LiveServer, people: Any
) -> None:
    """One person's two tabs send at once, and the server stores the second tab's
    message between two of the first tab's (here on purpose: the first tab's second
    message is held on its way): both tabs show the server's order, the one history
    and a reload show, not the order each tab typed in."""
    from playwright.sync_api import expect

    mo_name, ned_name = name("mo"), name("ned")
    live_server.sign_up(mo_name)
    live_server.sign_up(ned_name)
    mo, ned = people(), people()
    ned.log_in(ned_name)  # online: a stored message is delivered
    hold = {"on": True, "held": []}

    def from_page(server: Any, frame: str | bytes) -> None:
        if hold["on"] and isinstance(frame, str) and "held back" in frame:
            hold["held"].append((server, frame))
            return
        server.send(frame)

    route_socket(mo.page, from_page=from_page)
    mo.log_in(mo_name)
    mo.start_chat(ned_name)
    mo.send("sent straight away")
    expect(mo.bubbles("sent straight away")).to_have_attribute(
        "data-status", "delivered"
    )
    second = mo.second_tab(ned_name)

    mo.send("held back on its way")
    expect(mo.bubbles("held back on its way")).to_have_attribute(
        "data-status", "pending"
    )
    second.fill("#composer-input", "from the other tab")
    second.press("#composer-input", "Enter")
    expect(mo.bubbles("from the other tab")).to_have_count(1)  # its echo came
    hold["on"] = False
    for server, frame in hold["held"]:
        server.send(frame)
    stored = ["sent straight away", "from the other tab", "held back on its way"]
    all_delivered((mo.page, second), stored)
    for page in (mo.page, second):
        assert list(statuses(page)) == stored, statuses(page)
    assert history(live_server, live_server.login(ned_name), mo_name) == stored
    mo.page.reload()
    mo.open_chat(ned_name)
    expect(mo.page.locator("#messages li.msg .text")).to_have_text(stored)
    assert mo.problems == []


# Each element's resolved direction: what decides which side a line starts on.
DIRECTIONS = "nodes => nodes.map(node => getComputedStyle(node).direction)"


def test_right_to_left_words_read_right_to_left_on_a_phone(
    live_server: LiveServer, people: Any
) -> None:
    """Arabic and Hebrew text runs right to left wherever a person's words show (a
    message, the list's preview, a post, a comment, the box one types in), English
    beside it left to right, and nothing scrolls sideways at 375 px."""
    from playwright.sync_api import expect

    rana_name, tal_name = name("rana"), name("tal")
    live_server.sign_up(rana_name)
    live_server.sign_up(tal_name)
    rana, tal = people({"width": 375, "height": 740}), people()
    rana.log_in(rana_name)
    tal.log_in(tal_name)
    arabic = "مرحبا يا صديقي، كيف حالك اليوم؟ أراك في المدرسة غدا!"
    hebrew = "שלום! נתראה מחר בבית הספר."
    rana.start_chat(tal_name)
    rana.send("Hello in English first.")
    rana.send(arabic)
    expect(rana.bubbles(arabic)).to_have_attribute("data-status", "delivered")
    assert rana.page.locator("#messages .text").evaluate_all(DIRECTIONS) == [
        "ltr",
        "rtl",
    ]
    rana.page.fill("#composer-input", hebrew)
    assert rana.page.locator("#composer-input").evaluate_all(DIRECTIONS) == ["rtl"]
    rana.page.fill("#composer-input", "")
    tal.open_chat(rana_name)
    assert tal.page.locator("#messages .text").evaluate_all(DIRECTIONS) == [
        "ltr",
        "rtl",
    ]
    # The preview keeps "You:" in front, the words after it right to left.
    rana.page.click("#back")
    preview = rana.conversation(tal_name).locator(".conv-last")
    expect(preview).to_have_text(f"You: {arabic}")
    assert preview.locator("bdi").evaluate_all(DIRECTIONS) == ["rtl"]
    assert rana.page.evaluate(OVERFLOWING) == []

    rana.page.click("#view-posts")
    rana.page.fill("#post-input", hebrew)
    rana.page.click("#post-submit")
    post = rana.page.locator("#feed > li.post").filter(has_text=hebrew)
    expect(post).to_have_count(1)
    assert post.locator(".post-text").evaluate_all(DIRECTIONS) == ["rtl"]
    post.locator(".comments-toggle").click()
    post.get_by_label("Write a comment").fill(arabic)
    post.get_by_role("button", name="Comment", exact=True).click()
    expect(post.locator(".comment-text")).to_have_text(arabic)
    assert post.locator(".comment-text").evaluate_all(DIRECTIONS) == ["rtl"]
    assert rana.page.evaluate(OVERFLOWING) == []


def test_a_block_made_on_one_device_shows_on_the_other_and_focus_stays_put(
    live_server: LiveServer, people: Any
) -> None:
    """A device that was offline when the block was made missed its `block_changed`:
    a message it sent meanwhile is refused, and the page says "You blocked …" rather
    than leaving the neutral refusal unexplained. A message unsent or dismissed by
    keyboard hands the focus to the message box (or Unblock), not the page."""
    from playwright.sync_api import expect

    kai_name, lou_name = name("kai"), name("lou")
    live_server.sign_up(kai_name)
    live_server.sign_up(lou_name)
    phone, laptop, lou = people(PHONE), people(), people()
    lou.log_in(lou_name)
    lou.start_chat(kai_name)
    lou.send("hi Kai")
    phone.log_in(kai_name)
    laptop.log_in(kai_name)
    phone.open_chat(lou_name)
    laptop.open_chat(lou_name)

    # The laptop blocks Lou while the phone, open on the same conversation, is
    # offline: it does not know, and what it writes waits.
    phone.context.set_offline(True)
    expect(phone.page.locator("#conn-status")).to_have_attribute(
        "data-state", "offline"
    )
    laptop.page.click("#peer-menu summary")
    laptop.page.click("#action-block")
    expect(laptop.page.locator("#peer-blocked-banner")).to_be_visible()
    expect(phone.page.locator("#peer-blocked-banner")).to_be_hidden()
    phone.send("still there?")
    refused = phone.bubbles("still there?")
    expect(refused).to_have_attribute("data-status", "pending")
    phone.context.set_offline(False)
    expect(refused).to_have_attribute("data-status", "failed")
    # Back online: the phone reads the blocks again and says who blocked whom.
    expect(phone.page.locator("#peer-blocked-text")).to_have_text(
        f"You blocked {lou_name}. Neither of you can message the other."
    )
    expect(phone.page.locator("#composer-input")).to_be_disabled()
    refused.get_by_role("button", name="Dismiss").focus()
    phone.page.keyboard.press("Enter")
    expect(refused).to_have_count(0)
    expect(phone.page.locator("#peer-unblock")).to_be_focused()

    # Lou, refused in neutral words, dismisses by keyboard and is back in the box.
    lou.send("are you there?")
    lou_refused = lou.bubbles("are you there?")
    expect(lou_refused.locator(".msg-note")).to_have_text(
        "You cannot message this person."
    )
    lou_refused.get_by_role("button", name="Dismiss").focus()
    lou.page.keyboard.press("Enter")
    expect(lou_refused).to_have_count(0)
    expect(lou.page.locator("#composer-input")).to_be_focused()

    # The phone unblocks; the laptop, online, learns it at once.
    phone.page.keyboard.press("Enter")
    expect(phone.page.locator("#peer-blocked-banner")).to_be_hidden()
    expect(laptop.page.locator("#peer-blocked-banner")).to_be_hidden()
    expect(laptop.page.locator("#composer-input")).to_be_enabled()
    expect(laptop.conversation(lou_name).locator(".tag")).to_have_count(0)

    # A message unsent by keyboard: gone, and the focus is back in the box.
    laptop.send("sorry, wrong chat")
    sent = laptop.bubbles("sorry, wrong chat")
    expect(sent).to_have_attribute("data-id", re.compile(".+"))  # stored: unsendable
    sent.get_by_role("button", name="Unsend this message").focus()
    laptop.page.keyboard.press("Enter")
    expect(sent).to_have_count(0)
    expect(laptop.page.locator("#composer-input")).to_be_focused()


def test_a_block_or_mute_made_on_one_device_shows_at_once_on_the_other(
    live_server: LiveServer, people: Any
) -> None:
    """Two devices of one person on one conversation: what one blocks, unblocks,
    mutes or unmutes shows on the other without a reload (`block_changed`,
    `mute_changed`), as it shows on the device that did it."""
    from playwright.sync_api import expect

    ada_name, ben_name = name("ada"), name("ben")
    live_server.sign_up(ada_name)
    ben_token = live_server.register(ben_name)
    status, body = live_server.request(
        "POST", f"/api/chat/messages/{ada_name}", {"message": "hi Ada"}, ben_token
    )
    assert status == 201, body
    phone, laptop = people(PHONE), people()
    for device in (phone, laptop):
        device.log_in(ada_name)
        device.open_chat(ben_name)
    laptop.page.evaluate("window.notReloaded = true")
    banner, box = (
        laptop.page.locator(s) for s in ("#peer-blocked-banner", "#composer-input")
    )
    tags = laptop.conversation(ben_name).locator(".tag")

    press(phone.page, "#peer-menu summary")
    press(phone.page, "#action-block")
    expect(banner).to_be_visible()
    expect(laptop.page.locator("#peer-blocked-text")).to_have_text(
        f"You blocked {ben_name}. Neither of you can message the other."
    )
    expect(box).to_be_disabled()
    expect(laptop.page.locator("#action-block")).to_have_text("Unblock")
    expect(tags).to_have_text(["blocked"])

    press(phone.page, "#peer-unblock")
    expect(banner).to_be_hidden()
    expect(box).to_be_enabled()
    expect(laptop.page.locator("#action-block")).to_have_text("Block")
    expect(tags).to_have_count(0)

    press(phone.page, "#peer-menu summary")
    press(phone.page, "#action-mute")
    expect(laptop.page.locator("#action-mute")).to_have_text("Unmute")
    expect(tags).to_have_text(["muted"])
    press(phone.page, "#peer-menu summary")
    press(phone.page, "#action-mute")
    expect(laptop.page.locator("#action-mute")).to_have_text("Mute")
    expect(tags).to_have_count(0)

    # A block made while the laptop is offline: its event is lost, and the laptop
    # shows the block when it is back, with nothing sent or opened.
    laptop.context.set_offline(True)
    expect(laptop.page.locator("#conn-status")).to_have_attribute(
        "data-state", "offline"
    )
    press(phone.page, "#peer-menu summary")
    press(phone.page, "#action-block")
    expect(phone.page.locator("#peer-blocked-banner")).to_be_visible()
    expect(banner).to_be_hidden()
    laptop.context.set_offline(False)
    expect(banner).to_be_visible()
    expect(box).to_be_disabled()
    assert laptop.page.evaluate("window.notReloaded") is True


def press(page: Any, selector: str | Any) -> None:
    """A keyboard user's Enter on a control (a selector or a locator)."""
    target = page.locator(selector) if isinstance(selector, str) else selector
    target.focus()
    page.keyboard.press("Enter")


def test_the_focus_stays_on_a_button_that_waited_for_the_server(
    live_server: LiveServer, people: Any
) -> None:
    """A button is disabled while its request is out, which drops the focus to the
    page; a keyboard user finds it back on the button, or on what took its place."""
    from playwright.sync_api import expect

    max_name, ned_name = name("max"), name("ned")
    live_server.sign_up(max_name)
    live_server.sign_up(ned_name)
    maxi = people()
    maxi.open()
    page = maxi.page
    page.fill("#login-name", max_name)
    page.fill("#login-password", "not the password")
    press(page, "#login-submit")
    expect(page.locator("#login-error")).to_have_text(
        "Wrong username, email or password."
    )
    expect(page.locator("#login-submit")).to_be_focused()
    # A refusal that names a field says which field and why.
    page.fill("#login-name", "x" * 300)
    press(page, "#login-submit")
    expect(page.locator("#login-error")).to_contain_text("Username: Length must be")
    maxi.log_in(max_name)

    # A flagged message: a strike, contested from the account dialog by keyboard.
    maxi.start_chat(ned_name)
    maxi.send(ABUSE[0])
    expect(maxi.page.locator("#moderation-banner")).to_be_visible()
    press(page, "#moderation-banner-strikes")
    strike = page.locator("#strikes li.strike").first
    press(page, strike.get_by_role("button", name="Contest this strike"))
    strike.get_by_label("Why was this not bullying?").fill("I was quoting a film.")
    press(page, strike.get_by_role("button", name="Send appeal"))
    state = page.locator("#strikes li.strike .appeal-state")
    expect(state).to_have_text("Appeal sent: a moderator will decide.")
    expect(state).to_be_focused()
    page.keyboard.press("Escape")

    # A report sent by keyboard: the dialog gives the focus back to the ⋯ menu.
    press(page, "#peer-menu summary")
    press(page, "#action-report")
    page.fill("#report-reason", "Test of the focus.")
    press(page, "#report-submit")
    expect(page.locator("#report-dialog")).to_be_hidden()
    expect(page.locator("#peer-menu summary")).to_be_focused()
    # So does a mute chosen in it.
    press(page, "#peer-menu summary")
    press(page, "#action-mute")
    expect(maxi.conversation(ned_name).locator(".tag")).to_have_text("muted")
    expect(page.locator("#peer-menu summary")).to_be_focused()


def test_a_screen_reader_hears_who_wrote_each_message(
    live_server: LiveServer, people: Any
) -> None:
    """The side and colour of a bubble say who wrote it to the eye only; the message
    list, an aria-live log, names the writer of each message, flagged ones too."""
    from playwright.sync_api import expect

    ida_name, jon_name = name("ida"), name("jon")
    live_server.sign_up(ida_name)
    live_server.sign_up(jon_name)
    ida, jon = people(), people()
    ida.log_in(ida_name)
    jon.log_in(jon_name)
    jon.start_chat(ida_name)
    jon.send("Lunch at noon?")
    jon.send(ABUSE[1])
    ida.open_chat(jon_name)
    # Everything the page's own live region (#announcer) says from now on. A message of
    # jon's that came before the chat opened is rightly announced, 50 ms late (dom.js);
    # a longer timer started now fires after every such one, so listening starts then.
    ida.page.evaluate(
        """async () => {
          await new Promise((done) => setTimeout(done, 60));
          window.__said = [];
          new MutationObserver(() => {
            const text = document.getElementById('announcer').textContent;
            if (text) window.__said.push(text);
          }).observe(document.getElementById('announcer'), {childList: true});
        }"""
    )
    ida.send("Noon is fine.")
    expect(ida.bubbles("Noon is fine.")).to_have_attribute("data-status", "read")
    expect(ida.page.locator("#messages")).to_match_aria_snapshot(
        f"""
        - log "Messages":
          - listitem:
            - text: "{jon_name} said:"
            - paragraph: Lunch at noon?
          - listitem:
            - text: "{jon_name} said:"
            - button "This message may be hurtful — show it"
          - listitem:
            - text: "You said:"
            - paragraph: Noon is fine.
            - img "Read"
        """
    )
    # A message in the open conversation is read out once, by the log; one in another
    # conversation by the live region.
    jon.send("See you there.")
    expect(ida.bubbles("See you there.")).to_have_count(1)
    kit_name = name("kit")
    status, body = live_server.request(
        "POST",
        f"/api/chat/messages/{ida_name}",
        {"message": "Are you free tonight?"},
        live_server.register(kit_name),
    )
    assert status == 201, body
    expect(ida.page.locator("#announcer")).to_have_text(f"New message from {kit_name}")
    assert ida.page.evaluate("window.__said") == [f"New message from {kit_name}"]


def test_the_longest_names_fit_a_phone_in_bars_dialogs_and_notices(
    live_server: LiveServer, people: Any
) -> None:
    """Usernames may be 32 characters without a space: at 375 px the bar cuts one's
    own short, the report dialog's title wraps beside its close button, and a notice
    naming someone wraps; nothing reaches past the screen's edge."""
    from playwright.sync_api import expect

    long_me = name("me").ljust(32, "w")
    long_peer = name("peer").ljust(32, "m")
    live_server.sign_up(long_me)
    live_server.sign_up(long_peer)
    me = people({"width": 375, "height": 740})
    me.log_in(long_me)
    page = me.page
    expect(page.locator("#me-name")).to_have_attribute("title", long_me)
    assert page.evaluate(OVERFLOWING) == []
    me.start_chat(long_peer)
    press(page, "#peer-menu summary")
    press(page, "#action-report")
    expect(page.locator("#report-title")).to_have_text(f"Report {long_peer}")
    expect(page.locator("#report-dialog .dialog-head .dialog-close")).to_be_in_viewport(
        ratio=1
    )
    assert page.evaluate(OVERFLOWING) == []
    page.keyboard.press("Escape")
    press(page, "#peer-menu summary")
    press(page, "#action-mute")
    toast = page.locator(".toast")
    expect(toast).to_contain_text(f"You muted {long_peer}")
    expect(toast).to_be_in_viewport(ratio=1)
    assert page.evaluate(OVERFLOWING) == []


def test_a_block_reason_with_a_long_link_fits_the_blocked_screen_on_a_phone(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    """A moderator's reason may hold a long link: at 375 px it wraps inside the
    blocked screen's card, and the page does not scroll sideways."""
    from playwright.sync_api import expect

    rex_name = name("rex")
    live_server.sign_up(rex_name)
    rex = people({"width": 375, "height": 740})
    rex.log_in(rex_name)
    reason = "See https://example.org/rules/" + "community-guidelines-" * 8 + "spam"
    call(
        live_server,
        "POST",
        f"/api/admin/users/{rex_name}/block",
        {"reason": reason},
        admin,
    )
    expect(rex.page.locator("#blocked-reason")).to_have_text(reason)
    assert rex.page.evaluate(OVERFLOWING) == []
    rex.page.fill("#blocked-password", PASSWORD)
    press(rex.page, "#blocked-login-submit")
    expect(rex.page.locator("#blocked-count")).to_be_visible()
    expect(rex.page.locator("#blocked-title")).to_be_focused()  # the form went away
    assert rex.page.evaluate(OVERFLOWING) == []


def test_a_draft_stays_with_its_conversation_and_leaves_with_its_writer(
    live_server: LiveServer, people: Any
) -> None:
    """A line typed to one person is not waiting in the box when another conversation
    opens, and is back when its own opens again; after logging out, the next person
    at the same page finds neither the draft nor the search."""
    from playwright.sync_api import expect

    ava_name, bo_name, cy_name = name("ava"), name("bo"), name("cy")
    for each in (ava_name, bo_name, cy_name):
        live_server.sign_up(each)
    ava = people()
    ava.log_in(ava_name)
    ava.start_chat(bo_name)
    ava.send("hi Bo")
    ava.start_chat(cy_name)
    ava.send("hi Cy")
    page = ava.page
    page.fill("#composer-input", "Cy, the surprise party is on Friday")
    ava.open_chat(bo_name)
    expect(page.locator("#composer-input")).to_have_value("")
    page.fill("#composer-input", "Bo, keep Friday free")
    ava.open_chat(cy_name)
    expect(page.locator("#composer-input")).to_have_value(
        "Cy, the surprise party is on Friday"
    )
    ava.open_chat(bo_name)
    expect(page.locator("#composer-input")).to_have_value("Bo, keep Friday free")

    # Her session ends (her password changed elsewhere); logging in again, she finds it.
    new_password = "a brand new passphrase"
    status, body = live_server.request(
        "POST",
        "/api/me/password",
        {"current_password": PASSWORD, "new_password": new_password},
        live_server.login(ava_name),
    )
    assert status == 200, body
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#login-password", new_password)
    page.click("#login-submit")
    expect(page.locator("#me-name")).to_have_text(ava_name)
    ava.open_chat(bo_name)
    expect(page.locator("#composer-input")).to_have_value("Bo, keep Friday free")

    page.fill("#new-chat-name", cy_name[:4])
    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#login-name", bo_name)  # Bo, at the same page, without a reload
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#me-name")).to_have_text(bo_name)
    expect(page.locator("#new-chat-name")).to_have_value("")
    expect(page.locator("#search-results")).to_be_hidden()
    ava.username = bo_name
    ava.open_chat(ava_name)
    expect(page.locator("#composer-input")).to_have_value("")


def test_a_reload_finds_the_open_conversation_and_the_drafts_of_its_writer(
    live_server: LiveServer, people: Any
) -> None:
    """A reload (a tab put to sleep, a pull to refresh) lost what was typed and which
    conversation was open. Now they come back for the same person; a line sent does
    not; and after a logout, or for another person, nothing of them is kept."""
    from playwright.sync_api import expect

    ava_name, bo_name, cy_name = name("ava"), name("bo"), name("cy")
    for each in (ava_name, bo_name, cy_name):
        live_server.sign_up(each)
    ava = people()
    ava.log_in(ava_name)
    ava.start_chat(cy_name)
    ava.send("hi Cy")
    ava.start_chat(bo_name)
    ava.send("hi Bo")
    page = ava.page
    expect(ava.bubbles("hi Bo")).to_have_attribute("data-status", "sent")
    ava.open_chat(cy_name)
    page.fill("#composer-input", "Cy, the surprise party is on Friday")
    ava.open_chat(bo_name)
    page.type("#composer-input", "Bo, keep Friday")  # typed, never left

    page.reload()
    expect(page.locator("#peer-name")).to_have_text(bo_name)
    expect(ava.bubbles("hi Bo")).to_have_count(1)
    expect(page.locator("#composer-input")).to_have_value("Bo, keep Friday")
    expect(page.locator("#composer-input")).to_be_focused()
    ava.open_chat(cy_name)
    expect(page.locator("#composer-input")).to_have_value(
        "Cy, the surprise party is on Friday"
    )
    page.press("#composer-input", "Enter")  # sent: it does not come back
    expect(ava.bubbles("the surprise party")).to_have_attribute("data-status", "sent")
    page.reload()
    expect(page.locator("#peer-name")).to_have_text(cy_name)
    expect(ava.bubbles("the surprise party")).to_have_count(1)
    expect(page.locator("#composer-input")).to_have_value("")

    # Her session ends elsewhere and the tab is reloaded: Bo logs in at it.
    status, body = live_server.request(
        "POST",
        "/api/me/password",
        {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        live_server.login(ava_name),
    )
    assert status == 200, body
    expect(page.locator("#login-form")).to_be_visible()
    page.reload()
    page.fill("#login-name", bo_name)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#me-name")).to_have_text(bo_name)
    expect(page.locator("#no-conversation")).to_be_visible()
    ava.username = bo_name
    ava.open_chat(ava_name)
    expect(page.locator("#composer-input")).to_have_value("")
    assert "Friday" not in (page.evaluate("JSON.stringify(sessionStorage)") or "")

    # Bo logs out: the next login at this tab, after a reload, opens nothing of his.
    page.fill("#composer-input", "Ava, a secret")
    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    assert "secret" not in page.evaluate("JSON.stringify(sessionStorage)")
    page.reload()
    ava.log_in(bo_name)
    expect(page.locator("#no-conversation")).to_be_visible()
    ava.open_chat(ava_name)
    expect(page.locator("#composer-input")).to_have_value("")
    assert ava.problems == []


def test_a_reload_shows_posts_again_when_posts_was_showing(
    live_server: LiveServer, people: Any
) -> None:
    """A reload on Posts came back on Chats. Now the view is kept with the open
    conversation (this tab's sessionStorage) and comes back for the same person."""
    from playwright.sync_api import expect

    dee_name = name("dee")
    live_server.sign_up(dee_name)
    dee = people()
    dee.log_in(dee_name)
    page = dee.page
    page.click("#view-posts")
    expect(page.locator("#feed-view")).to_be_visible()
    page.reload()
    expect(page.locator("#me-name")).to_have_text(dee_name)
    expect(page.locator("#feed-view")).to_be_visible()
    expect(page.locator("#view-posts")).to_have_attribute("aria-current", "page")

    page.click("#view-chats")
    expect(page.locator("#feed-view")).to_be_hidden()
    page.reload()
    expect(page.locator("#me-name")).to_have_text(dee_name)
    expect(page.locator("#view-chats")).to_have_attribute("aria-current", "page")
    expect(page.locator("#feed-view")).to_be_hidden()
    assert dee.problems == []


def test_tabs_of_one_browser_share_the_session_a_password_change_and_a_logout(
    live_server: LiveServer, people: Any
) -> None:
    """Tabs of one browser share one refresh token. After a password change in one
    tab (which logs in afresh there) the other tab works on; logging out in the first
    then logs the second out at once too, though its tokens are of the older login and
    were never revoked: it revokes them itself, not chatting on unseen."""
    from playwright.sync_api import expect

    zoe_name = name("zoe")
    live_server.sign_up(zoe_name)
    zoe = people()
    zoe.log_in(zoe_name)
    other = zoe.context.new_page()  # the same person's second tab
    other.on("pageerror", lambda exc: zoe.problems.append(str(exc)))
    other.goto(live_server.url + "/")
    expect(other.locator("#me-name")).to_have_text(zoe_name)

    zoe.page.click("#open-settings")
    zoe.page.fill("#current-password", PASSWORD)
    zoe.page.fill("#new-password", "a brand new passphrase")
    zoe.page.click("#password-submit")
    expect(zoe.page.locator("#password-done")).to_contain_text("Password changed")
    # The other tab's next request meets its revoked token and renews it.
    other.click("#view-posts")
    expect(other.locator("#feed-view")).to_be_visible()
    expect(other.locator("#feed-error")).to_be_hidden()
    expect(other.locator("#me-name")).to_have_text(zoe_name)
    zoe.page.reload()
    expect(zoe.page.locator("#me-name")).to_have_text(zoe_name)  # still logged in

    zoe.page.click("#logout")
    expect(zoe.page.locator("#login-form")).to_be_visible()
    expect(other.locator("#login-form")).to_be_visible()
    expect(other.locator("#auth-notice")).to_have_text("You logged out in another tab.")


def test_an_appeal_being_written_survives_the_blocked_screen_s_checks(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    """The blocked screen reads the strikes again every 5 seconds and draws them anew:
    the appeal being typed stays open with its words and the focus. When the appeal
    token is refused meanwhile, sending asks for the password and the words wait."""
    from playwright.sync_api import expect

    una_name, vi_name = name("una"), name("vi")
    live_server.sign_up(vi_name)
    una_token = live_server.register(una_name)
    status, body = live_server.request(
        "POST", f"/api/chat/messages/{vi_name}", {"message": ABUSE[0]}, una_token
    )
    assert status == 201 and body["is_bullying"], body
    call(live_server, "POST", f"/api/admin/users/{una_name}/block", {}, admin)
    una = people()
    una.open()
    page = una.page
    page.fill("#login-name", una_name)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    strike = page.locator("#blocked-strikes li.strike")
    expect(strike).to_have_count(1)
    press(page, strike.get_by_role("button", name="Contest this strike"))
    box = strike.get_by_label("Why was this not bullying?")
    words = "I was quoting the film we watched in class"
    box.press_sequentially(words)
    with page.expect_response("**/api/me/strikes"):  # the next check, drawn anew
        pass
    expect(box).to_have_value(words)
    expect(box).to_be_focused()

    # The next check goes out with a token the server refuses, as an expired one.
    dead_token_once(page, "**/api/me/strikes")
    expect(page.locator("#blocked-login")).to_be_visible()
    box.press_sequentially(".")
    press(page, strike.get_by_role("button", name="Send appeal"))
    expect(strike.locator(".form-error")).to_have_text(
        "Enter your password above first, then send the appeal."
    )
    expect(page.locator("#blocked-password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#blocked-login")).to_be_hidden()
    expect(box).to_have_value(words + ".")
    press(page, strike.get_by_role("button", name="Send appeal"))
    expect(strike.locator(".appeal-state")).to_have_text(
        "Appeal sent: a moderator will decide."
    )


@pytest.mark.parametrize("enter", [True, False], ids=["enter", "reached-only"])
def test_loading_the_first_messages_by_keyboard_ends_on_the_start_of_history(
    live_server: LiveServer, people: Any, enter: bool
) -> None:
    """*Load earlier messages* goes away once the first message shows; a keyboard
    user's focus moves to "This is the start of your conversation." with it. Also
    without Enter: tabbing to the button scrolls it into view, and reaching the top
    loads the earlier page by itself, so the button goes away under the focus (with
    Enter this failed once under load, when the scroll's page came before the key)."""
    from playwright.sync_api import expect

    wes_name, xia_name = name("wes"), name("xia")
    live_server.sign_up(wes_name)
    xia_token = live_server.register(xia_name)
    # Her own, so none is unread (the page would fetch back to the oldest unread).
    for index in range(31):  # one more than the page the client asks for
        status, body = live_server.request(
            "POST",
            f"/api/chat/messages/{wes_name}",
            {"message": f"Line {index} of the rehearsal notes"},
            xia_token,
        )
        assert status == 201, body
    xia = people()
    xia.log_in(xia_name)
    xia.open_chat(wes_name)
    more = xia.page.locator("#load-older")
    expect(more).to_be_visible()
    if enter:
        press(xia.page, more)
    else:
        more.focus()  # no Enter: the scroll to it loads the page
    expect(xia.page.locator("#messages li.msg")).to_have_count(31)
    expect(more).to_be_hidden()
    expect(xia.page.locator("#history-start")).to_be_focused()
    assert xia.problems == []


def test_muting_someone_says_when_their_messages_show(
    live_server: LiveServer, people: Any
) -> None:
    """A muted person's messages reach no screen live (API.md §9), not even the open
    conversation: the page says they show when the conversation is opened again, and
    they do."""
    from playwright.sync_api import expect

    yan_name, zed_name = name("yan"), name("zed")
    live_server.sign_up(yan_name)
    zed_token = live_server.register(zed_name)
    yan = people()
    yan.log_in(yan_name)
    yan.start_chat(zed_name)
    yan.send("Hello Zed")
    press(yan.page, "#peer-menu summary")
    press(yan.page, "#action-mute")
    expect(yan.page.locator(".toast")).to_have_text(
        f"You muted {zed_name}: their new messages no longer come in live or count"
        " as unread. You see them when you open this conversation again."
    )
    status, body = live_server.request(
        "POST",
        f"/api/chat/messages/{yan_name}",
        {"message": "Did you get my parcel?"},
        zed_token,
    )
    assert status == 201, body
    yan.page.click("#view-posts")
    yan.open_chat(zed_name)
    expect(yan.bubbles("Did you get my parcel?")).to_have_count(1)


def test_a_row_of_the_list_keeps_a_click_and_the_focus_while_the_list_redraws(
    live_server: LiveServer, people: Any
) -> None:
    """Presence, typing and new messages redraw the conversation list at any time: a
    press on a row released after a redraw still opens it, and a row focused by keyboard
    keeps the focus (the rows are kept, not replaced)."""
    from playwright.sync_api import expect

    ivy_name, jon_name, kim_name = name("ivy"), name("jon"), name("kim")
    jon_token = live_server.register(jon_name)
    kim_token = live_server.register(kim_name)
    live_server.sign_up(ivy_name)
    for token in (jon_token, kim_token):
        status, body = live_server.request(
            "POST", f"/api/chat/messages/{ivy_name}", {"message": "hi Ivy"}, token
        )
        assert status == 201, body
    ivy, jon, kim = people(), people(), people()
    ivy.log_in(ivy_name)
    row = ivy.conversation(jon_name)
    expect(row.locator(".presence")).to_have_attribute("data-online", "0")

    # Pressed while Jon is offline, released once his coming online redrew the list.
    box = row.bounding_box()
    assert box is not None
    ivy.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    ivy.page.mouse.down()
    jon.log_in(jon_name)
    expect(row.locator(".presence")).to_have_attribute("data-online", "1")
    ivy.page.mouse.up()
    expect(ivy.page.locator("#peer-name")).to_have_text(jon_name)

    # Kim's row, focused by keyboard, keeps the focus when Kim comes online and when a
    # new message from Jon moves his row to the top.
    ivy.conversation(kim_name).focus()
    kim.log_in(kim_name)
    expect(ivy.conversation(kim_name).locator(".presence")).to_have_attribute(
        "data-online", "1"
    )
    expect(ivy.conversation(kim_name)).to_be_focused()
    status, body = live_server.request(
        "POST", f"/api/chat/messages/{ivy_name}", {"message": "you there?"}, jon_token
    )
    assert status == 201, body
    first = ivy.page.locator("#conversation-list .conv").first
    expect(first).to_have_attribute("data-username", jon_name)
    expect(ivy.conversation(kim_name)).to_be_focused()

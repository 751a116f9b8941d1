"""What outside audits of the web client found, as a person using it: the search
results left open over the list, refusals of a report or appeal said without their
reason, a moderator's block told as a matter of strikes, a warning banner that missed
an accepted appeal, faint small text and small buttons, tags a screen reader did not
hear, the focus lost after *Unblock*, and a login form that kept the last name; then
(the fiftieth session's audit) Escape on a search result that the results came back
from, a result focused by the arrow keys with no ring, the flagged message pushed out
of view by its own warning banner, and a logout that left the name in the browser;
then (the fifty-second session's) *Block* still offered on a flagged message of someone
blocked, a reload while blocked that lost the block's reason, and no word of being
offline where one writes on a phone.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from cyberscan.schemas.people import REPORT_REASON_MAX
from tests.browser import test_web_client as web_client
from tests.browser.test_dashboard_people import call
from tests.browser.test_web_client import ABUSE, DESKTOP, OVERFLOWING, name, press
from tests.browser.test_web_client_fit import PHONE
from tests.helpers import PASSWORD
from tests.live import LiveServer

people = web_client.people
admin = web_client.admin

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

# What the server answers for a reason holding a control character (a bell).
CONTROL_REFUSED = "Reason: Must not hold control characters"

# The WCAG contrast ratio of a node's text on what is behind it: the colours of
# translucent backgrounds laid over the first opaque one (each stop of a gradient,
# the worst one counting), white when none is found.
CONTRAST = r"""node => {
  const rgba = css => {
    const [r, g, b, a = 1] = css.match(/[\d.]+/g).map(Number);
    return [r, g, b, a];
  };
  const over = (top, under) => under.map((c, i) => top[i] * top[3] + c * (1 - top[3]));
  const luminance = rgb => {
    const [r, g, b] = rgb.map(c => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const layers = [];
  let bases = [[255, 255, 255, 1]];
  for (let el = node; el; el = el.parentElement) {
    const style = getComputedStyle(el);
    const stops = style.backgroundImage.match(/rgba?\([^)]*\)/g);
    if (stops) { bases = stops.map(rgba); break; }
    const color = rgba(style.backgroundColor);
    if (color[3] === 1) { bases = [color]; break; }
    if (color[3] > 0) layers.unshift(color);
  }
  const ratios = bases.map(base => {
    const bg = layers.reduce((under, top) => over(top, under), base.slice(0, 3));
    const fg = over(rgba(getComputedStyle(node).color), bg);
    const [light, dark] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    return (light + 0.05) / (dark + 0.05);
  });
  return Math.min(...ratios);
}"""

# How opaque a node is drawn: its own opacity times its ancestors'.
OPACITY = """node => {
  let opacity = 1;
  for (let el = node; el; el = el.parentElement) opacity *= Number(getComputedStyle(el).opacity);
  return opacity;
}"""


def converse(server: LiveServer, token: str, other: str, text: str) -> dict[str, Any]:
    """A message sent over REST; answers it."""
    return call(server, "POST", f"/api/chat/messages/{other}", {"message": text}, token)


def test_the_search_results_close_when_the_focus_or_a_press_leaves_the_search(
    live_server: LiveServer, people: Any
) -> None:
    """The results covered the top rows of the list after the focus or a click went
    elsewhere: a click on bob's row opened dave, and bob's focus ring was hidden."""
    from playwright.sync_api import expect

    alice_name, bob_name, dave_name, carol_name = (
        name(who) for who in ("alice", "bob", "dave", "carol")
    )
    alice_token = live_server.register(alice_name)
    for other in (dave_name, carol_name, bob_name):  # bob's is the newest: on top
        live_server.sign_up(other)
        converse(live_server, alice_token, other, f"hello {other}")
    alice = people(DESKTOP)
    alice.log_in(alice_name)
    page = alice.page
    results, field = page.locator("#search-results"), page.locator("#new-chat-name")
    dave_result = results.locator(f'button[data-username="{dave_name}"]')

    # A click on the empty pane closes them; back in the box, they show again.
    field.fill(dave_name[:7])
    expect(dave_result).to_be_visible()
    page.click("#no-conversation")
    expect(results).to_be_hidden()
    expect(field).to_have_attribute("aria-expanded", "false")
    field.click()
    expect(dave_result).to_be_visible()

    # Tab out of the box: closed, and bob's row, focused, shows its ring uncovered.
    field.fill("zz" + dave_name)
    expect(results).to_have_text("Nobody by that name.")
    page.keyboard.press("Tab")
    expect(alice.conversation(bob_name)).to_be_focused()
    expect(results).to_be_hidden()
    alice.open_chat(bob_name)

    # Posts and back: nothing left open.
    field.fill(dave_name[:7])
    expect(dave_result).to_be_visible()
    page.click("#view-posts")
    page.click("#view-chats")
    expect(results).to_be_hidden()

    # A click on a result still opens it.
    field.fill(dave_name[:7])
    dave_result.click()
    expect(page.locator("#peer-name")).to_have_text(dave_name)
    expect(results).to_be_hidden()


def test_a_refused_report_or_appeal_says_which_field_and_why(
    live_server: LiveServer, people: Any
) -> None:
    """The report box let 1000 characters through where the server takes 500, and
    a refused report or appeal said only that the request was not valid."""
    from playwright.sync_api import expect

    ann_name, ben_name = name("ann"), name("ben")
    live_server.sign_up(ben_name)
    converse(live_server, live_server.register(ann_name), ben_name, ABUSE[0])
    ann = people()
    ann.log_in(ann_name)
    page = ann.page
    box = page.locator("#report-reason")
    assert box.get_attribute("maxlength") == str(REPORT_REASON_MAX)

    ann.open_chat(ben_name)
    page.click("#peer-menu summary")
    page.click("#action-report")
    box.fill("He rings a bell \u0007 at me")
    page.click("#report-submit")
    expect(page.locator("#report-error")).to_contain_text(CONTROL_REFUSED)
    page.locator("#report-dialog .dialog-close").first.click()

    page.click("#open-settings")
    strike = page.locator("#strikes li.strike").first
    strike.get_by_role("button", name="Contest this strike").click()
    strike.get_by_label("Why was this not bullying?").fill("A quote \u0007 of a film")
    strike.get_by_role("button", name="Send appeal").click()
    expect(strike.locator(".form-error")).to_contain_text(CONTROL_REFUSED)


def blocked_screen_after_login(person: Any, username: str) -> Any:
    """Log in to a blocked account; answers the page, on the blocked screen."""
    from playwright.sync_api import expect

    person.open()
    person.page.fill("#login-name", username)
    person.page.fill("#login-password", PASSWORD)
    person.page.click("#login-submit")
    expect(person.page.locator("#screen-blocked")).to_be_visible()
    return person.page


def expect_no_strike_to_contest(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#blocked-count")).to_contain_text(
        "Your account is blocked by a moderator. You have no strikes: there is none to "
        "contest."
    )
    expect(page.locator("#blocked-hint")).to_be_hidden()
    expect(page.locator("#blocked-strikes-section")).to_be_hidden()


def test_a_moderator_s_block_with_no_strikes_asks_to_contest_none(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    """The blocked screen spoke of the filter's mistakes and strikes to contest to a
    person blocked by a moderator with no strike; it does once strikes are there."""
    from playwright.sync_api import expect

    ola_name, pat_name, quin_name = name("ola"), name("pat"), name("quin")
    for who in (ola_name, pat_name):
        live_server.sign_up(who)

    def block(who: str) -> None:
        path = f"/api/admin/users/{who}/block"
        call(live_server, "POST", path, {"reason": "Spamming people"}, admin)

    # Blocked live: the password is asked for in words true for anyone.
    ola = people()
    ola.log_in(ola_name)
    block(ola_name)
    page = ola.page
    expect(page.locator("#blocked-login")).to_contain_text(
        "Enter your password to see your standing and contest a strike."
    )
    expect(page.locator("#blocked-hint")).to_be_hidden()
    page.fill("#blocked-password", PASSWORD)
    page.click("#blocked-login-submit")
    expect_no_strike_to_contest(page)

    # Blocked before logging in.
    block(pat_name)
    expect_no_strike_to_contest(blocked_screen_after_login(people(), pat_name))

    # With a strike, the filter's mistakes are worth the word.
    converse(live_server, live_server.register(quin_name), pat_name, ABUSE[0])
    block(quin_name)
    page = blocked_screen_after_login(people(), quin_name)
    expect(page.locator("#blocked-hint")).to_be_visible()
    expect(page.locator("#blocked-count")).to_contain_text("1 of 5 strikes")
    expect(page.locator("#blocked-strikes li.strike")).to_have_count(1)


def test_the_warning_banner_follows_an_accepted_appeal(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    """The banner kept "3 of 5 strikes" after a moderator took strikes away."""
    from playwright.sync_api import expect

    cy_name, dee_name = name("cy"), name("dee")
    live_server.sign_up(dee_name)
    cy_token = live_server.register(cy_name)
    for text in ABUSE[:2]:
        converse(live_server, cy_token, dee_name, text)
    cy = people()
    cy.log_in(cy_name)
    cy.start_chat(dee_name)
    cy.send(ABUSE[2])
    banner = cy.page.locator("#moderation-banner")
    text = cy.page.locator("#moderation-banner-text")
    expect(text).to_have_text(
        "3 of 5 strikes. 2 more flagged messages, posts or comments and your "
        "account is blocked."
    )

    strikes = live_server.get("/api/me/strikes", cy_token)["strikes"]
    for left, strike in enumerate(strikes, start=1):
        appeal = call(
            live_server,
            "POST",
            "/api/appeals",
            {"strike_id": strike["id"], "reason": "Quoting a film."},
            cy_token,
        )
        path = f"/api/admin/appeals/{appeal['id']}"
        call(live_server, "POST", path, {"decision": "accept"}, admin)
        if left == 1:
            expect(text).to_contain_text("2 of 5 strikes. 3 more flagged")
    expect(banner).to_be_hidden()


TEXTS = {
    "their message's time": "#messages li.theirs:not(.flagged) .time",
    "my message's time": "#messages li.mine .time",
    "Report": "#messages li.theirs .msg-action.report",
    "Unsend": "#messages li.mine .msg-action.unsend",
    "the start of the conversation": "#history-start",
    "Offline": "#peer-status",
    "the list's time": "#conversation-list .conv-time",
    "the list's hurtful preview": "#conversation-list .conv-last.hurtful",
    "a flagged message's cover": "#messages li.flagged .reveal-btn",
    "my flagged message's mark": "#messages li.mine .flag-mark",
}


def test_small_text_reads_at_aa_contrast_and_message_actions_are_tappable(
    live_server: LiveServer, people: Any
) -> None:
    """Small grey text read at under 3:1, and Report and Unsend under messages were
    18 px tall on a phone."""
    from playwright.sync_api import expect

    tia_name, uma_name = name("tia"), name("uma")
    tia_token = live_server.register(tia_name)
    uma_token = live_server.register(uma_name)
    converse(live_server, tia_token, uma_name, "hello Uma")
    converse(live_server, tia_token, uma_name, ABUSE[1])
    converse(live_server, uma_token, tia_name, "hi Tia")
    converse(live_server, uma_token, tia_name, ABUSE[0])
    tia = people(DESKTOP)
    tia.log_in(tia_name)
    tia.open_chat(uma_name)
    page = tia.page
    expect(page.locator("#peer-status")).to_have_text("Offline")
    expect(page.locator("#history-start")).to_be_visible()
    contrast = {
        what: page.locator(selector).first.evaluate(CONTRAST)
        for what, selector in TEXTS.items()
    }
    assert {what: ratio for what, ratio in contrast.items() if ratio < 4.5} == {}

    # A message waiting for the network was faded to 3.3:1; it reads as a sent one.
    tia.context.set_offline(True)
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "offline")
    tia.send("written with no signal")
    waiting = tia.bubbles("written with no signal")
    expect(waiting).to_have_attribute("data-status", "pending")
    for part in (".text", ".time"):
        text = waiting.locator(part)
        assert (text.evaluate(OPACITY), text.evaluate(CONTRAST) >= 4.5) == (1, True), (
            part
        )
    tia.context.set_offline(False)
    expect(waiting).to_have_attribute("data-status", "sent")

    page.set_viewport_size(PHONE)
    tia.bubbles("hi Tia").locator(".bubble").click()  # a tap shows its Report
    for action in ("Report", "Unsend"):
        button = page.locator(TEXTS[action]).first
        expect(button).to_be_visible()
        assert button.bounding_box()["height"] >= 24, action
    assert page.evaluate(OVERFLOWING) == []


def test_a_blocked_person_s_tag_is_heard_and_unblock_leads_back_to_writing(
    live_server: LiveServer, people: Any
) -> None:
    """The row said "blocked" to the eye only, and *Unblock* by keyboard left the
    focus on the page."""
    from playwright.sync_api import expect

    val_name, wes_name, xan_name = name("val"), name("wes"), name("xan")
    val_token = live_server.register(val_name)
    for other in (wes_name, xan_name):
        live_server.sign_up(other)
        converse(live_server, val_token, other, "see you later")
    call(live_server, "PUT", f"/api/me/blocks/{wes_name}", None, val_token)
    call(live_server, "PUT", f"/api/me/mutes/{xan_name}", None, val_token)
    val = people()
    val.log_in(val_name)
    expect(val.conversation(wes_name)).to_have_accessible_name(
        re.compile(f"^{wes_name}, blocked, offline, ")
    )
    expect(val.conversation(xan_name)).to_have_accessible_name(
        re.compile(f"^{xan_name}, muted, offline, ")
    )

    val.open_chat(wes_name)
    expect(val.page.locator("#composer-input")).to_be_disabled()
    press(val.page, "#peer-unblock")
    expect(val.page.locator("#peer-blocked-banner")).to_be_hidden()
    expect(val.page.locator("#composer-input")).to_be_focused()
    expect(val.conversation(wes_name)).to_have_accessible_name(
        re.compile(f"^{wes_name}, offline, ")
    )


def test_log_out_leaves_the_login_form_empty_for_the_next_person(
    live_server: LiveServer, people: Any
) -> None:
    from playwright.sync_api import expect

    yul_name = name("yul")
    live_server.sign_up(yul_name)
    yul = people()
    yul.log_in(yul_name)
    yul.page.click("#logout")
    expect(yul.page.locator("#auth-notice")).to_have_text("You are logged out.")
    expect(yul.page.locator("#login-name")).to_have_value("")
    expect(yul.page.locator("#login-password")).to_have_value("")
    expect(yul.page.locator("#login-name")).to_be_focused()
    # Nor does the browser keep it for the next screens (a blocked login's fallback).
    stored = yul.page.evaluate("() => localStorage.getItem('cyberscan.username')")
    assert stored is None


def test_escape_on_a_search_result_closes_the_results_and_the_result_shows_focus(
    live_server: LiveServer, people: Any
) -> None:
    """Escape from a result focused the box with the list closed, and the box's focus
    searched again: the list came back. The focused result had no ring."""
    from playwright.sync_api import expect

    zed_name, zoe_name = name("zed"), name("zoe")
    live_server.sign_up(zed_name)
    live_server.sign_up(zoe_name)
    zed = people()
    zed.log_in(zed_name)
    page = zed.page
    searches: list[str] = []
    page.on(
        "request",
        lambda request: (
            searches.append(request.url) if "/api/users/search" in request.url else None
        ),
    )
    results, field = page.locator("#search-results"), page.locator("#new-chat-name")
    result = results.locator(f'button[data-username="{zoe_name}"]')
    field.fill(zoe_name)
    expect(result).to_be_visible()
    field.press("ArrowDown")
    expect(result).to_be_focused()
    ring = result.evaluate(
        "b => { const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert ring[0] != "none" and float(ring[1].removesuffix("px")) >= 2, ring
    asked = len(searches)
    page.keyboard.press("Escape")
    expect(field).to_be_focused()
    expect(results).to_be_hidden()
    page.wait_for_timeout(
        1000
    )  # longer than a search takes here, to see none come back
    expect(results).to_be_hidden()
    assert len(searches) == asked, searches[asked:]


def test_the_flagged_message_stays_in_view_under_its_warning_banner(
    live_server: LiveServer, people: Any
) -> None:
    """The banner made the conversation shorter and left the message it is about
    below the fold."""
    from playwright.sync_api import expect

    ada_name, bea_name = name("ada"), name("bea")
    bea_token = live_server.register(bea_name)
    live_server.sign_up(ada_name)
    for i in range(30):  # more than the conversation shows at once
        converse(live_server, bea_token, ada_name, f"line {i} of the lab notes")
    ada = people(DESKTOP)
    ada.log_in(ada_name)
    ada.open_chat(bea_name)
    expect(ada.bubbles("line 29 of the lab notes")).to_have_count(1)
    ada.send(ABUSE[0])
    expect(ada.page.locator("#moderation-banner")).to_be_visible()
    flagged = ada.bubbles(ABUSE[0])
    expect(flagged).to_have_class(re.compile(r"\bflagged\b"))
    expect(flagged).to_be_in_viewport(ratio=1)
    box = flagged.bounding_box()
    pane = ada.page.locator("#messages-scroll").bounding_box()
    assert box is not None and pane is not None
    assert box["y"] + box["height"] <= pane["y"] + pane["height"] + 1, (box, pane)


def test_a_flagged_message_offers_block_only_while_its_sender_is_not_blocked(
    live_server: LiveServer, people: Any
) -> None:
    """The cover of a flagged message offered *Block* again after its sender was
    blocked, and said "You blocked …" as if it were new."""
    from playwright.sync_api import expect

    gia_name, hal_name = name("gia"), name("hal")
    hal_token = live_server.register(hal_name)
    live_server.sign_up(gia_name)
    converse(live_server, hal_token, gia_name, ABUSE[0])
    gia = people()
    gia.log_in(gia_name)
    gia.open_chat(hal_name)
    flagged = gia.bubbles(ABUSE[0])
    offer = flagged.get_by_role("button", name=f"Block {hal_name}")

    def reveal() -> None:
        flagged.get_by_role("button", name=re.compile("may be hurtful")).click()

    reveal()
    expect(offer).to_be_visible()
    press(gia.page, offer)
    expect(gia.page.locator("#peer-blocked-banner")).to_be_visible()
    expect(offer).to_be_hidden()
    # The focus went with the button to the banner's Unblock, not to the page.
    expect(gia.page.locator("#peer-unblock")).to_be_focused()

    # After a reload the block is known from the start; unblocking offers it again.
    gia.page.reload()
    expect(gia.page.locator("#conn-status")).to_have_attribute("data-state", "online")
    gia.open_chat(hal_name)
    reveal()
    expect(flagged.get_by_role("button", name="Hide")).to_be_visible()
    expect(offer).to_be_hidden()
    gia.page.click("#peer-unblock")
    expect(offer).to_be_visible()


def test_a_reload_while_blocked_still_says_why(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    """The blocked screen said the block's reason live, but after a reload only
    "This account is blocked.": the token's refusal carried no reason."""
    from playwright.sync_api import expect

    ivo_name = name("ivo")
    live_server.sign_up(ivo_name)
    ivo = people()
    ivo.log_in(ivo_name)
    path = f"/api/admin/users/{ivo_name}/block"
    call(live_server, "POST", path, {"reason": "Spamming the whole school"}, admin)
    reason = ivo.page.locator("#blocked-reason")
    expect(reason).to_have_text("Spamming the whole school")
    ivo.page.reload()
    expect(ivo.page.locator("#screen-blocked")).to_be_visible()
    expect(reason).to_have_text("Spamming the whole school")


def test_offline_is_said_where_one_writes_on_a_phone(
    live_server: LiveServer, people: Any
) -> None:
    """On a phone the conversation hides the sidebar and its connection pill: going
    offline showed only clocks on the bubbles, and "Offline" in the header, which is
    the other person's."""
    from playwright.sync_api import expect

    jo_name, kai_name = name("jo"), name("kai")
    live_server.sign_up(kai_name)
    converse(live_server, live_server.register(jo_name), kai_name, "see you at lunch")
    kai = people(PHONE)
    kai.log_in(kai_name)
    kai.open_chat(jo_name)
    notice = kai.page.locator("#composer-offline")
    expect(kai.page.locator("#conn-status")).to_be_hidden()  # with the sidebar
    expect(notice).to_be_hidden()
    kai.context.set_offline(True)
    expect(notice).to_be_visible()
    expect(notice).to_have_text("Offline: messages wait to be sent")
    expect(notice).to_be_in_viewport()
    kai.context.set_offline(False)
    expect(notice).to_be_hidden()

    # On a wide screen the sidebar's pill says it; the notice stays out of the way.
    lea = people(DESKTOP)
    lea.log_in(kai_name)
    lea.open_chat(jo_name)
    lea.context.set_offline(True)
    expect(lea.page.locator("#conn-status")).to_have_attribute("data-state", "offline")
    expect(lea.page.locator("#composer-offline")).to_be_hidden()
    lea.context.set_offline(False)

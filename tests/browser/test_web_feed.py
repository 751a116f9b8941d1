"""The posts and comments feed of the people's web client (API.md §3) in headless
Chromium, against a live server and the committed model: what people see when they
post, comment, page through, delete, get flagged, get muted, and what an admin may do.

The module shares one live server, so the feed holds what earlier tests posted.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from tests.browser import test_web_client as web_client
from tests.browser.live import wait_until
from tests.browser.test_dashboard_people import call
from tests.browser.test_web_client import ABUSE, OVERFLOWING, Person, name, screenshot
from tests.live import LiveServer

# The neighbour's fixtures: people in browser contexts of their own, and an admin.
people = web_client.people
admin = web_client.admin

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

PAGE = 20  # the client asks for 20 posts, or 20 comments, at a time
PHONE = {"width": 375, "height": 740}
# Markup a person typed: shown as these characters, never as an image or bold text.
MARKUP = (
    '<img src=x onerror="window.__feedPwned=1"> <b>not bold</b> cake in the kitchen'
)


def show_posts(person: Person) -> None:
    from playwright.sync_api import expect

    person.page.click("#view-posts")
    expect(person.page.locator("#feed-view")).to_be_visible()


def write_post(person: Person, text: str) -> None:
    person.page.fill("#post-input", text)
    person.page.click("#post-submit")


def post_item(person: Person, text: str) -> Any:
    """The posts in the feed whose own text contains `text`."""
    page = person.page
    return page.locator("#feed > li.post").filter(
        has=page.locator(".post-text", has_text=text)
    )


def comment(item: Any, text: str) -> None:
    """Write a comment under an opened post."""
    item.get_by_label("Write a comment").fill(text)
    item.get_by_role("button", name="Comment", exact=True).click()


def confirm(person: Person, yes: bool = True) -> None:
    """Answer the page's own confirm dialog."""
    from playwright.sync_api import expect

    dialog = person.page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    person.page.click("#confirm-ok" if yes else "#confirm-cancel")
    expect(dialog).to_be_hidden()


def feed_ids(server: LiveServer, token: str) -> list[int]:
    """Every post id in the feed's order, page by page over REST."""
    ids: list[int] = []
    cursor = ""
    while True:
        page = server.get(f"/api/posts?limit=100{cursor}", token)
        ids += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            return ids
        cursor = f"&cursor={page['next_cursor']}"


def published(server: LiveServer, path: str, text: str, token: str) -> dict[str, Any]:
    """A post or comment created over REST that the model did not flag."""
    item = call(server, "POST", path, {"content": text}, token)
    assert item["is_bullying"] is False, item
    return item


def test_two_people_post_comment_and_delete_in_the_feed(
    live_server: LiveServer, people: Any
) -> None:
    from playwright.sync_api import expect

    ana_name, ben_name = name("ana"), name("ben")
    ana_token = live_server.register(ana_name)
    live_server.sign_up(ben_name)
    assert live_server.get("/api/posts", ana_token)["items"] == []  # the first test
    ana, ben = people(), people()
    ana.log_in(ana_name)
    expect(ana.page.locator("#view-chats")).to_have_attribute("aria-current", "page")
    show_posts(ana)
    expect(ana.page.locator("#view-posts")).to_have_attribute("aria-current", "page")
    expect(ana.page.locator("#feed-empty")).to_have_text(
        "No posts yet. Write the first one."
    )

    # Blank is refused on the page; too long is refused in the server's words, and
    # the text stays to be shortened.
    error = ana.page.locator("#post-error")
    write_post(ana, "   ")
    expect(error).to_have_text("Write something first.")
    status, refusal = live_server.request(
        "POST", "/api/post", {"content": "x" * 5001}, ana_token
    )
    assert status == 422, refusal
    too_long = "Our team won the match on Saturday! " * 150
    write_post(ana, too_long)
    expect(error).to_contain_text(refusal["message"])
    expect(error).to_contain_text(refusal["errors"]["json"]["content"][0])
    expect(ana.page.locator("#post-input")).to_have_value(too_long)
    assert live_server.get("/api/posts", ana_token)["items"] == []

    write_post(ana, "Bake sale on Friday in the hall")
    bake = post_item(ana, "Bake sale on Friday")
    expect(bake).to_have_count(1)
    expect(error).to_be_hidden()
    expect(ana.page.locator("#post-input")).to_have_value("")
    expect(ana.page.locator("#feed-empty")).to_be_hidden()
    expect(bake.locator(".item-author")).to_have_text(ana_name)
    expect(bake.locator(".comments-toggle")).to_have_text("0 comments")
    stored = live_server.get("/api/posts", ana_token)["items"][0]
    time = bake.locator("time.item-time")
    expect(time).to_have_attribute("datetime", stored["created_at"])
    local = ana.page.evaluate(
        """iso => new Date(iso).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"})""",
        stored["created_at"],
    )
    expect(time).to_have_text(local)  # today's post: its local time

    # Markup is shown as text, newest post first.
    write_post(ana, MARKUP)
    expect(post_item(ana, "<b>not bold</b>")).to_have_count(1)
    expect(ana.page.locator("#feed .post-text")).to_have_text(
        [MARKUP, "Bake sale on Friday in the hall"]
    )
    assert ana.page.locator("#feed img, #feed b").count() == 0
    assert ana.page.evaluate("window.__feedPwned === undefined")

    # Ben sees both; he may not delete Ana's post. He comments.
    ben.log_in(ben_name)
    show_posts(ben)
    expect(ben.page.locator("#feed > li.post")).to_have_count(2)
    his = post_item(ben, "Bake sale on Friday")
    expect(his.locator(".item-author")).to_have_text(ana_name)
    expect(his.get_by_role("button", name="Delete this post")).to_have_count(0)
    toggle = his.locator(".comments-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(his.locator(".comments-empty")).to_have_text("No comments yet.")
    comment(his, "   ")
    expect(his.locator(".comment-error")).to_have_text("Write something first.")
    comment(his, "Count me in")
    comment(his, "oops, wrong place")
    texts = his.locator("li.comment .comment-text")
    expect(texts).to_have_text(["Count me in", "oops, wrong place"])
    expect(toggle).to_have_text("2 comments")
    expect(his.locator(".comments-empty")).to_be_hidden()
    expect(his.get_by_label("Write a comment")).to_have_value("")

    # He deletes his own slip, after saying no once.
    slip = his.locator("li.comment").filter(has_text="oops, wrong place")
    slip.get_by_role("button", name="Delete this comment").click()
    confirm(ben, yes=False)
    expect(texts).to_have_count(2)
    slip.get_by_role("button", name="Delete this comment").click()
    confirm(ben)
    expect(texts).to_have_text(["Count me in"])
    expect(toggle).to_have_text("1 comment")

    # Ana refreshes: the count and Ben's comment, which she may not delete.
    ana.page.click("#feed-refresh")
    expect(bake.locator(".comments-toggle")).to_have_text("1 comment")
    bake.locator(".comments-toggle").click()
    theirs = bake.locator("li.comment")
    expect(theirs.locator(".comment-text")).to_have_text(["Count me in"])
    expect(theirs.locator(".item-author")).to_have_text(ben_name)
    expect(theirs.get_by_role("button", name="Delete this comment")).to_have_count(0)
    screenshot(ana.page, "web-posts.png")
    toggle = bake.locator(".comments-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(theirs).to_be_hidden()

    # She deletes her post: it goes, for her and (after a refresh) for Ben.
    bake.get_by_role("button", name="Delete this post").click()
    confirm(ana)
    expect(bake).to_have_count(0)
    expect(ana.page.locator("#feed > li.post")).to_have_count(1)
    assert [
        p["content"] for p in live_server.get("/api/posts", ana_token)["items"]
    ] == [MARKUP]
    ben.page.click("#feed-refresh")
    expect(his).to_have_count(0)
    expect(ben.page.locator("#feed > li.post")).to_have_count(1)

    # Chats is one click away, and back.
    ben.page.click("#view-chats")
    expect(ben.page.locator("#feed-view")).to_be_hidden()
    expect(ben.page.locator("#conversation-list")).to_be_visible()


def test_flagged_posts_and_comments_are_collapsed_and_their_author_warned(
    live_server: LiveServer, people: Any
) -> None:
    from playwright.sync_api import expect

    cy_name, di_name = name("cy"), name("di")
    cy_token = live_server.register(cy_name)
    di_token = live_server.register(di_name)
    published(live_server, "/api/post", "Lovely photos from the trip", di_token)
    cy, di = people(), people()
    cy.log_in(cy_name)
    show_posts(cy)

    # Her own flagged post shows, marked, and she is warned as after a message.
    write_post(cy, ABUSE[0])
    mine = post_item(cy, ABUSE[0])
    expect(mine.locator(".flag-mark")).to_have_text("Flagged")
    expect(mine.locator(".post-text")).to_be_visible()
    banner = cy.page.locator("#moderation-banner")
    expect(banner).to_be_visible()
    expect(cy.page.locator("#moderation-banner-title")).to_have_text(
        "Your last post was flagged as possibly hurtful."
    )
    expect(cy.page.locator("#moderation-banner-text")).to_contain_text(
        "1 of 5 strikes. 4 more flagged"
    )
    expect(cy.page.locator("#moderation-banner-text")).to_contain_text("4 more")

    # A flagged comment too.
    photos = post_item(cy, "Lovely photos from the trip")
    photos.locator(".comments-toggle").click()
    comment(photos, ABUSE[1])
    expect(photos.locator("li.comment .flag-mark")).to_have_text("Flagged")
    expect(cy.page.locator("#moderation-banner-title")).to_have_text(
        "Your last comment was flagged as possibly hurtful."
    )
    expect(cy.page.locator("#moderation-banner-text")).to_contain_text(
        "2 of 5 strikes. 3 more flagged"
    )

    # Others see them collapsed, and can open and hide them.
    di.log_in(di_name)
    show_posts(di)
    flagged = post_item(di, ABUSE[0])
    expect(flagged).to_have_class(re.compile(r"\bflagged\b"))
    expect(flagged.locator(".post-text")).to_be_hidden()
    reveal = flagged.get_by_role("button", name="This post may be hurtful — show it")
    reveal.click()
    expect(flagged.locator(".post-text")).to_be_visible()
    expect(flagged.get_by_role("button", name=f"Report {cy_name}")).to_be_visible()
    flagged.get_by_role("button", name="Hide").click()
    expect(flagged.locator(".post-text")).to_be_hidden()
    expect(reveal).to_be_visible()
    expect(flagged.get_by_role("button", name="Delete this post")).to_have_count(0)
    hers = post_item(di, "Lovely photos from the trip")
    hers.locator(".comments-toggle").click()
    hurtful = hers.locator("li.comment.flagged")
    expect(hurtful.locator(".comment-text")).to_be_hidden()
    hurtful.get_by_role("button", name="This comment may be hurtful — show it").click()
    expect(hurtful.locator(".comment-text")).to_have_text(ABUSE[1])
    # The post is hers, the comment is not: only its author or an admin deletes it.
    expect(hurtful.get_by_role("button", name="Delete this comment")).to_have_count(0)
    screenshot(di.page, "web-posts-flagged.png")

    # The fifth flag blocks the account: the same blocked screen as the chat's.
    for text in ABUSE[2:4]:
        item = call(live_server, "POST", "/api/post", {"content": text}, cy_token)
        assert item["is_bullying"] is True, item
    write_post(cy, ABUSE[4])
    expect(cy.page.locator("#screen-blocked")).to_be_visible()
    expect(cy.page.locator("#blocked-title")).to_have_text("Your account is blocked")
    cy.page.reload()
    expect(cy.page.locator("#screen-blocked")).to_be_visible()


def test_the_feed_and_comments_page_through_on_a_phone_by_keyboard(
    live_server: LiveServer, people: Any
) -> None:
    from playwright.sync_api import expect

    eli_name, fay_name = name("eli"), name("fay")
    eli_token = live_server.register(eli_name)
    live_server.sign_up(fay_name)
    for index in range(PAGE + 5):
        last = published(
            live_server, "/api/post", f"Bake sale stall {index}", eli_token
        )
    for index in range(PAGE + 5):
        published(
            live_server, f"/api/comment/{last['id']}", f"Count me in {index}", eli_token
        )
    ids = [str(i) for i in feed_ids(live_server, eli_token)]
    assert len(ids) > PAGE  # more than one page, whatever earlier tests posted

    fay = people(PHONE)
    fay.log_in(fay_name)
    page = fay.page
    page.locator("#view-posts").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#feed-view")).to_be_visible()
    expect(page.locator("#conversation-list")).to_be_hidden()  # one pane at a time
    posts = page.locator("#feed > li.post")
    expect(posts).to_have_count(PAGE)
    assert page.evaluate(OVERFLOWING) == []
    more = page.locator("#feed-more")
    for pages in range(2, math.ceil(len(ids) / PAGE) + 1):
        more.focus()
        page.keyboard.press("Enter")
        expect(posts).to_have_count(min(pages * PAGE, len(ids)))
    expect(more).to_be_hidden()
    assert [posts.nth(i).get_attribute("data-id") for i in range(len(ids))] == ids

    newest = post_item(fay, f"Bake sale stall {PAGE + 4}")
    expect(newest.locator(".comments-toggle")).to_have_text(f"{PAGE + 5} comments")
    newest.locator(".comments-toggle").focus()
    page.keyboard.press("Enter")
    texts = newest.locator("li.comment .comment-text")
    expect(texts).to_have_text([f"Count me in {i}" for i in range(PAGE)])
    newest.get_by_role("button", name="Load more comments").click()
    expect(texts).to_have_text([f"Count me in {i}" for i in range(PAGE + 5)])
    expect(newest.get_by_role("button", name="Load more comments")).to_be_hidden()
    comment(newest, "Me too, see you there")
    expect(texts.last).to_have_text("Me too, see you there")
    screenshot(page, "web-posts-phone.png")
    expect(newest.locator(".comments-toggle")).to_have_text(f"{PAGE + 6} comments")
    assert page.evaluate(OVERFLOWING) == []

    page.locator("#view-chats").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#conversation-list")).to_be_visible()
    expect(page.locator("#feed-view")).to_be_hidden()


def test_a_muted_person_is_told_and_an_admin_may_delete_any_post(
    live_server: LiveServer, people: Any, admin: str
) -> None:
    from playwright.sync_api import expect

    gil_name = name("gil")
    gil_token = live_server.register(gil_name)
    snacks = published(
        live_server, "/api/post", "Who is bringing the snacks?", gil_token
    )
    body = call(
        live_server, "POST", f"/api/admin/users/{gil_name}/mute", {"minutes": 30}, admin
    )
    until = body["user"]["muted_until"]

    gil = people()
    gil.log_in(gil_name)
    show_posts(gil)
    write_post(gil, "Thanks, it was a fun afternoon")
    local = gil.page.evaluate(
        """until => new Date(until).toLocaleString([], {dateStyle: "medium", timeStyle: "short"})""",
        until,
    )
    expect(gil.page.locator("#post-error")).to_have_text(
        f"You are muted until {local}: you cannot send messages, post or comment until then."
    )
    expect(gil.page.locator("#post-input")).to_have_value(
        "Thanks, it was a fun afternoon"
    )
    expect(gil.page.locator("#muted-banner")).to_be_visible()
    expect(post_item(gil, "Thanks, it was")).to_have_count(0)

    # An admin (the page knows from the user object) may delete anyone's post.
    admin_name = live_server.get("/api/me", admin)["user"]["username"]
    boss = people()
    boss.log_in(admin_name)
    show_posts(boss)
    theirs = post_item(boss, "Who is bringing the snacks?")
    theirs.get_by_role("button", name="Delete this post").click()
    confirm(boss)
    expect(theirs).to_have_count(0)
    status, gone = live_server.request(
        "GET", f"/api/post/{snacks['id']}", token=gil_token
    )
    assert status == 404, gone


def test_the_feed_keeps_a_keyboard_user_s_focus(
    live_server: LiveServer, people: Any
) -> None:
    """Post, Refresh, Load more posts and Load more comments wait for the server
    disabled; the focus comes back to them, or, after the last page, moves on to the
    first post it brought (its comments button) or to the box for a comment."""
    from playwright.sync_api import expect

    from tests.browser.test_web_client import press

    gus_name, hal_name = name("gus"), name("hal")
    gus_token = live_server.register(gus_name)
    live_server.sign_up(hal_name)
    for index in range(PAGE + 1):
        last = published(live_server, "/api/post", f"Quiz night {index}", gus_token)
    for index in range(PAGE + 1):
        published(
            live_server, f"/api/comment/{last['id']}", f"I am in {index}", gus_token
        )
    hal = people()
    hal.log_in(hal_name)
    show_posts(hal)
    page = hal.page
    page.fill("#post-input", "Who brings the buzzer?")
    press(page, "#post-submit")
    expect(post_item(hal, "Who brings the buzzer?")).to_have_count(1)
    expect(page.locator("#post-submit")).to_be_focused()
    press(page, "#feed-refresh")
    expect(page.locator("#feed > li.post")).to_have_count(PAGE)
    expect(page.locator("#feed-refresh")).to_be_focused()

    more = page.locator("#feed-more")
    while True:
        count = page.locator("#feed > li.post").count()
        press(page, more)
        expect(more).to_be_enabled()  # disabled while the page is on its way
        if more.is_hidden():
            break
        expect(more).to_be_focused()
    # The last page: the focus is on the first post it brought.
    first_new = page.locator("#feed > li.post").nth(count)
    expect(first_new.locator(".comments-toggle")).to_be_focused()

    quiz = post_item(hal, f"Quiz night {PAGE}")
    press(page, quiz.locator(".comments-toggle"))
    expect(quiz.locator("li.comment")).to_have_count(PAGE)
    press(page, quiz.get_by_role("button", name="Load more comments"))
    expect(quiz.locator("li.comment")).to_have_count(PAGE + 1)
    box = quiz.get_by_label("Write a comment")
    expect(box).to_be_focused()
    # The box says how to send from the keyboard, and that way sends.
    expect(box).to_have_accessible_description("Ctrl+Enter comments.")
    box.fill("Me, I have two")
    box.press("Control+Enter")
    expect(quiz.locator("li.comment").last).to_contain_text("Me, I have two")
    expect(box).to_have_value("")


def lose_the_first_answer(person: Person, pattern: str) -> list[dict[str, Any]]:
    """The next request to `pattern` reaches the server, but its answer never comes
    back to the page (the connection drops); later ones pass. Answers the bodies sent."""
    sent: list[dict[str, Any]] = []

    def drop(route: Any) -> None:
        sent.append(route.request.post_data_json)
        if len(sent) == 1:
            route.fetch()  # stored on the server...
            route.abort("connectionfailed")  # ...and the answer is lost
        else:
            route.continue_()

    person.page.route(pattern, drop)
    return sent


def test_a_post_or_comment_sent_again_is_shown_and_stored_once(
    live_server: LiveServer, people: Any
) -> None:
    """A post whose answer was lost, sent again with Post, and a comment sent twice
    before its answer (a double Ctrl+Enter) are each stored once and shown once: the
    same text goes again with the same client_id."""
    from playwright.sync_api import expect

    ida_name = name("ida")
    ida_token = live_server.register(ida_name)
    ida = people()
    ida.log_in(ida_name)
    show_posts(ida)
    page = ida.page

    sent = lose_the_first_answer(ida, "**/api/post")
    write_post(ida, "Lost and found: a blue umbrella")
    expect(page.locator("#post-error")).to_have_text(
        "The server cannot be reached. Check your connection."
    )
    expect(page.locator("#post-input")).to_have_value("Lost and found: a blue umbrella")
    page.click("#post-submit")
    umbrella = post_item(ida, "Lost and found: a blue umbrella")
    expect(umbrella).to_have_count(1)
    expect(page.locator("#post-input")).to_have_value("")
    page.unroute("**/api/post")
    page.click("#feed-refresh")  # what the server holds: the post, once
    expect(page.locator("#feed-refresh")).to_be_enabled()
    expect(umbrella).to_have_count(1)
    stored = [
        item
        for item in live_server.get("/api/posts?limit=100", ida_token)["items"]
        if item["content"] == "Lost and found: a blue umbrella"
    ]
    assert len(stored) == 1, stored
    assert len(sent) == 2 and sent[0] == sent[1], sent
    assert stored[0]["client_id"] == sent[0]["client_id"]

    # The same text again, on purpose, after the answer came: a post of its own.
    write_post(ida, "Lost and found: a blue umbrella")
    expect(umbrella).to_have_count(2)

    first = umbrella.first
    first.locator(".comments-toggle").click()
    box = first.get_by_label("Write a comment")
    box.fill("It is mine, thanks!")
    held: list[Any] = []
    page.route("**/api/comment/*", lambda route: held.append(route))
    box.press("Control+Enter")
    box.press("Control+Enter")
    # both on their way before either is answered
    wait_until(page, lambda: len(held) == 2, "the second send never went", 200)
    bodies = [route.request.post_data_json for route in held]
    assert len(bodies) == 2 and bodies[0] == bodies[1], bodies
    for route in held:
        route.continue_()
    page.unroute("**/api/comment/*")
    expect(first.locator("li.comment")).to_have_count(1)
    expect(first.locator(".comments-toggle")).to_have_text("1 comment")
    post_id = first.get_attribute("data-id")
    comments = live_server.get(f"/api/post/{post_id}/comments", ida_token)["items"]
    assert [c["content"] for c in comments] == ["It is mine, thanks!"]
    page.click("#feed-refresh")
    expect(post_item(ida, "Lost and found")).to_have_count(2)
    expect(
        post_item(ida, "Lost and found").first.locator(".comments-toggle")
    ).to_have_text("1 comment")

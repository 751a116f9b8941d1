"""Strikes of one user scored at the same moment: exactly MAX_BULLYING_COUNT are stored
and counted, exactly one blocks, and every later one is refused as blocked.

The author is loaded unblocked by every thread before the race, so the check that
refuses a blocked author must be made again under the author's row lock: on MariaDB
the row a thread loaded is stale by the time its strike runs (SQLite serialises the
writers, which hid this).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from cyberscan.errors import AccountBlocked
from cyberscan.extensions import db
from cyberscan.models import MESSAGE, POST, AuditLog, Flag, Message, Post, User
from cyberscan.models import conversation_key as key_of
from cyberscan.services import comments, moderation, posts

THREADS = 8
LIMIT = 5


def run_together(app, work):
    """Run `work(i)` in THREADS threads, each in its own app context and session."""
    barrier = threading.Barrier(THREADS)
    results, errors = [None] * THREADS, []

    def target(i):
        try:
            with app.app_context():
                results[i] = work(i, barrier)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("item_type", [POST, MESSAGE])
def test_concurrent_strikes_all_count_and_exactly_one_blocks(
    app, make_user, flagging, item_type
):
    bully, victim = make_user("bully"), make_user("victim")

    def strike(i, barrier):
        author = db.session.get(User, bully.id)
        if item_type == POST:
            item = Post(author_id=author.id, content=f"loser {i}")
        else:
            item = Message(
                sender_id=author.id,
                receiver_id=victim.id,
                conversation_key=key_of(author.id, victim.id),
                content=f"loser {i}",
            )
        moderation.score(item)
        db.session.add(item)
        barrier.wait()
        try:
            result = moderation.stage_strike(author, item_type, None, item)
        except AccountBlocked as exc:
            db.session.rollback()
            return exc
        db.session.commit()
        return result

    results = run_together(app, strike)

    strikes = [r for r in results if isinstance(r, moderation.Strike)]
    refused = [r for r in results if isinstance(r, AccountBlocked)]
    assert sorted(s.bullying_count for s in strikes) == list(range(1, LIMIT + 1))
    assert len(refused) == THREADS - LIMIT
    assert [s.bullying_count for s in strikes if s.blocked_now] == [LIMIT]
    with app.app_context():
        user = db.session.get(User, bully.id)
        assert (user.bullying_count, user.is_blocked) == (LIMIT, True)
        assert db.session.scalar(select(func.count()).select_from(Flag)) == LIMIT
        model = Post if item_type == POST else Message
        assert db.session.scalar(select(func.count()).select_from(model)) == LIMIT
        assert db.session.scalars(select(AuditLog.action)).all() == ["auto_block"]


def test_concurrent_posts_and_comments_through_the_services(app, make_user, flagging):
    bully = make_user("bully")
    with app.app_context():
        target = Post(author_id=make_user("host").id, content="hello")
        db.session.add(target)
        db.session.commit()
        post_id = target.id

    def create(i, barrier):
        author = db.session.get(User, bully.id)
        barrier.wait()
        try:
            if i % 2:
                comments.create_comment(author, post_id, f"idiot {i}")
            else:
                posts.create_post(author, f"loser {i}")
        except AccountBlocked:
            return "blocked"
        return "stored"

    outcomes = run_together(app, create)

    # Every author was loaded unblocked before the race; still only the strikes up
    # to the limit are stored, and every later one is refused as blocked.
    assert sorted(outcomes) == ["blocked"] * (THREADS - LIMIT) + ["stored"] * LIMIT
    with app.app_context():
        user = db.session.get(User, bully.id)
        assert (user.bullying_count, user.is_blocked) == (LIMIT, True)
        assert db.session.scalar(select(func.count()).select_from(Flag)) == LIMIT
        assert db.session.scalars(select(AuditLog.action)).all() == ["auto_block"]


def test_concurrent_flagged_rest_messages_stop_at_the_limit(
    app, make_user, auth_headers, flagging
):
    bully, victim = make_user("bully"), make_user("victim")
    headers = auth_headers(bully)

    def send(i, barrier):
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/api/chat/messages/{victim.username}",
            json={"message": f"you are a worthless idiot {i}"},
            headers=headers,
        )
        return response.status_code, response.get_json()

    answers = run_together(app, send)

    stored = [body["id"] for status, body in answers if status == 201]
    refused = [(status, body["error"]) for status, body in answers if status != 201]
    assert len(stored) == LIMIT
    assert refused == [(403, "blocked")] * (THREADS - LIMIT)
    with app.app_context():
        user = db.session.get(User, bully.id)
        assert (user.bullying_count, user.is_blocked) == (LIMIT, True)
        ids = db.session.scalars(select(Message.id)).all()
        assert sorted(ids) == sorted(stored)

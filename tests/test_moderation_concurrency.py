"""Strikes of one user scored at the same moment: every one counts, exactly one blocks."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from cyberscan.extensions import db
from cyberscan.models import MESSAGE, POST, AuditLog, Flag, Message, Post, User
from cyberscan.models import conversation_key as key_of
from cyberscan.services import comments, moderation, posts

THREADS = 8


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
        result = moderation.stage_strike(author, item_type, None, item)
        db.session.commit()
        return result

    strikes = run_together(app, strike)

    assert sorted(s.bullying_count for s in strikes) == list(range(1, THREADS + 1))
    assert [s.bullying_count for s in strikes if s.blocked_now] == [5]
    with app.app_context():
        user = db.session.get(User, bully.id)
        assert (user.bullying_count, user.is_blocked) == (THREADS, True)
        assert db.session.scalar(select(func.count()).select_from(Flag)) == THREADS
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
        if i % 2:
            comments.create_comment(author, post_id, f"idiot {i}")
        else:
            posts.create_post(author, f"loser {i}")
        return "stored"

    outcomes = run_together(app, create)

    # Every author was loaded unblocked before the race, so every item is stored.
    assert outcomes == ["stored"] * THREADS
    with app.app_context():
        user = db.session.get(User, bully.id)
        assert (user.bullying_count, user.is_blocked) == (THREADS, True)
        assert db.session.scalar(select(func.count()).select_from(Flag)) == THREADS
        assert db.session.scalars(select(AuditLog.action)).all() == ["auto_block"]

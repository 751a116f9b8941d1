"""Strikes of one user scored at the same moment: exactly MAX_BULLYING_COUNT are stored
and counted, exactly one blocks, and every later one is refused as blocked.

The author is loaded unblocked by every thread before the race, so the check that
refuses a blocked author must be made again under the author's row lock: on MariaDB
the row a thread loaded is stale by the time its strike runs (SQLite serialises the
writers, which hid this).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from cyberscan.errors import AccountBlocked, Conflict
from cyberscan.extensions import db
from cyberscan.models import (
    ACTIVE,
    DISMISSED,
    MESSAGE,
    POST,
    Appeal,
    AuditLog,
    Flag,
    Message,
    Post,
    User,
    UserReport,
)
from cyberscan.models import conversation_key as key_of
from cyberscan.services import admin as admin_service
from cyberscan.services import appeals, comments, moderation, posts, reporting
from tests.helpers import listening

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


# -- strikes taken back while strikes land --------------------------------------------
#
# An unblock with a reset, an accepted appeal and a dismissed flag change the count too.
# Each must read the standing it changes under the author's row lock, as a strike does:
# a strike that committed after a stale read would otherwise be lost from the count or
# leave an account blocked with a count below the limit, and a second admin deciding the
# same appeal or flag would take the same strike off twice.


def seed_strikes(app, author_id: int, n: int) -> list[int]:
    """`n` flagged posts by the author, through the service; their flag ids."""
    with app.app_context():
        for i in range(n):
            posts.create_post(db.session.get(User, author_id), f"loser {i}")
        return list(
            db.session.scalars(select(Flag.id).where(Flag.author_id == author_id))
        )


def standing(app, user_id: int) -> tuple[User, Counter]:
    """The user as committed, and how many of their strikes are in each status."""
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        statuses = Counter(
            db.session.scalars(
                select(Flag.strike_status).where(Flag.author_id == user_id)
            )
        )
    return user, statuses


def assert_consistent(user: User, statuses: Counter) -> None:
    """The contract: the count is the strikes that still count, and an automatic
    block stands exactly when that count reached the limit."""
    assert user.bullying_count == statuses[ACTIVE]
    assert bool(user.is_blocked) == (user.bullying_count >= LIMIT)


def pause_after(
    app, wanted: Callable[[str, Any], bool], then: Callable[[], None], threads: set[int]
) -> Any:
    """A listener that, in each of `threads` (idents, which may be added later), runs
    `then` once, right after that thread's first statement `wanted` picks, while its
    transaction is open: the point where another transaction is let in. Registered
    once, from the test's thread (listeners added while others run break dispatch)."""
    fired: set[int] = set()

    def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        me = threading.get_ident()
        if me in threads and me not in fired and wanted(statement, parameters):
            fired.add(me)
            then()

    with app.app_context():
        engine = db.engine
    return listening((engine, "after_cursor_execute", after))


def test_a_strike_landing_while_an_unblock_reads_is_reset_with_the_others(
    app, make_user, flagging
):
    """The strike that reaches the limit commits between the unblock's first read of
    the account and its reset; the reset must still see it (and the block it set)."""
    boss, bully = make_user("boss", is_admin=True), make_user("bully")
    seed_strikes(app, bully.id, LIMIT - 1)
    landed = threading.Event()

    def strike() -> None:
        try:
            with app.app_context():
                posts.create_post(db.session.get(User, bully.id), "loser again")
                db.session.remove()
        finally:
            landed.set()

    def let_the_strike_in() -> None:
        threading.Thread(target=strike).start()
        # A lock the unblock already holds makes the strike wait for its commit: then
        # the strike lands after the reset instead, which is as right.
        landed.wait(timeout=10)

    hook = pause_after(
        app,
        lambda statement, params: "bully" in str(params),
        let_the_strike_in,
        {threading.get_ident()},
    )
    with app.app_context(), hook:
        admin_service.unblock_user(db.session.get(User, boss.id), "bully")
        db.session.remove()
    assert landed.wait(timeout=30)

    user, statuses = standing(app, bully.id)
    assert sum(statuses.values()) == LIMIT  # the strike was stored either way
    assert_consistent(user, statuses)
    assert not user.is_blocked
    with app.app_context():
        details = db.session.scalars(
            select(AuditLog.details).where(AuditLog.action == "unblock")
        ).one()
    # The audit says what the reset took off: the strikes it dismissed.
    assert details["previous_bullying_count"] == statuses[DISMISSED]


def test_unblocks_racing_strikes_keep_the_count_and_the_block_consistent(
    app, make_user, flagging
):
    boss = make_user("boss", is_admin=True)
    for round_ in range(4):
        bully = make_user(f"bully{round_}")
        seed_strikes(app, bully.id, LIMIT - 1)

        def act(i, barrier, bully=bully):
            author = db.session.get(User, bully.id)
            actor = db.session.get(User, boss.id)
            barrier.wait()
            try:
                if i == 0:
                    admin_service.unblock_user(actor, bully.username)
                else:
                    posts.create_post(author, f"idiot {i}")
            except AccountBlocked:
                return "blocked"
            return "done"

        run_together(app, act)
        assert_consistent(*standing(app, bully.id))


@pytest.mark.parametrize("kind", ["appeal", "flag"])
def test_two_admins_giving_the_same_strike_back_take_it_off_once(
    app, make_user, flagging, kind
):
    """Accepting one appeal, or dismissing one flag, twice at the same moment: one
    decision stands, the other is refused as already decided, and one strike is off."""
    bosses = [make_user(f"boss{i}", is_admin=True) for i in range(2)]
    bully = make_user("bully")
    flag_ids = seed_strikes(app, bully.id, 3)
    with app.app_context():
        appeal = appeals.file_appeal(db.session.get(User, bully.id), flag_ids[0], "why")
        appeal_id = appeal.id

    def decide(me: User, i: int) -> None:
        if kind == "appeal":
            appeals.decide_appeal(me, appeal_id, "accept")
        else:
            admin_service.review_flag(me, flag_ids[0], "dismiss")

    table = "appeals" if kind == "appeal" else "flags"
    outcomes = two_admins_at_once(app, bosses, table, decide)
    assert sorted(map(str, outcomes)) == ["conflict", "decided"], outcomes
    user, statuses = standing(app, bully.id)
    assert (user.bullying_count, statuses[ACTIVE], statuses[DISMISSED]) == (2, 2, 1)
    with app.app_context():
        assert db.session.get(Appeal, appeal_id).status == "accepted"


def two_admins_at_once(
    app, bosses: list[User], table: str, act: Callable[[User, int], None]
) -> list[Any]:
    """`act(admin, i)` by two admins in two threads, each let go only once both have
    read `table` (before either locks anything); each outcome: "decided", "conflict"
    (the second finds it decided) or the exception raised."""
    both_read = threading.Barrier(2, timeout=10)
    outcomes: list[Any] = [None, None]
    deciders: set[int] = set()

    def wanted(statement: str, params: Any) -> bool:
        return statement.lstrip().upper().startswith("SELECT") and (
            f"FROM {table}" in statement
        )

    def run(i: int) -> None:
        deciders.add(threading.get_ident())
        try:
            with app.app_context():
                act(db.session.get(User, bosses[i].id), i)
                outcomes[i] = "decided"
                db.session.remove()
        except Conflict:
            outcomes[i] = "conflict"
        except BaseException as exc:  # noqa: BLE001  re-raised in the test thread
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    with pause_after(app, wanted, both_read.wait, deciders):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return outcomes


def test_two_admins_closing_the_same_report_at_once_close_it_once(app, make_user):
    """Both read the report open; one closing stands (one audit entry, its admin
    recorded), the other is refused as already reviewed."""
    bosses = [make_user(f"boss{i}", is_admin=True) for i in range(2)]
    reporter, rude = make_user("reporter"), make_user("rude")
    with app.app_context():
        report_id = reporting.file_report(
            db.session.get(User, reporter.id), "rude to me", username="rude"
        ).id

    def close(me: User, i: int) -> None:
        reporting.review_report(me, report_id, "dismiss", f"note {i}")

    outcomes = two_admins_at_once(app, bosses, "user_reports", close)
    assert sorted(map(str, outcomes)) == ["conflict", "decided"], outcomes
    winner = outcomes.index("decided")
    with app.app_context():
        report = db.session.get(UserReport, report_id)
        assert (report.reviewed_by_id, report.review_note) == (
            bosses[winner].id,
            f"note {winner}",
        )
        entries = db.session.scalars(
            select(AuditLog).where(AuditLog.action == "report_dismiss")
        ).all()
        assert [(e.actor_id, e.target_user_id) for e in entries] == [
            (bosses[winner].id, rude.id)
        ]

"""Flagged and plain messages of many users at the same moment, on the real database.

Mutual pairs send each other flagged messages (the strike path: the author's row lock,
the receiver's foreign key) while plain messages of the same users go through the
group-commit writer (a shared lock on every sender's and receiver's row). On MariaDB
this used to end in InnoDB deadlocks (error 1213) and `unavailable` answers for
flagged messages that stored nothing; every send must now be answered, each stored
and counted exactly once, and an account blocked exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import OperationalError

from cyberscan.detector import Verdict
from cyberscan.errors import AccountBlocked, database_detail
from cyberscan.extensions import db
from cyberscan.models import AuditLog, Flag, Message, User
from cyberscan.services import group_commit, messaging

PAIRS = 3
SENDS = 12
# Per user: two threads sending flagged messages, one sending plain ones.
FLAGGED_THREADS = 2


class KeywordDetector:
    """Flags exactly the texts that contain "loser", so both paths run side by side."""

    version = "keyword-test"
    threshold = 0.6

    def score(self, text: str) -> Verdict:
        flagged = "loser" in text
        return Verdict(0.97 if flagged else 0.05, self.version, ("loser",) * flagged)

    def score_batch(self, texts: Sequence[str]) -> list[Verdict]:
        return [self.score(text) for text in texts]


def race(app: Any, users: list[Any], send: Callable[..., Any]) -> list[Any]:
    """Every user's threads at once; returns (user index, flagged, outcome) tuples."""
    jobs = [
        (index, flagged)
        for index in range(len(users))
        for flagged in [True] * FLAGGED_THREADS + [False]
    ]
    barrier = threading.Barrier(len(jobs))
    outcomes: list[Any] = []

    def work(index: int, flagged: bool, thread: int) -> None:
        me = SimpleNamespace(id=users[index].id, username=users[index].username)
        partner = users[index ^ 1].username
        with app.app_context():
            barrier.wait()
            for n in range(SENDS):
                text = f"you loser {n}" if flagged else f"hello {n}"
                client_id = f"{'f' if flagged else 'p'}{thread}-{n}"
                try:
                    result = send(me, partner, text, client_id)
                except Exception as exc:  # noqa: BLE001  every answer is checked
                    result = exc
                outcomes.append((index, flagged, result))
                db.session.remove()

    threads = [
        threading.Thread(target=work, args=(index, flagged, thread))
        for thread, (index, flagged) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.fixture
def pairs(app, make_user) -> list[Any]:
    app.extensions["detector"] = KeywordDetector()
    return [make_user() for _ in range(2 * PAIRS)]


def test_flagged_and_plain_sends_of_mutual_pairs_all_stored_once(app, pairs):
    app.config["MAX_BULLYING_COUNT"] = 10**6

    outcomes = race(app, pairs, messaging.send_message)

    refused = [result for _, _, result in outcomes if isinstance(result, Exception)]
    assert refused == []
    assert len(outcomes) == len(pairs) * (FLAGGED_THREADS + 1) * SENDS
    with app.app_context():
        stored = Counter(
            db.session.execute(select(Message.sender_id, Message.is_bullying)).tuples()
        )
        flags = Counter(db.session.scalars(select(Flag.author_id)))
        counts = dict(db.session.execute(select(User.id, User.bullying_count)).all())
    for user in pairs:
        assert stored[(user.id, True)] == FLAGGED_THREADS * SENDS
        assert stored[(user.id, False)] == SENDS
        assert flags[user.id] == counts[user.id] == FLAGGED_THREADS * SENDS


def test_a_retried_flagged_message_under_contention_answers_the_first_copy(app, pairs):
    app.config["MAX_BULLYING_COUNT"] = 10**6
    first_ids: dict[tuple[int, str], str] = {}

    def send_twice(me: Any, partner: str, text: str, client_id: str) -> Any:
        # Both flagged threads of a user use the same client ids: every flagged
        # message is sent twice at about the same moment.
        shared = client_id.split("-", 1)[1] if text.startswith("you") else client_id
        result = messaging.send_message(me, partner, text, f"s-{shared}")
        if text.startswith("you"):
            first_ids.setdefault((me.id, shared), result.id)
            assert first_ids[(me.id, shared)] == result.id
        return result

    outcomes = race(app, pairs, send_twice)

    assert [r for _, _, r in outcomes if isinstance(r, Exception)] == []
    with app.app_context():
        counts = dict(db.session.execute(select(User.id, User.bullying_count)).all())
        flagged = db.session.scalar(
            select(func.count()).select_from(Message).where(Message.is_bullying)
        )
        assert db.session.scalar(select(func.count()).select_from(Flag)) == flagged
    assert flagged == len(pairs) * SENDS
    assert all(counts[user.id] == SENDS for user in pairs)


def test_the_block_under_contention_happens_once_per_account(app, pairs):
    limit = 4
    app.config["MAX_BULLYING_COUNT"] = limit

    outcomes = race(app, pairs, messaging.send_message)

    # Every send is answered: stored, or refused because the account is blocked.
    unexpected = [
        result
        for _, _, result in outcomes
        if isinstance(result, Exception) and not isinstance(result, AccountBlocked)
    ]
    assert unexpected == []
    with app.app_context():
        flagged = Counter(
            db.session.scalars(select(Message.sender_id).where(Message.is_bullying))
        )
        people = {u.id: u for u in db.session.scalars(select(User))}
        blocks = Counter(
            db.session.scalars(
                select(AuditLog.target_user_id).where(AuditLog.action == "auto_block")
            )
        )
    answered_flagged = Counter(
        index
        for index, flagged, result in outcomes
        if flagged and not isinstance(result, Exception)
    )
    for index, user in enumerate(pairs):
        # A strike that loaded its author before the block committed is refused.
        assert flagged[user.id] == people[user.id].bullying_count == limit
        assert answered_flagged[index] == flagged[user.id]
        assert people[user.id].is_blocked
        assert blocks[user.id] == 1


def test_a_database_failure_is_described_on_one_line_with_its_code(database_url):
    if database_url.startswith("sqlite"):
        url = "sqlite:////nonexistent-directory/cyberscan.db"
    else:
        url = "mysql+pymysql://root@127.0.0.1:1/none"
    engine = create_engine(url)
    with pytest.raises(OperationalError) as caught:
        engine.connect()
    engine.dispose()
    text = database_detail(caught.value)
    assert text.startswith("OperationalError ")
    assert "\n" not in text
    if not database_url.startswith("sqlite"):
        assert "(2003," in text
    assert not group_commit.lock_conflict(caught.value)

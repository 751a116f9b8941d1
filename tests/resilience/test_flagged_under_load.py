"""A live server taking flagged and plain messages of users who write to each other.

Mutual pairs, three sockets per person (two sending messages the real classifier
flags, one sending plain ones), all at once: every send is acknowledged, and the
database holds each message once and one strike per flagged message. On MariaDB the
strike transactions and the writer's batches used to deadlock (InnoDB 1213) and the
flagged sends came back `unavailable` with nothing stored.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from tests.live import server_env, start
from tests.resilience.conftest import assert_clean_log, unique

pytestmark = [pytest.mark.e2e]

PAIRS = 3
SENDS = 8
FLAGGED = "shut up you stupid bitch"
PLAIN = "see you at five"


def test_flagged_and_plain_sends_at_once_are_all_acknowledged_and_stored_once(
    tmp_path, live_database, servers, clients
):
    server = start(
        server_env(live_database, MAX_BULLYING_COUNT="1000000"),
        tmp_path,
        "server.log",
    )
    servers.append(server)
    names = [unique(f"fl{i}") for i in range(2 * PAIRS)]
    tokens = [server.register(name) for name in names]
    jobs = [
        (index, flagged, clients(server.url, tokens[index]))
        for index in range(len(names))
        for flagged in (True, True, False)
    ]
    barrier = threading.Barrier(len(jobs))
    acks: list[tuple[int, bool, Any]] = []

    def work(job: int, index: int, flagged: bool, client: Any) -> None:
        barrier.wait()
        for n in range(SENDS):
            text = f"{FLAGGED} {n}" if flagged else f"{PLAIN} {n}"
            payload = {
                "receiver": names[index ^ 1],
                "message": text,
                "client_id": f"{job}-{n}",
            }
            try:
                acks.append((index, flagged, client.call("send_message", payload)))
            except Exception as exc:  # noqa: BLE001  every outcome is checked
                acks.append((index, flagged, repr(exc)))

    threads = [
        threading.Thread(target=work, args=(job, *args))
        for job, args in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads)

    refused = [ack for _, _, ack in acks if not (isinstance(ack, dict) and ack["ok"])]
    assert refused == []
    assert len(acks) == len(jobs) * SENDS
    flagged_acks = Counter(i for i, flagged, _ in acks if flagged)
    engine = sa.create_engine(live_database)
    with engine.connect() as conn:
        ids = dict(
            conn.execute(
                sa.text(
                    "SELECT username, id FROM users WHERE username IN :names"
                ).bindparams(sa.bindparam("names", expanding=True)),
                {"names": names},
            ).all()
        )
        stored = Counter(
            conn.execute(
                sa.text("SELECT sender_id, is_bullying FROM messages")
            ).tuples()
        )
        counts = dict(
            conn.execute(sa.text("SELECT id, bullying_count FROM users")).all()
        )
        flags = Counter(
            conn.execute(sa.text("SELECT author_id FROM moderation_flags")).scalars()
        )
    engine.dispose()
    for index, name in enumerate(names):
        user = ids[name]
        # The classifier flags every one of the flagged texts (the test's premise).
        assert stored[(user, 1)] == flagged_acks[index] == 2 * SENDS
        assert stored[(user, 0)] == SENDS
        assert counts[user] == flags[user] == 2 * SENDS
    assert_clean_log(server)

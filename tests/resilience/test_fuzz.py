"""Seeded fuzz of every REST endpoint, every socket event and raw Socket.IO packets.

A few thousand cases in all per run, each one a request a correct server refuses
(tests/resilience/fuzzcases.py). FUZZ_SEED picks another seed; a failure names the
seed and case index that reproduce it. bench/fuzz.py runs the same at 10,000+ cases
per endpoint and event.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from cyberscan.extensions import db
from cyberscan.models import Post
from tests.resilience import fuzzcases
from tests.resilience.frames import send_frame

SEED = int(os.environ.get("FUZZ_SEED", "20261130"))
PER_ENDPOINT = 60
PER_EVENT = 600
FRAMES = 1200


@pytest.fixture
def fuzz_world(app: Any, member: Any, client: Any) -> dict[str, Any]:
    """fuzz_user (author of a post), fuzz_peer, fuzz_admin, and their tokens."""
    user, _peer = member("fuzz_user"), member("fuzz_peer")
    admin = member("fuzz_admin", is_admin=True)
    refresh = client.post(
        "/api/login",
        json={"username": "fuzz_user", "password": "correct horse battery"},
    ).get_json()["refresh_token"]
    with app.app_context():
        post = Post(author_id=user.id, content="a post", bullying_probability=0.1)
        db.session.add(post)
        db.session.commit()
        post_id = post.id
    return {
        "tokens": {"user": user.token, "admin": admin.token, "refresh": refresh},
        "real": {"post_id": str(post_id), "username": "fuzz_peer", "comment_id": "1"},
        "user": user,
    }


def test_rest_fuzz_every_endpoint(app, client, fuzz_world):
    tally = fuzzcases.run_rest(
        app, client, fuzz_world["tokens"], fuzz_world["real"], SEED, PER_ENDPOINT
    )
    print(tally.table())
    assert sum(tally.cases.values()) >= 1500
    assert tally.failures == [], "\n".join(tally.failures)
    assert (tally.server_errors, tally.tracebacks) == (0, 0)


def test_socket_fuzz_every_event(app, fuzz_world, connect):
    sio = connect(fuzz_world["user"])
    tally = fuzzcases.run_events(app, sio, SEED, PER_EVENT)
    print(tally.table())
    assert tally.failures == [], "\n".join(tally.failures)
    assert (tally.server_errors, tally.tracebacks) == (0, 0)


def test_raw_packet_fuzz(app, fuzz_world, connect):
    sio = connect(fuzz_world["user"])

    def send(client: Any, _event: str, frame: tuple[Any, ...]) -> Any:
        ack = send_frame(client, frame[0])
        return ack if frame[1] else (ack or {"error": "no ack expected", "message": ""})

    tally = fuzzcases.Tally()
    with fuzzcases.TracebackCounter() as logged:
        for label, frame, wants_ack in fuzzcases.frame_cases(SEED, FRAMES):
            try:
                ack = send_frame(sio, frame)
            except Exception as exc:  # noqa: BLE001
                tally.count("frames", "raised")
                tally.fail(f"raised {exc!r} {label}: {frame[:80]!r}")
                continue
            outcome = ack.get("error", "ok") if isinstance(ack, dict) else "no ack"
            tally.count("frames", outcome)
            if wants_ack and outcome in {"no ack", "internal_error"}:
                tally.fail(f"{outcome} {label}: {frame[:80]!r}")
            if not sio.is_connected():
                tally.fail(f"disconnected by {label}: {frame[:80]!r}")
                break
    print(tally.table())
    assert tally.failures == [], "\n".join(tally.failures)
    assert [r.getMessage()[:200] for r in logged.records] == []

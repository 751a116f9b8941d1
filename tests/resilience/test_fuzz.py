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

from cyberscan.extensions import socketio
from tests.helpers import PASSWORD
from tests.resilience import fuzzcases

SEED = int(os.environ.get("FUZZ_SEED", "20261130"))
PER_ENDPOINT = 60
PER_EVENT = 600
FRAMES = 1200


@pytest.fixture
def world(app: Any, client: Any) -> dict[str, Any]:
    return fuzzcases.prepare_world(app, client, PASSWORD)


@pytest.fixture
def fuzz_socket(app: Any, client: Any, world: dict[str, Any]) -> Any:
    sio = socketio.test_client(
        app, auth={"token": world["tokens"]["user"]}, flask_test_client=client
    )
    assert sio.is_connected()
    yield sio
    if sio.is_connected():
        sio.disconnect()


def assert_clean(tally: fuzzcases.Tally) -> None:
    print(tally.table())
    assert tally.failures == [], "\n".join(tally.failures)
    assert (tally.server_errors, tally.tracebacks) == (0, 0)


def test_rest_fuzz_every_endpoint(app, client, world):
    tally = fuzzcases.run_rest(
        app, client, world["tokens"], world["real"], SEED, PER_ENDPOINT
    )
    assert sum(tally.cases.values()) >= 1500
    assert_clean(tally)


def test_socket_fuzz_every_event(app, fuzz_socket):
    tally = fuzzcases.run_events(app, fuzz_socket, SEED, PER_EVENT)
    assert sum(tally.cases.values()) == PER_EVENT * len(fuzzcases.EVENT_TEMPLATES)
    assert_clean(tally)


def test_raw_packet_fuzz(fuzz_socket):
    tally = fuzzcases.run_frames(fuzz_socket, SEED, FRAMES)
    assert sum(tally.cases.values()) == FRAMES
    assert_clean(tally)

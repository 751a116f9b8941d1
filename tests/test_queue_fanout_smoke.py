"""A short run of the queue fan-out bench (bench/queue_fanout.py), so it never rots.

No timing is asserted: only that both routes ran, the holder of the receiver handled
every emit on both, and an idle process handled every emit on the stock route and
none on the routed one.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_bench
from tests.live import REDIS_URL

EMITS = 300

pytestmark = pytest.mark.e2e


def test_queue_fanout_bench_runs_both_routes() -> None:
    stdout = run_bench(
        "queue_fanout.py",
        "--redis-url",
        REDIS_URL,
        "--route",
        "shared",
        "process",
        "--subscribers",
        "2",
        "--messages",
        str(EMITS),
        timeout=180,
    )
    runs = {r["route"]: r for r in map(json.loads, stdout.splitlines())}
    assert set(runs) == {"shared", "process"}
    for run in runs.values():
        assert run["holder_handled"] == EMITS, run
        assert run["redis_cpu_us_per_emit"] >= 0, run
    assert runs["shared"]["idle_handled"] == [EMITS], runs["shared"]
    assert runs["process"]["idle_handled"] == [0], runs["process"]

"""A short run of bench/scorer_ab.py (the scorer against an older revision's), so it
never rots. No timing is asserted: only that the older revision's detector was built
from git, agreed with this tree's on every bench text and was timed beside it."""

from __future__ import annotations

import re

from tests.helpers import run_bench


def test_scorer_ab_builds_the_old_scorer_from_git_and_compares() -> None:
    stdout = run_bench(
        "scorer_ab.py",
        "--old",
        "HEAD",
        "--passes",
        "1",
        "--runs",
        "1",
        timeout=300,
    )
    assert re.search(
        r"texts; terms equal, probabilities within [\d.e+-]+$", stdout, re.M
    ), stdout
    assert re.search(
        r"run 1: median old [\d.]+ us, new [\d.]+ us; per-text ratio new/old [\d.]+; "
        r"p99 old \d+ us, new \d+ us",
        stdout,
    )

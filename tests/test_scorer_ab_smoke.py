"""A short run of bench/scorer_ab.py (the scorer against an older revision's), so it
never rots. No timing is asserted: only that the older revision's detector was built
from git, agreed with this tree's on every bench text and was timed beside it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_scorer_ab_builds_the_old_scorer_from_git_and_compares() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "scorer_ab.py"),
            "--old",
            "HEAD",
            "--passes",
            "1",
            "--runs",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert re.search(r"texts; scores and terms equal", done.stdout), done.stdout
    assert re.search(
        r"run 1: median old [\d.]+ us, new [\d.]+ us; per-text ratio", done.stdout
    )

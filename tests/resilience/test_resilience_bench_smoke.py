"""A short run of each bench/ resilience tool, so they keep working (bench/ is not CI)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.live import ROOT

pytestmark = pytest.mark.e2e


def run_bench(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_DATABASE")}
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


def test_bench_fuzz_smoke():
    out = run_bench("bench/fuzz.py", "--cases", "8", "--frames", "60")
    assert "server errors: 0, tracebacks: 0, failures: 0" in out, out
    assert "POST /api/login" in out and "send_message" in out and "frames" in out


def test_bench_soak_smoke():
    out = run_bench("bench/soak.py", "--seconds", "3", "--clients", "2")
    table = dict(line.rsplit("  ", 1) for line in out.strip().splitlines())
    table = {key.strip(): value.strip() for key, value in table.items()}
    assert table["stored exactly once"] == "yes", out
    assert table["tracebacks in server logs"] == "0", out
    assert int(table["acknowledged"]) > 0, out

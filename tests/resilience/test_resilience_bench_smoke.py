"""A short run of each bench/ resilience tool, so they keep working (bench/ is not CI)."""

from __future__ import annotations

import pytest

from bench import fuzz, soak

pytestmark = pytest.mark.e2e


def table(out: str) -> dict[str, str]:
    rows = (line.rsplit("  ", 1) for line in out.strip().splitlines() if "  " in line)
    return {key.strip(): value.strip() for key, value in rows}


def test_bench_fuzz_smoke(capsys, tmp_path):
    code = fuzz.main(["--cases", "4", "--frames", "40"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.count("server errors: 0, tracebacks: 0, failures: 0") == 3, out
    assert "POST /api/login" in out and "send_message" in out and "frames" in out


def test_bench_soak_smoke(capsys, shared_server):
    code = soak.main(
        [
            "--seconds", "3", "--clients", "2",
            "--url", shared_server.url, "--log", str(shared_server.log),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    rows = table(out)
    assert rows["stored exactly once"] == "yes", out
    assert rows["tracebacks in server logs"] == "0", out
    assert int(rows["acknowledged"]) > 0, out

"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url

from cyberscan.detector import Verdict
from cyberscan.extensions import db
from train.data import CORPORA

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def scratch_database(test_url: str, name: str) -> Iterator[str]:
    """A new, empty database ``name`` on the MariaDB server of ``test_url`` (dropped
    first if a killed run left it behind, and dropped afterwards); yields its URL."""
    base = make_url(test_url)
    server = sa.create_engine(base.set(database=None))
    try:
        with server.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(
                sa.text(
                    f"CREATE DATABASE {name} CHARACTER SET utf8mb4 "
                    "COLLATE utf8mb4_unicode_ci"
                )
            )
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        server.dispose()


def hand_out_taken_port_first(
    module: Any, taken: int, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """`module.free_port` hands out `taken` first, as the race between two starts
    does, then free ports; answers the list of ports handed out."""
    handed_out: list[int] = []
    real_free_port = module.free_port

    def free_port() -> int:
        handed_out.append(taken if not handed_out else real_free_port())
        return handed_out[-1]

    monkeypatch.setattr(module, "free_port", free_port)
    return handed_out


def run_bench(script: str, *args: str, timeout: float) -> str:
    """Run ``bench/<script>`` with this interpreter from the repository root (each
    bench's smoke test in the suite does); assert it exited 0 and return its stdout."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


class FixedScoreDetector:
    """A detector that gives every text the same probability, for flag and block paths."""

    def __init__(self, probability: float, terms: Sequence[str] = ("loser",)) -> None:
        self.probability = probability
        self.version = "fixed-test"
        self.threshold = 0.6
        self.terms = tuple(terms)

    def score(self, text: str) -> Verdict:
        return Verdict(self.probability, self.version, self.terms)

    def score_batch(self, texts: Sequence[str]) -> list[Verdict]:
        return [self.score(text) for text in texts]


@contextmanager
def listening(*listeners: tuple[Any, str, Callable[..., Any]]) -> Iterator[None]:
    """SQLAlchemy event listeners `(target, event name, function)`, removed on exit."""
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        yield
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)


@contextmanager
def recorded_statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs inside the block, in order."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # noqa: ANN001, ARG001
        statements.append(statement)

    with listening((engine, "before_cursor_execute", record)):
        yield statements


def verbs(statements: list[str]) -> list[str]:
    """The first word of each statement, upper-cased: ["SELECT", "INSERT"]."""
    return [statement.split()[0].upper() for statement in statements]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The contract's error body (API.md §1), with the given status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == status
    assert body["error"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


# Twelve labelled chat lines (six abusive): enough for the training CLIs to fit a tiny
# model in a test.
GOOD_ROWS = [
    ("you are an idiot", 1),
    ("go kill yourself loser", 1),
    ("you stupid ugly loser", 1),
    ("nobody likes you freak", 1),
    ("shut up you moron", 1),
    ("you are a disgusting pig", 1),
    ("have a nice day", 0),
    ("see you at the library", 0),
    ("thanks for the notes", 0),
    ("the lecture was great", 0),
    ("happy birthday friend", 0),
    ("lunch at noon in the library?", 0),
]


def write_corpora(folder: Path, csv_file: Path) -> Path:
    """A stand-in for ``../shared/data``: every corpus folder holding a copy of
    ``csv_file`` as its ``train.csv``; returns ``folder``."""
    for name in CORPORA:
        (folder / name).mkdir(parents=True)
        (folder / name / "train.csv").write_bytes(csv_file.read_bytes())
    return folder

"""Helpers shared by the tests (fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from cyberscan.detector import Verdict
from cyberscan.extensions import db

PASSWORD = "correct horse battery"


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

"""Fixtures for the admin and moderation tests (issue 5)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from cyberscan.extensions import db
from cyberscan.models import User
from tests.helpers import FixedScoreDetector


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    """An administrator account."""
    return make_user("root_admin", is_admin=True)


@pytest.fixture
def admin_headers(
    admin: User, auth_headers: Callable[[User], dict[str, str]]
) -> dict[str, str]:
    """Bearer headers of the `admin` user."""
    return auth_headers(admin)


@pytest.fixture
def flagging(app: Flask) -> FixedScoreDetector:
    """Every text scores 0.97: each item is flagged."""
    detector = FixedScoreDetector(0.97, terms=("loser", "idiot"))
    app.extensions["detector"] = detector
    return detector


@pytest.fixture
def friendly(app: Flask) -> FixedScoreDetector:
    """Every text scores 0.05: nothing is flagged."""
    detector = FixedScoreDetector(0.05, terms=())
    app.extensions["detector"] = detector
    return detector


@pytest.fixture
def events_named() -> Callable[[list[dict[str, Any]], str], list[Any]]:
    """The payloads of the socket events with a given name, in arrival order."""

    def pick(received: list[dict[str, Any]], name: str) -> list[Any]:
        return [event["args"][0] for event in received if event["name"] == name]

    return pick


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """A context manager collecting the SQL statements the app runs inside it."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        seen: list[str] = []

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting

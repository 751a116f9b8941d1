"""Fixtures for the resilience suite: live servers on a database of the suite's own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.helpers import scratch_database
from tests.live import LiveServer, server_env, start, stop_all


@pytest.fixture
def live_database(tmp_path: Path) -> Iterator[str]:
    """A fresh database for live servers: SQLite, or `<suite db>_res_test` on MariaDB."""
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if not test_url.startswith("mysql"):
        yield f"sqlite:///{tmp_path / 'live.db'}"
        return
    name = make_url(test_url).database.removesuffix("_test") + "_res_test"
    with scratch_database(test_url, name) as url:
        yield url


def shared(
    tmp_path_factory: pytest.TempPathFactory, async_mode: str
) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp(f"shared-{async_mode}")
    live = start(
        server_env(
            f"sqlite:///{workdir / 'live.db'}",
            async_mode=async_mode,
            HEADER_TIMEOUT="2",
        ),
        workdir,
        "server.log",
    )
    yield live
    live.stop()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One live server for the tests that do not stop it (transport edges, soak)."""
    yield from shared(tmp_path_factory, "eventlet")


@pytest.fixture(scope="session")
def gevent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The same under gevent (SOCKETIO_ASYNC_MODE=gevent), for the transport edges
    that each async server handles on its own."""
    yield from shared(tmp_path_factory, "gevent")


@pytest.fixture
def servers() -> Iterator[list[LiveServer]]:
    """Servers a test started (append to it); all stopped afterwards."""
    started: list[LiveServer] = []
    yield started
    stop_all(started)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def make_admin(database_url: str, username: str) -> None:
    """Promote an account straight in the database (the CLI is tested elsewhere)."""
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE users SET is_admin = :yes WHERE username = :name"),
            {"yes": True, "name": username},
        )
    engine.dispose()


def log_size(server: LiveServer) -> int:
    return server.log.stat().st_size


def assert_clean_log(server: LiveServer, since: int = 0) -> None:
    """No traceback reached the server's log (after byte `since`)."""
    with server.log.open("rb") as log:
        log.seek(since)
        text = log.read().decode(errors="replace")
    assert "Traceback" not in text, text[-4000:]


def history(server: LiveServer, token: str, other: str) -> list[dict[str, Any]]:
    """Every message of a conversation, through the REST history pages."""
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = server.get(f"/api/chat/messages/{other}?limit=100{cursor}", token)
        items.extend(page["items"])
        if not page["next_cursor"]:
            return items
        cursor = f"&cursor={page['next_cursor']}"


def assert_each_once(acked: dict[str, str], stored: list[dict[str, Any]]) -> None:
    """Every acknowledged client_id is stored once, with the id its ack named."""
    by_client: dict[str, list[str]] = {}
    for item in stored:
        by_client.setdefault(item["client_id"], []).append(item["id"])
    duplicated = {cid: ids for cid, ids in by_client.items() if len(ids) > 1}
    assert not duplicated, duplicated
    missing = {cid for cid in acked if cid not in by_client}
    assert not missing, sorted(missing)
    wrong = {cid for cid, mid in acked.items() if by_client[cid] != [mid]}
    assert not wrong, sorted(wrong)

"""Fixtures for tests against live server processes."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.pyclient import PyClient


@pytest.fixture
def clients() -> Iterator[Callable[..., PyClient]]:
    """python-socketio clients over WebSocket; every one closed after the test.

    (tests/e2e has its own, which also lets the client pick its transports.)"""
    opened: list[PyClient] = []

    def open_client(url: str, token: str | None, **kwargs: Any) -> PyClient:
        kwargs.setdefault("transports", ("websocket",))
        client = PyClient(url, token, **kwargs)
        opened.append(client)
        return client.connect()

    yield open_client
    for client in opened:
        try:
            client.close()
        except Exception:  # noqa: BLE001, S110  a server the test killed, or a kick
            pass


@pytest.fixture
def collect_sockets_left_behind() -> Iterator[None]:
    """For a test that stops a server or a dependency under its clients, and so leaves
    their sockets to the garbage collector (it ignores the ResourceWarning that
    follows): collect them as the test ends, under its own warning filters, instead of
    in whichever later test the collector happens to run (which turns them into an
    error there)."""
    yield
    gc.collect()

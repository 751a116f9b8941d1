"""Fixtures for tests against live server processes."""

from __future__ import annotations

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

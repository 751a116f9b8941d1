"""Fixtures for the real-time and chat tests (issue 4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from cyberscan.models import User


@dataclass
class Member:
    """A user with a live access token."""

    user: User
    token: str

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def member(
    make_user: Callable[..., User], login: Callable[[User], dict[str, Any]]
) -> Callable[..., Member]:
    """Create a user and log in through the real endpoint."""

    def make(username: str | None = None, **kwargs: Any) -> Member:
        user = make_user(username, **kwargs)
        return Member(user, login(user)["access_token"])

    return make


@pytest.fixture
def trio(member: Callable[..., Member]) -> tuple[Member, Member, Member]:
    """Two people who talk (alice, bob) and an outsider (carol)."""
    return member("alice"), member("bob"), member("carol")


@pytest.fixture
def connect(socket_client: Callable[..., Any]) -> Callable[..., Any]:
    """A connected Socket.IO test client for a member; asserts the connection held."""

    def open_for(who: Member, **kwargs: Any) -> Any:
        sio = socket_client(who.token, **kwargs)
        assert sio.is_connected(), f"{who.username} could not connect"
        return sio

    return open_for


def events(sio: Any, name: str | None = None) -> list[Any]:
    """Drain what a test client received; with `name`, the first args of those events."""
    received = sio.get_received() if sio.is_connected() else drain(sio)
    if name is None:
        return received
    return [
        item["args"][0] if item["args"] else None
        for item in received
        if item["name"] == name
    ]


def drain(sio: Any) -> list[dict[str, Any]]:
    """What a client received even after the server closed it (get_received refuses)."""
    queued, sio.queue = sio.queue, []
    return queued


def eventually(condition: Any, timeout: float = 5.0) -> bool:
    """Poll `condition` until it holds (work a server defers to a background task)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True

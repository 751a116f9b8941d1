"""Fixtures: a real database (SQLite file, or TEST_DATABASE_URL), a fresh app per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from config import TestingConfig
from cyberscan import create_app
from cyberscan.extensions import db, socketio
from cyberscan.models import User
from cyberscan.services import auth
from tests.helpers import PASSWORD, bearer, scratch_database

# Fixtures owned by each area live in their own modules.
pytest_plugins = [
    "tests.fixtures_realtime",
    "tests.fixtures_admin",
    "tests.fixtures_live",
]


def pytest_configure(config: pytest.Config) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return
    parsed = make_url(url)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if parsed.drivername.startswith("sqlite"):
        if worker and parsed.database and parsed.database != ":memory:":
            # A SQLite file of one's own too: test.db -> test_gw0.db beside it.
            path = Path(parsed.database)
            own_file = path.with_name(f"{path.stem}_{worker}{path.suffix}")
            os.environ["TEST_DATABASE_URL"] = parsed.set(
                database=str(own_file)
            ).render_as_string(hide_password=False)
        return
    if not (parsed.database or "").endswith("_test"):
        raise pytest.UsageError(
            f"TEST_DATABASE_URL must name a database ending in _test, got {parsed.database!r}"
        )
    if worker:
        # Each pytest-xdist worker gets its own database, <name>_<worker>_test, and so do
        # the scratch databases the suite names after it (e2e, resilience, migrations).
        own = parsed.database.removesuffix("_test") + f"_{worker}_test"
        stack = ExitStack()
        config.add_cleanup(stack.close)
        os.environ["TEST_DATABASE_URL"] = stack.enter_context(
            scratch_database(url, own)
        )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    )


@pytest.fixture(scope="session")
def schema(database_url: str) -> str:
    """Build the schema once per session; `app` empties the tables after every test."""
    app = create_app(TestingConfig, DATABASE_URL=database_url)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    return database_url


def empty_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Overrides for the `app` fixture; a test module overrides this fixture to change config."""
    return {}


@pytest.fixture
def app(schema: str, app_settings: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(TestingConfig, DATABASE_URL=schema, **app_settings)
    yield app
    with app.app_context():
        db.session.rollback()
        empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_names = count(1)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a user straight through the service; returns a detached User with its id."""

    def make(
        username: str | None = None,
        email: str | None = None,
        password: str = PASSWORD,
        is_admin: bool = False,
    ) -> User:
        name = username or f"user{next(_names)}"
        with app.app_context():
            user = auth.register(
                name, email or f"{name}@example.com", password, is_admin=is_admin
            )
            db.session.refresh(user)
            db.session.expunge(user)
        return user

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], dict[str, Any]]:
    """Log a user in through the real endpoint; returns the response body."""

    def do_login(user: User, password: str = PASSWORD) -> dict[str, Any]:
        response = client.post(
            "/api/login", json={"username": user.username, "password": password}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return do_login


@pytest.fixture
def auth_headers(
    login: Callable[[User], dict[str, Any]],
) -> Callable[[User], dict[str, str]]:
    def headers(user: User) -> dict[str, str]:
        return bearer(login(user)["access_token"])

    return headers


@pytest.fixture
def raw_socket(app: Flask, client: FlaskClient) -> Iterator[Callable[..., Any]]:
    """Socket.IO test clients with any `auth` payload (or none); closed afterwards."""
    opened = []

    def open_raw(auth: Any = None, **kwargs: Any) -> Any:
        sio = socketio.test_client(app, auth=auth, flask_test_client=client, **kwargs)
        opened.append(sio)
        return sio

    yield open_raw
    for sio in opened:
        if sio.is_connected():
            sio.disconnect()


@pytest.fixture
def socket_client(raw_socket: Callable[..., Any]) -> Callable[..., Any]:
    """Connect a Socket.IO test client with an access token."""

    def connect(token: str | None, **kwargs: Any) -> Any:
        return raw_socket({"token": token} if token is not None else None, **kwargs)

    return connect

"""Migrations build the whole schema from an empty database, matching the models."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from config import TestingConfig
from cyberscan import create_app
from cyberscan.cli import migration_lock_name, upgrade_database
from cyberscan.extensions import db
from cyberscan.serve import StartFailed, start_failures
from tests.helpers import ROOT, scratch_database


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new database on the backend under test."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    with scratch_database(url, f"cyberscan_mig_{uuid.uuid4().hex[:8]}_test") as fresh:
        yield fresh


def test_upgrade_from_empty_matches_the_models(empty_database_url):
    app = create_app(TestingConfig, DATABASE_URL=empty_database_url)
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == []


def insert_user(conn, bullying_count: int = 0) -> None:
    """User 1, amy, written with SQL: an older revision's tables, not today's models."""
    conn.execute(
        text(
            "INSERT INTO users (id, username, username_key, email, email_key,"
            " password_hash, is_admin, is_blocked, bullying_count, created_at)"
            " VALUES (1, 'amy', 'amy', 'a@x.io', 'a@x.io', 'h', 0, 0, :count,"
            " '2026-01-01 00:00:00')"
        ),
        {"count": bullying_count},
    )


def schema_differences(app) -> list:
    with app.app_context():
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            versions = conn.execute(text("SELECT version_num FROM alembic_version"))
            rows = versions.all()
        db.engine.dispose()
    return [*diff, *([] if len(rows) == 1 else [("alembic_version", rows)])]


# Each process builds its app, then waits for the same moment to migrate: what
# run.py does when several processes of one deployment start together.
MIGRATE_AT = """
import sys, time
from config import TestingConfig
from cyberscan import create_app
from cyberscan.cli import upgrade_database
app = create_app(TestingConfig, DATABASE_URL=sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
upgrade_database(app)
"""


def test_processes_starting_together_on_an_empty_database_all_start(
    empty_database_url,
):
    """Three processes migrating one empty database at the same moment: each comes
    up, and the schema is built once (on MariaDB, two of three failed with "Table
    'users' already exists" before migrations took a lock)."""
    at = str(time.time() + 8)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_AT, empty_database_url, at],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    failures = []
    for process in processes:
        _, err = process.communicate(timeout=120)
        if process.returncode:
            failures.append(err.strip().splitlines()[-1:])
    assert failures == []
    assert (
        schema_differences(create_app(TestingConfig, DATABASE_URL=empty_database_url))
        == []
    )


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("mysql"),
    reason="MySQL/MariaDB's named lock",
)
def test_a_process_waits_for_anothers_migration_and_then_says_so_in_one_line(
    empty_database_url,
):
    """While another session holds the database's migration lock, a starting process
    waits MIGRATION_LOCK_SECONDS and stops with one line (run.py: serve.StartFailed);
    once the lock is free it migrates."""
    app = create_app(
        TestingConfig, DATABASE_URL=empty_database_url, MIGRATION_LOCK_SECONDS=1
    )
    other = create_engine(empty_database_url)
    name = migration_lock_name(other.url.database)
    try:
        with other.connect() as conn:
            assert conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar()
            with pytest.raises(StartFailed) as stopped:
                with start_failures(app.config):
                    upgrade_database(app)
        assert str(stopped.value) == (
            f"Another process has been migrating the database "
            f"{other.url.database!r} for over 1 s; let it finish (or stop it), "
            "then start this one again"
        )
        with app.app_context():
            with db.engine.connect() as conn:
                assert "users" not in inspect(conn).get_table_names()
        other.dispose()  # the lock ends with the session that held it
        upgrade_database(app)
    finally:
        other.dispose()
    assert schema_differences(app) == []


def test_text_columns_keep_four_byte_characters(app, make_user):
    """utf8mb4 on MySQL: emoji survive a round trip."""
    from cyberscan.models import AuditLog

    with app.app_context():
        db.session.add(
            AuditLog(action="note", reason="🙂 fine 👍🏽", details={"e": "🔥"})
        )
        db.session.commit()
        db.session.expire_all()
        row = db.session.query(AuditLog).one()
        assert row.reason == "🙂 fine 👍🏽"
        assert row.details == {"e": "🔥"}

"""Migrations build the whole schema from an empty database, matching the models."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from config import TestingConfig
from cyberscan import create_app
from cyberscan.extensions import db
from tests.helpers import scratch_database


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

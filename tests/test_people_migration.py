"""Migration 0002 keeps existing data: flags become active strikes, tokens epoch 0."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from config import TestingConfig
from cyberscan import create_app
from cyberscan.extensions import db
from tests.test_migrations import (  # noqa: F401  (a fixture)
    empty_database_url,
    insert_user,
)


def test_0002_upgrades_a_database_with_flags(empty_database_url):  # noqa: F811
    app = create_app(TestingConfig, DATABASE_URL=empty_database_url)
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"], revision="0001")
        with db.engine.begin() as conn:
            insert_user(conn, bullying_count=1)
            conn.execute(
                text(
                    "INSERT INTO moderation_flags (item_type, item_id, author_id,"
                    " content, probability, model_version, terms, created_at)"
                    " VALUES ('post', '1', 1, 'x', 0.9, 'v1', '[]',"
                    " '2026-01-01 00:00:00')"
                )
            )
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        with db.engine.connect() as conn:
            status = conn.execute(text("SELECT strike_status FROM moderation_flags"))
            epoch = conn.execute(text("SELECT token_epoch FROM users"))
            assert (status.scalar_one(), epoch.scalar_one()) == ("active", 0)
        db.engine.dispose()

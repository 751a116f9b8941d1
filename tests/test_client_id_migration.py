"""Migration 0003 keeps existing posts and comments and makes client_ids unique."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from config import TestingConfig
from cyberscan import create_app
from cyberscan.extensions import db
from tests.test_migrations import (  # noqa: F401  (a fixture)
    empty_database_url,
    insert_user,
)

POST = (
    "INSERT INTO posts (id, author_id, content, created_at, bullying_probability,"
    " is_bullying, model_version, terms{extra}) VALUES ({id}, 1, 'hello',"
    " '2026-01-01 00:00:00', 0.1, 0, 'v1', '[]'{value})"
)


def test_0003_upgrades_a_database_with_posts_and_comments(empty_database_url):  # noqa: F811
    app = create_app(TestingConfig, DATABASE_URL=empty_database_url)
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"], revision="0002")
        with db.engine.begin() as conn:
            insert_user(conn)
            for post_id in (1, 2):
                conn.execute(text(POST.format(id=post_id, extra="", value="")))
            conn.execute(
                text(
                    "INSERT INTO comments (id, post_id, author_id, content, created_at,"
                    " bullying_probability, is_bullying, model_version, terms)"
                    " VALUES (1, 1, 1, 'nice', '2026-01-01 00:00:00', 0.1, 0, 'v1',"
                    " '[]')"
                )
            )
        upgrade(directory=app.config["MIGRATIONS_DIR"])
        with db.engine.connect() as conn:
            kept = conn.execute(text("SELECT id, client_id FROM posts ORDER BY id"))
            assert kept.all() == [(1, None), (2, None)]
            comment = conn.execute(text("SELECT post_id, client_id FROM comments"))
            assert comment.all() == [(1, None)]
        with db.engine.begin() as conn:
            conn.execute(text(POST.format(id=3, extra=", client_id", value=", 'c1'")))
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text(POST.format(id=4, extra=", client_id", value=", 'c1'")))
        db.engine.dispose()

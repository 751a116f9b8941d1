"""`flask --app cyberscan create-admin` and the start-up schema upgrade."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cyberscan.cli import create_admin
from cyberscan.extensions import db
from cyberscan.models import User
from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def test_create_admin_reads_the_password_from_stdin(app, client):
    result = app.test_cli_runner().invoke(
        create_admin, ["root_admin", "root@example.com"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert "Created admin root_admin" in result.output
    with app.app_context():
        user = db.session.query(User).filter_by(username="root_admin").one()
        assert user.is_admin
    login = client.post(
        "/api/login", json={"username": "root_admin", "password": PASSWORD}
    )
    assert login.get_json()["user"]["is_admin"] is True


def test_create_admin_refuses_a_short_password(app):
    result = app.test_cli_runner().invoke(
        create_admin, ["root_admin", "root@example.com"], input="short\n"
    )
    assert result.exit_code != 0
    assert "password" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_create_admin_refuses_a_taken_name(app, make_user):
    make_user("taken")
    result = app.test_cli_runner().invoke(
        create_admin, ["TAKEN", "new@example.com"], input=PASSWORD + "\n"
    )
    assert result.exit_code != 0
    assert "already taken" in result.output


def test_flask_command_line_creates_an_admin_on_a_fresh_database(tmp_path):
    """The real `flask --app cyberscan` entry point, as the README shows it."""
    env = {
        **os.environ,
        "CYBERSCAN_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SECRET_KEY": "s" * 40,
        "JWT_SECRET_KEY": "j" * 40,
    }
    flask = [sys.executable, "-m", "flask", "--app", "cyberscan"]
    upgrade = subprocess.run(
        [*flask, "db", "upgrade"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    created = subprocess.run(
        [*flask, "create-admin", "boss", "boss@example.com"],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    assert "Created admin boss" in created.stdout


def test_purge_revoked_tokens_keeps_live_revocations(app, client, make_user, login):
    from datetime import timedelta

    from cyberscan.models import RevokedToken, utcnow

    tokens = login(make_user())
    client.post(
        "/api/logout", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    with app.app_context():
        db.session.add(
            RevokedToken(
                jti="old",
                token_type="access",
                user_id=db.session.query(User).first().id,
                expires_at=utcnow() - timedelta(days=1),
            )
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge-revoked-tokens"])
    assert "Purged 1 expired" in result.output
    with app.app_context():
        remaining = {t.jti for t in db.session.query(RevokedToken)}
    assert len(remaining) == 2  # the logout's access and refresh revocations
    assert "old" not in remaining
    assert (
        client.get(
            "/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).status_code
        == 401
    )

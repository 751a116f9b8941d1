"""The operator's `flask --app cyberscan` commands: admins, passwords, revocations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.launch import free_port
from cyberscan.cli import (
    FLASK_RUN,
    create_admin,
    list_admins,
    promote_admin,
    reset_password,
)
from cyberscan.extensions import db
from cyberscan.models import AuditLog, User
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


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("short", "password: Length must be between 8 and 256."),
        (" " * 8, "password: Must not be only white space or invisible characters."),
    ],
)
def test_create_admin_refuses_a_bad_password(app, typed, says):
    result = app.test_cli_runner().invoke(
        create_admin, ["root_admin", "root@example.com"], input=typed + "\n"
    )
    assert result.exit_code == 1
    assert result.output == f"Error: {says}\n"
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
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    eventlet = {"SOCKETIO_ASYNC_MODE": "eventlet"}
    upgrade = run_command(["db", "upgrade"], url, **eventlet)
    assert upgrade.returncode == 0, upgrade.stderr
    created = run_command(["create-admin", "boss", "boss@example.com"], url, **eventlet)
    assert created.returncode == 0, created.stderr
    assert "Created admin boss" in created.stdout
    listed = run_command(["list-admins"], url, **eventlet)
    assert listed.stdout == "boss\tboss@example.com\n"
    # eventlet's deprecation notice is said once by run.py, never before a command.
    for step in (upgrade, created, listed):
        assert "deprecated" not in step.stderr, step.stderr


def test_flask_commands_never_load_the_model(tmp_path):
    """An operator can migrate and manage admins while the model is unusable: here a
    file that is no model at all, which the server refuses at start
    (test_run_startup). The commands never score, so they never load it."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    no_model = {"CLASSIFIER_PATH": str(ROOT / "README.md")}
    upgrade = run_command(["db", "upgrade"], url, **no_model)
    assert upgrade.returncode == 0, upgrade.stderr
    created = run_command(["create-admin", "boss", "boss@example.com"], url, **no_model)
    assert created.returncode == 0, created.stderr
    assert "Created admin boss" in created.stdout


def test_a_flask_command_without_the_production_settings_says_so_in_one_line(
    tmp_path,
):
    """What an operator meets running `flask --app cyberscan …` on a production
    host whose environment lacks a setting: the setting, not a traceback."""
    env = {
        **os.environ,
        "CYBERSCAN_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SECRET_KEY": "s" * 40,
        "JWT_SECRET_KEY": "",
    }
    listed = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "cyberscan", "list-admins"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 1
    assert listed.stdout == ""
    lines = listed.stderr.splitlines()
    assert len(lines) == 1, listed.stderr
    assert lines[0].startswith("JWT_SECRET_KEY must be set to at least 32 bytes")


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


def login_status(client, username: str, password: str) -> int:
    return client.post(
        "/api/login", json={"username": username, "password": password}
    ).status_code


def test_promote_admin_gives_an_existing_user_the_dashboard(app, client, make_user):
    make_user("carol")
    result = app.test_cli_runner().invoke(promote_admin, ["CAROL"])
    assert result.exit_code == 0, result.output
    assert result.output == "CAROL is now an admin.\n"
    login = client.post("/api/login", json={"username": "carol", "password": PASSWORD})
    assert login.get_json()["user"]["is_admin"] is True
    again = app.test_cli_runner().invoke(promote_admin, ["carol"])
    assert again.output == "carol is already an admin.\n"


def test_promote_admin_of_an_unknown_name_fails_in_one_line(app):
    result = app.test_cli_runner().invoke(promote_admin, ["ghost"])
    assert result.exit_code == 1
    assert result.output == "Error: No user named 'ghost'.\n"
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_reset_password_replaces_the_old_one(app, client, make_user):
    make_user("dave")
    new = "a brand new passphrase"
    result = app.test_cli_runner().invoke(reset_password, ["dave"], input=new + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("New password set for dave; every session")
    assert login_status(client, "dave", PASSWORD) == 401
    assert login_status(client, "dave", new) == 200


def test_reset_password_signs_out_every_session_and_socket(
    app, client, make_user, login, socket_client
):
    dave = make_user("dave")
    tokens = login(dave)
    sockets = [
        socket_client(tokens["access_token"]),
        socket_client(tokens["access_token"]),
    ]
    assert all(sio.is_connected() for sio in sockets)
    result = app.test_cli_runner().invoke(
        reset_password, ["dave"], input="fresh passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert not any(sio.is_connected() for sio in sockets)
    me = client.get(
        "/api/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 401
    refresh = client.post(
        "/api/token/refresh",
        headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
    )
    assert refresh.status_code == 401
    assert socket_client(tokens["access_token"]).is_connected() is False
    with app.app_context():
        assert (
            db.session.query(AuditLog).filter_by(action="password_reset").count() == 1
        )


@pytest.mark.parametrize(
    ("name", "password", "says"),
    [
        ("dave", "short", "password: Length must be between 8 and 256."),
        (
            "dave",
            " " * 8,
            "password: Must not be only white space or invisible characters.",
        ),
        ("nobody", "long enough password", "No user named 'nobody'."),
        ("nobody", "short", "No user named 'nobody'."),
        ("nobody", None, "No user named 'nobody'."),  # as from </dev/null
    ],
)
def test_reset_password_refusals_change_nothing(
    app, client, make_user, name, password, says
):
    make_user("dave")
    typed = "" if password is None else password + "\n"
    result = app.test_cli_runner().invoke(reset_password, [name], input=typed)
    assert result.exit_code == 1
    assert result.output == f"Error: {says}\n"
    assert login_status(client, "dave", PASSWORD) == 200


def test_list_admins_names_admins_only(app, make_user):
    empty = app.test_cli_runner().invoke(list_admins)
    assert empty.exit_code == 0
    assert "create-admin" in empty.output  # the hint, on stderr
    make_user("zed", is_admin=True)
    make_user("amy", is_admin=True)
    make_user("bob")
    result = app.test_cli_runner().invoke(list_admins)
    assert result.output == "amy\tamy@example.com\nzed\tzed@example.com\n"


COMMANDS = [
    ["create-admin", "boss", "boss@example.com"],
    ["promote-admin", "carol"],
    ["reset-password", "carol"],
    ["list-admins"],
    ["purge-revoked-tokens"],
]


def run_command(args, database_url, **extra_env):
    """`flask --app cyberscan ARGS` in a process of its own with production settings
    (and ``extra_env``), the password typed at any prompt."""
    env = {
        **os.environ,
        "CYBERSCAN_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "s" * 40,
        "JWT_SECRET_KEY": "j" * 40,
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "cyberscan", *args],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_flask_run_is_refused_in_one_line_naming_the_way_to_serve(tmp_path):
    """`flask run` would serve on Werkzeug's development server, without the session
    check, presence heartbeat, header timeouts and database upgrade of run.py: it is
    refused, in one line, before it listens (a server would outlive the timeout)."""
    result = run_command(
        ["run", "--port", str(free_port())],
        f"sqlite:///{tmp_path / 'cyberscan.db'}",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == f"Error: {FLASK_RUN}\n"
    assert "scripts/run (.venv/bin/python run.py)" in FLASK_RUN


# Flask-Migrate's commands, which every deployment runs: the same one line.
DB_COMMANDS = [["db", "upgrade"], ["db", "current"], ["db", "downgrade", "0001"]]


@pytest.mark.parametrize("args", COMMANDS + DB_COMMANDS, ids=" ".join)
def test_every_command_says_a_database_that_is_down_in_one_line(args):
    result = run_command(args, "mysql+pymysql://root@127.0.0.1:1/x")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "Error: Cannot use the database MariaDB/MySQL 127.0.0.1:1/x: (2003, "
    ), result.stderr
    assert result.stderr.endswith(
        "; check that its server runs, that the database exists (utf8mb4 on "
        "MySQL/MariaDB) and that DATABASE_URL's user may use it\n"
    )
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_commands_need_no_redis_and_join_no_presence(tmp_path):
    """A command serves nobody: building its app started the presence heartbeat,
    which wrote to Redis and, with Redis down, ended every command in a traceback."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    down = {"REDIS_URL": "redis://127.0.0.1:1/0"}
    for args in (["db", "upgrade"], ["create-admin", "root", "root@example.com"]):
        result = run_command(args, url, **down)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    result = run_command(["list-admins"], url, **down)
    assert (result.returncode, result.stdout) == (0, "root\troot@example.com\n")
    assert result.stderr == ""


def test_a_database_behind_this_version_is_said_to_need_an_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    assert run_command(["db", "upgrade", "0001"], url).returncode == 0
    result = run_command(["list-admins"], url)
    assert result.returncode == 1
    assert result.stderr == (
        "Error: The database's tables are older than this version: run flask --app "
        "cyberscan db upgrade (or start the server once).\n"
    )


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: args[0])
def test_every_command_says_a_database_without_tables_in_one_line(args, tmp_path):
    result = run_command(args, f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert result.stderr == (
        "Error: The database has no CyberScan tables yet: run flask --app cyberscan "
        "db upgrade (or start the server once).\n"
    )

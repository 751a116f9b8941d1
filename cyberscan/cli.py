"""`.venv/bin/flask --app cyberscan ...` commands for operators."""

from __future__ import annotations

import functools
import gc
import hashlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext
from flask_migrate import upgrade
from marshmallow import ValidationError
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError

from config import database_unusable
from cyberscan.errors import CyberscanError
from cyberscan.live import connections
from cyberscan.realtime.sessions import SESSION_CHECK_SECONDS
from cyberscan.schemas.user import RegisterSchema
from cyberscan.services import accounts, auth, users


def read_password() -> str:
    """Prompt on a terminal; otherwise read the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def click_error(exc: ValidationError | CyberscanError) -> click.ClickException:
    """One line for the operator, in the words the API would use."""
    if isinstance(exc, CyberscanError):
        return click.ClickException(exc.message)
    return click.ClickException(
        "; ".join(
            f"{field}: {' '.join(map(str, msgs))}"
            for field, msgs in exc.messages.items()
        )
    )


NO_TABLES = (
    "The database has no CyberScan tables yet: run flask --app cyberscan db upgrade "
    "(or start the server once)."
)
OLD_SCHEMA = (
    "The database's tables are older than this version: run flask --app cyberscan "
    "db upgrade (or start the server once)."
)
# MySQL/MariaDB: ER_NO_SUCH_TABLE and ER_BAD_FIELD_ERROR; SQLite says "no such table"
# and "no such column" (OperationalErrors).
MYSQL_NO_SUCH_TABLE = 1146
MYSQL_NO_SUCH_COLUMN = 1054


def database_error(exc: OperationalError | ProgrammingError) -> click.ClickException:
    """One line for a database the command cannot use: down, refusing the user, or
    not migrated (or not to this version) yet; never the traceback (nor the URL's
    password)."""
    orig = exc.orig
    code = orig.args[0] if orig is not None and orig.args else None
    if code == MYSQL_NO_SUCH_TABLE or "no such table" in str(orig):
        return click.ClickException(NO_TABLES)
    if code == MYSQL_NO_SUCH_COLUMN or "no such column" in str(orig):
        return click.ClickException(OLD_SCHEMA)
    return unreachable(exc)


def unreachable(exc: OperationalError | ProgrammingError) -> click.ClickException:
    """One line for a database the command cannot reach (down, missing, refusing the
    user)."""
    return click.ClickException(database_unusable(database_url(), exc.orig))


def database_url() -> str:
    """The database the command was given (with or without an app context)."""
    if current_app:
        return current_app.config["SQLALCHEMY_DATABASE_URI"]
    info = click.get_current_context().ensure_object(ScriptInfo)
    return info.load_app().config["SQLALCHEMY_DATABASE_URI"]


def database_errors(
    command: Callable[..., Any],
    catch: tuple[type[Exception], ...] = (OperationalError, ProgrammingError),
    describe: Callable[[Any], click.ClickException] = database_error,
) -> Callable[..., Any]:
    """Every command: a database it cannot use is one line and status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except catch as exc:
            raise describe(exc) from None

    return wrapper


@click.command("create-admin")
@click.argument("username")
@click.argument("email")
@with_appcontext
@database_errors
def create_admin(username: str, email: str) -> None:
    """Create an admin account; the password is prompted for or read from standard input."""
    try:
        payload = RegisterSchema().load(
            {"username": username, "email": email, "password": read_password()}
        )
        user = auth.register(**payload, is_admin=True)
    except (ValidationError, CyberscanError) as exc:
        raise click_error(exc) from exc
    click.echo(f"Created admin {user.username} (id {user.id}).")


@click.command("promote-admin")
@click.argument("username")
@with_appcontext
@database_errors
def promote_admin(username: str) -> None:
    """Give an existing account admin rights (it can then log in to /admin)."""
    try:
        promoted = accounts.promote_to_admin(username)
    except CyberscanError as exc:
        raise click_error(exc) from exc
    click.echo(
        f"{username} is now an admin."
        if promoted
        else f"{username} is already an admin."
    )


@click.command("reset-password")
@click.argument("username")
@with_appcontext
@database_errors
def reset_password(username: str) -> None:
    """Set a new password for an account; prompted for or read from standard input."""
    try:
        # The account first: no password is asked for one that does not exist.
        user = users.get_by_username(username)
        payload = RegisterSchema(only=("password",)).load({"password": read_password()})
        user = accounts.set_password(user.username, payload["password"])
    except (ValidationError, CyberscanError) as exc:
        raise click_error(exc) from exc
    click.echo(
        f"New password set for {user.username}; every session it had is signed out."
    )
    if connections.manager(current_app).unpublished:
        click.echo(
            "The message queue (REDIS_URL) did not answer, so no server was told: "
            "each closes the account's open sockets at its next session check, "
            f"within {SESSION_CHECK_SECONDS:g} seconds.",
            err=True,
        )


@click.command("list-admins")
@with_appcontext
@database_errors
def list_admins() -> None:
    """Print every admin account: name, email, and whether it is blocked."""
    admins = accounts.list_admins()
    for user in admins:
        click.echo(
            f"{user.username}\t{user.email}" + ("\tblocked" if user.is_blocked else "")
        )
    if not admins:
        click.echo(
            "No admins yet: .venv/bin/flask --app cyberscan create-admin NAME EMAIL",
            err=True,
        )


@click.command("purge-revoked-tokens")
@with_appcontext
@database_errors
def purge_revoked_tokens() -> None:
    """Delete revocation records of tokens that have expired anyway (run from cron)."""
    click.echo(f"Purged {auth.purge_expired_revocations()} expired revocations.")


FLASK_RUN = (
    "flask run would serve CyberScan on Werkzeug's development server, without the "
    "session check, presence heartbeat, header timeouts and database upgrade a server "
    "needs: start it with scripts/run (.venv/bin/python run.py), which reads the same "
    "settings."
)


def refuse_flask_run() -> None:
    """`flask run` builds the app to serve it with Werkzeug: refuse in one line (the
    app cannot replace Flask's own `run` command, which FlaskGroup finds first)."""
    if connections.from_command_line("run"):
        raise click.ClickException(FLASK_RUN)


def register_commands(app: Flask) -> None:
    refuse_flask_run()
    for command in (create_admin, promote_admin, reset_password, list_admins):
        app.cli.add_command(command)
    app.cli.add_command(purge_revoked_tokens)
    unreachable_in_one_line(app.cli.commands.get("db"))


def unreachable_in_one_line(group: click.Command | None) -> None:
    """Flask-Migrate's `db` commands: a database they cannot reach (down, missing,
    refusing the user) is one line and status 1, as for the commands above; an error
    of a migration itself keeps its traceback. Its group is shared by every app, so
    each command is wrapped once."""
    for command in getattr(group, "commands", {}).values():
        callback = command.callback
        if callback is None or getattr(callback, "one_line", False):
            continue
        wrapper = database_errors(callback, (OperationalError,), unreachable)
        wrapper.one_line = True  # type: ignore[attr-defined]
        command.callback = wrapper


def settle_garbage_collector(config: Any) -> None:
    """After start-up: move the loaded app, model and libraries out of the collector's
    sight (gc.freeze) and collect the young generation less often, so full passes over
    a large heap stop adding tens of milliseconds to random messages."""
    if not getattr(config, "GC_FREEZE", True):
        return
    gc.collect()
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, int(config.GC_GEN0_THRESHOLD)), gen1, gen2)


def upgrade_database(app: Flask) -> None:
    """Bring the schema up to date (run.py calls this on start)."""
    with app.app_context():
        upgrade(directory=app.config["MIGRATIONS_DIR"], x_arg=["quiet=true"])


def migration_lock_name(database: str) -> str:
    """The server-wide lock a MySQL/MariaDB database's migrations take (≤ 64 characters)."""
    return "cyberscan.migrate." + hashlib.sha256(database.encode()).hexdigest()[:40]


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """One migration at a time per database (migrations/env.py takes it): processes
    started together on an empty database wait here; the first migrates, the others
    then find the schema current.

    MySQL/MariaDB: a named lock (GET_LOCK), which belongs to the connection's session,
    so it outlives the commit below and ends with the connection if the process dies;
    TimeoutError after MIGRATION_LOCK_SECONDS (serve.start_failures: one line).
    SQLite: the migration runs in one write transaction (BEGIN IMMEDIATE), which the
    others wait for up to the driver's busy timeout."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield
        connection.commit()
        return
    if dialect not in ("mysql", "mariadb"):
        yield
        return
    database = connection.engine.url.database or ""
    name = migration_lock_name(database)
    wait = current_app.config["MIGRATION_LOCK_SECONDS"]
    got = connection.exec_driver_sql("SELECT GET_LOCK(%s, %s)", (name, wait)).scalar()
    # Alembic must find no transaction open: it would run inside it, and closing the
    # connection would roll the version row back.
    connection.commit()
    if got != 1:
        raise TimeoutError(
            f"Another process has been migrating the database {database!r} for over "
            f"{wait} s; let it finish (or stop it), then start this one again"
        )
    try:
        yield
    finally:
        connection.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (name,))
        connection.commit()

"""Configuration: secrets from the environment, refusal to start when weak."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from datetime import timedelta

import pytest

import config as config_module
from config import (
    INSTANCE_DIR,
    ConfigError,
    ProductionConfig,
    TestingConfig,
    check_redis_url,
    load_config,
    sqlalchemy_engine_options,
)
from cyberscan import create_app


def test_production_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    config = ProductionConfig()
    config.SECRET_KEY = None
    config.JWT_SECRET_KEY = None
    config.DATABASE_URL = "sqlite://"
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(config)


def test_weak_jwt_secret_is_refused():
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        create_app(TestingConfig, DATABASE_URL="sqlite://", JWT_SECRET_KEY="short")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FLAGGED_MESSAGE_POLICY", "shred", "FLAGGED_MESSAGE_POLICY"),
        ("BULLYING_THRESHOLD", 1.5, "BULLYING_THRESHOLD"),
        ("SOCKETIO_ASYNC_MODE", "asyncio", "SOCKETIO_ASYNC_MODE"),
        ("PRESENCE_HEARTBEAT_SECONDS", 0, "PRESENCE_HEARTBEAT_SECONDS"),
        ("PRESENCE_HEARTBEAT_SECONDS", -1, "PRESENCE_HEARTBEAT_SECONDS"),
        ("PAGE_SIZE", 0, "CYBERSCAN_PAGE_SIZE must be from 1 to 100"),
        ("PAGE_SIZE", 101, "CYBERSCAN_PAGE_SIZE must be from 1 to 100"),
    ],
)
def test_bad_settings_are_refused_at_start(name, value, message):
    with pytest.raises(ConfigError, match=message):
        create_app(TestingConfig, DATABASE_URL="sqlite://", **{name: value})


def test_unknown_environment_name_is_refused():
    with pytest.raises(ConfigError, match="CYBERSCAN_ENV"):
        load_config("staging")


def test_development_runs_with_nothing_configured():
    """A fresh clone: SQLite under instance/ and secrets generated once and kept there."""
    config = load_config("development")
    expected = (
        os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'cyberscan.db'}"
    )
    assert config.DATABASE_URL == expected
    assert len(config.JWT_SECRET_KEY) >= 32
    assert load_config("development").JWT_SECRET_KEY == config.JWT_SECRET_KEY


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://db/cyberscan", "DATABASE_URL names postgresql, which is not"),
        # MySQLdb is not installed: the supported driver is PyMySQL
        ("mysql://root:pw@db/cyberscan", "DATABASE_URL names mysql, which is not"),
        ("not a url", "DATABASE_URL is not a database URL"),
    ],
)
def test_a_database_url_without_a_supported_driver_is_refused(url, message):
    with pytest.raises(ConfigError, match=message) as refused:
        create_app(TestingConfig, DATABASE_URL=url)
    assert "pw" not in str(refused.value)  # never the password
    assert "mysql+pymysql://" in str(refused.value)  # the form that works


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://:S3cret@127.0.0.1:6379/3", "REDIS_URL has http, not redis://"),
        ("redis:/127.0.0.1:6379/3", "REDIS_URL names no host"),
        ("127.0.0.1:6379", "REDIS_URL has no scheme, not redis://"),
        ("redis://:S3cret@127.0.0.1:6379/abc", "REDIS_URL's database must be a number"),
        ("redis://127.0.0.1:63x9/0", "REDIS_URL is not a Redis URL"),
        ("unix://", "REDIS_URL names no socket"),
    ],
)
def test_a_redis_url_redis_cannot_read_is_refused_at_start(url, message):
    with pytest.raises(ConfigError, match=message) as refused:
        create_app(TestingConfig, DATABASE_URL="sqlite://", REDIS_URL=url)
    assert "S3cret" not in str(refused.value)  # never the password
    assert "redis://host:6379/0" in str(refused.value)  # the form that works


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://127.0.0.1:6379",
        "redis://:pw@localhost/15",
        "rediss://cache.example.org:6380/2",
        "unix:///run/redis/redis.sock?db=1",
    ],
)
def test_the_redis_url_forms_redis_reads_pass_the_check(url):
    check_redis_url(url)


@pytest.mark.parametrize(
    "name",
    [
        "LOGIN_LIMIT_PER_ADDRESS",
        "LOGIN_LIMIT_PER_ACCOUNT",
        "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS",
        "REGISTER_LIMIT_PER_ADDRESS",
        "SEND_LIMIT_PER_USER",
    ],
)
def test_a_rate_limit_that_does_not_parse_is_refused_at_start(name):
    """Not at the first login or send, as a 500 for every one of them."""
    with pytest.raises(ConfigError, match=f"{name} must be a rate limit"):
        create_app(TestingConfig, DATABASE_URL="sqlite://", **{name: "often"})


def test_every_variable_the_server_reads_is_in_env_example():
    """`.env.example` lists every variable (README, "Configuration"): the ones config
    reads with `env_*`, beside the ones only tests read (TEST_DATABASE_URL)."""
    root = INSTANCE_DIR.parent
    source = (root / "config" / "__init__.py").read_text()
    read = set(re.findall(r'env_[a-z_]+\(\s*"([A-Z][A-Z0-9_]+)"', source))
    listed = set(
        re.findall(r"^([A-Z][A-Z0-9_]+)=", (root / ".env.example").read_text(), re.M)
    )
    assert read, source  # the pattern still finds them
    assert read - listed == set()


@pytest.mark.parametrize("before", [None, 0o755], ids=["new", "made-open-before"])
def test_the_development_instance_folder_is_its_owner_s_alone(
    tmp_path, monkeypatch, before
):
    """instance/ holds the generated secrets and the SQLite database (every message):
    nobody else on the machine may read them (it was made 0755, the database 0644)."""
    folder = tmp_path / "instance"
    if before is not None:
        folder.mkdir(mode=before)
        folder.chmod(before)
    monkeypatch.setattr(config_module, "INSTANCE_DIR", folder)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    loaded = load_config("development")
    assert loaded.DATABASE_URL == f"sqlite:///{folder / 'cyberscan.db'}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "secrets.json").stat().st_mode) == 0o600


FLASK = [sys.executable, "-m", "flask", "--app", "cyberscan", "list-admins"]


def run_flask_command(tmp_path, **env):
    """`flask --app cyberscan list-admins` with these variables (None: unset)."""
    full = {
        **os.environ,
        "CYBERSCAN_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SECRET_KEY": "s" * 40,
        "JWT_SECRET_KEY": "j" * 40,
    }
    for name, value in env.items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    return subprocess.run(
        FLASK,
        cwd=INSTANCE_DIR.parent,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("JWT_ACCESS_TOKEN_MINUTES", "0", "must be from 1 to 10080, got '0'"),
        ("JWT_REFRESH_TOKEN_DAYS", "0", "must be from 1 to 3650, got '0'"),
        ("SOCKETIO_MAX_CONNECTIONS", "0", "must be from 16 to 1000000, got '0'"),
        ("HEADER_TIMEOUT", "-1", "must be from 1 to 3600, got '-1'"),
        ("HEADER_TIMEOUT", "nan", "must be from 1 to 3600, got 'nan'"),
        ("MAX_CONTENT_LENGTH", "-5", "must be from 1024 to 104857600, got '-5'"),
        ("MAX_MESSAGE_LENGTH", "0", "must be from 1 to 16000, got '0'"),
        ("MAX_BULLYING_COUNT", "-1", "must be at least 1, got '-1'"),
        ("MAX_CONNECTIONS_PER_USER", "0", "must be at least 1, got '0'"),
        ("STRIKE_TTL_DAYS", "-1", "must be from 0 (never) to 3650, got '-1'"),
        ("DATABASE_READ_TIMEOUT", "0", "must be from 1 to 3600, got '0'"),
    ],
)
def test_a_numeric_setting_the_server_cannot_use_stops_a_command_in_one_line(
    tmp_path, name, value, says
):
    """What the operator sees: the variable, its range, status 1, no traceback."""
    result = run_flask_command(tmp_path, **{name: value})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"{name} {says}\n"


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("JWT_ACCESS_TOKEN_EXPIRES", timedelta(0), "JWT_ACCESS_TOKEN_MINUTES must be"),
        ("JWT_REFRESH_TOKEN_EXPIRES", timedelta(0), "JWT_REFRESH_TOKEN_DAYS must be"),
        ("APPEAL_TOKEN_MINUTES", 0, "APPEAL_TOKEN_MINUTES must be from 1"),
        ("ADMIN_SESSION_HOURS", 0, "ADMIN_SESSION_HOURS must be from 1"),
        ("SOCKETIO_MAX_CONNECTIONS", 0, "SOCKETIO_MAX_CONNECTIONS must be from 16"),
        ("HEADER_TIMEOUT", -1.0, "HEADER_TIMEOUT must be from 1"),
        ("SOCKET_CONNECT_TIMEOUT", 0, "SOCKET_CONNECT_TIMEOUT must be from 1"),
        ("MAX_CONTENT_LENGTH", -5, "MAX_CONTENT_LENGTH must be from 1024"),
        ("MAX_POST_LENGTH", 0, "MAX_POST_LENGTH must be from 1"),
        ("MAX_COMMENT_LENGTH", 0, "MAX_COMMENT_LENGTH must be from 1"),
        ("PROXY_FIX_X_FOR", -1, "PROXY_FIX_X_FOR must be from 0 to 10"),
    ],
)
def test_values_given_to_create_app_are_bounded_too(name, value, says):
    with pytest.raises(ConfigError, match=f"^{re.escape(says)}"):
        create_app(TestingConfig, DATABASE_URL="sqlite://", **{name: value})


def test_strike_ttl_zero_still_means_never():
    app = create_app(TestingConfig, DATABASE_URL="sqlite://", STRIKE_TTL_DAYS=0)
    assert app.config["STRIKE_TTL_DAYS"] == 0


def test_every_access_token_expires(app):
    """The default lifetime issues tokens with an `exp` claim."""
    from flask_jwt_extended import create_access_token, decode_token

    with app.app_context():
        claims = decode_token(create_access_token(identity="1"))
    assert claims["exp"] - claims["iat"] == 30 * 60


@pytest.mark.parametrize("value", ["production", "development"])
def test_flask_env_without_cyberscan_env_stops_in_one_line(tmp_path, value):
    """Flask's old variable: FLASK_ENV=production quietly ran the development setup
    (generated secrets, SQLite under instance/)."""
    result = run_flask_command(tmp_path, CYBERSCAN_ENV=None, FLASK_ENV=value)
    assert result.returncode == 1
    assert result.stderr == (
        f"FLASK_ENV is not read: set CYBERSCAN_ENV={value} (or development) instead\n"
    )


def test_flask_env_beside_cyberscan_env_is_ignored(monkeypatch):
    monkeypatch.setenv("FLASK_ENV", "development")
    monkeypatch.setenv("CYBERSCAN_ENV", "testing")
    assert load_config().ENV_NAME == "testing"


def test_mysql_connections_time_out_and_keep_tls_off_on_loopback():
    options = sqlalchemy_engine_options(
        "mysql+pymysql://u:p@127.0.0.1/cyberscan", connect_timeout=7, read_timeout=9
    )
    assert options["connect_args"] == {
        "connect_timeout": 7,
        "read_timeout": 9,
        "write_timeout": 9,
        "ssl_disabled": True,
    }
    remote = sqlalchemy_engine_options("mysql+pymysql://u:p@db.example.org/cyberscan")
    assert remote["connect_args"] == {
        "connect_timeout": 10,
        "read_timeout": 30,
        "write_timeout": 30,
    }
    assert "read_timeout" not in str(sqlalchemy_engine_options("sqlite://"))


def test_the_app_passes_the_database_timeouts_to_the_engine():
    app = create_app(
        TestingConfig,
        DATABASE_URL="mysql+pymysql://u:p@127.0.0.1:1/x",
        DATABASE_CONNECT_TIMEOUT=3,
        DATABASE_READ_TIMEOUT=4,
    )
    args = app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert (args["connect_timeout"], args["read_timeout"]) == (3, 4)


def test_a_database_that_never_answers_fails_instead_of_hanging():
    """A server that accepts the connection and then says nothing (SIGSTOP, a
    partition): OperationalError after DATABASE_READ_TIMEOUT, not a hang."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    listener = None
    for port in range(5400, 5500):
        candidate = socket.socket()
        try:
            candidate.bind(("127.0.0.1", port))
        except OSError:
            candidate.close()
            continue
        listener = candidate
        break
    assert listener is not None
    listener.listen(4)
    try:
        url = f"mysql+pymysql://root@127.0.0.1:{port}/x"
        engine = create_engine(
            url, **sqlalchemy_engine_options(url, connect_timeout=1, read_timeout=1)
        )
        started = time.monotonic()
        with pytest.raises(OperationalError, match="2013|timed out"):
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        assert time.monotonic() - started < 10
        engine.dispose()
    finally:
        listener.close()

"""Configuration: secrets from the environment, refusal to start when weak."""

from __future__ import annotations

import os
import re
import stat

import pytest

import config as config_module
from config import (
    INSTANCE_DIR,
    ConfigError,
    ProductionConfig,
    TestingConfig,
    check_redis_url,
    load_config,
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

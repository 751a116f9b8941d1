"""Configuration: the only place that reads the environment.

`load_config()` picks a Config class by `CYBERSCAN_ENV` (development, testing, production)
and returns an instance whose upper-case attributes `create_app()` copies into `app.config`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from dotenv import load_dotenv
from limits import parse as parse_limit
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"
MODELS_DIR = ROOT / "models"
MIN_SECRET_BYTES = 32

load_dotenv(ROOT / ".env")

# eventlet stays the default async mode (the project's users asked for it), but its
# import-time notice would print eight lines before every command; `python run.py`
# says it once instead, in its start-up line (cyberscan/serve.py).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def range_words(minimum: float | None, maximum: float | None, note: str = "") -> str:
    """`from 1 to 100`, `at least 1` or `at most 10` (`0 (never)` with a note)."""

    def number(value: float) -> str:
        return str(int(value)) if value == int(value) else str(value)

    low = f"{number(minimum)}{note}" if minimum is not None else ""
    if minimum is not None and maximum is not None:
        return f"from {low} to {number(maximum)}"
    if minimum is not None:
        return f"at least {low}"
    return f"at most {number(maximum)}" if maximum is not None else "a number"


def env_int(
    name: str, default: int, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = env_str(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        raise ConfigError(
            f"{name} must be {range_words(minimum, maximum, note_of(name))}, "
            f"got {raw!r}"
        )
    return value


def env_float(
    name: str,
    default: float,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    raw = env_str(name)
    try:
        value = default if raw is None else float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    # float() also reads "nan", which passes every comparison.
    if value != value or (
        (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise ConfigError(
            f"{name} must be {range_words(minimum, maximum, note_of(name))}, "
            f"got {raw!r}"
        )
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def env_log_level(name: str, default: str) -> str:
    """A logging level's name, in any case (`debug` is `DEBUG`)."""
    raw = env_str(name, default) or default
    if raw.upper() not in LOG_LEVELS:
        raise ConfigError(f"{name} must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw.upper()


def env_list(name: str, default: str) -> str | list[str]:
    """`*`, or a comma-separated list."""
    raw = env_str(name, default) or default
    return (
        "*" if raw == "*" else [item.strip() for item in raw.split(",") if item.strip()]
    )


class ConfigError(SystemExit):
    """A setting is missing or malformed; the server refuses to start.

    A SystemExit, like `serve.PortUnavailable`: uncaught, Python prints its message as
    one line on stderr and exits with status 1, whether it comes from reading the
    environment on import, from `run.py`, from a `flask --app cyberscan` command or
    from a training CLI; never a traceback for an operator's setting.
    """


class Bound(NamedTuple):
    """The values of a numeric setting the server can work with (inclusive)."""

    variable: str  # the environment variable the operator sets
    minimum: float
    maximum: float | None
    unit: timedelta | None = None  # the setting is a timedelta of that many units
    note: str = ""  # what the minimum means, e.g. " (never)"


# Every numeric setting, by its key in app.config. A value outside stops the server
# and the flask commands with one line naming the variable (ConfigError): each bound
# is where a value stops the server working, e.g. a zero lifetime is a token that
# never expires (flask-jwt-extended omits `exp` for a falsy timedelta), a zero
# connection cap answers nobody, a negative header timeout drops every request.
# Config reads the variables with these bounds; require_settings checks them again
# for values given to create_app() directly.
BOUNDS: dict[str, Bound] = {
    "JWT_ACCESS_TOKEN_EXPIRES": Bound(
        "JWT_ACCESS_TOKEN_MINUTES", 1, 7 * 24 * 60, timedelta(minutes=1)
    ),
    "JWT_REFRESH_TOKEN_EXPIRES": Bound(
        "JWT_REFRESH_TOKEN_DAYS", 1, 3650, timedelta(days=1)
    ),
    "APPEAL_TOKEN_MINUTES": Bound("APPEAL_TOKEN_MINUTES", 1, 7 * 24 * 60),
    "ADMIN_SESSION_HOURS": Bound("ADMIN_SESSION_HOURS", 1, 30 * 24),
    "STRIKE_TTL_DAYS": Bound("STRIKE_TTL_DAYS", 0, 3650, note=" (never)"),
    # Below 1 KB no login or message fits in a request; above 100 MB one request
    # could fill a process's memory (bodies are read whole).
    "MAX_CONTENT_LENGTH": Bound("MAX_CONTENT_LENGTH", 1024, 100 * 1024 * 1024),
    "PROXY_FIX_X_FOR": Bound("PROXY_FIX_X_FOR", 0, 10),
    "BULLYING_THRESHOLD": Bound("BULLYING_THRESHOLD", 0, 1),  # and above 0: below
    "MAX_BULLYING_COUNT": Bound("MAX_BULLYING_COUNT", 1, None),
    # A MySQL/MariaDB TEXT column holds 65535 bytes: 16000 characters of 4 bytes.
    "MAX_MESSAGE_LENGTH": Bound("MAX_MESSAGE_LENGTH", 1, 16000),
    "MAX_POST_LENGTH": Bound("MAX_POST_LENGTH", 1, 16000),
    "MAX_COMMENT_LENGTH": Bound("MAX_COMMENT_LENGTH", 1, 16000),
    "PAGE_SIZE": Bound("CYBERSCAN_PAGE_SIZE", 1, 100),
    "MAX_CONNECTIONS_PER_USER": Bound("MAX_CONNECTIONS_PER_USER", 1, None),
    "HEADER_TIMEOUT": Bound("HEADER_TIMEOUT", 1, 3600),
    "SOCKET_CONNECT_TIMEOUT": Bound("SOCKET_CONNECT_TIMEOUT", 1, 3600),
    "PRESENCE_HEARTBEAT_SECONDS": Bound("PRESENCE_HEARTBEAT_SECONDS", 0.5, 300),
    "SOCKETIO_MAX_CONNECTIONS": Bound("SOCKETIO_MAX_CONNECTIONS", 16, 1_000_000),
    "PORT": Bound("PORT", 1, 65535),
    "DATABASE_CONNECT_TIMEOUT": Bound("DATABASE_CONNECT_TIMEOUT", 1, 300),
    "DATABASE_READ_TIMEOUT": Bound("DATABASE_READ_TIMEOUT", 1, 3600),
}


def bounds(key: str) -> tuple[Any, Any]:
    """(minimum, maximum) of a setting, for env_int and env_float."""
    bound = BOUNDS[key]
    return bound.minimum, bound.maximum


def note_of(variable: str) -> str:
    """What a variable's minimum means, if BOUNDS says."""
    return next((b.note for b in BOUNDS.values() if b.variable == variable), "")


def check_bounds(settings: dict[str, Any]) -> None:
    """Refuse a numeric setting outside BOUNDS, by its variable's name."""
    for key, bound in BOUNDS.items():
        value = settings.get(key)
        if value is None:
            continue
        if bound.unit is not None and isinstance(value, timedelta):
            value = value / bound.unit
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{bound.variable} must be a number, got {value!r}"
            ) from None
        if (
            number != number
            or number < bound.minimum
            or (bound.maximum is not None and number > bound.maximum)
        ):
            words = range_words(bound.minimum, bound.maximum, bound.note)
            raise ConfigError(f"{bound.variable} must be {words}, got {value!r}")


MODEL_NAME = "cyberscan-clf"
CURRENT_FILE = "CURRENT"
_VERSION = re.compile(rf"(?:{MODEL_NAME}-)?(v\d+)")


def model_version_name(version: str) -> str:
    """``v2`` or ``cyberscan-clf-v2`` -> ``cyberscan-clf-v2``; ConfigError otherwise."""
    match = _VERSION.fullmatch(version.strip())
    if not match:
        raise ConfigError(
            f"{version!r} is not a model version; expected vN or {MODEL_NAME}-vN"
        )
    return f"{MODEL_NAME}-{match.group(1)}"


def current_classifier(models_dir: Path = MODELS_DIR) -> str:
    """The one rule that finds the served model: the artifact `models/CURRENT` names.

    `CLASSIFIER_PATH` overrides it (see Config); only `python -m train.promote vN`
    writes CURRENT.  Returns "" when CURRENT is missing or unreadable, which
    `detector.init_app` reports.
    """
    try:
        name = model_version_name((models_dir / CURRENT_FILE).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ConfigError):
        return ""
    return str(models_dir / f"{name}.joblib")


def served_classifier() -> str:
    """The artifact the server serves: `CLASSIFIER_PATH` when set, else the one
    `models/CURRENT` names ("" when neither says). Config and the training CLIs both
    read it here."""
    return env_str("CLASSIFIER_PATH") or current_classifier()


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def sqlalchemy_engine_options(
    url: str, connect_timeout: int = 10, read_timeout: int | None = 30
) -> dict[str, Any]:
    """Pool and driver options for the database URL.

    No pre-ping: it costs a round trip on every checkout, on the hot path. Connections
    are recycled before the server's idle timeout instead, and one that died anyway
    fails once and is invalidated (the message writer retries it on a fresh one).
    The pool is sized for the group-commit writer (one connection) plus REST
    requests, connects and the rare flagged message. On loopback TLS buys nothing and
    PyMySQL builds an SSL context for every new connection (about 30 ms of CPU).

    MySQL/MariaDB: timeouts (DATABASE_CONNECT_TIMEOUT, DATABASE_READ_TIMEOUT) on the
    socket. Without them a server that stops answering (SIGSTOP, a partition) hangs
    every send, login and /api/health for ever with no log line: PyMySQL reads with
    no timeout by default, even its handshake after the TCP connect. A timed-out read
    or write raises OperationalError, which the server already answers as 503
    unavailable (and the flask commands as one line). The read timeout also bounds
    the handshake. The migrations connect with `read_timeout=None`
    (migrations/env.py): one ALTER TABLE on a large table may take minutes.
    """
    if url.startswith("sqlite"):
        # Wait for a writer instead of failing at once with "database is locked".
        return {"connect_args": {"timeout": 15}}
    options: dict[str, Any] = {
        "pool_recycle": 280,
        "pool_size": 10,
        "max_overflow": 10,
        "pool_timeout": 30,
    }
    if not url.startswith("mysql+pymysql"):
        return options
    connect_args: dict[str, Any] = {
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
        "write_timeout": read_timeout,
    }
    host = make_url(url).host
    if host in LOOPBACK_HOSTS or not host:
        connect_args["ssl_disabled"] = True
    options["connect_args"] = connect_args
    return options


def database_kind(url: str) -> str:
    """`SQLite /path/file.db` or `mysql 127.0.0.1:3306/cyberscan` (never a password)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"SQLite {parsed.database or ':memory:'}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 3306}/{parsed.database}"
    return f"{'MariaDB/MySQL' if backend == 'mysql' else backend} {where}"


def database_unusable(url: str, why: object) -> str:
    """One line for a database the server or a command cannot use (down, refusing
    the user, missing): where it is, the driver's reason, and what to check."""
    reason = " ".join(str(why).split())
    return (
        f"Cannot use the database {database_kind(url)}: {reason}; check that its "
        "server runs, that the database exists (utf8mb4 on MySQL/MariaDB) and that "
        "DATABASE_URL's user may use it"
    )


def redis_queue_url(url: str | None) -> str | None:
    """redis-py's default pool of 100 raises under load and the queued emit is lost."""
    if not url or "max_connections" in url:
        return url
    return url + ("&" if "?" in url else "?") + "max_connections=1000"


class Config:
    ENV_NAME = "base"
    DEBUG = False
    TESTING = False

    SECRET_KEY = env_str("SECRET_KEY")
    JWT_SECRET_KEY = env_str("JWT_SECRET_KEY")
    # At least a minute / a day: a zero timedelta would issue tokens with no `exp`.
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(
        minutes=env_int(
            "JWT_ACCESS_TOKEN_MINUTES", 30, *bounds("JWT_ACCESS_TOKEN_EXPIRES")
        )
    )
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(
        days=env_int("JWT_REFRESH_TOKEN_DAYS", 30, *bounds("JWT_REFRESH_TOKEN_EXPIRES"))
    )
    # Bearer headers for API clients; an HttpOnly cookie (with CSRF double-submit) for the
    # /admin dashboard in a browser.
    JWT_TOKEN_LOCATION = ["headers", "cookies"]
    JWT_COOKIE_SECURE = env_bool("JWT_COOKIE_SECURE", False)
    JWT_COOKIE_SAMESITE = "Strict"
    JWT_COOKIE_CSRF_PROTECT = True
    JWT_ERROR_MESSAGE_KEY = "message"

    DATABASE_URL = env_str("DATABASE_URL")
    MIGRATIONS_DIR = str(ROOT / "migrations")
    # How long a starting process waits for another one's migration (MySQL/MariaDB).
    MIGRATION_LOCK_SECONDS = 600
    # Seconds to connect to MySQL/MariaDB, and to wait for any one answer from it:
    # a server that stops answering then fails requests (503) instead of hanging them.
    DATABASE_CONNECT_TIMEOUT = env_int(
        "DATABASE_CONNECT_TIMEOUT", 10, *bounds("DATABASE_CONNECT_TIMEOUT")
    )
    DATABASE_READ_TIMEOUT = env_int(
        "DATABASE_READ_TIMEOUT", 30, *bounds("DATABASE_READ_TIMEOUT")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    REDIS_URL = env_str("REDIS_URL")

    MAX_CONTENT_LENGTH = env_int(
        "MAX_CONTENT_LENGTH", 64 * 1024, *bounds("MAX_CONTENT_LENGTH")
    )
    CORS_ORIGINS = env_list("CORS_ORIGINS", "*")
    PROXY_FIX_X_FOR = env_int("PROXY_FIX_X_FOR", 0, *bounds("PROXY_FIX_X_FOR"))

    CLASSIFIER_PATH = served_classifier()
    BULLYING_THRESHOLD = env_float(
        "BULLYING_THRESHOLD", 0.6, *bounds("BULLYING_THRESHOLD")
    )
    MAX_BULLYING_COUNT = env_int("MAX_BULLYING_COUNT", 5, *bounds("MAX_BULLYING_COUNT"))
    FLAGGED_MESSAGE_POLICY = env_str("FLAGGED_MESSAGE_POLICY", "deliver")
    # Strikes older than this stop counting; 0 keeps them for ever.
    STRIKE_TTL_DAYS = env_int("STRIKE_TTL_DAYS", 90, *bounds("STRIKE_TTL_DAYS"))
    # Lifetime of the token a blocked login gets for reading strikes and appealing.
    APPEAL_TOKEN_MINUTES = env_int(
        "APPEAL_TOKEN_MINUTES", 30, *bounds("APPEAL_TOKEN_MINUTES")
    )
    # A dashboard session ends this long after its login, however much it is used.
    ADMIN_SESSION_HOURS = env_int(
        "ADMIN_SESSION_HOURS", 12, *bounds("ADMIN_SESSION_HOURS")
    )
    MAX_MESSAGE_LENGTH = env_int(
        "MAX_MESSAGE_LENGTH", 2000, *bounds("MAX_MESSAGE_LENGTH")
    )
    MAX_POST_LENGTH = env_int("MAX_POST_LENGTH", 5000, *bounds("MAX_POST_LENGTH"))
    MAX_COMMENT_LENGTH = env_int(
        "MAX_COMMENT_LENGTH", 2000, *bounds("MAX_COMMENT_LENGTH")
    )
    PAGE_SIZE = env_int("CYBERSCAN_PAGE_SIZE", 50, *bounds("PAGE_SIZE"))

    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # A Redis outage must not lock everyone out of logging in: fall back to memory.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    LOGIN_LIMIT_PER_ADDRESS = env_str("LOGIN_LIMIT_PER_ADDRESS", "30 per minute")
    LOGIN_LIMIT_PER_ACCOUNT = env_str("LOGIN_LIMIT_PER_ACCOUNT", "100 per hour")
    # Failed logins spend a budget per account and address (a guesser on one address
    # is throttled there only) and a slower global one per account (a distributed
    # guesser), so nobody can lock another person out with a few wrong passwords.
    LOGIN_LIMIT_PER_ACCOUNT_ADDRESS = env_str(
        "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "10 per 15 minutes"
    )
    REGISTER_LIMIT_PER_ADDRESS = env_str("REGISTER_LIMIT_PER_ADDRESS", "10 per hour")
    SEND_LIMIT_PER_USER = env_str("SEND_LIMIT_PER_USER", "30 per 10 seconds")
    # Reports a user may file (attempts, refused ones included): enough for a person
    # reporting a run of hurtful messages, too few to bury the admins' queue.
    REPORT_LIMIT_PER_USER = env_str("REPORT_LIMIT_PER_USER", "20 per hour")
    # Name searches a user may make: a search box typed into, many times over, but
    # not a script paging through every prefix to list the members.
    SEARCH_LIMIT_PER_USER = env_str("SEARCH_LIMIT_PER_USER", "60 per minute")
    # Events one socket connection may send, of any name: far above what a client
    # sends (messages are limited apart, typing goes every 2.5 s), while a flood of
    # `typing` at a stranger, or of junk packets, stops at the connection.
    SOCKET_EVENT_LIMIT = env_str("SOCKET_EVENT_LIMIT", "200 per 10 seconds")
    MAX_CONNECTIONS_PER_USER = env_int(
        "MAX_CONNECTIONS_PER_USER", 20, *bounds("MAX_CONNECTIONS_PER_USER")
    )
    # Seconds a client gets to send its request line and headers (eventlet or gevent).
    HEADER_TIMEOUT = env_float("HEADER_TIMEOUT", 10.0, *bounds("HEADER_TIMEOUT"))
    # Seconds a Socket.IO transport gets to connect (show its token) once open.
    SOCKET_CONNECT_TIMEOUT = env_float(
        "SOCKET_CONNECT_TIMEOUT", 20.0, *bounds("SOCKET_CONNECT_TIMEOUT")
    )

    SOCKETIO_ASYNC_MODE = env_str("SOCKETIO_ASYNC_MODE", "eventlet")
    # Redis pub/sub channel of the Socket.IO queue (and presence key prefix): one per
    # deployment sharing a Redis server (pub/sub ignores the database number).
    SOCKETIO_CHANNEL = env_str("SOCKETIO_CHANNEL", "flask-socketio")
    # With REDIS_URL: `shared` (the stock queue: every emit reaches every process) or
    # `process` (an emit to one user reaches only the processes holding them).
    SOCKETIO_ROUTE = env_str("SOCKETIO_ROUTE", "shared")
    # With REDIS_URL: seconds between a process's presence heartbeats; a process that
    # misses three (plus 5 s) is dead and its connections are dropped (docs/scaling.md).
    PRESENCE_HEARTBEAT_SECONDS = env_float(
        "PRESENCE_HEARTBEAT_SECONDS", 10.0, *bounds("PRESENCE_HEARTBEAT_SECONDS")
    )
    # eventlet.wsgi refuses connections above max_size (1024 by default).
    SOCKETIO_MAX_CONNECTIONS = env_int(
        "SOCKETIO_MAX_CONNECTIONS", 10000, *bounds("SOCKETIO_MAX_CONNECTIONS")
    )
    HOST = env_str("HOST", "127.0.0.1")
    PORT = env_int("PORT", 5000, *bounds("PORT"))
    LOG_LEVEL = env_log_level("LOG_LEVEL", "INFO")
    # run.py freezes the start-up heap and raises the young generation's threshold
    # (docs/performance.md measures the tail with and without).
    GC_FREEZE = env_bool("CYBERSCAN_GC_FREEZE", True)
    GC_GEN0_THRESHOLD = env_int("CYBERSCAN_GC_GEN0", 20_000)

    # argon2id parameters (RFC 9106 "second recommended" profile by default).
    PASSWORD_TIME_COST = 3
    PASSWORD_MEMORY_COST = 64 * 1024

    API_TITLE = "CyberScan Messenger"
    API_VERSION = "1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    # Every operation takes a Bearer JWT (access token; /api/token/refresh the refresh
    # token) unless it says `security: []` (register, login, health): Swagger UI's
    # Authorize button then sends the token with "Try it out".
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                }
            }
        },
        "security": [{"bearerAuth": []}],
    }
    # /api/docs is cyberscan/apidocs (vendored Swagger UI under the strict CSP), not
    # flask-smorest's page, whose inline script that CSP would block.


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False  # the reloader and debugger do not mix with eventlet; use LOG_LEVEL


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    # Generated per test session: tests never depend on a secret in the code.
    SECRET_KEY = secrets.token_urlsafe(48)
    JWT_SECRET_KEY = secrets.token_urlsafe(48)
    DATABASE_URL = env_str("TEST_DATABASE_URL")
    RATELIMIT_ENABLED = False
    SOCKETIO_ASYNC_MODE = "threading"
    REDIS_URL = None
    PASSWORD_TIME_COST = 1
    PASSWORD_MEMORY_COST = 8 * 1024


class ProductionConfig(Config):
    ENV_NAME = "production"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def instance_dir() -> Path:
    """instance/ (git-ignored), open to its owner alone: it holds the development
    secrets and the SQLite database, every message in it. One an earlier version made
    readable by all is closed too."""
    INSTANCE_DIR.mkdir(mode=0o700, exist_ok=True)
    if INSTANCE_DIR.stat().st_mode & 0o077:
        INSTANCE_DIR.chmod(0o700)
    return INSTANCE_DIR


def instance_secret(name: str) -> str:
    """A development secret generated once and kept in instance/, its owner's alone."""
    path = instance_dir() / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        stored[name] = secrets.token_urlsafe(48)
        # Created owner-only, never readable by others for a moment.
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as file:
            file.truncate()
            file.write(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return stored[name]


def load_config(env: str | None = None) -> Config:
    """The Config for `CYBERSCAN_ENV`, with development defaults filled in."""
    flask_env = (os.environ.get("FLASK_ENV") or "").strip()
    if env is None and not env_str("CYBERSCAN_ENV") and flask_env:
        # Flask's old variable, which Flask no longer reads either. Refused rather
        # than warned about: FLASK_ENV=production would otherwise run the
        # development setup (generated secrets, SQLite under instance/) on a
        # production host, with a warning scrolling past in a log nobody reads.
        meant = flask_env.lower()
        raise ConfigError(
            "FLASK_ENV is not read: set CYBERSCAN_ENV="
            f"{meant if meant in CONFIGS else 'production'} (or development) instead"
        )
    name = (env or env_str("CYBERSCAN_ENV", "development")).lower()
    if name not in CONFIGS:
        raise ConfigError(
            f"CYBERSCAN_ENV must be one of {sorted(CONFIGS)}, got {name!r}"
        )
    config = CONFIGS[name]()
    if name == "development":
        for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
            if not getattr(config, key):
                setattr(config, key, instance_secret(key))
        if not config.DATABASE_URL:
            config.DATABASE_URL = f"sqlite:///{instance_dir() / 'cyberscan.db'}"
    return config


DATABASE_URL_FORMS = (
    "sqlite:///path/to/file.db or "
    "mysql+pymysql://user:password@host/database?charset=utf8mb4"
)
LIMIT_SETTINGS = (
    "LOGIN_LIMIT_PER_ADDRESS",
    "LOGIN_LIMIT_PER_ACCOUNT",
    "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS",
    "REGISTER_LIMIT_PER_ADDRESS",
    "SEND_LIMIT_PER_USER",
    "REPORT_LIMIT_PER_USER",
    "SEARCH_LIMIT_PER_USER",
    "SOCKET_EVENT_LIMIT",
)


def check_database_url(url: str) -> None:
    """SQLite or MySQL/MariaDB through PyMySQL, the two the project supports and
    installs a driver for; anything else is refused by name (never its password)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"DATABASE_URL is not a database URL; expected {DATABASE_URL_FORMS}"
        ) from None
    if parsed.drivername in {"sqlite", "sqlite+pysqlite", "mysql+pymysql"}:
        return
    raise ConfigError(
        f"DATABASE_URL names {parsed.drivername}, which is not supported; "
        f"expected {DATABASE_URL_FORMS}"
    )


REDIS_URL_FORMS = (
    "redis://host:6379/0, rediss://host:6380/0 or unix:///path/to/redis.sock"
)


def check_redis_url(url: str) -> None:
    """A Redis URL that redis-py and Flask-Limiter both read, with a database number
    (or none) after the host: refused by its scheme or part, never its password (a
    wrong one was a traceback printing it, and `/abc` quietly meant database 0 for
    presence while the queue used another)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  raises on a port that is not a number
    except ValueError:
        raise ConfigError(
            f"REDIS_URL is not a Redis URL; expected {REDIS_URL_FORMS}"
        ) from None
    if parts.scheme not in {"redis", "rediss", "unix"}:
        scheme = parts.scheme or "no scheme"
        raise ConfigError(
            f"REDIS_URL has {scheme}, not redis://, rediss:// or unix://; "
            f"expected {REDIS_URL_FORMS}"
        )
    if parts.scheme == "unix":
        if not parts.path:
            raise ConfigError(f"REDIS_URL names no socket; expected {REDIS_URL_FORMS}")
        return
    if not parts.hostname:
        raise ConfigError(f"REDIS_URL names no host; expected {REDIS_URL_FORMS}")
    if not re.fullmatch(r"/?(\d+)?", parts.path):
        raise ConfigError(
            "REDIS_URL's database must be a number after the host (redis://host:6379/0)"
        )


def check_limit(key: str, value: Any) -> None:
    """A rate limit as Flask-Limiter writes it (`30 per minute`, `10/hour`)."""
    try:
        parse_limit(str(value))
    except ValueError:
        raise ConfigError(
            f"{key} must be a rate limit such as '30 per minute', got {value!r}"
        ) from None


def require_settings(settings: dict[str, Any]) -> None:
    """Fill derived settings and refuse to start on anything missing or weak."""
    for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
        value = settings.get(key) or ""
        if len(value.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"{key} must be set to at least {MIN_SECRET_BYTES} bytes, e.g. the "
                "output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
    url = settings.get("DATABASE_URL")
    if not url:
        raise ConfigError("DATABASE_URL must be set")
    check_database_url(url)
    check_bounds(settings)
    if settings.get("REDIS_URL"):
        check_redis_url(settings["REDIS_URL"])
    for key in LIMIT_SETTINGS:
        if key in settings:
            check_limit(key, settings[key])
    settings.setdefault("SQLALCHEMY_DATABASE_URI", url)
    settings.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        sqlalchemy_engine_options(
            url,
            connect_timeout=int(settings.get("DATABASE_CONNECT_TIMEOUT", 10)),
            read_timeout=int(settings.get("DATABASE_READ_TIMEOUT", 30)),
        ),
    )
    settings.setdefault(
        "RATELIMIT_STORAGE_URI", settings.get("REDIS_URL") or "memory://"
    )
    # The channel separates deployments (and test runs) that share one Redis: the
    # login and registration budgets are keyed under it, like the send limit.
    settings.setdefault(
        "RATELIMIT_KEY_PREFIX", settings.get("SOCKETIO_CHANNEL") or "flask-socketio"
    )
    if settings.get("FLAGGED_MESSAGE_POLICY") not in {"deliver", "withhold"}:
        raise ConfigError("FLAGGED_MESSAGE_POLICY must be 'deliver' or 'withhold'")
    if not 0.0 < float(settings.get("BULLYING_THRESHOLD", 0)) <= 1.0:
        raise ConfigError("BULLYING_THRESHOLD must be in (0, 1]")
    if settings.get("SOCKETIO_ASYNC_MODE") not in {"eventlet", "gevent", "threading"}:
        raise ConfigError("SOCKETIO_ASYNC_MODE must be eventlet, gevent or threading")
    if settings.get("SOCKETIO_ROUTE", "shared") not in {"shared", "process"}:
        raise ConfigError("SOCKETIO_ROUTE must be 'shared' or 'process'")

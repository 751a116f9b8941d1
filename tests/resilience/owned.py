"""Dependencies a fault test owns: its own redis-server and mariadbd, on free ports.

Fault tests stop and restart these; the machine's shared Redis (6379) and MariaDB
(3306) are never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench.launch import free_port, listens

START_TIMEOUT = 30.0


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until `process` itself listens on `port` (another process that took the port
    first would accept connections too)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited: {log.read_text()[-2000:]}")
        if listens(process.pid, port):
            return
        time.sleep(0.1)
    pytest.fail(
        f"{process.args[0]} did not listen on {port}: {log.read_text()[-2000:]}"
    )


def _stop(process: subprocess.Popen[bytes] | None, kill: bool) -> None:
    if process is None or process.poll() is not None:
        return
    if kill:
        process.kill()
    else:
        process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class OwnedRedis:
    """A throw-away redis-server without persistence: a restart starts it empty."""

    def __init__(self, workdir: Path) -> None:
        if not shutil.which("redis-server"):
            pytest.skip("redis-server is not installed")
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> OwnedRedis:
        log = self.workdir / f"redis-{self.port}.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_port(self.port, self.process, log)
        return self

    def stop(self, kill: bool = True) -> None:
        _stop(self.process, kill)


class OwnedMariaDB:
    """A mariadbd on its own port and data directory (grant tables skipped: local only)."""

    def __init__(self, workdir: Path) -> None:
        if not (shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").exists()):
            pytest.skip("mariadbd is not installed")
        if not shutil.which("mariadb-install-db"):
            pytest.skip("mariadb-install-db is not installed")
        self.workdir = workdir
        self.datadir = workdir / "data"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "mariadbd.log"

    def url(self, database: str) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}?charset=utf8mb4"

    def install(self) -> OwnedMariaDB:
        result = subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=root",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        return self

    def start(self) -> OwnedMariaDB:
        binary = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    binary,
                    "--no-defaults",
                    f"--datadir={self.datadir}",
                    f"--port={self.port}",
                    "--bind-address=127.0.0.1",
                    f"--socket={self.workdir / 'mariadb.sock'}",
                    f"--pid-file={self.workdir / 'mariadb.pid'}",
                    "--skip-grant-tables",
                    "--skip-log-bin",
                    "--innodb-buffer-pool-size=32M",
                    "--user=root",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_port(self.port, self.process, self.log)
        return self

    def create_database(self, name: str) -> str:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url(""))
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"CREATE DATABASE IF NOT EXISTS {name} CHARACTER SET utf8mb4 "
                    "COLLATE utf8mb4_unicode_ci"
                )
            )
        engine.dispose()
        return self.url(name)

    def stop(self, kill: bool = True) -> None:
        _stop(self.process, kill)

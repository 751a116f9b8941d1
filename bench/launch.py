"""Start a benchmark's server process on a free port and know it is that process answering.

A port `free_port()` hands out can be taken by another process before the server binds
it; the server then exits, and a health check on the port would be answered by the
other process. So a start counts only once the port's listening socket is held by the
process launched (read from /proc, so it holds for any server: this checkout's run.py,
another checkout's, or the bare relay), and a server that lost its port to another is
started again on a new one. The test suite's live servers (`tests/live.py`) and the
Redis and MariaDB its fault tests own (`tests/resilience/owned.py`) use the same check.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

ATTEMPTS = 3
LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's `st` column


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listener_inodes(port: int) -> set[str]:
    """The socket inodes listening on `port` (any address, IPv4 or IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def holds(pid: int, inodes: set[str]) -> bool:
    """Whether process `pid` has one of these sockets open."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


def listens(pid: int, port: int) -> bool:
    """Whether process `pid` holds the socket listening on `port`."""
    return holds(pid, listener_inodes(port))


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/health", timeout=2) as r:  # noqa: S310
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(
    name: str,
    argv: list[str],
    env: Mapping[str, str],
    log: Path,
    cwd: Path,
    timeout: float = 120.0,
) -> tuple[subprocess.Popen[bytes], str]:
    """`argv` with PORT set to a free port, once it holds that port and /api/health
    answers 200; answers (process, url). Its output is appended to `log`."""
    for _ in range(ATTEMPTS):
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**env, "PORT": str(port)},
                stdout=out,
                stderr=out,
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if listens(process.pid, port) and healthy(url):
                return process, url
            time.sleep(0.2)
        if process.poll() is None:
            process.kill()
            process.wait()
            raise SystemExit(f"{name} not ready within {timeout:g}s; see {log}")
        if not listener_inodes(port):
            raise SystemExit(f"{name} exited on start; see {log}")
        # Another process took the port first; try a new one.
    raise SystemExit(f"{name} lost its port {ATTEMPTS} times; see {log}")

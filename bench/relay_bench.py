"""Relay benchmark: acknowledged messages per second on one or two server processes.

Starts `python run.py` process(es) (production config, generated secrets, rate limits
off), registers senders and receivers, then drives them with the real socket.io-client
(`e2e/blast.mjs`, run `npm ci` in e2e/ first): every sender keeps `--window` messages in
flight to its receiver, on the other process when there are two. Prints one JSON line.

    .venv/bin/python bench/relay_bench.py --processes 1
    .venv/bin/python bench/relay_bench.py --processes 2 \
        --database-url 'mysql+pymysql://root@127.0.0.1:3306/cyberscan_bench?charset=utf8mb4'

With two processes Redis (REDIS_URL, default redis://127.0.0.1:6379/0) carries the
Socket.IO queue; a fresh channel is used per run. The database is a temporary SQLite
file unless --database-url is given (it must exist; tables are created by the server).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import launch

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def call(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310  (http to our own server)
        url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def start(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    return launch.start("server", [sys.executable, "run.py"], env, log, ROOT, 90)


def account(url: str, prefix: str) -> dict[str, str]:
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    call(
        url,
        "/api/register",
        {"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    token = call(url, "/api/login", {"username": name, "password": PASSWORD})[
        "access_token"
    ]
    return {"name": name, "token": token}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--messages", type=int, default=250, help="per sender")
    parser.add_argument("--window", type=int, default=10, help="in flight per sender")
    parser.add_argument(
        "--mode", default="eventlet", choices=("eventlet", "gevent", "threading")
    )
    parser.add_argument("--database-url")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CYBERSCAN_", "REDIS_"))
        },
        "CYBERSCAN_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}",
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "SOCKETIO_ASYNC_MODE": args.mode,
        "HOST": "127.0.0.1",
        "REDIS_URL": "",
    }
    if args.processes == 2:
        env["REDIS_URL"] = args.redis_url
        env["SOCKETIO_CHANNEL"] = f"relay-bench-{uuid.uuid4().hex}"
    log = workdir / "servers.log"
    processes = []
    try:
        urls = []
        for _ in range(args.processes):
            process, url = start(env, log)
            processes.append(process)
            urls.append(url)
        pairs = []
        for i in range(args.senders):
            sender, receiver = account(urls[0], "s"), account(urls[0], "r")
            pairs.append(
                {
                    "sender": {**sender, "url": urls[i % len(urls)]},
                    "receiver": {**receiver, "url": urls[(i + 1) % len(urls)]},
                }
            )
        payload = {
            "pairs": pairs,
            "messages": args.messages,
            "window": args.window,
            "settle_ms": 10000,
        }
        done = subprocess.run(
            ["node", str(ROOT / "e2e" / "blast.mjs")],
            input=json.dumps(payload).encode(),
            capture_output=True,
            cwd=ROOT / "e2e",
            check=True,
        )
        result = json.loads(done.stdout.decode().strip().splitlines()[-1])
        acked = {a["id"] for a in result["acked"]}
        live = {i for ids in result["received"].values() for i in ids}
        print(
            json.dumps(
                {
                    "processes": args.processes,
                    "mode": args.mode,
                    "database": env["DATABASE_URL"].split(":", 1)[0],
                    "senders": args.senders,
                    "in_flight": args.senders * args.window,
                    "sent": args.senders * args.messages,
                    "acknowledged": len(acked),
                    "delivered_live": len(acked & live),
                    "refused": result["failed"],
                    "ack_timeouts": result["timeouts"],
                    "seconds": round(result["elapsed"], 2),
                    "acked_per_second": round(len(acked) / result["elapsed"], 1),
                }
            )
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if env.get("SOCKETIO_CHANNEL"):
            import redis

            client = redis.Redis.from_url(args.redis_url)
            for key in client.scan_iter(
                f"cyberscan:presence:{env['SOCKETIO_CHANNEL']}:*"
            ):
                client.delete(key)


if __name__ == "__main__":
    main()

"""Soak a live server for a set time: clients send, read and reconnect without pause.

    .venv/bin/python bench/soak.py [--seconds 300] [--clients 8] [--processes 1]
                                   [--redis redis://127.0.0.1:6379/5] [--database URL]

Starts `run.py` (tests/live.py) on a temporary SQLite file unless --database names one
(or soaks the server at --url, whose log --log names)
(MySQL/MariaDB databases must end in _test); with --processes 2 and --redis the
clients spread over both processes. Each client (python-socketio over WebSocket)
sends messages with a client_id to the others, reads its conversations over REST
every 25 sends, and reconnects every 200. At the end every acknowledged message must
be stored exactly once and no server log may hold a traceback. Prints a summary table;
exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.pyclient import PyClient  # noqa: E402
from tests.live import LiveServer, server_env, start, stop_all  # noqa: E402


@dataclass
class Worker:
    name: str
    token: str
    server: LiveServer
    acked: dict[str, str] = field(default_factory=dict)
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    reconnects: int = 0
    rest_errors: int = 0


def run_worker(worker: Worker, peers: list[str], until: float, seed: int) -> None:
    rng = random.Random(seed)
    client = PyClient(
        worker.server.url, worker.token, transports=("websocket",)
    ).connect()
    index = 0
    try:
        while time.monotonic() < until:
            index += 1
            client_id = f"{worker.name}-{index}"
            payload = {
                "receiver": rng.choice(peers),
                "message": f"soak {index}",
                "client_id": client_id,
            }
            started = time.perf_counter()
            try:
                ack = client.call("send_message", payload, timeout=30)
            except Exception as exc:  # noqa: BLE001  counted, then the loop goes on
                worker.outcomes[f"raised {type(exc).__name__}"] += 1
                continue
            worker.latencies.append(time.perf_counter() - started)
            outcome = "ok" if ack.get("ok") else ack.get("error", "?")
            worker.outcomes[outcome] += 1
            if ack.get("ok"):
                worker.acked[client_id] = ack["data"]["id"]
            if index % 25 == 0:
                status, _ = worker.server.request(
                    "GET", "/api/chat/conversations", token=worker.token
                )
                worker.rest_errors += status != 200
            if index % 200 == 0:
                client.close()
                client = PyClient(
                    worker.server.url, worker.token, transports=("websocket",)
                ).connect()
                worker.reconnects += 1
    finally:
        client.close()


def stored_ids(server: LiveServer, worker: Worker, peers: list[str]) -> Counter[str]:
    """client_id -> how many stored messages carry it, over the worker's conversations."""
    counts: Counter[str] = Counter()
    for peer in peers:
        cursor = ""
        while True:
            page = server.get(
                f"/api/chat/messages/{peer}?limit=100{cursor}", worker.token
            )
            for item in page["items"]:
                if item["sender"] == worker.name:
                    counts[item["client_id"]] += 1
            if not page["next_cursor"]:
                break
            cursor = f"&cursor={page['next_cursor']}"
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--redis", default="")
    parser.add_argument("--database", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--url", default=None, help="soak a server already running (its log: --log)"
    )
    parser.add_argument("--log", default=None)
    args = parser.parse_args(argv)
    if args.processes > 1 and not args.redis:
        parser.error("--processes > 1 needs --redis")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = args.database or f"sqlite:///{workdir}/soak.db"
        env = server_env(
            url,
            redis_url=args.redis,
            channel=f"cyberscan-soak-{uuid.uuid4().hex}" if args.redis else "",
        )
        servers: list[LiveServer] = []
        started: list[LiveServer] = []
        try:
            if args.url:
                log = Path(args.log) if args.log else workdir / "none.log"
                log.touch()
                servers.append(LiveServer(url=args.url, env={}, log=log))
            for number in range(0 if args.url else args.processes):
                started.append(start(env, workdir, f"soak-{number}.log"))
                servers.append(started[-1])
            suffix = uuid.uuid4().hex[:6]
            names = [f"soak{n}_{suffix}" for n in range(args.clients)]
            workers = [
                Worker(name, servers[0].register(name), servers[n % len(servers)])
                for n, name in enumerate(names)
            ]
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(
                    target=run_worker,
                    args=(w, [n for n in names if n != w.name], until, args.seed + i),
                )
                for i, w in enumerate(workers)
            ]
            began = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - began

            problems = []
            for worker in workers:
                counts = stored_ids(
                    servers[0], worker, [n for n in names if n != worker.name]
                )
                duplicated = [cid for cid, n in counts.items() if n > 1]
                missing = [cid for cid in worker.acked if counts[cid] != 1]
                if duplicated or missing:
                    problems.append(
                        f"{worker.name}: {len(missing)} missing, {len(duplicated)} duplicated"
                    )
            tracebacks = sum(
                s.log.read_text(errors="replace").count("Traceback") for s in servers
            )
        finally:
            stop_all(started)

    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    for worker in workers:
        outcomes.update(worker.outcomes)
        latencies.extend(worker.latencies)
    acked = sum(len(w.acked) for w in workers)
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
            if latencies
            else 0.0
        )

    rows = [
        ("duration (s)", f"{elapsed:.1f}"),
        ("processes / clients", f"{args.processes} / {args.clients}"),
        ("sends", str(sum(outcomes.values()))),
        ("acknowledged", str(acked)),
        ("acks per second", f"{acked / elapsed:.1f}" if elapsed else "0"),
        ("outcomes", ", ".join(f"{k}:{v}" for k, v in sorted(outcomes.items()))),
        (
            "ack latency p50 / p95 / max (ms)",
            f"{pct(0.5):.1f} / {pct(0.95):.1f} / {pct(1.0):.1f}",
        ),
        (
            "mean latency (ms)",
            f"{statistics.fmean(latencies) * 1000:.1f}" if latencies else "-",
        ),
        ("reconnects", str(sum(w.reconnects for w in workers))),
        ("REST errors", str(sum(w.rest_errors for w in workers))),
        ("stored exactly once", "yes" if not problems else "; ".join(problems)),
        ("tracebacks in server logs", str(tracebacks)),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:{width}}  {value}")
    bad = problems or tracebacks or outcomes.get("internal_error") or acked == 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""The hot-path benchmark: the project against a bare Flask-SocketIO relay, interleaved.

Starts `run.py` (production config, rate limits off) and `bench/bare_relay.py` in the
same async mode, pinned to one core (`--server-cpus`), seeds users straight into the
database and mints their access tokens with the server's secret, then runs
`bench/loadgen.py` pinned to the other core (`--loadgen-cpus`) for each scenario, the
project and the relay back to back (their order alternating between repeats), so both
see the same machine. Every acknowledged message is then looked up in the database, and
every one must have reached its receiver: anything else is counted as lost.

Scenarios: `closed:<clients>[:<window>]` (each client keeps `window` messages in flight)
and `open:<clients>:<rate>` (rate msg/s offered in total). Prints a Markdown table of
medians with [min–max] over the repeats and the project/relay ratio; writes every run
to `--out` (JSON) for `bench/plot_perf.py`.

    mariadb -uroot --protocol=tcp -h127.0.0.1 -e 'CREATE DATABASE IF NOT EXISTS
        cyberscan_perf_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci'
    .venv/bin/python bench/perf_bench.py --repeats 3 --database-url \\
        'mysql+pymysql://root@127.0.0.1:3306/cyberscan_perf_bench?charset=utf8mb4'
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import launch
from sqlalchemy import MetaData, Table, bindparam, create_engine, select

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
DEFAULT_SCENARIOS = ("closed:200", "closed:1000", "open:1000:500")
INHERITED_NOT = ("CYBERSCAN_", "SOCKETIO_", "REDIS_", "TEST_DATABASE", "DATABASE_")


@dataclass
class Server:
    """One pinned server process and its URL."""

    name: str
    url: str
    process: subprocess.Popen[bytes]


def pinned(cpus: str | None, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpus, *argv] if cpus else argv


def start_server(
    name: str,
    argv: list[str],
    env: dict[str, str],
    log: Path,
    cpus: str | None,
    cwd: Path = ROOT,
) -> Server:
    """Start a server on a free port and wait until it holds it and /api/health answers."""
    process, url = launch.start(name, pinned(cpus, argv), env, log, cwd)
    return Server(name, url, process)


def stop(servers: list[Server]) -> None:
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()


def seed_users(database_url: str, count: int, prefix: str) -> list[dict[str, Any]]:
    """Insert `count` users in one multi-row INSERT; answers [{id, name}]."""
    from argon2 import PasswordHasher

    engine = create_engine(database_url)
    users = Table("users", MetaData(), autoload_with=engine)
    password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(
        secrets.token_urlsafe(16)
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for i in range(count):
        name = f"{prefix}{i}"
        rows.append(
            {
                "username": name,
                "username_key": name.lower(),
                "email": f"{name}@bench.example.com",
                "email_key": f"{name.lower()}@bench.example.com",
                "password_hash": password_hash,
                "is_admin": False,
                "is_blocked": False,
                "bullying_count": 0,
                "created_at": now,
            }
        )
    with engine.begin() as conn:
        conn.execute(users.insert(), rows)
        found = conn.execute(
            select(users.c.id, users.c.username).where(
                users.c.username_key.like(prefix.lower() + "%")
            )
        ).all()
    engine.dispose()
    by_name = {row.username: row.id for row in found}
    return [
        {"id": by_name[f"{prefix}{i}"], "name": f"{prefix}{i}"} for i in range(count)
    ]


def mint_tokens(users: list[dict[str, Any]], jwt_secret: str) -> None:
    """Access tokens exactly as the server issues them, signed with its secret."""
    from flask import Flask
    from flask_jwt_extended import JWTManager, create_access_token

    app = Flask("bench-tokens")
    app.config["JWT_SECRET_KEY"] = jwt_secret
    JWTManager(app)
    with app.app_context():
        for user in users:
            user["token"] = create_access_token(
                identity=str(user["id"]), expires_delta=timedelta(hours=6)
            )


def check_in_database(database_url: str, ids: list[str]) -> tuple[int, int]:
    """How many acknowledged message ids are not stored, and how many of the stored
    ones the model flagged (the flagged path, strike and row lock, is not the hot path
    this measures: the load generator's texts are meant to be benign)."""
    ids = [i for i in ids if i]
    if not ids:
        return 0, 0
    engine = create_engine(database_url)
    messages = Table("messages", MetaData(), autoload_with=engine)
    query = select(messages.c.id, messages.c.is_bullying).where(
        messages.c.id.in_(bindparam("ids", expanding=True))
    )
    found = flagged = 0
    with engine.connect() as conn:
        for start in range(0, len(ids), 2000):
            rows = conn.execute(query, {"ids": ids[start : start + 2000]}).all()
            found += len(rows)
            flagged += sum(1 for row in rows if row.is_bullying)
    engine.dispose()
    return len(ids) - found, flagged


def parse_scenario(spec: str) -> dict[str, Any]:
    parts = spec.split(":")
    if parts[0] == "closed":
        window = int(parts[2]) if len(parts) > 2 else 1
        return {
            "spec": spec,
            "mode": "closed",
            "clients": int(parts[1]),
            "window": window,
        }
    if parts[0] == "open":
        return {
            "spec": spec,
            "mode": "open",
            "clients": int(parts[1]),
            "rate": float(parts[2]),
        }
    raise SystemExit(f"unknown scenario {spec!r}")


def run_load(
    args: argparse.Namespace,
    group: list[dict[str, Any]],
    servers: list[Server],
    users: list[dict[str, Any]],
    auth_key: str,
    samples: dict[str, Path],
) -> list[dict[str, Any]]:
    """Connect the group's clients once and run its scenarios; answers one result each."""
    count = group[0]["clients"]
    chosen = users[:count]
    clients = []
    for i, user in enumerate(chosen):
        target = chosen[(i + 1) % count]
        auth = (
            {"token": user["token"]} if auth_key == "token" else {"name": user["name"]}
        )
        clients.append(
            {
                "url": servers[i % len(servers)].url,
                "auth": auth,
                "name": user["name"],
                "target": target["name"],
            }
        )
    phases = [
        {
            **{k: v for k, v in scenario.items() if k not in ("spec", "clients")},
            "warmup": args.warmup,
            "duration": args.duration,
            "settle": args.settle,
            "samples": str(samples[scenario["spec"]])
            if scenario["spec"] in samples
            else None,
        }
        for scenario in group
    ]
    job = {
        "clients": clients,
        "phases": phases,
        "server_pids": [s.process.pid for s in servers],
        "tag": uuid.uuid4().hex[:12],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(job, handle)
    try:
        done = subprocess.run(
            pinned(
                args.loadgen_cpus,
                [sys.executable, str(BENCH / "loadgen.py"), handle.name],
            ),
            capture_output=True,
            text=True,
            timeout=len(group) * (args.warmup + args.duration + args.settle) + 900,
        )
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        raise SystemExit(f"loadgen failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def spread(values: list[float | None]) -> str:
    """median [min–max], or '–' when nothing was measured."""
    present = [v for v in values if v is not None]
    if not present:
        return "–"
    med = statistics.median(present)

    def fmt(v: float) -> str:
        return (
            f"{v:,.0f}"
            if abs(v) >= 100
            else f"{v:,.1f}"
            if abs(v) >= 10
            else f"{v:.2f}"
        )

    if len(present) == 1:
        return fmt(med)
    return f"{fmt(med)} [{fmt(min(present))}–{fmt(max(present))}]"


def table(
    results: list[dict[str, Any]], scenarios: list[dict[str, Any]], names: list[str]
) -> str:
    """Markdown: one row per scenario and metric, a column per target, and the
    project/relay throughput ratio (per repeat, then the median)."""
    lines = [
        "| scenario | metric | " + " | ".join(names) + " | project / relay |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " | --- |",
    ]
    metrics = [
        ("acked msg/s", lambda r: r["acked_per_second"]),
        ("delivery p50 ms", lambda r: r["delivery_ms"]["p50"]),
        ("delivery p99 ms", lambda r: r["delivery_ms"]["p99"]),
        ("server CPU µs/msg", lambda r: r["server_cpu_us_per_message"]),
        ("server CPU share", lambda r: r["server_cpu_share"]),
        ("connect all s", lambda r: r["connect_seconds"]),
        ("server CPU ms/connect", lambda r: r.get("connect_cpu_ms_per_client")),
        ("refused connections", lambda r: r["refused"]),
        ("loadgen CPU share", lambda r: r["loadgen_cpu_share"]),
        ("lost", lambda r: r["lost"]),
        ("flagged by the model", lambda r: r.get("flagged")),
    ]
    for scenario in scenarios:
        runs = [r for r in results if r["scenario"] == scenario["spec"]]
        for label, get in metrics:
            cells = [spread([get(r) for r in runs if r["target"] == n]) for n in names]
            ratio = ""
            if label == "acked msg/s":
                project = {
                    r["repeat"]: get(r) for r in runs if r["target"] == "project"
                }
                relay = {r["repeat"]: get(r) for r in runs if r["target"] == "relay"}
                ratio = spread([project[k] / relay[k] for k in project if relay.get(k)])
            lines.append(
                f"| {scenario['spec']} | {label} | "
                + " | ".join(cells)
                + f" | {ratio} |"
            )
    return "\n".join(lines)


SHOWN = (
    "target",
    "scenario",
    "repeat",
    "acked_per_second",
    "delivery_ms",
    "server_cpu_us_per_message",
    "server_cpu_share",
    "connect_seconds",
    "connect_cpu_ms_per_client",
    "loadgen_cpu_share",
    "lost",
    "flagged",
    "errors",
    "refused",
    "loadavg",
)


def record(
    result: dict[str, Any],
    target: str,
    scenario: dict[str, Any],
    repeat: int,
    database_url: str,
    results: list[dict[str, Any]],
) -> None:
    """Check the run's acknowledged ids against the database, keep it, show a line."""
    ids = result.pop("acked_ids")
    not_stored, flagged = (
        check_in_database(database_url, ids) if target == "project" else (0, 0)
    )
    result.update(
        target=target,
        scenario=scenario["spec"],
        repeat=repeat,
        not_stored=not_stored,
        flagged=flagged,
        lost=not_stored + result["acked_not_delivered_count"],
        loadavg=round(os.getloadavg()[0], 2),
    )
    results.append(result)
    print(json.dumps({k: result[k] for k in SHOWN}), file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--mode", default="eventlet", choices=("eventlet", "gevent"))
    parser.add_argument("--scenario", action="append", help="repeatable")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--server-cpus", default="0")
    parser.add_argument("--loadgen-cpus", default="1")
    parser.add_argument("--no-relay", action="store_true")
    parser.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also run the project checked out at PATH (e.g. `git archive` of main)",
    )
    parser.add_argument(
        "--server-env", action="append", default=[], help="KEY=VALUE for run.py"
    )
    parser.add_argument("--out", type=Path, help="write every run here (JSON)")
    parser.add_argument(
        "--profile", type=Path, help="py-spy the project's first process into this file"
    )
    parser.add_argument("--samples-dir", type=Path, help="open-loop latency samples")
    args = parser.parse_args()
    scenarios = [parse_scenario(s) for s in (args.scenario or DEFAULT_SCENARIOS)]
    if args.server_cpus == "none":
        args.server_cpus = None
    if args.loadgen_cpus == "none":
        args.loadgen_cpus = None

    workdir = Path(tempfile.mkdtemp(prefix="perf-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    jwt_secret = secrets.token_urlsafe(48)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED_NOT)}
    project_env = {
        **base_env,
        "CYBERSCAN_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": jwt_secret,
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": "false",
        # Benign text only; a stray flag must not block a bench user mid-run.
        "MAX_BULLYING_COUNT": "1000000",
        "LOG_LEVEL": "WARNING",
        "SOCKETIO_ASYNC_MODE": args.mode,
        "HOST": "127.0.0.1",
        "REDIS_URL": "",
        "PYTHONUNBUFFERED": "1",
    }
    if args.processes > 1:
        project_env["REDIS_URL"] = args.redis_url
        project_env["SOCKETIO_CHANNEL"] = f"perf-bench-{uuid.uuid4().hex}"
    for item in args.server_env:
        key, _, value = item.partition("=")
        project_env[key] = value
    log = workdir / "servers.log"
    servers: list[Server] = []
    profiler: subprocess.Popen[bytes] | None = None
    results: list[dict[str, Any]] = []
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    try:
        project = [
            start_server(
                f"project-{i}",
                [sys.executable, "run.py"],
                project_env,
                log,
                args.server_cpus,
            )
            for i in range(args.processes)
        ]
        servers.extend(project)
        compared: list[tuple[str, list[Server], str]] = []
        for item in args.compare:
            name, _, path = item.partition("=")
            env = {**project_env}
            if args.processes > 1:
                env["SOCKETIO_CHANNEL"] = f"perf-bench-{uuid.uuid4().hex}"
            group = [
                start_server(
                    f"{name}-{i}",
                    [sys.executable, str(Path(path) / "run.py")],
                    env,
                    log,
                    args.server_cpus,
                    cwd=Path(path),
                )
                for i in range(args.processes)
            ]
            servers.extend(group)
            compared.append((name, group, "token"))
        relay: list[Server] = []
        if not args.no_relay:
            relay_env = {**base_env, "SOCKETIO_ASYNC_MODE": args.mode}
            relay = [
                start_server(
                    "relay",
                    [sys.executable, str(BENCH / "bare_relay.py")],
                    relay_env,
                    log,
                    args.server_cpus,
                )
            ]
            servers.extend(relay)
        if args.profile:
            profiler = subprocess.Popen(
                pinned(
                    args.loadgen_cpus,
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(project[0].process.pid),
                        "--format",
                        "raw",
                        "--rate",
                        "50",
                        "--nonblocking",
                        "--output",
                        str(args.profile),
                    ],
                ),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        prefix = f"b{uuid.uuid4().hex[:6]}u"
        users = seed_users(database_url, max(s["clients"] for s in scenarios), prefix)
        mint_tokens(users, jwt_secret)
        targets = [("project", project, "token"), *compared]
        if relay:
            targets.append(("relay", relay, "name"))
        groups: dict[int, list[dict[str, Any]]] = {}
        for scenario in scenarios:
            groups.setdefault(scenario["clients"], []).append(scenario)
        for repeat in range(args.repeats):
            order = targets if repeat % 2 == 0 else list(reversed(targets))
            for group in groups.values():
                for name, target_servers, auth_key in order:
                    samples = {}
                    if args.samples_dir:
                        args.samples_dir.mkdir(parents=True, exist_ok=True)
                        samples = {
                            s["spec"]: args.samples_dir
                            / f"{args.mode}-{name}-{s['spec'].replace(':', '_')}-r{repeat}.json"
                            for s in group
                            if s["mode"] == "open"
                        }
                    outcomes = run_load(
                        args, group, target_servers, users, auth_key, samples
                    )
                    for scenario, result in zip(group, outcomes, strict=True):
                        record(result, name, scenario, repeat, database_url, results)
                    if args.out:
                        args.out.write_text(json.dumps({"runs": results}, indent=1))
    finally:
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(timeout=60)
        stop(servers)
    summary = {
        "started": started.isoformat(),
        "mode": args.mode,
        "database": database_url.split(":", 1)[0],
        "processes": args.processes,
        "server_cpus": args.server_cpus,
        "loadgen_cpus": args.loadgen_cpus,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "server_env": args.server_env,
        "runs": results,
    }
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))
    print(
        f"mode {args.mode}, {summary['database']}, {args.processes} process(es), "
        f"{args.repeats} repeat(s); load average before {load_before[0]:.2f}, "
        f"after {summary['loadavg_after'][0]:.2f}"
    )
    names = ["project", *(item.partition("=")[0] for item in args.compare)]
    if not args.no_relay:
        names.append("relay")
    print(table(results, scenarios, names))
    lost = sum(r["lost"] for r in results)
    flagged = sum(r.get("flagged", 0) for r in results)
    if flagged:
        print(
            f"FLAGGED: the model flagged {flagged} acknowledged message(s); they took "
            "the flagged path (strike, row lock), not the hot path measured here"
        )
    if lost:
        print(f"LOST: {lost} acknowledged message(s) not stored or not delivered")
        sys.exit(1)


if __name__ == "__main__":
    main()

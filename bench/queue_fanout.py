"""What the Redis queue costs each process for traffic it does not deliver: the stock
route against the routed one (cyberscan/live/route.py), side by side.

The stock queue publishes every emit on one channel, and every process receives and
decodes every emit, whether or not it holds a recipient. The routed queue publishes an
emit to one user only to the processes that presence says hold that user's
connections. This starts `--subscribers` processes, each a python-socketio server on
the queue (the project's client manager for the route, threading mode) holding no
socket; the first one is registered in presence as holding the receiver. One more
process publishes `--messages` receive_message emits (the project's payload) to that
user's room. Between a `bench_start` and a `bench_end` broadcast each subscriber reads
its own CPU; the publisher reads its own and the Redis server's (from /proc/<pid>/stat;
Redis must be local). Reported per emit: publisher, holder, each idle process, Redis.

    .venv/bin/python bench/queue_fanout.py --route shared process \\
        --subscribers 1 4 8 --messages 20000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import redis
import socketio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cyberscan.live import route  # noqa: E402
from cyberscan.live.presence import RedisPresence  # noqa: E402

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
RECEIVER_ID = 4242
PAYLOAD = {
    "id": "3f2b8a4e-5c1d-4e7f-9a0b-1c2d3e4f5a6b",
    "sender": "alice",
    "receiver": "bob",
    "message": "thanks for the notes see you at lunch tomorrow",
    "timestamp": "2026-11-30T10:00:00.000Z",
    "is_bullying": False,
    "bullying_probability": 0.031,
    "is_read": False,
    "client_id": "c-1",
    "status": "delivered",
}


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def manager(url: str, channel: str, kind: str, prefix: str, **kwargs: Any) -> Any:
    """The client manager of one route; the routed one with a presence registry."""
    if kind == "shared":
        return socketio.RedisManager(url, channel=channel, **kwargs)
    registry = RedisPresence(url, prefix)
    return route.RoutedRedisManager(
        url, channel=channel, registry=lambda: registry, **kwargs
    )


def subscribe(url: str, channel: str, kind: str, prefix: str, hold: bool) -> None:
    """A process on the queue with no socket: print its process id, count emits
    between bench_start and bench_end, then print the CPU it spent meanwhile."""
    queue = manager(url, channel, kind, prefix)
    server = socketio.Server(client_manager=queue, async_mode="threading")
    if kind == "process":
        registry = queue.registry()
        if hold:
            registry.add(RECEIVER_ID, f"bench-{uuid.uuid4().hex}")
        print(registry.process_id, flush=True)
    else:
        print(uuid.uuid4().hex, flush=True)
    seen = {"n": 0, "cpu": 0.0}
    handle = queue._handle_emit

    def counting(message: dict[str, Any]) -> None:
        event = message.get("event")
        if event == "bench_start":
            seen["cpu"] = cpu_seconds(os.getpid())
        elif event == "bench_end":
            used = cpu_seconds(os.getpid()) - seen["cpu"]
            print(json.dumps({"cpu_s": used, "handled": seen["n"]}), flush=True)
            if kind == "process":
                queue.registry().forget_process()
            os._exit(0)
        else:
            seen["n"] += 1
            handle(message)

    queue._handle_emit = counting
    server.manager_initialized = True
    queue.initialize()
    while True:
        time.sleep(1)


def wait_subscribed(client: redis.Redis, channels: dict[str, int]) -> None:
    deadline = time.monotonic() + 60
    for channel, count in channels.items():
        while client.pubsub_numsub(channel)[0][1] < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"subscribers did not subscribe to {channel}")
            time.sleep(0.1)


def run(args: argparse.Namespace, kind: str, count: int) -> dict[str, Any]:
    client = redis.Redis.from_url(args.redis_url)
    redis_pid = int(client.info("server")["process_id"])
    channel = f"fanout-{uuid.uuid4().hex}"
    prefix = f"cyberscan:presence:{channel}"
    subs = [
        subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--redis-url",
                args.redis_url,
                "--subscribe",
                channel,
                kind,
                "hold" if i == 0 else "idle",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    try:
        pids = [sub.stdout.readline().strip() for sub in subs]  # type: ignore[union-attr]
        wanted = {channel: count}
        if kind == "process":
            wanted.update({route.process_channel(channel, pid): 1 for pid in pids})
            # Past the warm-up after a (first) start: routed from the first emit.
            client.set(f"{prefix}:route:epoch", "1")
        wait_subscribed(client, wanted)
        publisher = manager(args.redis_url, channel, kind, prefix, write_only=True)
        room = f"user:{RECEIVER_ID}"
        publisher.emit("bench_start", {}, namespace="/")
        mine, theirs = cpu_seconds(os.getpid()), cpu_seconds(redis_pid)
        started = time.perf_counter()
        for _ in range(args.messages):
            publisher.emit("receive_message", PAYLOAD, room=room, namespace="/")
        elapsed = time.perf_counter() - started
        published_us = (cpu_seconds(os.getpid()) - mine) * 1e6 / args.messages
        publisher.emit("bench_end", {}, namespace="/")
        reports = [
            json.loads(sub.communicate(timeout=600)[0].strip().splitlines()[-1])
            for sub in subs
        ]
        redis_us = (cpu_seconds(redis_pid) - theirs) * 1e6 / args.messages
    finally:
        for sub in subs:
            if sub.poll() is None:
                sub.kill()
        client.delete(f"{prefix}:route:epoch", f"{prefix}:route:warm")
    per_emit = [round(r["cpu_s"] * 1e6 / args.messages, 1) for r in reports]
    return {
        "route": kind,
        "subscribers": count,
        "emits": args.messages,
        "publish_per_s": round(args.messages / elapsed),
        "publisher_cpu_us_per_emit": round(published_us, 1),
        "holder_cpu_us_per_emit": per_emit[0],
        "holder_handled": reports[0]["handled"],
        "idle_cpu_us_per_emit": sorted(per_emit[1:]),
        "idle_handled": sorted(r["handled"] for r in reports[1:]),
        "redis_cpu_us_per_emit": round(redis_us, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument(
        "--route", nargs="+", choices=("shared", "process"), default=["shared"]
    )
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--subscribe", nargs=3, metavar=("CHANNEL", "ROUTE", "ROLE"))
    args = parser.parse_args()
    if args.subscribe:
        channel, kind, role = args.subscribe
        prefix = f"cyberscan:presence:{channel}"
        subscribe(args.redis_url, channel, kind, prefix, role == "hold")
        return
    print(f"load average: {os.getloadavg()}", file=sys.stderr, flush=True)
    for count in args.subscribers:
        # Interleaved: the routes of one N run back to back, under the same load.
        for kind in args.route:
            print(json.dumps(run(args, kind, count)), flush=True)


if __name__ == "__main__":
    main()

"""What the stock Redis queue costs each process for traffic it does not deliver.

Flask-SocketIO's Redis message queue publishes every emit on one channel, and every
process receives and decodes every emit, whether or not it holds a recipient. This
starts `--subscribers` processes, each a python-socketio server on the queue with no
client at all, publishes `--messages` receive_message emits (the project's payload)
from one more process, and reports per emit: the publisher's CPU, each subscriber's
CPU and the Redis server's CPU (from /proc/<pid>/stat; Redis must be local).

    .venv/bin/python bench/queue_fanout.py --subscribers 1 4 8 --messages 20000
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

import redis
import socketio

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
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


def subscribe(url: str, channel: str, expected: int) -> None:
    """A process on the queue with no clients: count emits, report CPU per emit."""
    server = socketio.Server(
        client_manager=socketio.RedisManager(url, channel=channel),
        async_mode="threading",
    )
    manager = server.manager
    seen = {"n": 0, "start": 0.0}
    handle = manager._handle_emit

    def counting(message: dict) -> None:
        if seen["n"] == 0:
            seen["start"] = cpu_seconds(os.getpid())
        seen["n"] += 1
        handle(message)
        if seen["n"] == expected:
            used = cpu_seconds(os.getpid()) - seen["start"]
            print(json.dumps({"subscriber_us": used * 1e6 / expected}), flush=True)
            os._exit(0)

    manager._handle_emit = counting
    manager.initialize()
    while True:
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--subscribe", nargs=2, metavar=("CHANNEL", "N"))
    args = parser.parse_args()
    if args.subscribe:
        subscribe(args.redis_url, args.subscribe[0], int(args.subscribe[1]))
        return
    client = redis.Redis.from_url(args.redis_url)
    redis_pid = int(client.info("server")["process_id"])
    for count in args.subscribers:
        channel = f"fanout-{uuid.uuid4().hex}"
        subs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--redis-url",
                    args.redis_url,
                    "--subscribe",
                    channel,
                    str(args.messages),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]
        deadline = time.monotonic() + 60
        while client.pubsub_numsub(channel)[0][1] < count:
            if time.monotonic() > deadline:
                raise SystemExit("subscribers did not subscribe")
            time.sleep(0.1)
        publisher = socketio.RedisManager(
            args.redis_url, channel=channel, write_only=True
        )
        mine, theirs = cpu_seconds(os.getpid()), cpu_seconds(redis_pid)
        started = time.perf_counter()
        for i in range(args.messages):
            publisher.emit("receive_message", PAYLOAD, room=f"user:{i}", namespace="/")
        elapsed = time.perf_counter() - started
        published_us = (cpu_seconds(os.getpid()) - mine) * 1e6 / args.messages
        reports = [json.loads(sub.communicate(timeout=600)[0]) for sub in subs]
        redis_us = (cpu_seconds(redis_pid) - theirs) * 1e6 / args.messages
        print(
            json.dumps(
                {
                    "subscribers": count,
                    "emits": args.messages,
                    "publish_per_s": round(args.messages / elapsed),
                    "publisher_cpu_us_per_emit": round(published_us, 1),
                    "subscriber_cpu_us_per_emit": sorted(
                        round(r["subscriber_us"], 1) for r in reports
                    ),
                    "redis_cpu_us_per_emit": round(redis_us, 1),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()

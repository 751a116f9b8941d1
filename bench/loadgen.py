"""Socket.IO load generator: raw Engine.IO/Socket.IO frames over websockets, asyncio.

Reads a job (JSON, from a file or stdin) naming the clients: each connects with its own
`auth` payload and sends `send_message` to its `target`. Closed loop: every client keeps
`window` messages in flight. Open loop: `rate` messages per second in total, spread
evenly over the clients, whatever the server answers (latency is measured from the
scheduled send time, so a slow server cannot hide its queue). Prints one JSON line:
acknowledged messages per second in the measured window, latency percentiles from send
to the acknowledgement and to `receive_message` at the receiver, the server's CPU per
acknowledged message (from /proc/<pid>/stat), and the acknowledged/delivered ids for a
loss check against the database.

    .venv/bin/python bench/loadgen.py job.json

Costs little per message: frames are matched on their prefix and only the ones that
matter are decoded; no Socket.IO client library runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
RECEIVE_PREFIX = '42["receive_message"'
# Everyday sentences; a message is one to three of them. Whole sentences, not words
# drawn at random: a word salad such as "the you your you" reads as abuse to a model,
# and a flagged message takes the flagged path (strike, row lock), not the hot path.
SENTENCES = (
    "thanks for the notes",
    "see you at lunch tomorrow",
    "the train was late again",
    "did you finish the report",
    "I will call you after the meeting",
    "great game last night",
    "happy birthday to your sister",
    "can you send me the photos",
    "let us meet at the library at five",
    "the weather is lovely today",
    "good luck with the exam",
    "my bus is running ten minutes behind",
)


def server_cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the server processes (clock ticks -> seconds)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICK


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p90/p99/p99.9/max in milliseconds."""
    if not values:
        return {"p50": None, "p90": None, "p99": None, "p999": None, "max": None}
    ordered = sorted(values)
    last = len(ordered) - 1

    def at(q: float) -> float:
        return round(ordered[min(last, int(q * len(ordered)))] * 1000, 2)

    return {
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "p999": at(0.999),
        "max": round(ordered[-1] * 1000, 2),
    }


@dataclass
class Sent:
    """One message: when it was due, acknowledged and delivered."""

    due: float
    sender: int
    ack_at: float | None = None
    message_id: str | None = None
    delivered_at: float | None = None
    error: str | None = None


@dataclass
class Client:
    index: int
    url: str
    auth: dict[str, Any]
    name: str
    target: str
    ws: ClientConnection | None = None
    acks: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    next_ack: int = 0
    refused: str | None = None


class Run:
    """The state of one load run, shared by every client's reader."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        self.tag = job.get("tag") or f"{random.getrandbits(40):x}"
        self.clients = [
            Client(i, c["url"], c["auth"], c["name"], c["target"])
            for i, c in enumerate(job["clients"])
        ]
        self.sent: dict[str, Sent] = {}
        self.seq = 0
        self.stopping = False
        self.frames_in = 0
        self.unexpected: dict[str, int] = {}
        self.texts = [
            ". ".join(
                random.Random(i).sample(SENTENCES, random.Random(i).randint(1, 3))
            )
            for i in range(256)
        ]

    async def open(self, client: Client) -> None:
        url = (
            client.url.replace("http", "ws", 1)
            + "/socket.io/?EIO=4&transport=websocket"
        )
        ws = await connect(
            url,
            compression=None,
            ping_interval=None,
            max_size=None,
            open_timeout=120,
            close_timeout=2,
        )
        opening = await ws.recv()
        if not str(opening).startswith("0"):
            raise RuntimeError(f"unexpected Engine.IO open: {opening!r}")
        await ws.send("40" + json.dumps(client.auth))
        while True:
            frame = str(await ws.recv())
            if frame == "2":
                await ws.send("3")
            elif frame.startswith("40"):
                break
            elif frame.startswith("44"):
                client.refused = frame[2:]
                await ws.close()
                return
        client.ws = ws
        asyncio.get_running_loop().create_task(self.read(client))

    async def read(self, client: Client) -> None:
        """Answer pings, resolve acks, time deliveries; everything else is skipped."""
        ws = client.ws
        assert ws is not None
        try:
            async for frame in ws:
                self.frames_in += 1
                if frame.startswith(RECEIVE_PREFIX):
                    now = time.perf_counter()
                    payload = json.loads(frame[2:])[1]
                    if payload.get("receiver") != client.name:
                        continue  # the sender's other devices get a copy too
                    sent = self.sent.get(payload.get("client_id"))
                    if sent is not None and sent.delivered_at is None:
                        sent.delivered_at = now
                elif frame.startswith("43"):
                    now = time.perf_counter()
                    cut = frame.index("[")
                    future = client.acks.pop(int(frame[2:cut]), None)
                    if future is not None and not future.done():
                        future.set_result((now, json.loads(frame[cut:])[0]))
                elif frame == "2":
                    await ws.send("3")
                elif frame.startswith("41"):
                    break
        except ConnectionClosed:
            pass
        for future in client.acks.values():
            if not future.done():
                future.set_exception(ConnectionError("connection closed"))

    async def send(self, client: Client, due: float) -> None:
        """One send_message with an ack; records when it was acknowledged."""
        ws = client.ws
        assert ws is not None
        self.seq += 1
        client_id = f"{self.tag}-{client.index}-{self.seq}"
        record = Sent(due=due, sender=client.index)
        self.sent[client_id] = record
        ack_id = client.next_ack
        client.next_ack += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        client.acks[ack_id] = future
        body = {
            "receiver": client.target,
            "message": self.texts[self.seq & 255],
            "client_id": client_id,
        }
        try:
            await ws.send(f"42{ack_id}" + json.dumps(["send_message", body]))
            at, answer = await asyncio.wait_for(future, self.job.get("ack_timeout", 60))
        except (TimeoutError, ConnectionError, ConnectionClosed) as exc:
            client.acks.pop(ack_id, None)
            record.error = type(exc).__name__
            return
        if isinstance(answer, dict) and answer.get("ok"):
            record.ack_at = at
            record.message_id = (answer.get("data") or {}).get("id")
        else:
            record.error = (
                answer.get("error") if isinstance(answer, dict) else repr(answer)
            )

    async def closed_loop(self, client: Client, until: float) -> None:
        while not self.stopping and time.perf_counter() < until:
            await self.send(client, time.perf_counter())

    async def open_loop(self, rate: float, until: float) -> list[asyncio.Task[None]]:
        """Send `rate` messages per second round-robin over the clients, on schedule."""
        live = [c for c in self.clients if c.ws is not None]
        interval = 1.0 / rate
        tasks: list[asyncio.Task[None]] = []
        loop = asyncio.get_running_loop()
        due = time.perf_counter()
        turn = 0
        while due < until:
            now = time.perf_counter()
            while due <= now and due < until:
                client = live[turn % len(live)]
                turn += 1
                tasks.append(loop.create_task(self.send(client, due)))
                due += interval
            await asyncio.sleep(max(0.0, min(due - time.perf_counter(), 0.005)))
        return tasks


async def connect_all(run: Run, concurrency: int) -> float:
    """Open every client, `concurrency` handshakes at a time; answers the seconds taken."""
    gate = asyncio.Semaphore(concurrency)

    async def one(client: Client) -> None:
        async with gate:
            try:
                await run.open(client)
            except (OSError, TimeoutError, RuntimeError, WebSocketException) as exc:
                # A refused or dropped handshake is the server's answer under load:
                # count it, do not abort the run.
                client.refused = f"{type(exc).__name__}: {exc}"[:200]

    started = time.perf_counter()
    await asyncio.gather(*(one(c) for c in run.clients))
    return time.perf_counter() - started


async def measure(run: Run, phase: dict[str, Any], pids: list[int]) -> dict[str, Any]:
    """One measured phase over the connections already open."""
    run.sent = {}
    run.stopping = False
    live = [c for c in run.clients if c.ws is not None]
    reachable = {c.name for c in live}
    warmup, duration = phase.get("warmup", 2.0), phase.get("duration", 10.0)
    start = time.perf_counter()
    window_start, window_end = start + warmup, start + warmup + duration
    cpu_marks: dict[str, tuple[float, float]] = {}

    async def mark(name: str, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        cpu_marks[name] = (
            server_cpu_seconds(pids) if pids else 0.0,
            sum(os.times()[:2]),
        )

    markers = [
        asyncio.create_task(mark("start", window_start)),
        asyncio.create_task(mark("end", window_end)),
    ]
    if phase["mode"] == "closed":
        window = phase.get("window", 1)
        tasks = [
            asyncio.create_task(run.closed_loop(c, window_end))
            for c in live
            for _ in range(window)
        ]
    else:
        tasks = await run.open_loop(float(phase["rate"]), window_end)
    await asyncio.gather(*markers)
    run.stopping = True
    settle_until = time.perf_counter() + phase.get("settle", 60.0)
    pending = [t for t in tasks if not t.done()]
    if pending:
        await asyncio.wait(
            pending, timeout=max(0.1, settle_until - time.perf_counter())
        )
    by_index = {c.index: c for c in run.clients}

    def expected(sent: Sent) -> bool:
        return sent.ack_at is not None and by_index[sent.sender].target in reachable

    # Deliveries may trail their acks a little.
    while time.perf_counter() < settle_until and any(
        expected(s) and s.delivered_at is None for s in run.sent.values()
    ):
        await asyncio.sleep(0.05)

    in_window = [s for s in run.sent.values() if window_start <= s.due < window_end]
    acked_in_window = sum(
        1
        for s in run.sent.values()
        if s.ack_at and window_start <= s.ack_at < window_end
    )
    server_cpu = cpu_marks["end"][0] - cpu_marks["start"][0]
    own_cpu = cpu_marks["end"][1] - cpu_marks["start"][1]
    acked = {cid: s for cid, s in run.sent.items() if s.ack_at is not None}
    errors: dict[str, int] = {}
    for s in run.sent.values():
        if s.error:
            errors[s.error] = errors.get(s.error, 0) + 1
    delivery = [s.delivered_at - s.due for s in in_window if s.delivered_at is not None]
    ack_latency = [s.ack_at - s.due for s in in_window if s.ack_at is not None]
    if phase.get("samples"):
        with open(phase["samples"], "w") as handle:
            json.dump({"sent": len(in_window), "delivery_seconds": delivery}, handle)
    not_delivered = [
        cid for cid, s in acked.items() if expected(s) and not s.delivered_at
    ]
    return {
        "mode": phase["mode"],
        "clients": len(run.clients),
        "connected": len(live),
        "window_seconds": duration,
        "sent": len(run.sent),
        "acked": len(acked),
        "acked_per_second": round(acked_in_window / duration, 1),
        "offered_per_second": phase.get("rate"),
        "delivery_ms": percentiles(delivery),
        "ack_ms": percentiles(ack_latency),
        "sent_in_window": len(in_window),
        "unacked_in_window": sum(1 for s in in_window if s.ack_at is None),
        "server_cpu_share": round(server_cpu / duration, 3) if pids else None,
        "server_cpu_us_per_message": (
            round(server_cpu * 1e6 / acked_in_window)
            if pids and acked_in_window
            else None
        ),
        "loadgen_cpu_share": round(own_cpu / duration, 3),
        "errors": errors,
        "acked_not_delivered": not_delivered[:50],
        "acked_not_delivered_count": len(not_delivered),
        "acked_ids": [s.message_id for s in acked.values()],
    }


async def execute(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Connect every client once, then run each phase of the job over them."""
    run = Run(job)
    pids = [int(p) for p in job.get("server_pids", [])]
    cpu_before = server_cpu_seconds(pids) if pids else 0.0
    connect_seconds = await connect_all(run, job.get("connect_concurrency", 100))
    # Server CPU spent from the first handshake until every client is connected.
    connect_cpu_ms = (
        (server_cpu_seconds(pids) - cpu_before) * 1000 / max(1, len(run.clients))
        if pids
        else None
    )
    refused = sum(1 for c in run.clients if c.refused)
    # Let the connect storm's broadcasts (queued through Redis with several
    # processes) drain before measuring: wait until the servers idle.
    await asyncio.sleep(job.get("quiet", 1.0))
    if pids:
        deadline = time.perf_counter() + job.get("quiet_max", 180.0)
        while time.perf_counter() < deadline:
            before = server_cpu_seconds(pids)
            await asyncio.sleep(1.0)
            if server_cpu_seconds(pids) - before < 0.05 * len(pids):
                break
    results = []
    for phase in job["phases"]:
        result = await measure(run, phase, pids)
        result.update(
            connect_seconds=round(connect_seconds, 2),
            connect_cpu_ms_per_client=(
                round(connect_cpu_ms, 3) if connect_cpu_ms is not None else None
            ),
            refused=refused,
        )
        results.append(result)
    await asyncio.gather(
        *(c.ws.close() for c in run.clients if c.ws is not None),
        return_exceptions=True,
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", nargs="?", help="job JSON file (default: stdin)")
    args = parser.parse_args()
    if args.job:
        with open(args.job) as handle:
            job = json.load(handle)
    else:
        job = json.load(sys.stdin)
    print(json.dumps(asyncio.run(execute(job))))


if __name__ == "__main__":
    main()

"""Seeded fuzz of every REST endpoint and every socket event, shared by tests and bench.

Every generated case is one a correct server must refuse: a valid request with exactly
one hostile change (a value of the wrong type, a lone surrogate, an overlong or deeply
nested value, a missing required or unknown field, a body that is not a JSON object,
broken JSON, a wrong content type, a path naming nothing, a bad token). So the checks
are exact: never a 500, always the error envelope (or error ack), nothing stored, and
nothing logged with a traceback. A case is reproducible from (seed, target, index).
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from cyberscan.extensions import db
from cyberscan.models import Post
from cyberscan.services import auth

DEEP = "[" * 3000 + "]" * 3000
SURROGATES = ["\ud800", "a\udfffb", "\udc00\udc00", "ok \ud83d"]
# Invalid for every field of every schema (strings, strict booleans and integers,
# lists of strings, enums): wrong types, surrogates, overlong text.
HOSTILE_VALUES: list[Any] = [
    [],
    {},
    [1],
    [None],
    {"$gt": ""},
    1.5,
    -1e308,
    *SURROGATES,
    "x" * 100_001,
    [["x"] * 3],
]
RAW_BODIES = [
    "{",
    '{"a":',
    "[1,2",
    "nul",
    '{"a" 1}',
    "\xff\xfe",
    DEEP,
    '{"a":' + DEEP + "}",
    '"\\ud800"',
    "1e99999",
    "[]",
    "[{}]",
    '"text"',
    "42",
    "null",
    "true",
]
PATH_VALUES = [
    "999999",
    "0",
    "-1",
    "99999999999999999999999",
    "nobody_here",
    "%ED%A0%80",
    "%00",
    "x%27%3B%20DROP%20TABLE%20users%3B--",
    "..%2F..%2Fetc%2Fpasswd",
    "%F0%9F%98%80",
    "a" * 300,
]
BAD_TOKENS = [
    "",
    "Bearer ",
    "Bearer x",
    "Bearer a.b.c",
    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    "Basic dXNlcjpwYXNz",
    "Bearer \xed\xa0\x80",
]
QUERY_JUNK = [
    "limit=0",
    "limit=101",
    "limit=abc",
    "limit=-5",
    "limit=1e9",
    "cursor=not-a-cursor",
    "cursor=%00%00",
    "cursor=" + "A" * 300,
    "after=%ED%A0%80",
    "unknown=1",
    "limit=1&limit=2",
    "q=%ED%A0%80",
    "status=weird",
    "hours=-1",
]
ERROR_KEYS = {"code", "status", "error", "message"}


@dataclass(frozen=True)
class Template:
    """A valid request body and which of its fields are required."""

    body: dict[str, Any]
    required: tuple[str, ...] = ()


# Valid bodies, keyed by (method, OpenAPI path). Endpoints not listed get hostile
# paths, queries and tokens only.
BODY_TEMPLATES: dict[tuple[str, str], Template] = {
    ("post", "/api/post"): Template({"content": "hello there"}, ("content",)),
    ("post", "/api/comment/{post_id}"): Template({"content": "nice"}, ("content",)),
    ("post", "/api/chat/messages/{username}"): Template(
        {"message": "hi", "client_id": "c-1"}, ("message",)
    ),
    ("post", "/api/register"): Template(
        {
            "username": "freshuser",
            "email": "fresh@example.com",
            "password": "long pw 123",
        },
        ("username", "email", "password"),
    ),
    ("post", "/api/login"): Template(
        {"username": "fuzz_user", "password": "not the password"}, ("password",)
    ),
    ("post", "/admin/login"): Template(
        {"username": "fuzz_user", "password": "not the password"}, ("password",)
    ),
    ("post", "/api/admin/users/{username}/block"): Template({"reason": "r"}),
    ("post", "/api/admin/users/{username}/unblock"): Template(
        {"reason": "r", "reset_count": True}
    ),
    ("post", "/api/admin/users/{username}/mute"): Template(
        {"minutes": 5, "reason": "r"}, ("minutes",)
    ),
    ("post", "/api/admin/users/{username}/kick"): Template({"reason": "r"}),
    ("post", "/api/admin/flagged/{flag_id}/review"): Template(
        {"action": "dismiss"}, ("action",)
    ),
}
# Never called with a working token: they would end the session the fuzz runs on.
AUTH_ONLY_HOSTILE = {"/api/logout", "/api/token/refresh", "/admin/logout"}
PUBLIC = {"/api/register", "/api/login", "/admin/login", "/api/health"}

EVENT_TEMPLATES: dict[str, Template] = {
    "send_message": Template(
        {"receiver": "fuzz_peer", "message": "hi", "client_id": "s-1"},
        ("receiver", "message"),
    ),
    "typing": Template(
        {"receiver": "fuzz_peer", "is_typing": True}, ("receiver", "is_typing")
    ),
    "mark_as_read": Template({"message_ids": ["m-1"]}, ("message_ids",)),
}
EVENT_RECEIVER_JUNK = ["nobody_here", "fuzz_user", "", " ", "FUZZ_PEER\x00"]


@dataclass
class Case:
    """One request: what it is, and whether it must be refused (a mutating call)."""

    label: str
    method: str
    url: str
    headers: dict[str, str]
    data: bytes | str | None = None
    json_body: Any = None
    content_type: str | None = None


@dataclass
class Tally:
    """Counts per target, and the first failures (each reproducible by its label)."""

    cases: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, dict[int | str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    tracebacks: int = 0
    server_errors: int = 0
    seconds: float = 0.0

    def count(self, target: str, outcome: int | str) -> None:
        self.cases[target] = self.cases.get(target, 0) + 1
        bucket = self.statuses.setdefault(target, {})
        bucket[outcome] = bucket.get(outcome, 0) + 1

    def fail(self, message: str) -> None:
        if len(self.failures) < 50:
            self.failures.append(message)

    def table(self) -> str:
        """A summary table: cases and outcomes per target."""
        rows = [f"{'target':58} {'cases':>7}  outcomes"]
        for target in sorted(self.cases):
            outcomes = ", ".join(
                f"{k}:{v}" for k, v in sorted(self.statuses[target].items(), key=str)
            )
            rows.append(f"{target[:58]:58} {self.cases[target]:>7}  {outcomes}")
        rows.append(
            f"{'total':58} {sum(self.cases.values()):>7}  server errors: "
            f"{self.server_errors}, tracebacks: {self.tracebacks}, "
            f"failures: {len(self.failures)}, {self.seconds:.1f} s"
        )
        return "\n".join(rows)


class TracebackCounter(logging.Handler):
    """Counts log records that carry a traceback or sit at ERROR and above."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.records.append(record)

    def __enter__(self) -> TracebackCounter:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)


def rng_for(seed: int, target: str) -> random.Random:
    return random.Random(zlib.crc32(f"{seed}:{target}".encode()))


def row_counts() -> dict[str, int]:
    """Rows per table (inside an app context)."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def mutate(rng: random.Random, template: Template) -> tuple[str, Any]:
    """One hostile change to a valid body; answers (what changed, the body)."""
    body = dict(template.body)
    kinds = ["replace", "unknown", "whole"] + (["remove"] if template.required else [])
    kind = rng.choice(kinds)
    if kind == "replace" and body:
        name = rng.choice(sorted(body))
        body[name] = rng.choice(HOSTILE_VALUES)
        return f"replace {name}", body
    if kind == "remove" and template.required:
        name = rng.choice(template.required)
        body.pop(name, None)
        return f"remove {name}", body
    if kind == "whole":
        return "whole", rng.choice([[], [body], "text", 7, True])
    name = rng.choice(["sender_id", "is_admin", "id", "author", "status", "x" * 40])
    body[name] = rng.choice([1, True, "admin", None])
    return f"unknown {name[:10]}", body


def endpoints(client: Any) -> list[tuple[str, str]]:
    """Every operation in the OpenAPI document, plus the dashboard's login doors."""
    spec = client.get("/api/openapi.json").get_json()
    found = {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    found.add(("post", "/admin/login"))
    return sorted(found)


def fill_path(path: str, real: dict[str, str], hostile: str | None) -> str:
    """Path parameters: the real ones (so bodies get parsed), or one hostile value."""

    def value(match: re.Match[str]) -> str:
        return hostile if hostile is not None else real.get(match.group(1), "1")

    return re.sub(r"\{([^}]+)\}", value, path)


def rest_cases(
    seed: int,
    method: str,
    path: str,
    count: int,
    tokens: dict[str, str],
    real: dict[str, str],
) -> Iterator[Case]:
    """`count` hostile requests to one endpoint, reproducible from the seed."""
    rng = rng_for(seed, f"{method} {path}")
    template = BODY_TEMPLATES.get((method, path))
    token = tokens["admin"] if "/admin/" in path else tokens["user"]
    has_params = "{" in path
    for index in range(count):
        label = f"seed={seed} {method.upper()} {path} #{index}"
        headers = {"Authorization": f"Bearer {token}"}
        url = fill_path(path, real, None)
        data = json_body = content_type = None
        choices = ["token"] if path not in PUBLIC else []
        if has_params:
            choices.append("path")
        if template is not None:
            choices += ["body"] * 4 + ["raw", "content_type"]
        elif method == "get":
            choices += ["query"] * 2
        if path in AUTH_ONLY_HOSTILE or not choices:
            choices = ["token"]
        kind = rng.choice(choices)
        if kind == "token":
            wrong_kind = [] if path == "/api/token/refresh" else [tokens["refresh"]]
            bad = rng.choice(BAD_TOKENS + wrong_kind)
            headers = {
                "Authorization": bad if " " in bad or not bad else f"Bearer {bad}"
            }
            json_body = template.body if template else None
        elif kind == "path":
            url = fill_path(path, real, rng.choice(PATH_VALUES))
            json_body = template.body if template else None
        elif kind == "body":
            change, json_body = mutate(rng, template)
            kind = change
        elif kind == "raw":
            data, content_type = rng.choice(RAW_BODIES), "application/json"
        elif kind == "content_type":
            data = json.dumps(template.body)
            content_type = rng.choice(
                [
                    "text/plain",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                ]
            )
        elif kind == "query":
            url += "?" + "&".join(rng.sample(QUERY_JUNK, rng.randint(1, 3)))
        if path in PUBLIC:
            headers.pop("Authorization", None) if kind != "token" else None
        yield Case(
            f"{label} {kind}",
            method.upper(),
            url,
            headers,
            data,
            json_body,
            content_type,
        )


def check_response(case: Case, response: Any, tally: Tally, target: str) -> None:
    status = response.status_code
    tally.count(target, status)
    text = response.get_data(as_text=True)
    if status >= 500 and status != 503:
        tally.server_errors += 1
        tally.fail(f"{status} {case.label}: {text[:200]}")
        return
    if "Traceback" in text:
        tally.fail(f"traceback in body {case.label}")
    if case.method != "GET" and status < 400:
        tally.fail(f"{status} accepted {case.label}")
    if status >= 400 and response.mimetype == "application/json":
        body = response.get_json(silent=True)
        if not isinstance(body, dict) or not ERROR_KEYS <= body.keys():
            tally.fail(
                f"{status} without the error envelope {case.label}: {text[:200]}"
            )
    elif status >= 400:
        tally.fail(f"{status} not JSON ({response.mimetype}) {case.label}")


def run_rest(
    app: Any,
    client: Any,
    tokens: dict[str, str],
    real: dict[str, str],
    seed: int,
    per_endpoint: int,
    tally: Tally | None = None,
    only: re.Pattern[str] | None = None,
) -> Tally:
    """Fuzz every endpoint (or those `only` matches, as "METHOD /path"); the app runs
    with TESTING off so bugs become 500s."""
    tally = tally or Tally()
    started = time.monotonic()
    app.config["TESTING"] = False
    with app.app_context():
        before = row_counts()
    with TracebackCounter() as logged:
        for method, path in endpoints(client):
            target = f"{method.upper()} {path}"
            if only is not None and not only.search(target):
                continue
            for case in rest_cases(seed, method, path, per_endpoint, tokens, real):
                response = client.open(
                    case.url,
                    method=case.method,
                    headers=case.headers,
                    data=case.data,
                    json=case.json_body,
                    content_type=case.content_type,
                )
                check_response(case, response, tally, target)
    with app.app_context():
        after = row_counts()
        db.session.remove()
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    if changed:
        tally.fail(f"rows changed by refused requests: {changed}")
    tally.tracebacks += len(logged.records)
    for record in logged.records[:5]:
        tally.fail(f"logged: {record.getMessage()[:200]}")
    tally.seconds += time.monotonic() - started
    return tally


def event_cases(
    seed: int, event: str, count: int
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """`count` hostile argument lists for one socket event."""
    rng = rng_for(seed, f"event {event}")
    template = EVENT_TEMPLATES[event]
    for index in range(count):
        label = f"seed={seed} {event} #{index}"
        kind = rng.choice(["body"] * 6 + ["args", "receiver"])
        if kind == "args":
            args: tuple[Any, ...] = rng.choice(
                [(), (template.body, template.body), (template.body, 1)]
            )
        elif kind == "receiver" and "receiver" in template.body:
            args = ({**template.body, "receiver": rng.choice(EVENT_RECEIVER_JUNK)},)
        else:
            kind, body = mutate(rng, template)
            args = (body,)
        yield f"{label} {kind}", args


def run_events(
    app: Any,
    sio: Any,
    seed: int,
    per_event: int,
    tally: Tally | None = None,
    send: Callable[[Any, str, tuple[Any, ...]], Any] | None = None,
) -> Tally:
    """Fuzz every socket event through a connected test client."""
    tally = tally or Tally()
    started = time.monotonic()
    send = send or (
        lambda client, event, args: client.emit(event, *args, callback=True)
    )
    with app.app_context():
        before = row_counts()
    with TracebackCounter() as logged:
        for event in EVENT_TEMPLATES:
            for label, args in event_cases(seed, event, per_event):
                try:
                    ack = send(sio, event, args)
                except Exception as exc:  # noqa: BLE001  a crash is what we count
                    tally.count(event, "raised")
                    tally.server_errors += 1
                    tally.fail(f"raised {exc!r} {label}")
                    continue
                outcome = ack.get("error", "ok") if isinstance(ack, dict) else "no ack"
                tally.count(event, outcome)
                if outcome in {"no ack", "internal_error"}:
                    tally.server_errors += 1
                    tally.fail(f"{outcome} {label}")
                elif outcome == "ok":
                    tally.fail(f"accepted {label}")
                elif not isinstance(ack.get("message"), str):
                    tally.fail(f"ack without a message {label}: {ack}")
                if not sio.is_connected():
                    tally.fail(f"disconnected by {label}")
                    break
    with app.app_context():
        after = row_counts()
        db.session.remove()
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    if changed:
        tally.fail(f"rows changed by refused events: {changed}")
    tally.tracebacks += len(logged.records)
    for record in logged.records[:5]:
        tally.fail(f"logged: {record.getMessage()[:200]}")
    tally.seconds += time.monotonic() - started
    return tally


FRAME_NAMES: list[Any] = [
    "connect",
    "disconnect",
    "message",
    "json",
    "*",
    "",
    "no_such_event",
    "send_message",
    "typing",
    "mark_as_read",
    "\ud800",
    7,
    None,
    True,
    {"a": 1},
    ["send_message"],
]


def frame_cases(seed: int, count: int) -> Iterator[tuple[str, str, bool]]:
    """Raw Socket.IO packets: (label, packet, whether an ack must come back)."""
    rng = rng_for(seed, "frames")
    for index in range(count):
        ack_id = rng.randint(1, 10**6)
        kind = rng.choice(["event"] * 5 + ["data", "broken", "deep", "binary", "junk"])
        name = rng.choice(FRAME_NAMES)
        payload = rng.choice(
            [{}, {"receiver": "fuzz_peer"}, rng.choice(HOSTILE_VALUES)]
        )
        if kind == "event":
            frame = f"2{ack_id}" + json.dumps([name, payload])
        elif kind == "data":
            frame = f"2{ack_id}" + json.dumps(rng.choice([name, payload, [], 5]))
        elif kind == "broken":
            frame = f"2{ack_id}" + json.dumps([name, payload])[: rng.randint(0, 8)]
        elif kind == "deep":
            frame = f"2{ack_id}[" + json.dumps(str(name)) + "," + DEEP + "]"
        elif kind == "binary":
            frame = rng.choice(["5", "6"]) + rng.choice(["", "1-", "2-", "-", "x-"])
            frame += rng.choice(
                [
                    "",
                    f"{ack_id}",
                    f'{ack_id}["send_message",{{"_placeholder":true,"num":0}}]',
                ]
            )
            yield f"seed={seed} frame #{index} {kind}", frame, False
            continue
        else:
            frame = rng.choice(["7", "8", "9", "x", "", "3", f"3{ack_id}[]", "2/nsp,"])
            yield f"seed={seed} frame #{index} {kind}", frame, False
            continue
        yield f"seed={seed} frame #{index} {kind}", frame, True


def prepare_world(app: Any, client: Any, password: str) -> dict[str, Any]:
    """fuzz_user (author of a post), fuzz_peer, fuzz_admin, their tokens, real ids."""
    with app.app_context():
        for name, is_admin in (
            ("fuzz_user", False),
            ("fuzz_peer", False),
            ("fuzz_admin", True),
        ):
            auth.register(name, f"{name}@example.com", password, is_admin=is_admin)
        user_id = auth.users.find_by_username("fuzz_user").id
        post = Post(author_id=user_id, content="a post", bullying_probability=0.1)
        db.session.add(post)
        db.session.commit()
        post_id = post.id

    def login(name: str) -> dict[str, Any]:
        response = client.post(
            "/api/login", json={"username": name, "password": password}
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    user, admin = login("fuzz_user"), login("fuzz_admin")
    return {
        "tokens": {
            "user": user["access_token"],
            "admin": admin["access_token"],
            "refresh": user["refresh_token"],
        },
        "real": {"post_id": str(post_id), "username": "fuzz_peer"},
    }


def run_frames(sio: Any, seed: int, count: int, tally: Tally | None = None) -> Tally:
    """Raw Socket.IO packets through a connected test client."""
    tally = tally or Tally()
    started = time.monotonic()
    server = sio.socketio.server
    with TracebackCounter() as logged:
        for label, frame, wants_ack in frame_cases(seed, count):
            sio.acks = None
            try:
                server._handle_eio_message(sio.eio_sid, frame)
            except Exception as exc:  # noqa: BLE001  a crash is what we count
                tally.count("frames", "raised")
                tally.server_errors += 1
                tally.fail(f"raised {exc!r} {label}: {frame[:80]!r}")
                continue
            ack, sio.acks = sio.acks, None
            data = ack["args"][0] if ack and ack["args"] else None
            outcome = data.get("error", "ok") if isinstance(data, dict) else "no ack"
            tally.count("frames", outcome)
            if wants_ack and outcome in {"no ack", "internal_error"}:
                tally.server_errors += outcome == "internal_error"
                tally.fail(f"{outcome} {label}: {frame[:80]!r}")
            if not sio.is_connected():
                tally.fail(f"disconnected by {label}: {frame[:80]!r}")
                break
    tally.tracebacks += len(logged.records)
    for record in logged.records[:5]:
        tally.fail(f"logged: {record.getMessage()[:200]}")
    tally.seconds += time.monotonic() - started
    return tally

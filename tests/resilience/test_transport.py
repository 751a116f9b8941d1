"""Transport edges on a live server: raw WebSocket frames, polling bodies, long lines.

Every hostile frame or body is answered (or the connection closed with a valid close
frame); none stalls the connection, and the server logs no traceback.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import websocket

from tests.live import LiveServer
from tests.resilience.conftest import assert_clean_log, log_size, unique

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e

WAIT = 20  # seconds: far above an answer, far below a hang's end


@pytest.fixture(scope="module")
def server(shared_server: LiveServer) -> LiveServer:
    return shared_server


@pytest.fixture(scope="module")
def people(server: LiveServer) -> dict[str, str]:
    me, peer = unique("tr"), unique("tp")
    token = server.register(me)
    server.sign_up(peer)
    return {"token": token, "peer": peer}


def open_socket(server: LiveServer, token: str) -> websocket.WebSocket:
    url = server.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=WAIT)
    assert ws.recv().startswith("0")
    ws.send("40" + json.dumps({"token": token}))
    while not ws.recv().startswith("40"):
        pass
    return ws


def answer_or_clean_close(ws: websocket.WebSocket, peer: str) -> str:
    """After a hostile frame: an ack for the next event, or a valid close frame."""
    try:
        ws.send(
            '4277["typing",' + json.dumps({"receiver": peer, "is_typing": True}) + "]"
        )
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
                assert code in {1000, 1001, 1002, 1003, 1005, 1007, 1008, 1009}, code
                return "closed"
            if opcode == websocket.ABNF.OPCODE_TEXT and data.startswith(b"4377"):
                return "answered"
    except websocket.WebSocketConnectionClosedException:
        return "closed"


@pytest.mark.parametrize(
    "frame",
    ["", "\x00", "4", "9", "42", '451-1["typing",{"_placeholder":true,"num":0}]', "46"],
    ids=[
        "empty",
        "nul",
        "bare-message",
        "bad-type",
        "bare-event",
        "binary-event",
        "binary-ack",
    ],
)
def test_hostile_websocket_frames_neither_stall_nor_break_the_socket(
    server, people, frame
):
    since = log_size(server)
    ws = open_socket(server, people["token"])
    try:
        ws.send(frame)
        answer_or_clean_close(ws, people["peer"])  # fails on a stall or a bad close
    finally:
        ws.close()
    assert_clean_log(server, since)


@pytest.mark.parametrize(
    ("frame", "named"),
    [
        ('4288["message",{}]', "message"),
        ('4288["connect",{}]', "connect"),
        ("4288[7]", None),
    ],
    ids=["reserved-message", "reserved-connect", "no-name"],
)
def test_a_refused_event_is_named_back_as_the_client_sent_it(
    server, people, frame, named
):
    """A reserved or missing event name is refused with `bad_request`; the `error`
    event names what the client sent (null when it sent no name), never the
    refusal handler's own name."""
    since = log_size(server)
    ws = open_socket(server, people["token"])
    try:
        ws.send(frame)
        got = {}
        while not ("error" in got and "ack" in got):
            data = ws.recv()
            if data.startswith('42["error"'):
                got["error"] = json.loads(data[2:])[1]
            elif data.startswith("4388"):
                got["ack"] = json.loads(data[4:])[0]
    finally:
        ws.close()
    assert got["ack"]["ok"] is False and got["ack"]["error"] == "bad_request"
    assert got["error"] == {
        "error": "bad_request",
        "message": got["ack"]["message"],
        "event": named,
    }
    assert_clean_log(server, since)


def polling_session(server: LiveServer) -> str:
    """A new Engine.IO long-polling session (the handshake GET); its query string."""
    opened = urllib.request.urlopen(  # noqa: S310
        server.url + "/socket.io/?EIO=4&transport=polling", timeout=WAIT
    ).read()
    return f"/socket.io/?EIO=4&transport=polling&sid={json.loads(opened[1:])['sid']}"


@pytest.mark.parametrize("body", ["0", "6", "9", "2probe", "", "\x00", "4"])
def test_hostile_polling_bodies_get_a_prompt_answer(server, body):
    since = log_size(server)
    request = urllib.request.Request(  # noqa: S310
        server.url + polling_session(server),
        data=body.encode(),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status in {200, 400}
    assert_clean_log(server, since)


@pytest.mark.parametrize(
    "query", ["EIO=99&transport=polling", "transport=polling", "EIO=4&transport=smoke"]
)
def test_an_unsupported_client_gets_the_error_envelope(either_server, query):
    """An old or foreign client: python-engineio answered in plain text and logged
    it at ERROR, a client's mistake filling the log."""
    since = log_size(either_server)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(  # noqa: S310
            either_server.url + "/socket.io/?" + query, timeout=WAIT
        )
    answer = caught.value
    assert (answer.code, answer.headers["Content-Type"]) == (400, "application/json")
    error = json.loads(answer.read())
    assert (error["code"], error["error"]) == (400, "bad_request"), error
    assert "Engine.IO protocol 4" in error["message"]
    time.sleep(0.2)  # a line written after the answer would land by now
    with either_server.log.open("rb") as log:
        log.seek(since)
        assert b"ERROR" not in log.read()


@pytest.mark.parametrize(
    ("method", "sid"),
    [("GET", "gone0123456789ab"), ("POST", "gone0123456789ab"), ("POST", None)],
)
def test_an_unknown_session_gets_the_error_envelope(either_server, method, sid):
    """A client back after a restart asks for a session this process does not hold:
    the contract's 400, not python-engineio's plain text echoing the sid, and nothing
    in the log (python-engineio wrote it at ERROR). (A polling GET without a sid is
    the handshake of a new session.)"""
    since = log_size(either_server)
    path = "/socket.io/?EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
    request = urllib.request.Request(  # noqa: S310
        either_server.url + path,
        data=b"40" if method == "POST" else None,
        method=method,
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=WAIT)  # noqa: S310
    answer = caught.value
    assert answer.code == 400
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Cache-Control"] == "no-store"
    error = json.loads(answer.read())
    assert (error["code"], error["error"]) == (400, "bad_request"), error
    assert (
        error["message"] == "That connection is unknown or has ended: open a new one."
    )
    time.sleep(0.2)  # a line written after the answer would land by now
    assert_clean_log(either_server, since)
    with either_server.log.open("rb") as log:
        log.seek(since)
        assert b"Invalid session" not in log.read()


def raw_http(server: LiveServer, data: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=WAIT) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(params=["eventlet", "gevent"])
def either_server(request: pytest.FixtureRequest) -> LiveServer:
    """The shared server under each async mode (both with HEADER_TIMEOUT=2)."""
    name = "shared_server" if request.param == "eventlet" else "gevent_server"
    return request.getfixturevalue(name)


def test_an_overlong_request_line_gets_the_error_envelope(either_server):
    since = log_size(either_server)
    answer = raw_http(
        either_server,
        b"GET /api/health?" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"414", head
    # The headers of every other API answer (docs/api.md): no cache keeps it.
    assert b"\r\nCache-Control: no-store\r\n" in head, head
    assert b"\r\nX-Content-Type-Options: nosniff\r\n" in head, head
    error = json.loads(body)
    assert error["code"] == 414 and error["error"] == "uri_too_long", error
    assert error["message"] == "The request line is too long."
    assert_clean_log(either_server, since)


def test_a_page_on_another_origin_can_read_the_414(shared_server):
    """The 414 was written below the app, without the CORS headers every other API
    answer carries: a single-page app saw a network failure, not the error. (gevent
    answers a request line over 8 KB itself, before it has read any header.)"""
    answer = raw_http(
        shared_server,
        b"GET /api/health?"
        + b"a" * 9000
        + b" HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"414", head
    assert b"\r\nAccess-Control-Allow-Origin: https://app.example\r\n" in head, head
    assert json.loads(body)["error"] == "uri_too_long"
    # The socket's own path is answered below the app, as before.
    answer = raw_http(
        shared_server,
        b"GET /socket.io/?EIO=4&transport=polling&"
        + b"a" * 9000
        + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"414", head
    assert json.loads(body)["message"] == "The request line is too long."


@pytest.mark.parametrize(
    "request_line", [b"GARBAGE", b"GET /api/health HTTP/x.y", b"GET / HTTP/1.1 extra"]
)
def test_a_garbled_request_line_gets_the_error_envelope(either_server, request_line):
    """Answered by the HTTP server itself, before the app: still the contract's 400."""
    since = log_size(either_server)
    answer = raw_http(either_server, request_line + b"\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"400", answer[:300]
    assert b"\r\nCache-Control: no-store\r\n" in head, head
    error = json.loads(body)
    assert error["code"] == 400 and error["error"] == "bad_request", error
    assert_clean_log(either_server, since)


CLIENT_MISTAKES = {
    "content length not a number": (
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"
    ),
    "chunk size not hex": (
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    ),
    "tls hello on the plain port": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    "garbled request line": b"GARBAGE\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("mistake", CLIENT_MISTAKES)
def test_a_clients_malformed_request_leaves_nothing_in_the_log(either_server, mistake):
    """The server's own notes on a client's mistake (gevent writes one a request, in
    its own format) go through logging at DEBUG, on `cyberscan.wsgi`: at the live
    server's LOG_LEVEL=WARNING the log stays as it was, while the client gets its 4xx."""
    since = log_size(either_server)
    answer = raw_http(either_server, CLIENT_MISTAKES[mistake])
    assert answer.split(b" ")[1][:1] == b"4", answer[:300]
    time.sleep(0.2)  # a note written after the answer would land by now
    with either_server.log.open("rb") as log:
        log.seek(since)
        assert log.read() == b""


HUGE_HEADERS = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 8000) for i in range(10))
BOTH = frozenset({"eventlet", "gevent"})
# headers, body, the servers that refuse them before the app runs, eventlet's message.
# gevent has no limit on header lines but the standard library's (64 KB a line, 100
# lines); both refuse Content-Length with chunked (a smuggling vector behind a proxy).
REFUSED_HEADERS = {
    "negative length": (
        b"Content-Length: -1\r\n",
        b"",
        BOTH,
        "The Content-Length header is not a valid length.",
    ),
    "length not a number": (
        b"Content-Length: ten\r\n",
        b"",
        BOTH,
        "The Content-Length header is not a valid length.",
    ),
    "length and chunked": (
        b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
        b"0\r\n\r\n",
        BOTH,
        "Content-Length and Transfer-Encoding are not allowed together.",
    ),
    "header line too long": (
        b"X-Long: " + b"a" * 9000 + b"\r\n",
        b"",
        {"eventlet"},
        "A request header line is too long.",
    ),
    "headers too large": (
        HUGE_HEADERS,
        b"",
        {"eventlet"},
        "The request headers are too large.",
    ),
}


@pytest.mark.parametrize("case", REFUSED_HEADERS)
def test_headers_the_server_refuses_get_the_error_envelope(
    either_server, request, case
):
    """What the HTTP server refuses itself, before the app, is still the contract's
    400 with a message saying what was wrong; what it accepts reaches the app."""
    headers, body, refused_by, message = REFUSED_HEADERS[case]
    mode = request.node.callspec.params["either_server"]
    since = log_size(either_server)
    answer = raw_http(
        either_server,
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + headers
        + b"\r\n"
        + body,
    )
    head, _, payload = answer.partition(b"\r\n\r\n")
    if mode not in refused_by:
        assert head.startswith(b"HTTP/1.1 200"), answer[:300]
        assert json.loads(payload)["status"] == "ok", payload
    else:
        assert head.split(b" ")[1] == b"400", answer[:300]
        assert b"application/json" in head, head
        error = json.loads(payload)
        assert error["code"] == 400 and error["error"] == "bad_request", error
        if mode == "eventlet" or case == "length and chunked":
            assert error["message"] == message, error
        else:
            assert error["message"], error
    assert_clean_log(either_server, since)


def chunked(*pieces: bytes) -> bytes:
    """The framing header, then the body in chunks, a chunk a piece, and the last."""
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
    return b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"


def raw_post(
    server: LiveServer, target: str, content_type: bytes, framed: bytes
) -> tuple[bytes, bytes]:
    """A POST of a framed body (its framing header, blank line, body): head, body."""
    head, _, payload = raw_http(
        server,
        b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % target.encode()
        + b"Content-Type: %s\r\n" % content_type
        + framed,
    ).partition(b"\r\n\r\n")
    return head, payload


# Every door that reads a body, the API's and the dashboard's.
LOGINS = ["/api/login", "/admin/login"]


@pytest.mark.parametrize("door", LOGINS)
def test_a_chunked_body_alone_is_read(either_server, door):
    """Transfer-Encoding: chunked without Content-Length is ordinary HTTP/1.1: the app
    reads the whole body (a login that reaches the password check, not a 400)."""
    body = json.dumps({"username": "nobody_chunked", "password": "wrong"}).encode()
    half = len(body) // 2
    head, payload = raw_post(
        either_server, door, b"application/json", chunked(body[:half], body[half:])
    )
    assert head.split(b" ")[1] == b"401", head
    assert json.loads(payload)["code"] == 401, payload


@pytest.mark.parametrize("door", LOGINS)
def test_a_chunked_body_over_the_limit_is_refused(either_server, door):
    """No length up front does not lift MAX_CONTENT_LENGTH (64 KB), on any route: a
    413 in the contract's shape (not a body cut at the limit and read as bad JSON),
    nothing in the log."""
    since = log_size(either_server)
    head, payload = raw_post(
        either_server, door, b"application/json", chunked(*[b"x" * 8192] * 9)
    )
    assert head.split(b" ")[1] == b"413", head
    error = json.loads(payload)
    assert error["code"] == 413 and error["error"] == "payload_too_large", error
    assert_clean_log(either_server, since)


def test_a_chunked_polling_post_is_read_whole(either_server):
    """python-engineio reads Content-Length bytes of a polling POST; a chunked one
    (the Socket.IO CONNECT with its token, in two chunks) is read whole all the same:
    the next GET carries the server's CONNECT answer."""
    since = log_size(either_server)
    token = either_server.register(unique("tc"))
    session = polling_session(either_server)
    connect = ("40" + json.dumps({"token": token})).encode()
    head, _ = raw_post(
        either_server, session, b"text/plain", chunked(connect[:9], connect[9:])
    )
    assert head.split(b" ")[1] == b"200", head
    polled = urllib.request.urlopen(  # noqa: S310
        either_server.url + session, timeout=WAIT
    ).read()
    answers = [p for p in polled.split(b"\x1e") if p.startswith(b"40{")]
    assert answers and b'"sid"' in answers[0], polled
    assert_clean_log(either_server, since)


# python-engineio's max_http_buffer_size, as Flask-SocketIO leaves it.
POLLING_LIMIT = 1_000_000


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_polling_post_over_the_limit_is_refused_at_once(either_server, framing):
    """python-engineio refuses a body over its limit by closing the session from
    inside the POST, which then waits for a GET that never comes. Either framing
    gets a prompt 413 in the contract's shape instead, and nothing in the log."""
    since = log_size(either_server)
    body = b"4" + b"x" * POLLING_LIMIT
    if framing == "chunked":
        framed = chunked(body[:500_000], body[500_000:])
    else:
        framed = b"Content-Length: %d\r\n\r\n" % len(body) + body
    head, payload = raw_post(
        either_server, polling_session(either_server), b"text/plain", framed
    )
    assert head.split(b" ")[1] == b"413", head
    error = json.loads(payload)
    assert error["code"] == 413 and error["error"] == "payload_too_large", error
    assert_clean_log(either_server, since)


@pytest.mark.parametrize(
    "sent",
    [b"GET /api/health HTTP/1.1\r\nHost: x\r\n", b"", b"GET /api/he"],
    ids=["headers never end", "nothing sent", "request line never ends"],
)
def test_a_slow_client_is_let_go_and_the_server_still_answers(either_server, sent):
    """HEADER_TIMEOUT=2: a client that never finishes its request line or headers is
    let go, under eventlet and gevent alike, and the next client is answered."""
    since = log_size(either_server)
    host, port = either_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=WAIT) as sock:
        sock.sendall(sent)
        try:
            leftover: Any = sock.recv(1024)
        except TimeoutError:
            pytest.fail("the server held a connection whose request never ended")
    assert leftover == b"" or leftover.startswith(b"HTTP/1."), leftover
    health = raw_http(
        either_server,
        b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    assert health.startswith(b"HTTP/1.1 200"), health[:200]
    assert_clean_log(either_server, since)


UNMASK_CHECK = """
import random, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet says it is deprecated when imported
    from eventlet.websocket import RFC6455WebSocket as ws
from cyberscan.realtime.transport import unmask
rng = random.Random(11)
cases = 0
for length in [0, 1, 2, 3, 4, 5, 7, 8, 63, 125, 126, 1000, 4099]:
    data = rng.randbytes(length)
    mask = tuple(rng.randbytes(4))
    for offset in range(9):
        for chunk in {length, max(length - 3, 0)}:
            expected = ws._apply_mask(data, mask, length=chunk, offset=offset)
            assert unmask(data, mask, length=chunk, offset=offset) == expected, (
                length, offset, chunk)
            cases += 1
    assert unmask(data, mask) == ws._apply_mask(data, mask), length
    cases += 1
print(cases)
"""


def in_child(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a child interpreter: importing eventlet into the test process
    leaves its hub behind, and later tests that serve HTTP from a thread then hang."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unmask_is_eventlets_byte_for_byte():
    """`transport.unmask` replaces eventlet's per-byte unmasking: same result for any
    chunk of a frame (length, offset into the frame, mask), in a child interpreter."""
    done = in_child(UNMASK_CHECK)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 200  # every case ran


SHUTDOWN_NOTES = """
import socket, warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet says it is deprecated when imported
    from eventlet.websocket import RFC6455WebSocket
from cyberscan.realtime.transport import WSGI_ERRORS
from cyberscan.serve import configure_logging

configure_logging("DEBUG")
for port in (1, 2):
    mine, peer = socket.socketpair()
    environ = {"wsgi.errors": WSGI_ERRORS, "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": port}
    websocket = RFC6455WebSocket(mine, environ)
    peer.close()
    mine.close()  # gone before eventlet shuts it down: a "socket shutdown error"
    websocket.close()
"""


def test_eventlets_socket_notes_are_one_log_line_each():
    """eventlet writes "socket shutdown error" to `wsgi.errors` with no line end: on
    stderr two of them ran together. Through WSGI_ERRORS each is one DEBUG record."""
    done = in_child(SHUTDOWN_NOTES)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, lines
    for port, line in zip((1, 2), lines, strict=True):
        assert line.startswith("["), line
        assert " DEBUG cyberscan.wsgi: " in line, line
        assert line.endswith("socket shutdown error: [Errno 9] Bad file descriptor")
        assert f"client=127.0.0.1:{port} " in line, line


def test_a_frame_arriving_in_pieces_is_unmasked_intact(server):
    """A masked frame whose bytes reach the server in several reads (each unmasked
    at its offset in the frame) delivers the exact text."""
    me, peer = unique("um"), unique("up")
    token, peer_token = server.register(me), server.register(peer)
    text = "héllo wörld 😀 \u2603 " * 100
    receiver = open_socket(server, peer_token)
    sender = open_socket(server, token)
    try:
        event = "4291" + json.dumps(
            ["send_message", {"receiver": peer, "message": text}], ensure_ascii=False
        )
        frame = websocket.ABNF.create_frame(event, websocket.ABNF.OPCODE_TEXT)
        raw = frame.format()
        for start in range(0, len(raw), 997):
            sender.sock.sendall(raw[start : start + 997])
            time.sleep(0.01)
        while not (answer := sender.recv()).startswith("4391"):
            pass
        assert json.loads(answer[4:])[0]["ok"] is True
        while not (got := receiver.recv()).startswith('42["receive_message"'):
            pass
        assert json.loads(got[2:])[1]["message"] == text.strip()
    finally:
        sender.close()
        receiver.close()

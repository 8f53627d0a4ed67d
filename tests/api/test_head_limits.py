"""Request heads over real HTTP: too large gets 431, too slow gets 408, both parsers."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest
import uvicorn

from campfire_server.api import head_limits
from campfire_server.config import get_settings
from tests.conftest import free_port, start_server
from tests.helpers import served_in_thread

LIMIT = 8192
TIMEOUT = 1.0

PROTOCOLS = [pytest.param(head_limits.LimitedH11Protocol, id="h11")]
if head_limits.HttpToolsProtocol is not None:
    PROTOCOLS.append(pytest.param(head_limits.LimitedHttpToolsProtocol, id="httptools"))


async def hello(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    headers = [(b"content-length", b"5")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture(params=PROTOCOLS)
def port(request, monkeypatch) -> Iterator[int]:
    """A uvicorn server on 127.0.0.1 that parses with one of the limited protocols."""
    yield from serve(request.param, monkeypatch, keep_alive_seconds=30)


@pytest.fixture(params=PROTOCOLS)
def short_keep_alive_port(request, monkeypatch) -> Iterator[int]:
    """The same server, with a keep-alive timeout shorter than the head timeout."""
    yield from serve(request.param, monkeypatch, keep_alive_seconds=TIMEOUT / 4)


def serve(protocol, monkeypatch, *, keep_alive_seconds: float) -> Iterator[int]:
    monkeypatch.setenv("CAMPFIRE_MAX_HEADER_BYTES", str(LIMIT))
    monkeypatch.setenv("CAMPFIRE_HEADER_TIMEOUT_SECONDS", str(TIMEOUT))
    get_settings.cache_clear()
    number = free_port()
    config = uvicorn.Config(
        hello,
        host="127.0.0.1",
        port=number,
        http=protocol,
        log_config=None,
        access_log=False,
        h11_max_incomplete_event_size=LIMIT + 64 * 1024,
        timeout_keep_alive=keep_alive_seconds,
    )
    with served_in_thread(config, start_timeout=10):
        yield number
    get_settings.cache_clear()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Read until the server closes the connection."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def read_response(sock: socket.socket) -> bytes:
    """Read one response of the ``hello`` app: its head and the 5-byte body."""
    data = b""
    while not (b"\r\n\r\n" in data and len(data.partition(b"\r\n\r\n")[2]) >= 5):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def send_quietly(sock: socket.socket, data: bytes) -> None:
    """Send ``data``; the server may close the connection before it has read all of it."""
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def status_and_envelope(response: bytes) -> tuple[int, dict]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else {}


def test_small_head_is_served(port) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (LIMIT // 2) + b"\r\n\r\n")
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("size", [LIMIT * 2, 2_000_000])
def test_large_head_gets_431(port, size) -> None:
    started = time.monotonic()
    with connect(port) as sock:
        send_quietly(sock, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n")
        response = read_all(sock)

    status, envelope = status_and_envelope(response)
    assert status == 431
    assert envelope["error"]["code"] == "HEADERS_TOO_LARGE"
    assert envelope["error"]["details"]["limit"] == LIMIT
    assert envelope["error"]["requestId"].startswith("req_")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (LIMIT * 2) + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\n", 408),
    ],
    ids=["431", "408"],
)
def test_rejected_head_gets_access_line(port, caplog, data, status) -> None:
    with caplog.at_level(logging.INFO, logger="campfire_server.access"):
        with connect(port) as sock:
            send_quietly(sock, data)
            response = read_all(sock)

    head = response.partition(b"\r\n\r\n")[0].decode("latin-1")
    fields = dict(line.split(": ", 1) for line in head.split("\r\n")[1:])
    request_id = fields["x-request-id"]
    lines = [
        record
        for record in caplog.records
        if record.name == "campfire_server.access"
        and getattr(record, "request_id", None) == request_id
    ]
    assert len(lines) == 1
    assert lines[0].status == status
    assert lines[0].reason.startswith("request line and headers")
    # The access line is the only line of the rejected request.
    assert [record for record in caplog.records if record is not lines[0]] == []


def test_large_body_is_not_a_large_head(port) -> None:
    body = b"x" * (LIMIT * 4)
    with connect(port) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        response = read_response(sock)
    assert response.startswith(b"HTTP/1.1 200")


def test_unfinished_head_gets_408(port) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        response = read_all(sock)
        waited = time.monotonic() - started

    status, envelope = status_and_envelope(response)
    assert status == 408
    assert envelope["error"]["code"] == "TIMEOUT"
    assert TIMEOUT * 0.8 <= waited < TIMEOUT + 3


def test_silent_connection_is_closed(port, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="campfire_server.access"):
        with connect(port) as sock:
            started = time.monotonic()
            response = read_all(sock)
            waited = time.monotonic() - started

    # No request arrived, so there is neither a 408 nor an access line.
    assert response == b""
    assert waited < TIMEOUT + 3
    assert [record for record in caplog.records if record.name == "campfire_server.access"] == []


def test_kept_alive_connection_times_next_head(port) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        time.sleep(TIMEOUT * 1.5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")

        sock.sendall(b"GET / HTTP/1.1\r\n")
        status, _ = status_and_envelope(read_all(sock))
    assert status == 408


def test_serve_applies_options(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'heads.db'}"
    server = start_server(
        url,
        tmp_path,
        env={"CAMPFIRE_MAX_HEADER_BYTES": "4096", "CAMPFIRE_HEADER_TIMEOUT_SECONDS": "1"},
    )
    try:
        with connect(server.port) as sock:
            head = b"GET /api/v2/conversations HTTP/1.1\r\nHost: x\r\nX-Big: "
            send_quietly(sock, head + b"a" * 20_000 + b"\r\n\r\n")
            status, envelope = status_and_envelope(read_all(sock))
        assert status == 431
        assert envelope["error"]["details"]["limit"] == 4096

        with connect(server.port) as sock:
            sock.sendall(b"GET /api/v2/conversations HTTP/1.1\r\nHost: x\r\n")
            status, _ = status_and_envelope(read_all(sock))
        assert status == 408
    finally:
        server.stop()


def test_stalled_body_gets_408_and_close(tmp_path):
    server = start_server(
        f"sqlite:///{tmp_path / 'stalled.db'}",
        tmp_path,
        env={"CAMPFIRE_BODY_IDLE_TIMEOUT_SECONDS": "1"},
    )
    try:
        sock = connect(server.port)
        sock.sendall(
            b"POST /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer test_sk_123456789\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"customerId'
        )
        started = time.monotonic()
        # read_all returns only once the server closes; a kept-open
        # connection makes recv time out after 10 s and fail the test.
        response = read_all(sock)
        elapsed = time.monotonic() - started
        sock.close()
    finally:
        server.stop()

    head, _, body = response.partition(b"\r\n\r\n")
    header_lines = head.lower().split(b"\r\n")
    assert header_lines[0].startswith(b"http/1.1 408"), response[:200]
    assert b"connection: close" in header_lines
    assert json.loads(body)["error"]["code"] == "TIMEOUT"
    assert "connection is closed" in json.loads(body)["error"]["message"]
    assert elapsed < 5


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_unread_body_is_not_next_head(port, chunked) -> None:
    # ``hello`` responds without reading the body, as an early error response does.
    body = b"x" * (LIMIT * 8)
    if chunked:
        head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        framed = b"".join(
            b"%x\r\n%s\r\n" % (1024, body[i : i + 1024]) for i in range(0, len(body), 1024)
        )
        framed += b"0\r\n\r\n"
    else:
        head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
        framed = body
    with connect(port) as sock:
        sock.sendall(head)
        first = read_response(sock)
        sock.sendall(framed)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        second = read_response(sock)

    assert first.startswith(b"HTTP/1.1 200")
    assert second.startswith(b"HTTP/1.1 200"), second[:200]


def test_pipelined_large_head_gets_431(port) -> None:
    second = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (LIMIT * 5) + b"\r\n\r\n"
    with connect(port) as sock:
        send_quietly(sock, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + second)
        response = read_all(sock)

    first, _, rest = response.partition(b"hello")
    assert first.startswith(b"HTTP/1.1 200")
    status, envelope = status_and_envelope(rest)
    assert status == 431
    assert envelope["error"]["code"] == "HEADERS_TOO_LARGE"


def test_pipelined_partial_head_gets_408(port) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /he")
        started = time.monotonic()
        response = read_all(sock)
        waited = time.monotonic() - started

    first, _, rest = response.partition(b"hello")
    assert first.startswith(b"HTTP/1.1 200")
    status, envelope = status_and_envelope(rest)
    assert status == 408
    assert envelope["error"]["code"] == "TIMEOUT"
    assert waited < TIMEOUT + 3


def test_third_pipelined_large_head_gets_431(port) -> None:
    small = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    large = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (LIMIT * 2) + b"\r\n\r\n"
    with connect(port) as sock:
        send_quietly(sock, small + small + large)
        response = read_all(sock)

    assert response.count(b"HTTP/1.1 200") == 2
    status, envelope = status_and_envelope(response.rpartition(b"hello")[2])
    assert status == 431
    assert envelope["error"]["code"] == "HEADERS_TOO_LARGE"


def test_pipelined_large_body_is_not_a_head(port) -> None:
    body = b"x" * (LIMIT * 4)
    post = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    last = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with connect(port) as sock:
        sock.sendall(post + last)
        response = read_all(sock)

    assert response.count(b"HTTP/1.1 200") == 2, response[:300]
    assert b"HTTP/1.1 431" not in response


def test_pipelined_partial_head_outlives_keep_alive(short_keep_alive_port) -> None:
    with connect(short_keep_alive_port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /he")
        response = read_all(sock)

    status, envelope = status_and_envelope(response.partition(b"hello")[2])
    assert status == 408
    assert envelope["error"]["code"] == "TIMEOUT"

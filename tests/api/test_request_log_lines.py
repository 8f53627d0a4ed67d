"""One log line per request, rejected request and WebSocket handshake, with both parsers.

The access line is the only line: the web server's own lines about the
same request are dropped, as ``campfire serve`` drops them.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator

import pytest

from campfire_server.logs import quiet_web_server
from tests.api.test_protocol_rejections import (
    exchange,
    parse_response,
    post_head,
    served,
    wait_for_line,
)

__all__ = ["served"]

TOKEN = "query-token-that-must-stay-hidden"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
REALTIME = "/api/v2/realtime"


@pytest.fixture
def log_lines(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The log capture of the test at INFO, with the web server's duplicates dropped."""
    quiet_web_server()
    with caplog.at_level(logging.INFO):
        yield caplog


def request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return the records of the web server and the request handling, not of other work."""
    return [
        record
        for record in caplog.records
        if record.name.startswith(("uvicorn", "campfire_server.api", "campfire_server.access"))
    ]


MALFORMED = [
    pytest.param(
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        400,
        id="two-content-lengths",
    ),
    pytest.param(
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        id="length-and-chunked",
    ),
    pytest.param(
        bytes.fromhex("16030100a5010000a10303") + os.urandom(32), 400, id="tls-client-hello"
    ),
    pytest.param(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", None, id="http2-preface"),
    pytest.param(b"GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n", 505, id="http-2.0"),
]


@pytest.mark.parametrize(("request_bytes", "status"), MALFORMED)
def test_malformed_request_logs_one_line(served, log_lines, request_bytes, status) -> None:
    received = exchange(served.port, request_bytes)

    sent_status, headers, _ = parse_response(received)
    if status is not None:
        assert sent_status == status
    request_id = headers["x-request-id"]
    line = wait_for_line(log_lines, request_id)
    assert line.status == sent_status
    assert line.reason
    assert request_lines(log_lines) == [line]


def test_bad_chunk_logs_one_line(served, log_lines) -> None:
    head = post_head(served.tenant, "Transfer-Encoding: chunked")

    received = exchange(served.port, head + b"zz\r\nabc\r\n0\r\n\r\n")

    status, headers, _ = parse_response(received)
    assert status == 400
    line = wait_for_line(log_lines, headers["x-request-id"])
    assert line.status == 400
    assert line.route == "/api/v2/conversations"
    assert line.reason
    assert request_lines(log_lines) == [line]


def test_ambiguous_head_line_names_reason(served, log_lines) -> None:
    received = exchange(served.port, b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")

    request_id = parse_response(received)[1]["x-request-id"]
    line = wait_for_line(log_lines, request_id)
    assert line.status == 400
    assert "Host" in line.reason
    assert request_lines(log_lines) == [line]


def read_head(sock: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    return received


def handshake(*headers: str) -> bytes:
    lines = [
        f"GET {REALTIME}?token={TOKEN} HTTP/1.1",
        "Host: 127.0.0.1",
        "Connection: Upgrade",
        "Upgrade: websocket",
        f"Sec-WebSocket-Key: {KEY}",
        "Sec-WebSocket-Version: 13",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def assert_no_token(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in str(vars(record))


def test_accepted_handshake_logs_101(served, log_lines) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(handshake("X-Request-ID: handshake-101"))
        head = read_head(sock)
        line = wait_for_line(log_lines, "handshake-101")

    assert head.startswith(b"HTTP/1.1 101")
    assert line.status == 101
    assert line.method == "GET"
    assert line.route == REALTIME
    opened = [record for record in request_lines(log_lines) if record is not line]
    assert opened == []
    assert_no_token(log_lines)


def test_rejected_handshake_logs_status(served, log_lines) -> None:
    request = handshake(
        "X-Request-ID: handshake-401",
        "Authorization: Bearer one",
        "Authorization: Bearer two",
    )

    received = exchange(served.port, request)

    status = parse_response(received)[0]
    line = wait_for_line(log_lines, "handshake-401")
    assert status == 401
    assert line.status == 401
    assert line.route == REALTIME
    assert line.reason
    # The connection has closed, so every line of the handshake is written.
    time.sleep(0.2)
    assert request_lines(log_lines) == [line]
    assert_no_token(log_lines)


def test_unupgraded_handshake_line_names_reason(served, log_lines) -> None:
    lines = [
        f"GET {REALTIME}?token={TOKEN} HTTP/1.1",
        "Host: 127.0.0.1",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "X-Request-ID: handshake-no-key",
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    received = exchange(served.port, request)

    status = parse_response(received)[0]
    line = wait_for_line(log_lines, "handshake-no-key")
    assert status == 400
    assert line.status == 400
    assert line.route == REALTIME
    assert "Sec-WebSocket-Key" in line.reason
    assert_no_token(log_lines)


@pytest.mark.parametrize(
    ("path", "authorization"),
    [("/api/v2/no-such-route", True), ("/api/v2/conversations", False)],
    ids=["not-found", "unauthenticated"],
)
def test_bad_chunk_behind_rejected_head(served, log_lines, path, authorization) -> None:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Transfer-Encoding: chunked"]
    if authorization:
        lines.append(f"Authorization: Bearer {served.tenant.key}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()

    received = exchange(served.port, head + b"zz\r\nabc\r\n0\r\n\r\n")

    status, headers, _ = parse_response(received)
    assert status == 400
    line = wait_for_line(log_lines, headers["x-request-id"])
    assert line.status == 400
    assert request_lines(log_lines) == [line]

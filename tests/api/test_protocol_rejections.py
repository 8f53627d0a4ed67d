"""Requests that the web server rejects or loses mid-body, over real sockets, with both parsers.

The client, the access log line and ``/metrics`` must agree on the status
and the request id of every such request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from prometheus_client import REGISTRY

from campfire_server.api import head_limits
from campfire_server.app import create_app
from campfire_server.db import migrate
from campfire_server.db.database import open_database
from tests.conftest import Tenant, free_port, make_tenant
from tests.conftest import test_settings as make_settings
from tests.helpers import served_in_thread

MAX_BODY_BYTES = 2048
BODY_IDLE_SECONDS = 1.0
CONVERSATIONS = "/api/v2/conversations"

PROTOCOLS = [pytest.param(head_limits.LimitedH11Protocol, id="h11")]
if head_limits.HttpToolsProtocol is not None:
    PROTOCOLS.append(pytest.param(head_limits.LimitedHttpToolsProtocol, id="httptools"))


@dataclass
class Served:
    port: int
    tenant: Tenant
    parser: str


@pytest.fixture(scope="module", params=PROTOCOLS)
def served(request, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The application under uvicorn on 127.0.0.1, in this process, with one parser."""
    url = f"sqlite:///{tmp_path_factory.mktemp('protocol') / 'campfire.db'}"
    migrate.upgrade(url)

    async def create_tenant() -> Tenant:
        db = open_database(url)
        try:
            return await make_tenant(db)
        finally:
            await db.close()

    tenant = asyncio.run(create_tenant())
    settings = make_settings(
        url, max_body_bytes=MAX_BODY_BYTES, body_idle_timeout_seconds=BODY_IDLE_SECONDS
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        http=request.param,
        log_config=None,
        access_log=False,
    )
    with served_in_thread(config):
        yield Served(port, tenant, request.param.__name__)


@pytest.fixture
def access_lines(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The log capture of the test, with the access log's INFO lines in it."""
    with caplog.at_level(logging.INFO, logger="campfire_server.access"):
        yield caplog


def count(method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("campfire_http_requests_total", labels) or 0.0


def exchange(port: int, data: bytes, *, pause: float = 0.0, rest: bytes = b"") -> bytes:
    """Send ``data`` (then ``rest`` after ``pause`` seconds) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        if pause:
            time.sleep(pause)
        if rest:
            try:
                sock.sendall(rest)
            except (BrokenPipeError, ConnectionResetError):
                pass
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
    return received


def parse_response(received: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ")[1]), headers, json.loads(body) if body else {}


def wait_for_line(caplog: pytest.LogCaptureFixture, request_id: str) -> logging.LogRecord:
    """Return the one access line of ``request_id``, waiting for the server to write it."""

    def lines() -> list[logging.LogRecord]:
        return [
            record
            for record in caplog.records
            if record.name == "campfire_server.access"
            and getattr(record, "request_id", None) == request_id
        ]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not lines():
        time.sleep(0.02)
    time.sleep(0.2)  # a second line, if any, would come right after the first
    matching = lines()
    assert len(matching) == 1, [record.__dict__ for record in matching]
    return matching[0]


def post_head(tenant: Tenant, *headers: str) -> bytes:
    lines = [
        f"POST {CONVERSATIONS} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: {tenant.headers['Authorization']}",
        "Content-Type: application/json",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_malformed_chunk_logged_as_400(served, access_lines) -> None:
    before_400 = count("POST", CONVERSATIONS, 400)
    before_500 = count("POST", CONVERSATIONS, 500)

    received = exchange(
        served.port,
        post_head(served.tenant, "Transfer-Encoding: chunked") + b"zz\r\nabc\r\n0\r\n\r\n",
    )

    status, headers, envelope = parse_response(received)
    assert status == 400
    request_id = headers["x-request-id"]
    assert envelope["error"]["requestId"] == request_id
    line = wait_for_line(access_lines, request_id)
    assert line.status == 400
    assert line.route == CONVERSATIONS
    assert count("POST", CONVERSATIONS, 400) == before_400 + 1
    assert count("POST", CONVERSATIONS, 500) == before_500


def test_malformed_chunk_keeps_client_request_id(served, access_lines) -> None:
    received = exchange(
        served.port,
        post_head(served.tenant, "Transfer-Encoding: chunked", "X-Request-ID: client-chunk-1")
        + b"zz\r\n",
    )

    status, headers, envelope = parse_response(received)
    assert status == 400
    assert headers["x-request-id"] == "client-chunk-1"
    assert envelope["error"]["requestId"] == "client-chunk-1"
    assert wait_for_line(access_lines, "client-chunk-1").status == 400


def test_malformed_chunk_after_body_split(served, access_lines) -> None:
    # The head arrives first, so the application is already reading the body.
    received = exchange(
        served.port,
        post_head(served.tenant, "Transfer-Encoding: chunked"),
        pause=0.3,
        rest=b"2\r\n{}\r\nzz\r\n",
    )

    status, headers, _ = parse_response(received)
    assert status == 400
    assert wait_for_line(access_lines, headers["x-request-id"]).status == 400


def test_invalid_content_length_logged_as_400(served, access_lines) -> None:
    before = count("<unparsed>", "<unparsed>", 400)

    received = exchange(served.port, post_head(served.tenant, "Content-Length: abc"))

    status, headers, envelope = parse_response(received)
    assert status == 400
    assert envelope["error"]["requestId"] == headers["x-request-id"]
    line = wait_for_line(access_lines, headers["x-request-id"])
    assert line.status == 400
    assert count("<unparsed>", "<unparsed>", 400) == before + 1


def test_body_over_limit_mid_stream_logged_as_413(served, access_lines) -> None:
    chunk = b"%x\r\n" % 1024 + b" " * 1024 + b"\r\n"
    received = exchange(
        served.port,
        post_head(served.tenant, "Transfer-Encoding: chunked") + chunk * 3 + b"0\r\n\r\n",
    )

    status, headers, envelope = parse_response(received)
    assert status == 413
    assert envelope["error"]["requestId"] == headers["x-request-id"]
    assert wait_for_line(access_lines, headers["x-request-id"]).status == 413


def test_slow_body_logged_as_408(served, access_lines) -> None:
    received = exchange(served.port, post_head(served.tenant, "Content-Length: 100") + b'{"a"')

    status, headers, envelope = parse_response(received)
    assert status == 408
    assert envelope["error"]["requestId"] == headers["x-request-id"]
    assert wait_for_line(access_lines, headers["x-request-id"]).status == 408


def test_client_gone_mid_body_logged_as_499(served, access_lines) -> None:
    before_500 = count("POST", CONVERSATIONS, 500)
    before_499 = count("POST", CONVERSATIONS, 499)
    head = post_head(served.tenant, "Content-Length: 100", "X-Request-ID: client-gone-1")

    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(head + b'{"a"')
        time.sleep(0.3)

    line = wait_for_line(access_lines, "client-gone-1")
    assert line.status == 499
    assert count("POST", CONVERSATIONS, 499) == before_499 + 1
    assert count("POST", CONVERSATIONS, 500) == before_500


def test_malformed_chunk_after_early_401(served, access_lines) -> None:
    head = (
        f"POST {CONVERSATIONS} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()

    received = exchange(served.port, head, pause=0.3, rest=b"zz\r\nabc\r\n0\r\n\r\n")

    # The 401 was sent before the body was read; the broken body only
    # closes the connection and adds no second response.
    assert received.count(b"HTTP/1.1 ") == 1, received
    status, headers, _ = parse_response(received)
    assert status == 401
    assert wait_for_line(access_lines, headers["x-request-id"]).status == 401


# Ambiguous headers ------------------------------------------------------------------


def get_head(tenant: Tenant, *headers: str, version: str = "1.1") -> bytes:
    lines = [
        f"GET {CONVERSATIONS} HTTP/{version}",
        f"Authorization: {tenant.headers['Authorization']}",
        "Connection: close",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        (["Host: 127.0.0.1", "Host: example.com"], "Host"),
        ([], "Host"),
        (["Host: 127.0.0.1", "Origin: https://a.example", "Origin: https://b.example"], "Origin"),
        (["Host: 127.0.0.1", "X-Campfire-Mock: true", "X-Campfire-Mock: false"], "X-Campfire-Mock"),
    ],
    ids=["two-hosts", "no-host", "two-origins", "two-mock-flags"],
)
def test_ambiguous_get_headers_rejected(served, access_lines, headers, field) -> None:
    received = exchange(served.port, get_head(served.tenant, *headers))

    status, response_headers, envelope = parse_response(received)
    assert status == 400
    error = envelope["error"]
    assert error["code"] == "VALIDATION_ERROR"
    if field == "Host" and served.parser == "LimitedH11Protocol":
        # h11 rejects these itself, as requests that are not valid HTTP/1.1.
        assert error["details"]["field"] == "request"
    else:
        assert error["details"]["field"] == field
        assert field in error["message"]
    assert error["requestId"] == response_headers["x-request-id"]
    assert wait_for_line(access_lines, error["requestId"]).status == 400


def test_two_hosts_message_names_both(served) -> None:
    if served.parser == "LimitedH11Protocol":
        pytest.skip("h11 rejects two Host headers before the application sees them")
    received = exchange(
        served.port, get_head(served.tenant, "Host: 127.0.0.1", "Host: example.com")
    )

    error = parse_response(received)[2]["error"]
    assert error["details"]["value"] == ["127.0.0.1", "example.com"]
    assert "Host was sent 2 times" in error["message"]


def test_http10_without_host_served(served) -> None:
    received = exchange(served.port, get_head(served.tenant, version="1.0"))

    assert parse_response(received)[0] == 200


def test_two_content_types_rejected(served) -> None:
    body = json.dumps({"customerId": "customer_two_types", "mailboxId": "mailbox_test_1"})
    head = post_head(served.tenant, "Content-Type: text/plain", f"Content-Length: {len(body)}")

    received = exchange(served.port, head + body.encode())

    status, _, envelope = parse_response(received)
    assert status == 400
    assert envelope["error"]["details"]["field"] == "Content-Type"
    assert envelope["error"]["details"]["value"] == ["application/json", "text/plain"]
    listed = exchange(
        served.port,
        get_head(served.tenant, "Host: 127.0.0.1").replace(
            CONVERSATIONS.encode(), CONVERSATIONS.encode() + b"?customerId=customer_two_types"
        ),
    )
    assert parse_response(listed)[2]["data"] == []


# WebSocket handshakes ----------------------------------------------------------------

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def handshake(*headers: str, method: str = "GET", path: str = "/api/v2/realtime") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Connection: Upgrade",
        "Upgrade: websocket",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize(
    ("headers", "field", "words"),
    [
        (["Sec-WebSocket-Version: 13"], "Sec-WebSocket-Key", "no Sec-WebSocket-Key"),
        (
            ["Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: not base64!"],
            "Sec-WebSocket-Key",
            "not the base64 encoding of 16 bytes",
        ),
        (
            ["Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: c2hvcnQ="],
            "Sec-WebSocket-Key",
            "not the base64 encoding of 16 bytes",
        ),
        (
            ["Sec-WebSocket-Version: 13", f"Sec-WebSocket-Key: {KEY}", f"Sec-WebSocket-Key: {KEY}"],
            "Sec-WebSocket-Key",
            "sent 2 times",
        ),
        ([f"Sec-WebSocket-Key: {KEY}"], "Sec-WebSocket-Version", "no Sec-WebSocket-Version"),
        (
            [
                f"Sec-WebSocket-Key: {KEY}",
                "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Protocol: a b",
            ],
            "Sec-WebSocket-Protocol",
            "is not valid",
        ),
    ],
    ids=["no-key", "key-not-base64", "key-short", "two-keys", "no-version", "bad-protocol"],
)
def test_bad_handshake_gets_envelope(served, access_lines, headers, field, words) -> None:
    received = exchange(served.port, handshake(*headers))

    status, response_headers, envelope = parse_response(received)
    assert status == 400
    assert response_headers["content-type"] == "application/json"
    error = envelope["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert words in error["message"]
    assert error["requestId"] == response_headers["x-request-id"]
    assert wait_for_line(access_lines, error["requestId"]).status == 400


def test_missing_version_names_supported_one(served) -> None:
    received = exchange(served.port, handshake(f"Sec-WebSocket-Key: {KEY}"))

    status, headers, _ = parse_response(received)
    assert status == 400
    assert headers["sec-websocket-version"] == "13"


def test_old_websocket_version_gets_426(served, access_lines) -> None:
    received = exchange(
        served.port, handshake(f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 8")
    )

    status, headers, envelope = parse_response(received)
    assert status == 426
    assert headers["sec-websocket-version"] == "13"
    assert headers["upgrade"] == "websocket"
    assert received.lower().count(b"\r\nconnection:") == 1
    assert "upgrade" in headers["connection"].lower()
    error = envelope["error"]
    assert error["code"] == "UPGRADE_REQUIRED"
    assert error["details"]["field"] == "Sec-WebSocket-Version"
    assert "Sec-WebSocket-Version: 13" in error["message"]
    assert error["requestId"] == headers["x-request-id"]
    assert wait_for_line(access_lines, error["requestId"]).status == 426


def test_handshake_with_post_gets_405(served) -> None:
    received = exchange(
        served.port,
        handshake(f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13", method="POST"),
    )

    status, headers, envelope = parse_response(received)
    assert status == 405
    assert headers["allow"] == "GET"
    assert envelope["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_valid_handshake_still_upgrades(served) -> None:
    request = handshake(f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13")

    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk

    assert received.startswith(b"HTTP/1.1 101")
    # The accept value of the sample key in RFC 6455, section 1.3.
    assert b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in received


def test_bad_handshake_on_rest_path_served_as_http(served) -> None:
    request = handshake(
        f"Authorization: {served.tenant.headers['Authorization']}",
        "Sec-WebSocket-Version: 8",
        path=CONVERSATIONS,
    )

    received = exchange(served.port, request)

    assert received.startswith(b"HTTP/1.1 200")


# Pipelined requests ------------------------------------------------------------------


def split_responses(received: bytes) -> list[tuple[int, dict[str, str], dict]]:
    """Split the bytes of several responses, each with a Content-Length, into parsed ones."""
    responses = []
    while received:
        head, _, rest = received.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        responses.append(parse_response(head + b"\r\n\r\n" + rest[:length]))
        received = rest[length:]
    return responses


BAD_HEAD = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n"


def test_pipelined_bad_head_after_post(served, access_lines) -> None:
    customer = f"pipe-{served.parser}"
    body = json.dumps({"customerId": customer}).encode()
    first = post_head(served.tenant, f"Content-Length: {len(body)}") + body

    responses = split_responses(exchange(served.port, first + BAD_HEAD))

    assert [status for status, _, _ in responses] == [201, 400]
    created_id = responses[0][1]["x-request-id"]
    rejected_id = responses[1][1]["x-request-id"]
    assert created_id != rejected_id
    assert responses[1][2]["error"]["requestId"] == rejected_id
    created_line = wait_for_line(access_lines, created_id)
    assert created_line.status == 201
    assert created_line.route == CONVERSATIONS
    assert wait_for_line(access_lines, rejected_id).status == 400


def test_pipelined_bad_chunk_after_healthz(served, access_lines) -> None:
    first = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    second = post_head(served.tenant, "Transfer-Encoding: chunked") + b"zz\r\nabc\r\n0\r\n\r\n"

    responses = split_responses(exchange(served.port, first + second))

    assert [status for status, _, _ in responses] == [200, 400]
    healthz_id = responses[0][1]["x-request-id"]
    rejected_id = responses[1][1]["x-request-id"]
    assert healthz_id != rejected_id
    assert wait_for_line(access_lines, healthz_id).status == 200
    assert wait_for_line(access_lines, rejected_id).status == 400


def test_pipelined_rejection_logged_in_order(served, access_lines) -> None:
    first = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    second = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"

    responses = split_responses(exchange(served.port, first + second))

    assert [status for status, _, _ in responses] == [200, 400]
    healthz_id = responses[0][1]["x-request-id"]
    rejected_id = responses[1][1]["x-request-id"]
    healthz_line = wait_for_line(access_lines, healthz_id)
    rejected_line = wait_for_line(access_lines, rejected_id)
    lines = [record for record in access_lines.records if record.name == "campfire_server.access"]
    assert lines.index(healthz_line) < lines.index(rejected_line)


@pytest.mark.parametrize("bad_request", [BAD_HEAD, b"GARBAGE\r\n\r\n"], ids=["length", "garbage"])
def test_bad_request_after_keep_alive_200(served, access_lines, bad_request) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = b""
        while b"\r\n\r\n" not in first:
            first += sock.recv(65536)
        time.sleep(0.2)
        sock.sendall(bad_request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk

    # The first read may hold the start of the 200's body.
    responses = split_responses(first + received)
    assert [status for status, _, _ in responses] == [200, 400]
    status, headers, envelope = responses[1]
    assert envelope["error"]["requestId"] == headers["x-request-id"]
    assert wait_for_line(access_lines, headers["x-request-id"]).status == 400


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        (["Origin: https://a.example", "Origin: https://b.example"], "Origin"),
        (["Upgrade: websocket"], "Upgrade"),
    ],
    ids=["two-origins", "two-upgrades"],
)
def test_repeated_handshake_header_gets_envelope(served, access_lines, headers, field) -> None:
    request = handshake(f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13", *headers)

    received = exchange(served.port, request)

    status, response_headers, envelope = parse_response(received)
    assert status == 400
    assert response_headers["content-type"] == "application/json"
    error = envelope["error"]
    assert error["details"]["field"] == field
    assert error["requestId"] == response_headers["x-request-id"]
    assert wait_for_line(access_lines, error["requestId"]).status == 400


@pytest.mark.parametrize("version", ["2.0", "0.9", "1.2", "3.1"])
def test_unsupported_http_version_gets_505(served, access_lines, version) -> None:
    received = exchange(served.port, f"GET /healthz HTTP/{version}\r\nHost: x\r\n\r\n".encode())

    status, headers, envelope = parse_response(received)
    assert status == 505
    error = envelope["error"]
    assert error["code"] == "HTTP_VERSION_NOT_SUPPORTED"
    assert "is not supported" in error["message"]
    assert error["requestId"] == headers["x-request-id"]
    assert wait_for_line(access_lines, error["requestId"]).status == 505


def test_request_line_without_version_rejected(served, access_lines) -> None:
    received = exchange(served.port, b"GET /healthz\r\n\r\n")

    # Both parsers respond alike, because the line is not valid HTTP/1.1.
    status, headers, envelope = parse_response(received)
    assert status == 400
    error = envelope["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "request"
    assert error["message"] == (
        "the request is not valid HTTP/1.1; check the request line, the headers and the "
        "Content-Length or chunked body that your client sends"
    )
    assert error["requestId"] == headers["x-request-id"]
    assert wait_for_line(access_lines, error["requestId"]).status == 400


# The texts of llhttp's errors, which must not reach a client.
PARSER_WORDING = ("RTSP", "ICE/", "Invalid", "Expected", "encountered")


@pytest.mark.parametrize(
    ("request_bytes", "reason"),
    [
        (
            b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
            "its request line has a space in the target or no HTTP version after it",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            "its Content-Length is not a decimal number",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nX Trace: 1\r\n\r\n",
            "a header name contains a space or a character not allowed in names",
        ),
    ],
    ids=["space-in-target", "content-length-text", "space-in-header-name"],
)
def test_parser_fault_in_own_words(served, request_bytes, reason) -> None:
    received = exchange(served.port, request_bytes)

    status, _, envelope = parse_response(received)
    assert status == 400
    message = envelope["error"]["message"]
    assert message.startswith("the request is not valid HTTP/1.1")
    for fragment in PARSER_WORDING:
        assert fragment not in message
    if served.parser == "LimitedHttpToolsProtocol":
        assert f"HTTP/1.1 ({reason}); check the request line" in message


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Host", b"a\x01b"),
        ("X-Note", b"\x1f"),
        ("User-Agent", b"client\x7f"),
    ],
    ids=["host-soh", "custom-unit-separator", "user-agent-del"],
)
def test_control_character_header_rejected(served, access_lines, header, value) -> None:
    host = b"" if header == "Host" else b"Host: 127.0.0.1\r\n"
    request = b"GET /healthz HTTP/1.1\r\n" + host + header.encode() + b": " + value + b"\r\n\r\n"

    received = exchange(served.port, request)

    status, headers, envelope = parse_response(received)
    assert status == 400
    assert headers["content-type"] == "application/json"
    error = envelope["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == header
    assert header in error["message"]
    assert error["requestId"] == headers["x-request-id"]
    assert wait_for_line(access_lines, headers["x-request-id"]).status == 400


def test_tab_in_header_value_accepted(served) -> None:
    request = (
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Note: a\tb\r\nConnection: close\r\n\r\n"
    )

    status, _, _ = parse_response(exchange(served.port, request))

    assert status == 200

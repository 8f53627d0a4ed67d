"""A smoke pass over real HTTP against a `campfire serve` process."""

from __future__ import annotations

import json
import socket

import httpx


async def test_conversation_flow_over_http(live_server, tenant):
    async with httpx.AsyncClient(base_url=live_server.api, headers=tenant.headers) as http:
        created = await http.post(
            "/conversations", json={"customerId": "customer_http", "subject": "Over the wire"}
        )
        assert created.status_code == 201
        conversation_id = created.json()["id"]

        sent = await http.post(
            f"/conversations/{conversation_id}/messages", json={"content": "Hello 👋 — end"}
        )
        assert sent.status_code == 201
        assert sent.headers["x-request-id"].startswith("req_")

        listed = await http.get(f"/conversations/{conversation_id}/messages")
        assert [item["content"] for item in listed.json()["data"]] == ["Hello 👋 — end"]

        detail = await http.get(f"/conversations/{conversation_id}")
        assert detail.json()["unreadCount"] == 1

        bad = await http.post(
            f"/conversations/{conversation_id}/messages",
            content=b'{"content": "x",}',
            headers={"Content-Type": "application/json"},
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["requestId"] == bad.headers["x-request-id"]

        docs = await http.get("/docs")
        assert docs.status_code == 200


MALFORMED_REQUESTS = {
    "20-digit Content-Length": (
        b"POST /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
        "Content-Length",
    ),
    "non-numeric Content-Length": (
        b"POST /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1x\r\n\r\n{}",
        "Content-Length",
    ),
    "two Content-Lengths": (
        b"POST /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        "Content-Length",
    ),
    "Content-Length with chunked": (
        b"POST /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "Transfer-Encoding",
    ),
    "bad chunk size": (
        b"POST /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        "chunk",
    ),
    "space in a header name": (
        b"GET /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: 1\r\n\r\n",
        "header",
    ),
    "garbled request line": (b"GARBAGE\r\n\r\n", "method"),
}


def _exchange(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_malformed_framing_gets_envelope(live_server):
    for label, (raw, reason) in MALFORMED_REQUESTS.items():
        received = _exchange(live_server.port, raw)
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = [line.split(": ", 1) for line in lines[1:]]
        headers = {name.lower(): value for name, value in fields}

        assert lines[0] == "HTTP/1.1 400 Bad Request", label
        assert headers["content-type"] == "application/json", label
        assert headers["connection"] == "close", label
        assert int(headers["content-length"]) == len(body), label
        error = json.loads(body)["error"]
        assert error["code"] == "VALIDATION_ERROR", label
        assert error["requestId"] == headers["x-request-id"], label
        assert error["details"]["field"] == "request", label
        assert reason.lower() in error["message"].lower(), label


def test_head_and_options_over_http(live_server, tenant):
    with httpx.Client(base_url=live_server.api, headers=tenant.headers) as http:
        got = http.get("/conversations")
        head = http.head("/conversations")
        options = http.options("/conversations")

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_unknown_transfer_coding_is_400(live_server, tenant):
    chunk = b'{"customerId":"customer_gzip"}'
    raw = (
        b"POST /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: " + tenant.headers["Authorization"].encode() + b"\r\n"
        b"Content-Type: application/json\r\nConnection: close\r\n"
        b"Transfer-Encoding: gzip, chunked\r\n\r\n"
        + f"{len(chunk):x}\r\n".encode()
        + chunk
        + b"\r\n0\r\n\r\n"
    )

    received = _exchange(live_server.port, raw)
    head, _, body = received.partition(b"\r\n\r\n")

    assert head.startswith(b"HTTP/1.1 400 "), head
    error = json.loads(body)["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "Transfer-Encoding"
    assert error["details"]["value"] == "gzip, chunked"


def _read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def test_early_413_closes_connection(live_server, tenant):
    auth = b"Authorization: " + tenant.headers["Authorization"].encode() + b"\r\n"
    over = 1024 * 1024 + 1
    chunk = b"x" * 65536
    chunked_body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(17))
    cases = {
        "declared": (
            b"Content-Length: %d\r\n" % over,
            b"x" * over,
        ),
        "chunked": (b"Transfer-Encoding: chunked\r\n", chunked_body + b"0\r\n\r\n"),
    }
    for label, (framing, body) in cases.items():
        head = (
            b"POST /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + auth
            + b"Content-Type: application/json\r\n"
            + framing
            + b"\r\n"
        )
        with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
            sock.sendall(head)
            _send_quietly(sock, body)
            _send_quietly(sock, b"GET /api/v2/conversations HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            received = _read_until_closed(sock)

        first, _, rest = received.partition(b"\r\n\r\n")
        assert first.startswith(b"HTTP/1.1 413 "), (label, received[:300])
        assert b"\r\nconnection: close" in first.lower(), label
        assert b"HTTP/1.1" not in rest, (label, rest[:300])


def _post_raw(port: int, path: bytes, headers: bytes, body: bytes) -> bytes:
    head = b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers
    head += b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # A small send buffer keeps the client sending while the server
        # responds, as over a real network.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", port))
        # Sent whole, without waiting for the response: a client that
        # writes its body first must still read the early response.
        sock.sendall(head + body)
        return _read_until_closed(sock)


def test_client_sending_large_body_reads_early_413(live_server, tenant):
    auth = b"Authorization: " + tenant.headers["Authorization"].encode() + b"\r\n"
    body = b'{"customerId":"' + b"a" * 1_100_000 + b'"}'

    received = _post_raw(live_server.port, b"/api/v2/conversations", auth, body)

    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), received[:300]
    assert b"\r\nconnection: close" in head.lower()
    assert json.loads(rest)["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_credential_is_checked_before_body_over_http(live_server, tenant):
    with httpx.Client(base_url=live_server.api, headers=tenant.headers) as http:
        conversation = http.post("/conversations", json={"customerId": "customer_order"}).json()
    path = f"/api/v2/conversations/{conversation['id']}/messages".encode()
    good = b"Authorization: " + tenant.headers["Authorization"].encode() + b"\r\n"
    cases = {
        "bad key, bad body": (b"Authorization: Bearer wrong\r\n", b"{bad", 401),
        "no key, large body": (b"", b"x" * 1_100_000, 401),
        "good key, bad body": (good + b"Connection: close\r\n", b"{bad", 400),
    }
    for label, (headers, body, status) in cases.items():
        received = _post_raw(live_server.port, path, headers, body)

        head, _, rest = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 %d " % status), (label, received[:300])
        assert json.loads(rest)["error"]["requestId"], label

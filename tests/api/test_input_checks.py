"""Input checks that apply across routes, over real HTTP against a `campfire serve` process.

Each check runs on every route that takes such input. The sections below
cover one kind of input each.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveServer, start_server


@pytest.fixture(scope="module")
def server(db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(db.url, tmp_path_factory.mktemp("input-checks"))
    yield live
    live.stop()


def _error(response: httpx.Response, status: int = 400) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


async def _conversation(http: httpx.AsyncClient, customer_id: str) -> str:
    created = await http.post("/conversations", json={"customerId": customer_id})
    assert created.status_code == 201, created.text
    return created.json()["id"]


# Customer messages ------------------------------------------------------------------


async def test_customer_message_from_another_customer_rejected(server, tenant):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        conversation_id = await _conversation(http, "customer_test_A")
        path = f"/conversations/{conversation_id}/messages"

        sent = await http.post(
            path, json={"content": "hi", "authorType": "customer", "authorId": "customer_other"}
        )

        error = _error(sent)
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["field"] == "authorId"
        assert error["details"]["value"] == "customer_other"
        assert error["details"]["expected"] == "customer_test_A"
        assert "customer_test_A" in error["message"]
        assert "leave authorId out" in error["message"]
        listed = await http.get(path)
        assert listed.json()["data"] == []


async def test_customer_message_author_defaults_to_customer(server, tenant):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        conversation_id = await _conversation(http, "customer_test_A")
        path = f"/conversations/{conversation_id}/messages"

        omitted = await http.post(path, json={"content": "one", "authorType": "customer"})
        named = await http.post(
            path, json={"content": "two", "authorType": "customer", "authorId": "customer_test_A"}
        )

        assert omitted.status_code == 201, omitted.text
        assert omitted.json()["authorId"] == "customer_test_A"
        assert named.status_code == 201, named.text
        assert named.json()["authorId"] == "customer_test_A"


# URLs that are not UTF-8 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/conversations?customerId=%ff", "customerId"),
        ("/conversations?status=open&customerId=a%C3", "customerId"),
        ("/knowledge/search?q=%ff", "q"),
        ("/knowledge/search?q=ok+%fe%ff", "q"),
        ("/conversations?%ff=1", "%ff"),
        ("/conversations/%ff", "path"),
        ("/conversations/conv_%ff/messages", "path"),
    ],
)
async def test_url_not_utf8_rejected(server, tenant, url, field):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.get(url)

    error = _error(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert "not valid UTF-8" in error["message"]
    assert "%C3%A9" in error["details"]["expected"]


async def test_url_utf8_accepted(server, tenant):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        listed = await http.get("/conversations?customerId=caf%C3%A9")
        searched = await http.get("/knowledge/search?q=%E2%82%AC")

    assert listed.status_code == 200, listed.text
    assert searched.status_code == 200, searched.text


# Ids with whitespace -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/conversations", {"customerId": "  customer_x"}, "customerId"),
        ("/conversations", {"customerId": "customer_x\n"}, "customerId"),
        ("/conversations", {"customerId": "customer\x07x"}, "customerId"),
        ("/conversations", {"customerId": "c", "mailboxId": " mailbox_test_1"}, "mailboxId"),
        ("/agents", {"id": "agent_x ", "name": "X"}, "id"),
        ("/mailboxes", {"id": " mailbox_x", "name": "X"}, "id"),
        ("/knowledge/articles", {"title": "T", "content": "c", "externalId": "e1 "}, "externalId"),
        (
            "/knowledge/articles",
            {"title": "T", "content": "c", "mailboxIds": ["mailbox_test_1 "]},
            "mailboxIds[0]",
        ),
        (
            "/webhooks",
            {
                "url": "https://example.com/hook",
                "events": ["*"],
                "mailboxIds": ["\tmailbox_test_1"],
            },
            "mailboxIds[0]",
        ),
    ],
)
async def test_id_with_whitespace_rejected(server, tenant, path, body, field):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post(path, json=body)

    error = _error(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert "trim" in error["message"]


async def test_author_id_with_whitespace_rejected(server, tenant):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        conversation_id = await _conversation(http, "customer_test_A")
        path = f"/conversations/{conversation_id}/messages"

        sent = await http.post(
            path, json={"content": "hi", "authorType": "customer", "authorId": "customer_test_A "}
        )
        listed = await http.get(path)

    error = _error(sent)
    assert error["details"]["field"] == "authorId"
    assert "trim" in error["message"]
    assert listed.json()["data"] == []


async def test_whitespace_customer_not_created(server, tenant):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        rejected = await http.post("/conversations", json={"customerId": " customer_ws"})
        listed = await http.get("/conversations", params={"customerId": " customer_ws"})

    assert rejected.status_code == 400, rejected.text
    assert listed.json()["data"] == []


# List items --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field", "status"),
    [
        ("/webhooks", {"url": "https://example.com/hook", "events": ["nope"]}, "events[0]", 400),
        (
            "/webhooks",
            {"url": "https://example.com/hook", "events": ["message.sent", "nope"]},
            "events[1]",
            400,
        ),
        (
            "/webhooks",
            {
                "url": "https://example.com/hook",
                "events": ["*"],
                "mailboxIds": ["mailbox_test_1", "mailbox_missing"],
            },
            "mailboxIds[1]",
            404,
        ),
        (
            "/keys",
            {"name": "k", "role": "agent", "mailboxIds": ["mailbox_test_1", "mailbox_missing"]},
            "mailboxIds[1]",
            404,
        ),
        (
            "/knowledge/articles",
            {"title": "T", "content": "c", "mailboxIds": ["mailbox_missing"]},
            "mailboxIds[0]",
            404,
        ),
        (
            "/knowledge/articles/import",
            {"articles": [{"title": "T", "content": "c", "mailboxIds": ["mailbox_missing"]}]},
            "articles[0].mailboxIds[0]",
            404,
        ),
    ],
)
async def test_list_item_error_names_index(server, tenant, path, body, field, status):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post(path, json=body)

    error = _error(response, status)
    assert error["details"]["field"] == field
    assert field in error["message"]


# Unknown fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            {"name": "M", "settings": {"identitySecret": "s" * 32}},
            "settings.identitySecret",
            "identitySecret is a top-level field, not a field of settings; move it",
        ),
        (
            {"name": "M", "autoReply": True},
            "autoReply",
            "autoReply is a field of settings, not a top-level field; move it into settings",
        ),
    ],
)
async def test_misplaced_field_names_its_level(server, tenant, body, field, words):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post("/mailboxes", json=body)
        listed = await http.get("/mailboxes")

    error = _error(response)
    assert error["details"]["field"] == field
    assert words in error["message"]
    assert "s" * 32 not in response.text
    assert [mailbox["name"] for mailbox in listed.json()["data"]] == ["Support", "Sales"]


async def test_unknown_field_elsewhere_absent(server, tenant):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post("/mailboxes", json={"name": "M", "settings": {"bogus": 1}})

    error = _error(response)
    assert error["details"]["field"] == "settings.bogus"
    assert "not a field of this request" in error["message"]


# Repeated Authorization ----------------------------------------------------------------


async def test_two_authorization_headers_rejected(server, tenant):
    headers = [("Authorization", tenant.headers["Authorization"]), ("Authorization", "Bearer x")]
    async with httpx.AsyncClient(base_url=server.api) as http:
        listed = await http.get("/conversations", headers=headers)
        created = await http.post("/conversations", headers=headers, json={"customerId": "c2"})
        valid_first = await http.get("/conversations", headers=[headers[0], headers[0]])

    for response in (listed, created, valid_first):
        error = _error(response, 401)
        assert error["details"]["field"] == "Authorization"
        assert "2 Authorization headers" in error["message"]
        assert 'error="invalid_request"' in response.headers["www-authenticate"]


def _handshake(port: int, target: str, extra_headers: str = "") -> tuple[bytes, bytes]:
    """Send a raw WebSocket handshake for ``target``; return the response head and body."""
    request = (
        f"GET {target} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"{extra_headers}\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        received = b""
        while b"}}" not in received:
            if received.startswith(b"HTTP/1.1 101") and b"\r\n\r\n" in received:
                break  # accepted: the socket now waits for its auth frame
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return head, body


def test_websocket_handshake_two_authorization_headers(server, tenant):
    head, body = _handshake(
        server.port,
        "/api/v2/realtime",
        f"Authorization: {tenant.headers['Authorization']}\r\nAuthorization: Bearer x\r\n",
    )

    assert head.startswith(b"HTTP/1.1 401"), head
    assert b'"field": "Authorization"' in body
    assert b"2 Authorization headers" in body


@pytest.mark.parametrize(
    ("query", "field"),
    [("since=%ff", "since"), ("%fe=1", "%fe"), ("a=ok&b=%C3", "b")],
)
def test_websocket_handshake_query_not_utf8(server, query, field):
    head, body = _handshake(server.port, f"/api/v2/realtime?{query}")

    assert head.startswith(b"HTTP/1.1 400"), head
    error = json.loads(body)["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert "not valid UTF-8" in error["message"]


def test_websocket_handshake_utf8_query_accepted(server):
    head, _body = _handshake(server.port, "/api/v2/realtime?lang=%C3%A9")

    assert head.startswith(b"HTTP/1.1 101"), head

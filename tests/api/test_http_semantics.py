"""HTTP semantics shared by every route: documented errors, HEAD, OPTIONS and Location."""

from __future__ import annotations

import re

import httpx
import pytest

from campfire_server.api.openapi import ISSUES_CREDENTIAL, middleware_errors
from campfire_server.api.route_table import RouteTable, example_path
from tests.helpers import HELPER_AGENT, create_conversation, ensure_agent

PLACEHOLDER = "does_not_exist_0"


async def _operations(client) -> list[tuple[str, str, dict]]:
    document = (await client.get("/openapi.json")).json()
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", PLACEHOLDER, path).removeprefix("/api/v2")


async def test_openapi_documents_no_422(client):
    document = (await client.get("/openapi.json")).json()

    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "422" not in operation["responses"], f"{method} {path}"
    assert "HTTPValidationError" not in document["components"]["schemas"]


async def test_openapi_documents_middleware_errors(client):
    for method, path, operation in await _operations(client):
        documented = set(operation["responses"])
        for status in middleware_errors(method, path):
            assert str(status) in documented, f"{method} {path} lacks {status}"
            schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorEnvelope"), f"{method} {path} {status}"


async def test_every_error_sent_is_documented(client, tenant):
    """Provoke the errors that apply to every operation; each status must be documented."""
    operations = await _operations(client)
    assert len(operations) > 40
    for method, path, operation in operations:
        documented = set(operation["responses"])
        url = _fill(path)
        json_headers = {**tenant.headers, "Content-Type": "application/json"}
        attempts = [
            ("no credential", {}, None, None),
            ("NUL in the query", tenant.headers, None, {"q": "a\x00b"}),
            ("bad mock header", {**tenant.headers, "X-Campfire-Mock": "1"}, None, None),
            ("unknown ids", tenant.headers, None, None),
        ]
        if method in ("post", "put", "patch"):
            attempts += [
                ("text/plain", {**tenant.headers, "Content-Type": "text/plain"}, b"x", None),
                ("malformed JSON", json_headers, b'{"a":1,}', None),
                ("over the limit", json_headers, b'"' + b"a" * (1024 * 1024 + 1) + b'"', None),
                ("unknown field", json_headers, b'{"noSuchField": true}', None),
            ]
        if method == "post":
            long_key = {**json_headers, "Idempotency-Key": "k" * 256}
            attempts.append(("long Idempotency-Key", long_key, b"{}", None))
        for label, headers, body, params in attempts:
            response = await client.request(
                method.upper(), url, headers=headers, content=body, params=params
            )
            status = str(response.status_code)
            assert status in documented, f"{method} {path}, {label}: {status} {response.text}"
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["requestId"] == response.headers["x-request-id"]


async def test_head_answers_like_get(client, tenant):
    conversation = await create_conversation(client, tenant)
    paths = [
        "/conversations",
        f"/conversations/{conversation['id']}",
        f"/conversations/{conversation['id']}/messages",
        "/mailboxes",
        "/openapi.json",
    ]
    for path in paths:
        got = await client.get(path, headers=tenant.headers)
        head = await client.head(path, headers=tenant.headers)

        assert head.status_code == got.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert head.headers["content-length"] == str(len(got.content)), path
        assert head.headers["x-request-id"].startswith("req_"), path


async def test_head_keeps_error_status(client, tenant):
    missing = await client.head("/conversations/conv_missing", headers=tenant.headers)
    unauthenticated = await client.head("/conversations")
    unknown = await client.head("/no-such-route", headers=tenant.headers)

    assert missing.status_code == 404
    assert missing.content == b""
    assert unauthenticated.status_code == 401
    assert unknown.status_code == 404


async def test_head_on_post_only_path_is_405(client, tenant):
    response = await client.head("/auth/login", headers=tenant.headers)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/conversations", "GET, HEAD, POST, OPTIONS"),
        ("/conversations/conv_any", "GET, HEAD, PATCH, OPTIONS"),
        ("/conversations/conv_any/messages", "GET, HEAD, POST, OPTIONS"),
        ("/mailboxes/mailbox_any", "GET, HEAD, PATCH, DELETE, OPTIONS"),
        ("/keys/key_any", "GET, HEAD, DELETE, OPTIONS"),
        ("/auth/login", "POST, OPTIONS"),
        ("/knowledge/articles/import", "POST, OPTIONS"),
        ("/knowledge/articles/art_any", "GET, HEAD, PATCH, DELETE, OPTIONS"),
    ],
)
async def test_options_names_every_method(client, path, allowed):
    response = await client.options(path)

    assert response.status_code == 204
    assert response.headers["allow"] == allowed
    assert response.content == b""
    assert response.headers["x-request-id"].startswith("req_")


async def test_options_on_unknown_path_is_404(client):
    response = await client.options("/no-such-route")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_wrong_method_names_head_and_options(client, tenant):
    response = await client.delete("/conversations", headers=tenant.headers)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"


async def test_literal_paths_keep_own_methods(app, client, tenant):
    """A literal path that a parameterized route also matches allows only its own methods."""
    table = RouteTable.of(app)
    shadowed = {entry.template for entry in table.shadowed}
    assert "/api/v2/knowledge/articles/import" in shadowed
    for template in sorted(shadowed):
        path = example_path(template).removeprefix("/api/v2")
        allowed = table.resource(example_path(template)).allowed()

        options = await client.options(path)
        assert options.status_code == 204, template
        assert options.headers["allow"] == ", ".join(allowed), template
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
            response = await client.request(method, path, headers=tenant.headers)
            if method in allowed:
                assert response.status_code not in (404, 405), f"{method} {template}"
                continue
            assert response.status_code == 405, f"{method} {template}: {response.text}"
            assert response.headers["allow"] == ", ".join(allowed), f"{method} {template}"
            if method != "HEAD":
                error = response.json()["error"]
                assert error["code"] == "METHOD_NOT_ALLOWED"
                assert error["details"]["value"] == method
                assert error["details"]["expected"] == ", ".join(allowed)


async def test_unknown_origin_preflight_still_403(client):
    response = await client.options(
        "/conversations",
        headers={"Origin": "https://unknown.example", "Access-Control-Request-Method": "POST"},
    )

    assert response.status_code == 403
    assert "allow" not in response.headers


# Location -----------------------------------------------------------------------


async def _creations(client, tenant) -> dict[str, tuple[str, dict]]:
    """Return, per operation id, the path and a body that creates a resource with it."""
    conversation = await create_conversation(client, tenant)
    rated = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}"
    return {
        "conversations-create": ("/conversations", {"customerId": "customer_location"}),
        "messages-create": (f"{path}/messages", {"content": "Where is my order?"}),
        "mailboxes-create": ("/mailboxes", {"id": "mailbox_location", "name": "Location"}),
        "knowledge-articles-create": (
            "/knowledge/articles",
            {"title": "Returns", "content": "Returns are accepted for 30 days."},
        ),
        "agents-create": ("/agents", {"name": "Location Agent"}),
        "handoffs-create": (f"{path}/handoff", {"reason": "customer asked"}),
        "webhooks-create": (
            "/webhooks",
            {"url": "http://127.0.0.1:9/hook", "events": ["message.sent"]},
        ),
        "keys-create": ("/keys", {"name": "location key"}),
        "satisfaction-rate": (f"/conversations/{rated['id']}/satisfaction", {"rating": 5}),
    }


async def test_every_201_has_location(client, tenant):
    document = (await client.get("/openapi.json")).json()
    creating = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if "201" in operation["responses"]
    }
    creations = await _creations(client, tenant)

    assert creating - ISSUES_CREDENTIAL == set(creations)
    for operation_id, (path, body) in creations.items():
        key = f"location-{operation_id}"
        headers = {**tenant.headers, "Idempotency-Key": key}
        created = await client.post(path, json=body, headers=headers)
        replayed = await client.post(path, json=body, headers=headers)

        assert created.status_code == 201, f"{operation_id}: {created.text}"
        location = created.headers["location"]
        assert location.startswith("/api/v2/"), operation_id
        assert replayed.status_code == 201, operation_id
        assert replayed.headers["idempotent-replayed"] == "true"
        assert replayed.headers["location"] == location, operation_id
        fetched = await client.get(location.removeprefix("/api/v2"), headers=tenant.headers)
        assert fetched.status_code == 200, f"{operation_id}: GET {location}: {fetched.text}"
        if "id" in created.json() and operation_id != "satisfaction-rate":
            assert fetched.json()["id"] == created.json()["id"], operation_id
        documented = document_headers(document, operation_id)
        assert "Location" in documented, operation_id


def document_headers(document: dict, operation_id: str) -> dict:
    for item in document["paths"].values():
        for operation in item.values():
            if operation["operationId"] == operation_id:
                return operation["responses"]["201"].get("headers", {})
    raise AssertionError(f"no operation {operation_id}")


async def test_message_location_resolves(client, tenant):
    conversation = await create_conversation(client, tenant)
    await ensure_agent(client, tenant, HELPER_AGENT)
    note = await client.post(
        f"/conversations/{conversation['id']}/messages",
        json={
            "content": "internal note",
            "authorType": "agent",
            "authorId": HELPER_AGENT,
            "private": True,
        },
        headers=tenant.headers,
    )
    assert note.status_code == 201, note.text

    fetched = await client.get(
        note.headers["location"].removeprefix("/api/v2"), headers=tenant.headers
    )
    other = await client.get(
        f"/conversations/{conversation['id']}/messages/msg_missing", headers=tenant.headers
    )

    assert fetched.status_code == 200
    assert fetched.json()["private"] is True
    assert other.status_code == 404
    assert other.json()["error"]["details"]["field"] == "messageId"


# WebSocket paths over plain HTTP ---------------------------------------------------


def test_websocket_paths_answer_426(app, live_server):
    websockets = RouteTable.of(app).websockets
    assert websockets
    for entry in websockets:
        url = live_server.base_url + example_path(entry.template)
        for method in ("GET", "HEAD", "POST", "OPTIONS"):
            response = httpx.request(method, url, timeout=10)

            assert response.status_code == 426, f"{method} {entry.template}"
            assert response.headers["upgrade"] == "websocket", f"{method} {entry.template}"
            if method != "HEAD":
                error = response.json()["error"]
                assert error["code"] == "UPGRADE_REQUIRED"
                assert error["details"]["expected"] == "websocket"
                assert error["requestId"] == response.headers["x-request-id"]


@pytest.mark.parametrize("coding", ["gzip", "deflate, gzip", "br", "identity, gzip"])
async def test_compressed_body_is_415(client, db, tenant, coding):
    before = await db.read(lambda tx: tx.value("SELECT COUNT(*) AS n FROM conversations"))
    response = await client.post(
        "/conversations",
        content=b'{"customerId": "customer_gzip"}',
        headers={
            **tenant.headers,
            "Content-Type": "application/json",
            "Content-Encoding": coding,
        },
    )
    after = await db.read(lambda tx: tx.value("SELECT COUNT(*) AS n FROM conversations"))

    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert error["details"]["field"] == "Content-Encoding"
    assert "Content-Encoding" in error["message"]
    assert after == before


@pytest.mark.parametrize(
    ("coding", "shown"),
    [
        (b"GZip", "GZip"),
        (b"identity, BR", "identity, BR"),
        ("gzïp".encode(), "gzïp"),
        (b"gz\xe9p", "gz\\xe9p"),
        (b"x" * 150, "x" * 100 + "..."),
    ],
)
async def test_unsupported_coding_shown_as_sent(client, tenant, coding, shown):
    response = await client.post(
        "/conversations",
        content=b'{"customerId": "customer_coding"}',
        headers=[
            *tenant.headers.items(),
            ("Content-Type", "application/json"),
            ("Content-Encoding", coding),
        ],
    )

    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["message"] == (
        f"Content-Encoding {shown!r} is not supported; send the body uncompressed, "
        "without a Content-Encoding header"
    )
    assert error["details"]["value"] == shown


async def test_identity_content_encoding_is_accepted(client, tenant):
    response = await client.post(
        "/conversations",
        content=b'{"customerId": "customer_identity"}',
        headers={
            **tenant.headers,
            "Content-Type": "application/json",
            "Content-Encoding": "identity",
        },
    )

    assert response.status_code == 201, response.text

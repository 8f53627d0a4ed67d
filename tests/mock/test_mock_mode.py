"""Mock mode: real responses, nothing stored, nothing published."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from campfire_server.app import create_app
from campfire_server.events import bus
from campfire_server.webhooks.delivery import fan_out_all
from tests.auth.conftest import bearer, create_key
from tests.conftest import test_settings as make_settings
from tests.helpers import create_conversation

MOCK = {"X-Campfire-Mock": "true"}
SECRET = "identity-secret-0123456789abcdef"


def snapshot(db):
    """Return every row of every table, so a test can compare before and after."""

    def work(tx):
        if tx.dialect == "sqlite":
            names = tx.all(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        else:
            names = tx.all(
                "SELECT table_name AS name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        tables = {}
        for row in names:
            rows = tx.all(f'SELECT * FROM "{row["name"]}"')
            tables[row["name"]] = sorted(
                json.dumps(item, default=str, sort_keys=True) for item in rows
            )
        return tables

    return db.read(work)


@pytest.fixture
async def client(db):
    """A client of an app without the webhook worker, whose retries would change tables."""
    app = create_app(make_settings(db.url, webhook_worker=False), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as http:
            yield http


@pytest.fixture
def published():
    events = []
    unsubscribe = bus.subscribe(events.append)
    yield events
    unsubscribe()


async def test_mock_writes_change_nothing(client, db, tenant, published):
    webhook = await client.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["*"]},
        headers=tenant.headers,
    )
    assert webhook.status_code == 201, webhook.text
    conversation = await create_conversation(client, tenant)
    conversation_path = f"/conversations/{conversation['id']}"
    key = await client.post("/keys", json={"name": "to revoke"}, headers=tenant.headers)
    publishable = await create_key(
        db,
        tenant.org_id,
        kind="publishable",
        role="customer",
        allowed_origins=["https://shop.example"],
    )
    await client.patch(
        "/mailboxes/mailbox_test_2",
        json={"settings": {"identityVerification": True}, "identitySecret": SECRET},
        headers=tenant.headers,
    )
    published.clear()
    before = await snapshot(db)
    admin = {**tenant.headers, **MOCK}
    digest = hmac.new(SECRET.encode(), b"customer_mock", hashlib.sha256).hexdigest()

    requests = [
        ("POST", "/conversations", {"customerId": "customer_mock", "subject": "mock"}, admin, 201),
        ("PATCH", conversation_path, {"status": "resolved", "priority": "urgent"}, admin, 200),
        (
            "POST",
            f"{conversation_path}/messages",
            {"content": "mocked", "authorType": "customer"},
            admin,
            201,
        ),
        ("POST", "/mailboxes", {"id": "mbx_mock", "name": "Mock"}, admin, 201),
        (
            "PATCH",
            "/mailboxes/mailbox_test_1",
            {"name": "Mocked", "identitySecret": "x" * 20},
            admin,
            200,
        ),
        ("DELETE", "/mailboxes/mailbox_test_2", None, admin, 204),
        ("POST", "/keys", {"name": "mock key"}, admin, 201),
        ("DELETE", f"/keys/{key.json()['id']}", None, admin, 204),
        ("POST", "/auth/tokens", {"role": "viewer", "subject": "mock"}, admin, 201),
        (
            "POST",
            "/widget/session",
            {
                "mailboxId": "mailbox_test_2",
                "customerId": "customer_mock",
                "customerHash": digest,
                "name": "Mock Person",
            },
            bearer(publishable, **MOCK),
            201,
        ),
        (
            "POST",
            "/widget/session",
            {"mailboxId": "mailbox_test_1"},
            bearer(publishable, **MOCK),
            201,
        ),
    ]
    for method, path, body, headers, status in requests:
        response = await client.request(method, path, json=body, headers=headers)
        assert response.status_code == status, (method, path, response.text)
        assert response.headers.get("x-campfire-mock") == "true", (method, path)
        if status != 204:
            assert response.json(), (method, path)

    created = await client.post(
        "/conversations", json={"customerId": "customer_mock"}, headers=admin
    )
    assert created.json()["id"].startswith("conv_")
    assert created.json()["status"] == "open"
    assert await snapshot(db) == before
    assert published == []

    # The same key still works: its revocation was not kept.
    assert (await client.get("/keys", headers=bearer(key.json()["key"]))).status_code == 200
    fetched = await client.get(f"/conversations/{created.json()['id']}", headers=tenant.headers)
    assert fetched.status_code == 404


async def test_mock_mode_still_validates(client, db, tenant, published):
    before = await snapshot(db)
    admin = {**tenant.headers, **MOCK}
    invalid = await client.post("/conversations", json={"priority": "extreme"}, headers=admin)
    assert invalid.status_code == 400
    assert invalid.headers["x-campfire-mock"] == "true"
    unauthenticated = await client.post("/conversations", json={"customerId": "c"}, headers=MOCK)
    assert unauthenticated.status_code == 401
    missing = await client.patch(
        "/conversations/conv_absent000000000000000", json={"priority": "high"}, headers=admin
    )
    assert missing.status_code == 404
    assert await snapshot(db) == before
    assert published == []


async def test_without_header_writes_happen(client, db, tenant, published):
    before = await snapshot(db)
    for value in ("false", "FALSE", "False"):
        response = await client.post(
            "/conversations",
            json={"customerId": "customer_real"},
            headers={**tenant.headers, "X-Campfire-Mock": value},
        )
        assert response.status_code == 201
        assert "x-campfire-mock" not in response.headers
    after = await snapshot(db)
    assert len(after["conversations"]) == len(before["conversations"]) + 3
    assert len(published) == 3


async def test_real_write_would_queue_webhook(client, db, tenant):
    """The control for the mock test: the same write without the header queues a delivery."""
    await client.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["conversation.created"]},
        headers=tenant.headers,
    )
    # Deliveries are queued from committed events by the worker's fan-out,
    # which this client's app does not run, so the test runs it itself.
    await fan_out_all(db)
    before = await snapshot(db)
    mocked = await client.post(
        "/conversations", json={"customerId": "c_mock"}, headers={**tenant.headers, **MOCK}
    )
    assert mocked.status_code == 201
    assert await fan_out_all(db) == 0
    assert await snapshot(db) == before
    real = await client.post(
        "/conversations", json={"customerId": "c_real"}, headers=tenant.headers
    )
    assert real.status_code == 201
    assert await fan_out_all(db) == 1
    after = await snapshot(db)
    assert len(after["webhook_deliveries"]) == len(before["webhook_deliveries"]) + 1


async def test_mock_covers_every_write_endpoint(client, db, tenant, published):
    """Each write endpoint of the API answers for real in mock mode and keeps nothing."""
    admin = {**tenant.headers, **MOCK}
    conversation = await create_conversation(client, tenant)
    conversation_path = f"/conversations/{conversation['id']}"
    agent = (await client.post("/agents", json={"name": "Real"}, headers=tenant.headers)).json()
    article = (
        await client.post(
            "/knowledge/articles",
            json={"title": "Billing", "content": "Update billing in Settings."},
            headers=tenant.headers,
        )
    ).json()
    webhook = (
        await client.post(
            "/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "events": ["conversation.created"]},
            headers=tenant.headers,
        )
    ).json()
    await create_conversation(client, tenant)
    await fan_out_all(db)
    deliveries = await client.get(f"/webhooks/{webhook['id']}/deliveries", headers=tenant.headers)
    delivery_id = deliveries.json()["data"][0]["id"]
    search_before = (
        await client.get("/knowledge/search", params={"q": "refund"}, headers=tenant.headers)
    ).json()
    published.clear()
    before = await snapshot(db)

    requests = [
        ("POST", f"{conversation_path}/handoff", {"reason": "mock"}),
        ("POST", f"{conversation_path}/satisfaction", {"rating": 4}),
        ("POST", "/agents", {"name": "Mock agent"}),
        ("PATCH", f"/agents/{agent['id']}", {"status": "online"}),
        ("DELETE", f"/agents/{agent['id']}", None),
        ("POST", "/knowledge/articles", {"title": "Refunds", "content": "Refund policy text."}),
        (
            "POST",
            "/knowledge/articles/import",
            {"articles": [{"title": "Refund import", "content": "Refunds take 5 days."}]},
        ),
        ("PATCH", f"/knowledge/articles/{article['id']}", {"title": "Refund renamed"}),
        ("DELETE", f"/knowledge/articles/{article['id']}", None),
        ("POST", "/webhooks", {"url": "http://127.0.0.1:9/other", "events": ["message.sent"]}),
        ("PATCH", f"/webhooks/{webhook['id']}", {"events": ["message.sent"]}),
        ("POST", f"/webhooks/{webhook['id']}/rotate-secret", None),
        ("POST", f"/webhooks/{webhook['id']}/test", None),
        ("POST", f"/webhooks/{webhook['id']}/deliveries/{delivery_id}/retry", None),
        ("DELETE", f"/webhooks/{webhook['id']}", None),
        (
            "POST",
            "/ai/generate-response",
            {"conversationId": conversation["id"], "messageContent": "How do refunds work?"},
        ),
    ]
    for method, path, body in requests:
        response = await client.request(method, path, json=body, headers=admin)
        assert response.status_code < 300, (method, path, response.text)
        assert response.headers.get("x-campfire-mock") == "true", (method, path)

    assert await snapshot(db) == before
    assert published == []
    search_after = (
        await client.get("/knowledge/search", params={"q": "refund"}, headers=tenant.headers)
    ).json()
    assert search_after == search_before


async def test_unclear_mock_header_is_400(client, tenant, db):
    before = await db.read(lambda tx: tx.value("SELECT COUNT(*) AS n FROM conversations"))
    for value in ("1", "yes", "on"):
        response = await client.post(
            "/conversations",
            json={"customerId": "customer_mock_header"},
            headers={**tenant.headers, "X-Campfire-Mock": value},
        )
        assert response.status_code == 400
        assert response.json()["error"]["details"]["field"] == "X-Campfire-Mock"
    after = await db.read(lambda tx: tx.value("SELECT COUNT(*) AS n FROM conversations"))
    assert after == before

"""Every Conversations and Messages example request of the public API reference."""

from __future__ import annotations

import re

DEV = {"Authorization": "Bearer test_sk_123456789", "Content-Type": "application/json"}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

CREATE_EXAMPLE = {
    "customerId": "customer_123",
    "mailboxId": "mailbox_456",
    "subject": "Billing Question",
    "priority": "medium",
    "metadata": {
        "source": "widget",
        "userAgent": "Mozilla/5.0...",
        "referrer": "https://example.com/pricing",
    },
}
MESSAGE_EXAMPLE = {
    "content": "Hello, I need help with my billing",
    "authorType": "customer",
    "authorId": "customer_123",
    "metadata": {"timestamp": "2024-01-15T10:30:00Z", "source": "widget"},
}


async def test_reference_examples(client):
    created = await client.post("/conversations", json=CREATE_EXAMPLE, headers=DEV)
    assert created.status_code == 201
    conversation = created.json()
    for field in ("customerId", "mailboxId", "subject", "priority", "metadata"):
        assert conversation[field] == CREATE_EXAMPLE[field]
    assert conversation["id"].startswith("conv_")
    assert conversation["status"] == "open"
    assert ISO_MS.match(conversation["createdAt"])
    assert ISO_MS.match(conversation["updatedAt"])

    fetched = await client.get(f"/conversations/{conversation['id']}", headers=DEV)
    assert fetched.status_code == 200
    assert fetched.json()["id"] == conversation["id"]

    listed = await client.get(
        "/conversations?page=1&limit=50&status=open&priority=high", headers=DEV
    )
    assert listed.status_code == 200
    assert set(listed.json()) == {"data", "pagination"}
    assert set(listed.json()["pagination"]) == {
        "page",
        "limit",
        "total",
        "totalPages",
        "hasMore",
        "nextCursor",
    }

    updated = await client.patch(
        f"/conversations/{conversation['id']}",
        json={"status": "resolved", "priority": "low", "assignedAgentId": "agent_123"},
        headers=DEV,
    )
    assert updated.status_code == 200
    assert updated.json()["status"] == "resolved"

    sent = await client.post(
        f"/conversations/{conversation['id']}/messages", json=MESSAGE_EXAMPLE, headers=DEV
    )
    assert sent.status_code == 201
    message = sent.json()
    assert set(message) >= {
        "id",
        "conversationId",
        "content",
        "authorType",
        "authorId",
        "createdAt",
        "metadata",
    }
    for field in ("content", "authorType", "authorId", "metadata"):
        assert message[field] == MESSAGE_EXAMPLE[field]
    assert message["conversationId"] == conversation["id"]
    assert ISO_MS.match(message["createdAt"])

    messages = await client.get(
        f"/conversations/{conversation['id']}/messages?page=1&limit=50", headers=DEV
    )
    assert messages.status_code == 200
    assert messages.json()["data"][0]["id"] == message["id"]


async def test_test_key_refused_outside_development(db):
    import httpx

    from campfire_server.app import create_app
    from tests.conftest import test_settings

    app = create_app(test_settings(db.url, env="test"), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as http:
            response = await http.get("/conversations", headers=DEV)
    assert response.status_code == 401
    assert "CAMPFIRE_ENV=development" in response.json()["error"]["message"]

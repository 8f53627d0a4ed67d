"""Conversations: create, get, list, update and their events."""

from __future__ import annotations

import pytest

from campfire_server.db.database import Database
from tests.helpers import CREATE_CONVERSATION as CREATE
from tests.helpers import create_conversation as create


async def test_create_returns_documented_shape(client, tenant):
    body = await create(client, tenant)

    assert body["id"].startswith("conv_")
    assert body["customerId"] == "customer_test_A"
    assert body["mailboxId"] == "mailbox_test_1"
    assert body["status"] == "open"
    assert body["priority"] == "medium"
    assert body["unreadCount"] == 0
    assert body["lastMessageAt"] is None
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24
    assert body["metadata"] == {"source": "api"}


async def test_create_without_mailbox_uses_first(client, tenant):
    body = await create(client, tenant, mailboxId=None)
    assert body["mailboxId"] == "mailbox_test_1"


async def test_create_unknown_mailbox_is_404(client, tenant):
    response = await client.post(
        "/conversations", json={**CREATE, "mailboxId": "mailbox_nope"}, headers=tenant.headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["details"]["field"] == "mailboxId"


async def test_ids_are_opaque_and_not_sequential(client, tenant):
    first = (await create(client, tenant))["id"]
    second = (await create(client, tenant))["id"]

    assert first != second
    assert len(first) - len("conv_") >= 22
    # The random tails differ in many places, not just the last character.
    assert sum(a != b for a, b in zip(first[-17:], second[-17:], strict=True)) > 8


async def test_get_returns_created(client, tenant):
    created = await create(client, tenant)
    response = await client.get(f"/conversations/{created['id']}", headers=tenant.headers)

    assert response.status_code == 200
    assert response.json() == created


async def test_update_changes_fields(client, tenant):
    created = await create(client, tenant)
    response = await client.patch(
        f"/conversations/{created['id']}",
        json={"status": "resolved", "priority": "low", "assignedAgentId": "agent_123"},
        headers=tenant.headers,
    )
    body = response.json()

    assert response.status_code == 200
    assert body["status"] == "resolved"
    assert body["priority"] == "low"
    assert body["assignedAgentId"] == "agent_123"
    assert body["resolvedAt"] is not None
    assert body["updatedAt"] >= created["updatedAt"]


async def test_update_empty_body_is_400(client, tenant):
    created = await create(client, tenant)
    response = await client.patch(
        f"/conversations/{created['id']}", json={}, headers=tenant.headers
    )
    assert response.status_code == 400


async def events_of(db: Database, conversation_id: str) -> list[dict]:
    return await db.read(
        lambda tx: tx.all(
            "SELECT type, sequence FROM events WHERE conversation_id = :id ORDER BY position",
            id=conversation_id,
        )
    )


async def test_noop_patch_emits_nothing(client, tenant, db):
    created = await create(client, tenant)
    for _ in range(2):
        response = await client.patch(
            f"/conversations/{created['id']}", json={"priority": "high"}, headers=tenant.headers
        )
        assert response.status_code == 200

    types = [event["type"] for event in await events_of(db, created["id"])]
    assert types == ["conversation.created", "conversation.updated"]


async def test_event_sequences_increase(client, tenant, db):
    created = await create(client, tenant)
    await client.post(
        f"/conversations/{created['id']}/messages",
        json={"content": "hi", "authorType": "customer"},
        headers=tenant.headers,
    )
    await client.patch(
        f"/conversations/{created['id']}", json={"status": "resolved"}, headers=tenant.headers
    )

    events = await events_of(db, created["id"])
    assert [event["type"] for event in events] == [
        "conversation.created",
        "message.sent",
        "conversation.updated",
        "conversation.resolved",
    ]
    assert [event["sequence"] for event in events] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "field,value",
    [
        ("status", "done"),
        ("priority", "urgent-ish"),
        ("customerId", 123),
        ("subject", "x" * 501),
    ],
)
async def test_create_invalid_field_names_it(client, tenant, field, value):
    response = await client.post(
        "/conversations", json={**CREATE, field: value}, headers=tenant.headers
    )
    error = response.json()["error"]

    assert response.status_code == 400
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert "expected" in error["details"]


async def test_unknown_field_rejected(client, tenant):
    response = await client.post(
        "/conversations", json={**CREATE, "colour": "red"}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "colour"


async def test_list_filters(client, tenant):
    first = await create(client, tenant, priority="high")
    second = await create(client, tenant, customerId="customer_test_B", mailboxId="mailbox_test_2")
    await client.patch(
        f"/conversations/{second['id']}",
        json={"status": "pending", "assignedAgentId": "agent_alpha"},
        headers=tenant.headers,
    )

    async def ids(**params):
        response = await client.get("/conversations", params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]]

    assert await ids(priority="high") == [first["id"]]
    assert await ids(status="pending") == [second["id"]]
    assert await ids(mailboxId="mailbox_test_2") == [second["id"]]
    assert await ids(customerId="customer_test_B") == [second["id"]]
    assert await ids(assignedAgentId="agent_alpha") == [second["id"]]
    assert await ids(createdAfter=first["createdAt"], customerId="customer_test_B") == [
        second["id"]
    ]
    assert await ids(createdBefore=first["createdAt"]) == []
    assert set(await ids(status="open")) == {first["id"]}


async def test_list_invalid_filter_is_400(client, tenant):
    response = await client.get("/conversations", params={"status": "nope"}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "status"

    response = await client.get(
        "/conversations", params={"createdAfter": "yesterday"}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "createdAfter"

"""Webhook bodies carry conversations in the shape that the REST API returns."""

from __future__ import annotations

import asyncio
import json

from campfire_server.events import records
from tests.helpers import create_conversation, send_message
from tests.routing.support import add_agent, hand_off

from .conftest import create_webhook

NAME = "Ana Silva"
EMAIL = "ana@example.test"


async def name_customer(db, tenant, customer_id):
    def work(tx):  # type: ignore[no-untyped-def]
        return tx.execute(
            "UPDATE customers SET name = :name, email = :email WHERE org_id = :org_id AND id = :id",
            name=NAME,
            email=EMAIL,
            org_id=tenant.org_id,
            id=customer_id,
        )

    assert await db.write(work) == 1


async def test_event_conversations_match_rest(hook_client, tenant, db, receiver):
    # The first conversation stores the customer, so it can be named before the webhook.
    await create_conversation(hook_client, tenant, customerId="customer_shape")
    await name_customer(db, tenant, "customer_shape")
    await create_webhook(hook_client, tenant, receiver.url, ["*"])
    conversation = await create_conversation(hook_client, tenant, customerId="customer_shape")
    conversation_id = conversation["id"]

    first = await send_message(hook_client, tenant, conversation_id, "hello")
    assert first.status_code == 201, first.text
    resolved = await hook_client.patch(
        f"/conversations/{conversation_id}", json={"status": "resolved"}, headers=tenant.headers
    )
    assert resolved.status_code == 200, resolved.text
    # A customer message reopens the conversation, which adds a conversation.updated.
    reopening = await send_message(hook_client, tenant, conversation_id, "one more thing")
    assert reopening.status_code == 201, reopening.text
    rated = await hook_client.post(
        f"/conversations/{conversation_id}/satisfaction",
        json={"rating": 5},
        headers=tenant.headers,
    )
    assert rated.status_code == 201, rated.text
    current = await hook_client.get(f"/conversations/{conversation_id}", headers=tenant.headers)
    assert current.status_code == 200, current.text
    rest = current.json()

    # Seven events carry the conversation: its creation, two messages, the update and
    # resolution of the PATCH, the update of the reopening and the rating.
    await receiver.wait_for(7)
    await asyncio.sleep(0.2)
    bodies = [json.loads(request.body) for request in receiver.requests]
    carrying = [body for body in bodies if "conversation" in body["data"]]
    types = sorted(body["type"] for body in carrying)
    assert types == sorted(
        [
            records.CONVERSATION_CREATED,
            records.MESSAGE_SENT,
            records.CONVERSATION_UPDATED,
            records.CONVERSATION_RESOLVED,
            records.MESSAGE_SENT,
            records.CONVERSATION_UPDATED,
            records.SATISFACTION_RATED,
        ]
    )
    for body in carrying:
        embedded = body["data"]["conversation"]
        assert set(embedded) == set(rest), body["type"]
        assert embedded["customer"] == {"id": "customer_shape", "name": NAME, "email": EMAIL}

    messages = [body for body in carrying if body["type"] == records.MESSAGE_SENT]
    messages.sort(key=lambda body: body["sequence"])
    assert messages[0]["data"]["conversation"]["messageCount"] == 1
    assert messages[0]["data"]["conversation"]["status"] == "open"
    # The last message left the conversation as GET returns it now.
    assert messages[-1]["data"]["conversation"] == rest
    reopened = [
        body
        for body in carrying
        if body["type"] == records.CONVERSATION_UPDATED
        and body["data"]["changes"] == {"status": "open"}
    ]
    assert len(reopened) == 1
    assert reopened[0]["data"]["conversation"] == rest
    assert reopened[0]["data"]["conversation"]["resolvedAt"] is None
    rating = next(body for body in carrying if body["type"] == records.SATISFACTION_RATED)
    assert rating["data"]["conversation"] == rest


async def test_reopen_webhook_names_released_assignee(hook_client, tenant, receiver):
    await add_agent(hook_client, tenant, "agent_x")
    conversation = await create_conversation(hook_client, tenant)
    conversation_id = conversation["id"]
    handed = await hand_off(hook_client, tenant, conversation_id)
    assert handed.status_code == 201, handed.text
    resolved = await hook_client.patch(
        f"/conversations/{conversation_id}", json={"status": "resolved"}, headers=tenant.headers
    )
    assert resolved.status_code == 200, resolved.text
    await create_webhook(hook_client, tenant, receiver.url, [records.CONVERSATION_UPDATED])

    reopening = await send_message(hook_client, tenant, conversation_id, "one more thing")

    assert reopening.status_code == 201, reopening.text
    await receiver.wait_for(1)
    [body] = [json.loads(request.body) for request in receiver.requests]
    assert body["type"] == records.CONVERSATION_UPDATED
    assert body["data"]["changes"] == {"status": "open", "assignedAgentId": None}
    assert body["data"]["conversation"]["assignedAgentId"] is None

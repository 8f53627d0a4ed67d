"""Idempotency-Key: a retried POST never creates twice."""

from __future__ import annotations

import asyncio

from tests.helpers import create_conversation, get_conversation

KEY = "7c1e0f4a-0000-4000-8000-000000000001"


async def post_message(client, tenant, conversation_id, content, key=KEY):
    return await client.post(
        f"/conversations/{conversation_id}/messages",
        json={"content": content, "authorType": "customer", "authorId": "customer_test_A"},
        headers={**tenant.headers, "Idempotency-Key": key},
    )


async def event_count(db, conversation_id):
    return await db.read(
        lambda tx: tx.value(
            "SELECT COUNT(*) AS n FROM events "
            "WHERE conversation_id = :id AND type = 'message.sent'",
            id=conversation_id,
        )
    )


async def test_repeat_returns_first_response(client, tenant, db):
    conversation = await create_conversation(client, tenant)
    first = await post_message(client, tenant, conversation["id"], "Hello")
    second = await post_message(client, tenant, conversation["id"], "Hello")

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1
    assert await event_count(db, conversation["id"]) == 1


async def test_same_key_other_body_is_409(client, tenant):
    conversation = await create_conversation(client, tenant)
    await post_message(client, tenant, conversation["id"], "Hello")
    response = await post_message(client, tenant, conversation["id"], "Something else")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1


async def test_without_key_creates_twice(client, tenant):
    conversation = await create_conversation(client, tenant)
    for _ in range(2):
        response = await client.post(
            f"/conversations/{conversation['id']}/messages",
            json={"content": "Hello"},
            headers=tenant.headers,
        )
        assert response.status_code == 201
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 2


async def test_concurrent_repeats_store_one(client, tenant, db):
    conversation = await create_conversation(client, tenant)
    responses = await asyncio.gather(
        *(
            post_message(client, tenant, conversation["id"], "once", "concurrent-key")
            for _ in range(30)
        )
    )

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1
    assert await event_count(db, conversation["id"]) == 1


async def test_key_scoped_to_credential(client, tenant, other_tenant):
    mine = await create_conversation(client, tenant)
    theirs = await create_conversation(client, other_tenant)
    first = await post_message(client, tenant, mine["id"], "Hello", "shared-key")
    second = await post_message(client, other_tenant, theirs["id"], "Hello", "shared-key")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_failed_request_can_be_retried(client, tenant):
    first = await post_message(client, tenant, "conv_missing", "Hello", "retry-key")
    assert first.status_code == 404
    conversation = await create_conversation(client, tenant)
    # A 4xx is the final response to that exact request, so the same body replays it.
    again = await post_message(client, tenant, "conv_missing", "Hello", "retry-key")
    assert again.status_code == 404
    fresh = await post_message(client, tenant, conversation["id"], "Hello", "retry-key-2")
    assert fresh.status_code == 201


async def test_replayed_error_names_own_request_id(client, tenant):
    first = await post_message(client, tenant, "conv_missing", "Hello", "request-id-key")
    again = await post_message(client, tenant, "conv_missing", "Hello", "request-id-key")

    assert again.status_code == 404
    assert again.headers["idempotent-replayed"] == "true"
    request_id = again.headers["x-request-id"]
    assert request_id != first.headers["x-request-id"]
    assert again.json()["error"]["requestId"] == request_id
    assert again.json()["error"]["code"] == first.json()["error"]["code"]

"""Satisfaction ratings: one per conversation, replaceable, from the customer or a server key."""

from __future__ import annotations

import pytest

from .conftest import agent_token_headers, customer_headers, key_headers


async def rated_events(db, conversation_id):
    return await db.read(
        lambda tx: tx.all(
            "SELECT data FROM events WHERE conversation_id = :id AND type = 'satisfaction.rated' "
            "ORDER BY position",
            id=conversation_id,
        )
    )


async def test_rating_created_then_replaced(history, client, db, tenant):
    history.at("2024-04-01T10:00:00Z")
    conversation = await history.conversation("customer_a")
    path = f"/conversations/{conversation}/satisfaction"
    customer = customer_headers(tenant, "customer_a")

    first = await client.post(path, json={"rating": 2, "comment": "slow"}, headers=customer)
    assert first.status_code == 201
    assert first.json() == {
        "conversationId": conversation,
        "rating": 2,
        "comment": "slow",
        "createdAt": "2024-04-01T10:00:00.000Z",
        "updatedAt": "2024-04-01T10:00:00.000Z",
    }

    history.later(3600)
    second = await client.post(path, json={"rating": 5}, headers=customer)
    assert second.status_code == 200
    assert second.json()["rating"] == 5
    assert second.json()["comment"] is None
    assert second.json()["createdAt"] == "2024-04-01T10:00:00.000Z"
    assert second.json()["updatedAt"] == "2024-04-01T11:00:00.000Z"

    stored = await client.get(path, headers=tenant.headers)
    assert stored.status_code == 200
    assert stored.json() == second.json()

    events = await rated_events(db, conversation)
    assert len(events) == 2
    assert '"previousRating":2' in events[1]["data"]


async def test_repeated_rating_emits_nothing(history, client, db, tenant):
    history.at("2024-04-01T10:00:00Z")
    conversation = await history.conversation()
    path = f"/conversations/{conversation}/satisfaction"
    await client.post(path, json={"rating": 4}, headers=tenant.headers)
    again = await client.post(path, json={"rating": 4}, headers=tenant.headers)
    assert again.status_code == 200
    assert len(await rated_events(db, conversation)) == 1


async def test_changed_rating_counts_once(history, tenant):
    history.at("2024-05-30T10:00:00Z")
    conversation = await history.conversation()
    await history.rate(conversation, 1)
    history.later(86_400)
    await history.rate(conversation, 5)
    history.at("2024-06-01T00:00:00Z")

    satisfaction = (await history.metrics(metrics="satisfaction"))["metrics"]["satisfaction"]
    assert satisfaction["average"] == 5.0
    assert satisfaction["total_responses"] == 1


async def test_customer_rates_only_own_conversation(history, client, tenant):
    history.at("2024-04-01T10:00:00Z")
    conversation = await history.conversation("customer_a")
    path = f"/conversations/{conversation}/satisfaction"

    foreign = await client.post(
        path, json={"rating": 1}, headers=customer_headers(tenant, "customer_b")
    )
    assert foreign.status_code == 404
    unrated = await client.get(path, headers=tenant.headers)
    assert unrated.status_code == 404
    assert unrated.json()["error"]["code"] == "NOT_FOUND"


async def test_inbox_token_and_viewer_cannot_rate(history, client, db, tenant):
    history.at("2024-04-01T10:00:00Z")
    conversation = await history.conversation()
    path = f"/conversations/{conversation}/satisfaction"

    agent = await client.post(path, json={"rating": 5}, headers=agent_token_headers(tenant))
    assert agent.status_code == 403
    viewer = await client.post(
        path, json={"rating": 5}, headers=await key_headers(db, tenant, "viewer")
    )
    assert viewer.status_code == 403
    assert (await client.get(path, headers=tenant.headers)).status_code == 404


async def test_other_tenant_sees_not_found(history, client, tenant, other_tenant):
    history.at("2024-04-01T10:00:00Z")
    conversation = await history.conversation()
    response = await client.post(
        f"/conversations/{conversation}/satisfaction",
        json={"rating": 5},
        headers=other_tenant.headers,
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": 4.5}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"rating": True}, "rating"),
        ({}, "rating"),
        ({"rating": 3, "comment": "x" * 2001}, "comment"),
        ({"rating": 3, "comment": "bad\u0000text"}, "comment"),
        ({"rating": 3, "stars": 3}, "stars"),
    ],
)
async def test_invalid_rating_rejected(history, client, db, tenant, body, field):
    history.at("2024-04-01T10:00:00Z")
    conversation = await history.conversation()
    path = f"/conversations/{conversation}/satisfaction"
    await client.post(path, json={"rating": 4}, headers=tenant.headers)

    response = await client.post(path, json=body, headers=tenant.headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert (await client.get(path, headers=tenant.headers)).json()["rating"] == 4
    assert len(await rated_events(db, conversation)) == 1

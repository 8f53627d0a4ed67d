"""Concurrent handoffs, presence changes and resolutions on both engines."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from tests.conftest import start_server
from tests.helpers import create_conversation
from tests.routing.support import (
    HANDOFF_BODY,
    add_agent,
    check_capacity_history,
    check_invariants,
    events,
    hand_off,
)

AGENTS = [f"agent_{index}" for index in range(5)]


async def prepare(client, tenant, count: int, capacity: int = 2) -> list[str]:
    for agent_id in AGENTS:
        await add_agent(client, tenant, agent_id, capacity=capacity)
    return [(await create_conversation(client, tenant))["id"] for _ in range(count)]


async def check_burst(db, tenant, responses: list[httpx.Response]) -> None:
    """Check the outcome of 50 handoffs against 5 agents of capacity 2."""
    assert [item.status_code for item in responses] == [201] * 50, [
        item.text for item in responses if item.status_code != 201
    ][:3]
    bodies = [item.json() for item in responses]
    assigned = [body for body in bodies if body["status"] == "assigned"]
    queued = [body for body in bodies if body["status"] == "queued"]
    assert len(assigned) == 10
    assert len(queued) == 40
    assert all(body["agentId"] is None for body in queued)
    for agent_id in AGENTS:
        assert sum(body["agentId"] == agent_id for body in assigned) == 2, agent_id
    # The 40 waiting handoffs hold the positions 1..40 between them.
    assert sorted(body["position"] for body in queued) == list(range(1, 41))

    state = await check_invariants(db, tenant.org_id)
    assert state["loads"] == {agent_id: 2 for agent_id in AGENTS}
    assigned_events = await events(db, tenant.org_id, "handoff.assigned")
    conversations = [event["conversation_id"] for event in assigned_events]
    assert len(conversations) == 10
    assert len(set(conversations)) == 10
    await check_capacity_history(db, tenant.org_id, {agent_id: 2 for agent_id in AGENTS})


async def test_fifty_concurrent_handoffs(client, db, tenant):
    conversation_ids = await prepare(client, tenant, 50)

    responses = await asyncio.gather(
        *(hand_off(client, tenant, conversation_id) for conversation_id in conversation_ids)
    )

    await check_burst(db, tenant, list(responses))


async def test_fifty_handoffs_through_two_servers(client, db, tenant, tmp_path):
    if db.dialect != "postgresql":
        pytest.skip("several server processes share one database only on PostgreSQL")

    conversation_ids = await prepare(client, tenant, 50)
    servers = await asyncio.gather(
        asyncio.to_thread(start_server, db.url, tmp_path),
        asyncio.to_thread(start_server, db.url, tmp_path),
    )
    try:
        async with (
            httpx.AsyncClient(base_url=servers[0].api, timeout=60) as first,
            httpx.AsyncClient(base_url=servers[1].api, timeout=60) as second,
        ):
            calls = [
                (first if index % 2 else second).post(
                    f"/conversations/{conversation_id}/handoff",
                    json=HANDOFF_BODY,
                    headers=tenant.headers,
                )
                for index, conversation_id in enumerate(conversation_ids)
            ]
            responses = await asyncio.gather(*calls)
    finally:
        for server in servers:
            server.stop()

    await check_burst(db, tenant, list(responses))


async def test_concurrent_presence_and_resolutions(client, db, tenant):
    seeded = random.Random(20240115)
    conversation_ids = await prepare(client, tenant, 30)
    await asyncio.gather(*(hand_off(client, tenant, item) for item in conversation_ids[:20]))

    async def toggle(agent_id: str) -> None:
        for status in ("offline", "online", "away", "online", "offline", "online"):
            response = await client.patch(
                f"/agents/{agent_id}", json={"status": status}, headers=tenant.headers
            )
            assert response.status_code == 200, response.text

    async def resolve(conversation_id: str) -> None:
        response = await client.patch(
            f"/conversations/{conversation_id}",
            json={"status": "resolved"},
            headers=tenant.headers,
        )
        assert response.status_code == 200, response.text

    async def late_handoff(conversation_id: str) -> None:
        response = await hand_off(client, tenant, conversation_id)
        assert response.status_code == 201, response.text

    work = [toggle(agent_id) for agent_id in AGENTS[:3]]
    work += [resolve(item) for item in seeded.sample(conversation_ids[:20], 12)]
    work += [late_handoff(item) for item in conversation_ids[20:]]
    seeded.shuffle(work)
    await asyncio.gather(*work)

    state = await check_invariants(db, tenant.org_id)
    open_handoffs = [row for row in state["handoffs"] if row["status"] in ("queued", "assigned")]
    assert len(open_handoffs) == 30 - 12
    assert await check_capacity_history(db, tenant.org_id, {a: 2 for a in AGENTS}) > 30

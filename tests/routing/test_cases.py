"""Assignment cases drawn from faults reported against other support systems."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.helpers import create_conversation, get_conversation, send_message
from tests.routing.support import (
    HANDOFF_BODY,
    add_agent,
    check_capacity_history,
    check_invariants,
    events,
    get_handoff,
    hand_off,
    handoff_frames,
    patch_agent,
)

BILLING_HANDOFF = {**HANDOFF_BODY, "requiredSkills": ["billing"]}


async def patch(client, tenant, conversation_id: str, **body):
    return await client.patch(
        f"/conversations/{conversation_id}", json=body, headers=tenant.headers
    )


async def assignee_changes(db, tenant, conversation_id: str) -> list[str | None]:
    updated = await events(
        db, tenant.org_id, "conversation.updated", conversation_id=conversation_id
    )
    return [
        item["data"]["changes"]["assignedAgentId"]
        for item in updated
        if "assignedAgentId" in item["data"]["changes"]
    ]


async def handed_to_alpha(client, tenant) -> str:
    conversation = await create_conversation(client, tenant)
    body = (await hand_off(client, tenant, conversation["id"])).json()
    assert body["agentId"] == "agent_alpha"
    return conversation["id"]


async def test_manual_assignment_beats_auto_assignment(client, db, tenant):
    """Concurrent writers on the assignee never bounce or overwrite it."""
    await add_agent(client, tenant, "agent_alpha")
    await add_agent(client, tenant, "agent_beta", capacity=0)
    # agent_beta has no capacity yet, so the first handoff goes to agent_alpha.
    await patch_agent(client, tenant, "agent_beta", capacity=5)

    # (a) a manual PATCH racing a customer message and the AI asking again.
    first = await handed_to_alpha(client, tenant)
    results = await asyncio.gather(
        patch(client, tenant, first, assignedAgentId="agent_beta"),
        send_message(client, tenant, first, "hello? anyone there?"),
        hand_off(client, tenant, first),
    )
    assert [item.status_code for item in results] == [200, 201, 200]
    # Later routing activity must not move it back.
    await patch_agent(client, tenant, "agent_alpha", status="offline")
    await patch_agent(client, tenant, "agent_alpha", status="online")
    assert (await get_handoff(client, tenant, first))["agentId"] == "agent_beta"
    assert await assignee_changes(db, tenant, first) == ["agent_alpha", "agent_beta"]

    # (b) two identical PATCHes make exactly one change.
    second = await handed_to_alpha(client, tenant)
    results = await asyncio.gather(
        patch(client, tenant, second, assignedAgentId="agent_beta"),
        patch(client, tenant, second, assignedAgentId="agent_beta"),
    )
    assert [item.status_code for item in results] == [200, 200]
    assert await assignee_changes(db, tenant, second) == ["agent_alpha", "agent_beta"]
    assigned = await events(db, tenant.org_id, "handoff.assigned", conversation_id=second)
    assert [item["data"]["agentId"] for item in assigned] == ["agent_alpha", "agent_beta"]

    # (c) PATCHes to alpha and to beta settle on one value. Each PATCH makes
    # at most one change event, and only when it changes the assignee.
    third = await handed_to_alpha(client, tenant)
    results = await asyncio.gather(
        patch(client, tenant, third, assignedAgentId="agent_alpha"),
        patch(client, tenant, third, assignedAgentId="agent_beta"),
    )
    assert [item.status_code for item in results] == [200, 200]
    changes = await assignee_changes(db, tenant, third)
    assert changes[0] == "agent_alpha"
    by_patches = changes[1:]
    assert by_patches in (["agent_beta"], ["agent_beta", "agent_alpha"])
    final = (await get_handoff(client, tenant, third))["agentId"]
    assert final == by_patches[-1]
    assert (await get_conversation(client, tenant, third))["assignedAgentId"] == final
    await check_invariants(db, tenant.org_id)


async def test_concurrent_auto_assignment_honours_skills(client, db, tenant):
    """Twenty concurrent billing handoffs all go to the one billing agent."""
    await add_agent(client, tenant, "agent_alpha", capacity=50, skills=["billing"])
    await add_agent(client, tenant, "agent_beta")
    conversation_ids = [(await create_conversation(client, tenant))["id"] for _ in range(20)]

    responses = await asyncio.gather(
        *(hand_off(client, tenant, item, **BILLING_HANDOFF) for item in conversation_ids)
    )

    assert all(200 <= item.status_code < 300 for item in responses)
    assert [item.json()["agentId"] for item in responses] == ["agent_alpha"] * 20
    for conversation_id in conversation_ids:
        frames = await handoff_frames(db, tenant.org_id, conversation_id)
        assigned = [frame for frame in frames if frame["data"]["status"] == "assigned"]
        assert len(assigned) == 1
        assert assigned[0]["data"]["agentId"] == "agent_alpha"
        webhooks = await events(
            db, tenant.org_id, "handoff.assigned", conversation_id=conversation_id
        )
        assert len(webhooks) == 1
    # agent_beta never appears, not even briefly.
    for event in await events(db, tenant.org_id):
        assert "agent_beta" not in str(event["data"]), event


async def test_capacity_spreads_load_and_backfills(client, db, tenant):
    """Ten handoffs against two agents of capacity 4: 4 + 4 assigned, 2 queued."""
    await add_agent(client, tenant, "agent_alpha", capacity=4)
    await add_agent(client, tenant, "agent_beta", capacity=4)
    conversation_ids = [(await create_conversation(client, tenant))["id"] for _ in range(10)]

    responses = await asyncio.gather(*(hand_off(client, tenant, item) for item in conversation_ids))

    bodies = [item.json() for item in responses]
    counts = Counter(body["agentId"] for body in bodies)
    assert counts["agent_alpha"] <= 4
    assert counts["agent_beta"] <= 4
    assert abs(counts["agent_alpha"] - counts["agent_beta"]) <= 1
    queued = [body for body in bodies if body["status"] == "queued"]
    assert len(queued) == 2
    assert all(body["agentId"] is None for body in queued)
    for body in queued:
        frames = await handoff_frames(db, tenant.org_id, body["conversationId"])
        assert [frame["data"]["status"] for frame in frames] == ["queued"]
        assert frames[0]["data"]["agentId"] is None

    alphas = [body["conversationId"] for body in bodies if body["agentId"] == "agent_alpha"]
    before = len(await events(db, tenant.org_id, "handoff.assigned"))
    resolved = await patch(client, tenant, alphas[0], status="resolved")
    assert resolved.status_code == 200

    assigned = (await events(db, tenant.org_id, "handoff.assigned"))[before:]
    assert len(assigned) == 1
    assert assigned[0]["data"]["agentId"] == "agent_alpha"
    assert assigned[0]["conversation_id"] in {body["conversationId"] for body in queued}
    await check_capacity_history(db, tenant.org_id, {"agent_alpha": 4, "agent_beta": 4})
    await check_invariants(db, tenant.org_id)


async def test_no_agent_online_queues_honestly(client, db, tenant):
    """With everyone offline the handoff is queued, then assigned when alpha comes online."""
    await add_agent(client, tenant, "agent_alpha", status="offline")
    await add_agent(client, tenant, "agent_beta", status="offline")
    conversation = await create_conversation(client, tenant)

    response = await hand_off(client, tenant, conversation["id"])

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued"
    assert body["agentId"] is None
    assert body["estimatedWaitTime"] is None
    frames = await handoff_frames(db, tenant.org_id, conversation["id"])
    assert [frame["data"]["status"] for frame in frames] == ["queued"]
    assert await events(db, tenant.org_id, "handoff.assigned") == []
    listed = await client.get("/conversations?status=open", headers=tenant.headers)
    mine = [item for item in listed.json()["data"] if item["id"] == conversation["id"]]
    assert len(mine) == 1
    assert mine[0]["assignedAgentId"] is None

    await patch_agent(client, tenant, "agent_alpha", status="online")

    frames = await handoff_frames(db, tenant.org_id, conversation["id"])
    assert [frame["data"]["status"] for frame in frames] == ["queued", "assigned"]
    assert frames[1]["data"]["agentId"] == "agent_alpha"
    assert frames[1]["data"]["estimatedWaitTime"] == 0
    assigned = await events(db, tenant.org_id, "handoff.assigned")
    assert [item["conversation_id"] for item in assigned] == [conversation["id"]]

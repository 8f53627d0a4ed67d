"""Routing through the API: skills, priority, backfill, presence and manual assignment."""

from __future__ import annotations

from tests.helpers import create_conversation, get_conversation, send_message
from tests.routing.support import (
    add_agent,
    check_invariants,
    events,
    get_handoff,
    hand_off,
    patch_agent,
)


async def new_handoff(client, tenant, **overrides) -> tuple[str, dict]:
    conversation = await create_conversation(client, tenant)
    response = await hand_off(client, tenant, conversation["id"], **overrides)
    assert response.status_code == 201, response.text
    return conversation["id"], response.json()


async def assign(client, tenant, conversation_id: str, agent_id: str | None) -> None:
    """Set or clear a conversation's assignee by hand, as PATCH does."""
    response = await client.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": agent_id},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text


async def test_skill_matching_picks_agent_with_all_skills(client, db, tenant):
    await add_agent(client, tenant, "agent_billing", skills=["billing"])
    await add_agent(client, tenant, "agent_both", skills=["billing", "enterprise"])
    await add_agent(client, tenant, "agent_none")

    _, both = await new_handoff(client, tenant, requiredSkills=["enterprise", "billing"])
    _, billing = await new_handoff(client, tenant, requiredSkills=["billing"])
    _, plain = await new_handoff(client, tenant)

    assert both["agentId"] == "agent_both"
    # agent_both already has one, so the less loaded billing agent wins.
    assert billing["agentId"] == "agent_billing"
    assert plain["agentId"] == "agent_none"
    await check_invariants(db, tenant.org_id)


async def test_skill_handoff_waits_for_skilled_agent(client, db, tenant):
    await add_agent(client, tenant, "agent_plain")
    conversation_id, body = await new_handoff(client, tenant, requiredSkills=["legal"])
    assert body["status"] == "queued"
    assert body["unroutableSkills"] == ["legal"]

    await add_agent(client, tenant, "agent_lawyer", skills=["legal"])

    assert (await get_handoff(client, tenant, conversation_id))["agentId"] == "agent_lawyer"
    await check_invariants(db, tenant.org_id)


async def test_spreads_load_by_fewest_assignments(client, db, tenant):
    for name in ("agent_a", "agent_b", "agent_c"):
        await add_agent(client, tenant, name, capacity=3)
    taken = [(await new_handoff(client, tenant))[1]["agentId"] for _ in range(6)]

    assert sorted(taken) == ["agent_a", "agent_a", "agent_b", "agent_b", "agent_c", "agent_c"]
    # Ties go to the agent idle longest, so the agents take turns.
    assert taken[:3] == ["agent_a", "agent_b", "agent_c"]
    assert taken[3:] == ["agent_a", "agent_b", "agent_c"]


async def test_priority_order_when_agent_frees_up(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha", capacity=1)
    first_id, _ = await new_handoff(client, tenant)
    low_id, _ = await new_handoff(client, tenant, priority="low")
    medium_id, _ = await new_handoff(client, tenant, priority="medium")
    urgent_id, urgent = await new_handoff(client, tenant, priority="urgent")
    high_id, high = await new_handoff(client, tenant, priority="high")

    assert urgent["position"] == 1
    assert high["position"] == 2
    assert (await get_handoff(client, tenant, low_id))["position"] == 4
    assert (await get_handoff(client, tenant, medium_id))["position"] == 3

    order = []
    current = first_id
    for _ in range(4):
        await client.patch(
            f"/conversations/{current}", json={"status": "resolved"}, headers=tenant.headers
        )
        for candidate in (urgent_id, high_id, medium_id, low_id):
            body = await get_handoff(client, tenant, candidate)
            if body["status"] == "assigned" and candidate not in order:
                order.append(candidate)
                current = candidate
        await check_invariants(db, tenant.org_id)

    assert order == [urgent_id, high_id, medium_id, low_id]


async def test_oldest_first_backfill_on_resolve(client, db, tenant, frozen_clock):
    await add_agent(client, tenant, "agent_alpha", capacity=1)
    busy_id, _ = await new_handoff(client, tenant)
    waiting = []
    for _ in range(3):
        frozen_clock.advance(10)
        waiting.append((await new_handoff(client, tenant))[0])

    await client.patch(
        f"/conversations/{busy_id}", json={"status": "resolved"}, headers=tenant.headers
    )

    statuses = [(await get_handoff(client, tenant, item))["status"] for item in waiting]
    assert statuses == ["assigned", "queued", "queued"]
    positions = [(await get_handoff(client, tenant, item))["position"] for item in waiting[1:]]
    assert positions == [1, 2]
    # The queue moved, so the handoffs behind got new positions pushed.
    moved = await events(db, tenant.org_id, "handoff.updated", conversation_id=waiting[2])
    assert moved[-1]["data"]["position"] == 1 + 1


async def test_backfill_on_capacity_increase(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha", capacity=1)
    await new_handoff(client, tenant)
    waiting_id, body = await new_handoff(client, tenant)
    assert body["status"] == "queued"

    agent = await patch_agent(client, tenant, "agent_alpha", capacity=2)

    assert agent["openAssignments"] == 2
    assert (await get_handoff(client, tenant, waiting_id))["agentId"] == "agent_alpha"


async def test_backfill_on_skill_added(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    waiting_id, body = await new_handoff(client, tenant, requiredSkills=["billing"])
    assert body["status"] == "queued"

    await patch_agent(client, tenant, "agent_alpha", skills=["billing"])

    assert (await get_handoff(client, tenant, waiting_id))["agentId"] == "agent_alpha"


async def test_away_agent_keeps_work_but_takes_none(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    kept_id, _ = await new_handoff(client, tenant)
    await patch_agent(client, tenant, "agent_alpha", status="away")
    _, later = await new_handoff(client, tenant)

    assert (await get_handoff(client, tenant, kept_id))["agentId"] == "agent_alpha"
    assert later["status"] == "queued"
    assert later["estimatedWaitTime"] is None


async def test_offline_returns_handoffs_to_front(client, db, tenant, frozen_clock):
    await add_agent(client, tenant, "agent_alpha", capacity=2)
    await add_agent(client, tenant, "agent_beta", capacity=1, status="offline")
    held = []
    for _ in range(2):
        held.append((await new_handoff(client, tenant))[0])
        frozen_clock.advance(10)
    waiting_id, _ = await new_handoff(client, tenant)

    await patch_agent(client, tenant, "agent_alpha", status="offline")

    for conversation_id in held:
        assert (await get_conversation(client, tenant, conversation_id))["assignedAgentId"] is None
    positions = [(await get_handoff(client, tenant, item))["position"] for item in held]
    assert positions == [1, 2]
    assert (await get_handoff(client, tenant, waiting_id))["position"] == 3

    # The next agent to come online takes the returned handoff first.
    await patch_agent(client, tenant, "agent_beta", status="online")
    assert (await get_handoff(client, tenant, held[0]))["agentId"] == "agent_beta"
    assert (await get_handoff(client, tenant, waiting_id))["status"] == "queued"
    await check_invariants(db, tenant.org_id)


async def test_offline_moves_work_to_other_agents(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    conversation_id, _ = await new_handoff(client, tenant)
    await add_agent(client, tenant, "agent_beta")

    await patch_agent(client, tenant, "agent_alpha", status="offline")

    assert (await get_handoff(client, tenant, conversation_id))["agentId"] == "agent_beta"
    changes = [
        item["data"]["changes"]
        for item in await events(
            db, tenant.org_id, "conversation.updated", conversation_id=conversation_id
        )
    ]
    assert changes == [
        {"assignedAgentId": "agent_alpha"},
        {"assignedAgentId": None},
        {"assignedAgentId": "agent_beta"},
    ]


async def test_offline_keeps_work_when_configured(client, db, tenant, policy):
    policy(requeue_on_offline=False)
    await add_agent(client, tenant, "agent_alpha")
    conversation_id, _ = await new_handoff(client, tenant)

    await patch_agent(client, tenant, "agent_alpha", status="offline")

    assert (await get_handoff(client, tenant, conversation_id))["agentId"] == "agent_alpha"


async def test_manual_assignment_counts_against_capacity(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha", capacity=1)
    manual = await create_conversation(client, tenant)
    await client.patch(
        f"/conversations/{manual['id']}",
        json={"assignedAgentId": "agent_alpha"},
        headers=tenant.headers,
    )
    agent = (await client.get("/agents/agent_alpha", headers=tenant.headers)).json()
    assert agent["openAssignments"] == 1

    waiting_id, body = await new_handoff(client, tenant)
    assert body["status"] == "queued"

    # Unassigning by hand frees the slot for the queue.
    await client.patch(
        f"/conversations/{manual['id']}", json={"assignedAgentId": None}, headers=tenant.headers
    )
    assert (await get_handoff(client, tenant, waiting_id))["agentId"] == "agent_alpha"
    await check_invariants(db, tenant.org_id)


async def test_unknown_assignee_leaves_handoff_queued(client, db, tenant):
    conversation_id, body = await new_handoff(client, tenant)
    response = await client.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": "agent_not_registered"},
        headers=tenant.headers,
    )
    handoff = await get_handoff(client, tenant, conversation_id)

    assert body["status"] == "queued"
    assert response.status_code == 404
    assert response.json()["error"]["details"]["field"] == "assignedAgentId"
    assert handoff["status"] == "queued"
    assert handoff["agentId"] is None
    await check_invariants(db, tenant.org_id)


async def test_manual_assignment_takes_queued_handoff(client, db, tenant):
    conversation_id, body = await new_handoff(client, tenant)
    assert body["status"] == "queued"
    await add_agent(client, tenant, "agent_beta", status="offline")

    patched = await client.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": "agent_beta"},
        headers=tenant.headers,
    )

    assert patched.json()["assignedAgentId"] == "agent_beta"
    handoff = await get_handoff(client, tenant, conversation_id)
    assert handoff["status"] == "assigned"
    assert handoff["agentId"] == "agent_beta"
    assigned = await events(db, tenant.org_id, "handoff.assigned", conversation_id=conversation_id)
    assert [item["data"]["agentId"] for item in assigned] == ["agent_beta"]


async def test_new_handoff_waits_for_offline_assignee(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    await add_agent(client, tenant, "agent_beta", status="offline")
    conversation = await create_conversation(client, tenant)
    await client.patch(
        f"/conversations/{conversation['id']}",
        json={"assignedAgentId": "agent_beta"},
        headers=tenant.headers,
    )

    response = await hand_off(client, tenant, conversation["id"])

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["agentId"] == "agent_beta"
    assert body["agentName"] is None
    assert body["position"] == 1
    assert body["estimatedWaitTime"] is None
    assert body["assignedAt"] is None
    [requested] = await events(db, tenant.org_id, "handoff.requested")
    assert requested["data"]["status"] == "queued"
    assert requested["data"]["agentId"] == "agent_beta"
    assert requested["data"]["estimatedWaitTime"] is None
    assert requested["data"]["position"] == 1
    assert await events(db, tenant.org_id, "handoff.assigned") == []
    # Routing never gives another agent a conversation assigned by hand.
    unchanged = await get_conversation(client, tenant, conversation["id"])
    assert unchanged["assignedAgentId"] == "agent_beta"
    await check_invariants(db, tenant.org_id)

    await patch_agent(client, tenant, "agent_beta", status="online")

    handoff = await get_handoff(client, tenant, conversation["id"])
    assert handoff["status"] == "assigned"
    assert handoff["agentId"] == "agent_beta"
    assert handoff["estimatedWaitTime"] == 0
    [assigned] = await events(db, tenant.org_id, "handoff.assigned")
    assert assigned["data"]["agentId"] == "agent_beta"
    assert assigned["data"]["status"] == "assigned"
    await check_invariants(db, tenant.org_id)


async def test_waiting_assignee_completes_handoff(client, db, tenant):
    await add_agent(client, tenant, "agent_beta", status="offline")
    conversation = await create_conversation(client, tenant)
    await client.patch(
        f"/conversations/{conversation['id']}",
        json={"assignedAgentId": "agent_beta"},
        headers=tenant.headers,
    )
    assert (await hand_off(client, tenant, conversation["id"])).json()["status"] == "queued"

    completed = await client.post(
        f"/conversations/{conversation['id']}/handoff/complete", headers=tenant.headers
    )

    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "completed"
    assert completed.json()["agentId"] == "agent_beta"
    unassigned = await get_conversation(client, tenant, conversation["id"])
    assert unassigned["assignedAgentId"] is None
    await check_invariants(db, tenant.org_id)


async def test_waiting_handoff_ignores_other_queue(client, db, tenant):
    await add_agent(client, tenant, "agent_beta", status="offline", capacity=1)
    first_id, first = await new_handoff(client, tenant)
    conversation = await create_conversation(client, tenant)
    await client.patch(
        f"/conversations/{conversation['id']}",
        json={"assignedAgentId": "agent_beta"},
        headers=tenant.headers,
    )
    waiting = (await hand_off(client, tenant, conversation["id"])).json()
    last_id, last = await new_handoff(client, tenant)

    assert first["position"] == 1
    assert waiting["position"] == 1
    assert last["position"] == 2

    # Beta is full with the conversation it holds, yet takes its handoff.
    await patch_agent(client, tenant, "agent_beta", status="online")

    assert (await get_handoff(client, tenant, conversation["id"]))["status"] == "assigned"
    assert (await get_handoff(client, tenant, first_id))["status"] == "queued"
    assert (await get_handoff(client, tenant, last_id))["position"] == 2
    await check_invariants(db, tenant.org_id)


async def test_reopening_handoff_skips_offline_resolver(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    conversation_id, first = await new_handoff(client, tenant)
    assert first["agentId"] == "agent_alpha"
    await client.patch(
        f"/conversations/{conversation_id}", json={"status": "resolved"}, headers=tenant.headers
    )
    await patch_agent(client, tenant, "agent_alpha", status="offline")
    await add_agent(client, tenant, "agent_beta")

    response = await hand_off(client, tenant, conversation_id)

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "assigned"
    assert response.json()["agentId"] == "agent_beta"
    conversation = await get_conversation(client, tenant, conversation_id)
    assert conversation["status"] == "open"
    assert conversation["assignedAgentId"] == "agent_beta"
    await check_invariants(db, tenant.org_id)


async def test_reopening_handoff_returns_to_resolver(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    conversation_id, _ = await new_handoff(client, tenant)
    await client.patch(
        f"/conversations/{conversation_id}", json={"status": "resolved"}, headers=tenant.headers
    )
    # Beta has been idle longer, so only the previous-agent rule picks alpha.
    await add_agent(client, tenant, "agent_beta")
    await patch_agent(client, tenant, "agent_alpha", status="offline")
    await patch_agent(client, tenant, "agent_alpha", status="online")

    response = await hand_off(client, tenant, conversation_id)

    assert response.json()["status"] == "assigned"
    assert response.json()["agentId"] == "agent_alpha"
    await check_invariants(db, tenant.org_id)


async def test_previous_agent_assigned_by_hand(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    await add_agent(client, tenant, "agent_beta")
    conversation = await create_conversation(client, tenant)
    for assignee in ("agent_beta", None):
        await assign(client, tenant, conversation["id"], assignee)

    # Alpha has been idle longer, so normal routing would pick alpha.
    body = (await hand_off(client, tenant, conversation["id"])).json()

    assert body["status"] == "assigned"
    assert body["agentId"] == "agent_beta"
    await check_invariants(db, tenant.org_id)


async def test_previous_agent_is_last_holder(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    await add_agent(client, tenant, "agent_beta")
    conversation_id, first = await new_handoff(client, tenant)
    assert first["agentId"] == "agent_alpha"
    completed = await client.post(
        f"/conversations/{conversation_id}/handoff/complete", headers=tenant.headers
    )
    assert completed.status_code == 200, completed.text
    # Beta then held the conversation by hand, after alpha's handoff.
    for assignee in ("agent_beta", None):
        await assign(client, tenant, conversation_id, assignee)
    # Beta has one more conversation, so normal routing would pick alpha.
    other = await create_conversation(client, tenant)
    await assign(client, tenant, other["id"], "agent_beta")

    body = (await hand_off(client, tenant, conversation_id)).json()

    assert body["status"] == "assigned"
    assert body["agentId"] == "agent_beta"
    await check_invariants(db, tenant.org_id)


async def test_previous_agent_unavailable_falls_back(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    await add_agent(client, tenant, "agent_beta", capacity=1)
    conversation = await create_conversation(client, tenant)
    for assignee in ("agent_beta", None):
        await assign(client, tenant, conversation["id"], assignee)
    other = await create_conversation(client, tenant)
    await assign(client, tenant, other["id"], "agent_beta")

    body = (await hand_off(client, tenant, conversation["id"])).json()

    assert body["status"] == "assigned"
    assert body["agentId"] == "agent_alpha"
    await check_invariants(db, tenant.org_id)


async def test_manual_owner_gets_new_handoff(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    await add_agent(client, tenant, "agent_beta")
    conversation = await create_conversation(client, tenant)
    await client.patch(
        f"/conversations/{conversation['id']}",
        json={"assignedAgentId": "agent_beta"},
        headers=tenant.headers,
    )

    body = (await hand_off(client, tenant, conversation["id"])).json()

    assert body["status"] == "assigned"
    assert body["agentId"] == "agent_beta"


async def test_manual_assignment_survives_offline(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    await add_agent(client, tenant, "agent_beta")
    conversation_id, _ = await new_handoff(client, tenant)
    await client.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": "agent_beta"},
        headers=tenant.headers,
    )

    await patch_agent(client, tenant, "agent_beta", status="offline")

    assert (await get_handoff(client, tenant, conversation_id))["agentId"] == "agent_beta"


async def test_customer_message_keeps_assignment(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    conversation_id, _ = await new_handoff(client, tenant)
    response = await send_message(client, tenant, conversation_id, "hello? anyone there?")
    assert response.status_code == 201

    again = await hand_off(client, tenant, conversation_id)
    assert again.status_code == 200
    assert again.json()["agentId"] == "agent_alpha"


async def test_delete_agent_requeues_and_unassigns(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    conversation_id, _ = await new_handoff(client, tenant)
    manual = await create_conversation(client, tenant)
    await client.patch(
        f"/conversations/{manual['id']}",
        json={"assignedAgentId": "agent_alpha"},
        headers=tenant.headers,
    )

    assert (await client.delete("/agents/agent_alpha", headers=tenant.headers)).status_code == 204

    assert (await get_handoff(client, tenant, conversation_id))["status"] == "queued"
    assert (await get_conversation(client, tenant, manual["id"]))["assignedAgentId"] is None
    await check_invariants(db, tenant.org_id)

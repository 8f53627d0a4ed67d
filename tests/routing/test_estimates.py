"""Wait estimates computed from a scripted history under a frozen clock."""

from __future__ import annotations

from tests.helpers import create_conversation
from tests.routing.support import add_agent, events, get_handoff, hand_off, patch_agent


async def handed_off(client, tenant, **overrides) -> tuple[str, dict]:
    conversation = await create_conversation(client, tenant)
    response = await hand_off(client, tenant, conversation["id"], **overrides)
    assert response.status_code == 201, response.text
    return conversation["id"], response.json()


async def complete(client, tenant, conversation_id: str) -> None:
    response = await client.post(
        f"/conversations/{conversation_id}/handoff/complete", headers=tenant.headers
    )
    assert response.status_code == 200, response.text


async def script_history(client, tenant, clock, durations: list[int]) -> None:
    """Hand off and complete one conversation per duration, each taking that many seconds."""
    for seconds in durations:
        conversation_id, body = await handed_off(client, tenant)
        assert body["status"] == "assigned"
        clock.advance(seconds)
        await complete(client, tenant, conversation_id)
        clock.advance(1)


async def test_estimates_follow_history(client, db, tenant, frozen_clock):
    await add_agent(client, tenant, "agent_a", capacity=1)
    await add_agent(client, tenant, "agent_b", capacity=1)
    # A cancelled handoff and one resolved while queued must not count.
    await script_history(client, tenant, frozen_clock, [120, 240, 360])
    cancelled_id, _ = await handed_off(client, tenant)
    frozen_clock.advance(5000)
    await client.post(f"/conversations/{cancelled_id}/handoff/cancel", headers=tenant.headers)

    # Average handling time 240 s; two online agents with one slot each.
    for _ in range(2):
        frozen_clock.advance(1)
        assert (await handed_off(client, tenant))[1]["estimatedWaitTime"] == 0
    frozen_clock.advance(1)
    first_id, first = await handed_off(client, tenant)
    frozen_clock.advance(1)
    second_id, second = await handed_off(client, tenant)

    assert (first["position"], first["estimatedWaitTime"]) == (1, 120)
    assert (second["position"], second["estimatedWaitTime"]) == (2, 240)

    frozen_clock.advance(1)
    urgent_id, urgent = await handed_off(client, tenant, priority="urgent")
    assert (urgent["position"], urgent["estimatedWaitTime"]) == (1, 120)
    for conversation_id, expected in ((first_id, (2, 240)), (second_id, (3, 360))):
        body = await get_handoff(client, tenant, conversation_id)
        assert (body["position"], body["estimatedWaitTime"]) == expected

    pushed = await events(db, tenant.org_id, "handoff.updated", conversation_id=second_id)
    assert pushed[-1]["data"]["position"] == 3
    assert pushed[-1]["data"]["estimatedWaitTime"] == 360


async def test_estimates_forget_old_history(client, db, tenant, frozen_clock, policy):
    policy(default_handle_seconds=300, history_seconds=24 * 3600)
    await add_agent(client, tenant, "agent_a", capacity=1)
    await script_history(client, tenant, frozen_clock, [60])
    frozen_clock.advance(1)
    await handed_off(client, tenant)
    frozen_clock.advance(1)
    waiting_id, waiting = await handed_off(client, tenant)
    assert waiting["estimatedWaitTime"] == 60

    frozen_clock.advance(25 * 3600)
    # Any routing change recomputes; the 60 s sample is now outside the window.
    await patch_agent(client, tenant, "agent_a", name="Agent A renamed")

    body = await get_handoff(client, tenant, waiting_id)
    assert body["estimatedWaitTime"] == 300


async def test_estimate_uses_default_without_history(client, tenant, frozen_clock, policy):
    policy(default_handle_seconds=600)
    await add_agent(client, tenant, "agent_a", capacity=1)
    await handed_off(client, tenant)
    frozen_clock.advance(1)
    _, waiting = await handed_off(client, tenant)

    assert waiting["position"] == 1
    assert waiting["estimatedWaitTime"] == 600


async def test_estimate_counts_only_matching_online_capacity(client, tenant, frozen_clock, policy):
    policy(default_handle_seconds=600)
    await add_agent(client, tenant, "agent_billing", capacity=1, skills=["billing"])
    await add_agent(client, tenant, "agent_other", capacity=4)
    await add_agent(client, tenant, "agent_asleep", capacity=4, skills=["billing"], status="away")
    await handed_off(client, tenant, requiredSkills=["billing"])
    frozen_clock.advance(1)
    _, waiting = await handed_off(client, tenant, requiredSkills=["billing"])

    # Only agent_billing is online with the skill: one slot of 600 s.
    assert waiting["estimatedWaitTime"] == 600

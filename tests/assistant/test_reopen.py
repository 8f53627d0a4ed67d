"""A customer message that reopens a resolved conversation returns it to the AI.

The agent who had the conversation may be offline by then, so the reopening
message releases the assignee, and the AI answers the new question with
only the turns after the resolution in its history.
"""

import pytest

from tests.assistant.test_api import enable_auto_reply, wait_for_messages
from tests.helpers import create_conversation, get_conversation, send_message
from tests.routing.support import add_agent, events, get_handoff, hand_off, patch_agent

NEW_QUESTION = "new question: how do I change my billing email?"
# Without authorId the message takes the sequential path; with it, PostgreSQL's
# pipelined writer stores it with one statement.
AUTHORS = [{}, {"authorId": "customer_test_A"}]


async def handed_off_then_resolved(client, tenant) -> str:
    """Hand a conversation to agent_x, resolve it and take agent_x offline; return its id."""
    await add_agent(client, tenant, "agent_x")
    conversation = await create_conversation(client, tenant)
    handed = await hand_off(client, tenant, conversation["id"], reason="x")
    assert handed.status_code == 201, handed.text
    assert handed.json()["agentId"] == "agent_x"
    resolved = await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "resolved"}, headers=tenant.headers
    )
    assert resolved.status_code == 200, resolved.text
    await patch_agent(client, tenant, "agent_x", status="offline")
    return conversation["id"]


@pytest.mark.parametrize("author", AUTHORS, ids=["sequential", "statement"])
async def test_customer_reopen_releases_assignee(client, db, kb_tenant, author):
    conversation_id = await handed_off_then_resolved(client, kb_tenant)

    sent = await send_message(client, kb_tenant, conversation_id, NEW_QUESTION, **author)

    assert sent.status_code == 201, sent.text
    conversation = await get_conversation(client, kb_tenant, conversation_id)
    assert conversation["status"] == "open"
    assert conversation["assignedAgentId"] is None
    agent = (await client.get("/agents/agent_x", headers=kb_tenant.headers)).json()
    assert agent["openAssignments"] == 0
    # The finished handoff still names the agent who handled it.
    handoff = await get_handoff(client, kb_tenant, conversation_id)
    assert handoff["status"] == "completed"
    assert handoff["agentId"] == "agent_x"

    logged = await events(db, kb_tenant.org_id, conversation_id=conversation_id)
    update = logged[-1]
    assert update["type"] == "conversation.updated"
    assert update["data"]["changes"] == {"status": "open", "assignedAgentId": None}
    assert update["data"]["conversation"]["assignedAgentId"] is None
    assert [row["sequence"] for row in logged] == sorted(row["sequence"] for row in logged)
    resolution = [row for row in logged if row["type"] == "conversation.resolved"]
    assert resolution[0]["data"]["conversation"]["assignedAgentId"] == "agent_x"

    answered = await client.post(
        "/ai/generate-response",
        json={"conversationId": conversation_id, "messageContent": NEW_QUESTION},
        headers=kb_tenant.headers,
    )
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["shouldHandoff"] is False
    assert body["sources"]


async def test_reopen_without_assignee_changes_status_only(client, db, tenant):
    conversation = await create_conversation(client, tenant)
    resolved = await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "resolved"}, headers=tenant.headers
    )
    assert resolved.status_code == 200, resolved.text

    sent = await send_message(client, tenant, conversation["id"], "one more thing")

    assert sent.status_code == 201, sent.text
    *_, update = await events(
        db, tenant.org_id, "conversation.updated", conversation_id=conversation["id"]
    )
    assert update["data"]["changes"] == {"status": "open"}


@pytest.mark.parametrize("author", AUTHORS, ids=["sequential", "statement"])
async def test_pending_reply_keeps_assignee(client, tenant, author):
    await add_agent(client, tenant, "agent_x")
    conversation = await create_conversation(client, tenant)
    await hand_off(client, tenant, conversation["id"])
    pending = await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "pending"}, headers=tenant.headers
    )
    assert pending.status_code == 200, pending.text

    sent = await send_message(client, tenant, conversation["id"], "here are the details", **author)

    assert sent.status_code == 201, sent.text
    after = await get_conversation(client, tenant, conversation["id"])
    assert after["status"] == "open"
    assert after["assignedAgentId"] == "agent_x"


async def test_agent_reopen_keeps_assignee(client, tenant):
    conversation_id = await handed_off_then_resolved(client, tenant)

    reopened = await client.patch(
        f"/conversations/{conversation_id}", json={"status": "open"}, headers=tenant.headers
    )

    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["assignedAgentId"] == "agent_x"


async def test_reopen_auto_reply_answers_new_question(client, db, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    await add_agent(client, kb_tenant, "agent_x")
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]
    asked = await send_message(client, kb_tenant, conversation_id, "I want to talk to a person")
    assert asked.status_code == 201, asked.text
    # The AI's acknowledgement and the agents' private note about the handoff.
    await wait_for_messages(client, kb_tenant, conversation_id, 3)
    assert (await get_handoff(client, kb_tenant, conversation_id))["agentId"] == "agent_x"
    resolved = await client.patch(
        f"/conversations/{conversation_id}", json={"status": "resolved"}, headers=kb_tenant.headers
    )
    assert resolved.status_code == 200, resolved.text
    await patch_agent(client, kb_tenant, "agent_x", status="offline")

    sent = await send_message(client, kb_tenant, conversation_id, NEW_QUESTION)

    assert sent.status_code == 201, sent.text
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 5)
    reply = messages[-1]
    assert reply["authorType"] == "ai", messages
    ai = reply["metadata"]["ai"]
    assert ai["inReplyTo"] == sent.json()["id"]
    assert ai["shouldHandoff"] is False
    assert ai["sources"]
    requested = await events(
        db, kb_tenant.org_id, "handoff.requested", conversation_id=conversation_id
    )
    assert len(requested) == 1
    assert (await get_conversation(client, kb_tenant, conversation_id))["assignedAgentId"] is None


async def handed_off(client, tenant) -> str:
    conversation = await create_conversation(client, tenant)
    handed = await hand_off(client, tenant, conversation["id"], reason="x")
    assert handed.status_code == 201, handed.text
    return conversation["id"]


async def reopened_with_busier_previous_agent(client, tenant) -> str:
    """Resolve and reopen a conversation of agent_x while routing alone would pick agent_y.

    Both agents end with one open conversation, and agent_y was assigned
    earlier, so agent_y has been idle longer. Returns the reopened conversation's id.
    """
    await add_agent(client, tenant, "agent_x")
    await add_agent(client, tenant, "agent_y")
    reopened = await handed_off(client, tenant)
    await handed_off(client, tenant)
    await handed_off(client, tenant)
    assert (await get_handoff(client, tenant, reopened))["agentId"] == "agent_x"
    resolved = await client.patch(
        f"/conversations/{reopened}", json={"status": "resolved"}, headers=tenant.headers
    )
    assert resolved.status_code == 200, resolved.text
    sent = await send_message(client, tenant, reopened, "it broke again")
    assert sent.status_code == 201, sent.text
    assert (await get_conversation(client, tenant, reopened))["assignedAgentId"] is None
    return reopened


async def test_reopened_handoff_prefers_previous_agent(client, tenant):
    conversation_id = await reopened_with_busier_previous_agent(client, tenant)

    handed = await hand_off(client, tenant, conversation_id, reason="again")

    assert handed.status_code == 201, handed.text
    assert handed.json()["agentId"] == "agent_x"
    assert handed.json()["status"] == "assigned"
    conversation = await get_conversation(client, tenant, conversation_id)
    assert conversation["assignedAgentId"] == "agent_x"


async def test_reopened_handoff_previous_agent_away(client, tenant):
    conversation_id = await reopened_with_busier_previous_agent(client, tenant)
    await patch_agent(client, tenant, "agent_x", status="away")

    handed = await hand_off(client, tenant, conversation_id, reason="again")

    assert handed.status_code == 201, handed.text
    assert handed.json()["agentId"] == "agent_y"

"""Automatic replies that go stale while the AI writes them are dropped, not posted.

The answer engine is held at a gate while the test changes the
conversation, so each case runs in the order that a slow model and a quick
agent produce, without timing.
"""

import asyncio
import dataclasses
import logging

import pytest

from campfire_server.assistant import staleness
from campfire_server.assistant.staleness import ReplyState, stale_reason
from tests.assistant.test_api import enable_auto_reply, wait_for_messages
from tests.helpers import create_agent, create_conversation, send_message

DROPPED = "automatic reply dropped as stale"


class EngineGate:
    """Holds every answer of the app's engine until ``release``, counting the waiting ones."""

    def __init__(self, engine, monkeypatch):
        self.original = engine.answer
        self.released = asyncio.Event()
        self.entered = 0
        self.entered_changed = asyncio.Event()
        monkeypatch.setattr(engine, "answer", self.answer)

    async def answer(self, **kwargs):
        self.entered += 1
        self.entered_changed.set()
        await self.released.wait()
        return await self.original(**kwargs)

    async def wait_entered(self, count, timeout_s=10.0):
        async with asyncio.timeout(timeout_s):
            while self.entered < count:
                self.entered_changed.clear()
                await self.entered_changed.wait()

    def release(self):
        self.released.set()


@pytest.fixture
def gate(app, monkeypatch):
    return EngineGate(app.state.answer_engine, monkeypatch)


async def wait_for_drops(caplog, count, timeout_s=10.0):
    async with asyncio.timeout(timeout_s):
        while True:
            drops = [r for r in caplog.records if r.getMessage() == DROPPED]
            if len(drops) >= count:
                return drops
            await asyncio.sleep(0.02)


async def patch_status(client, tenant, conversation_id, status):
    response = await client.patch(
        f"/conversations/{conversation_id}", json={"status": status}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text


async def resolve(client, tenant, conversation_id):
    await patch_status(client, tenant, conversation_id, "resolved")


async def close(client, tenant, conversation_id):
    await patch_status(client, tenant, conversation_id, "closed")


async def resolve_and_reopen(client, tenant, conversation_id):
    await patch_status(client, tenant, conversation_id, "resolved")
    await patch_status(client, tenant, conversation_id, "open")


async def hand_off(client, tenant, conversation_id):
    response = await client.post(
        f"/conversations/{conversation_id}/handoff",
        json={"reason": "agent took it"},
        headers=tenant.headers,
    )
    assert response.status_code in (200, 201), response.text


async def assign_agent(client, tenant, conversation_id, agent_id):
    await create_agent(client, tenant, agent_id)
    response = await client.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": agent_id},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text


async def agent_reply(client, tenant, conversation_id):
    sent = await send_message(
        client, tenant, conversation_id, "I am looking into it.", author_type="agent"
    )
    assert sent.status_code == 201, sent.text


@pytest.mark.parametrize(
    ("change", "reason", "status"),
    [
        (resolve, staleness.CONVERSATION_RESOLVED, "resolved"),
        (close, staleness.CONVERSATION_CLOSED, "closed"),
        (resolve_and_reopen, staleness.CONVERSATION_RESOLVED, "open"),
        (agent_reply, staleness.AGENT_REPLIED, "open"),
    ],
)
async def test_late_reply_is_dropped(client, kb_tenant, gate, caplog, change, reason, status):
    caplog.set_level(logging.INFO, logger="campfire_server.assistant.actions")
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]

    # "hello" is out of scope, so the reply would also request a handoff.
    sent = await send_message(client, kb_tenant, conversation_id, "hello")
    assert sent.status_code == 201, sent.text
    await gate.wait_entered(1)
    await change(client, kb_tenant, conversation_id)
    gate.release()

    drops = await wait_for_drops(caplog, 1)
    assert drops[0].reason == reason
    assert drops[0].message_id == sent.json()["id"]
    assert drops[0].generated is True

    after = await client.get(f"/conversations/{conversation_id}", headers=kb_tenant.headers)
    assert after.json()["status"] == status
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 0)
    assert [m for m in messages if m["authorType"] == "ai"] == []
    handoff = await client.get(
        f"/conversations/{conversation_id}/handoff", headers=kb_tenant.headers
    )
    assert handoff.status_code == 404, handoff.text


async def test_reply_after_handoff_is_dropped(client, kb_tenant, gate, caplog):
    caplog.set_level(logging.INFO, logger="campfire_server.assistant.actions")
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]

    await send_message(client, kb_tenant, conversation_id, "How do I reset my password?")
    await gate.wait_entered(1)
    await hand_off(client, kb_tenant, conversation_id)
    gate.release()

    drops = await wait_for_drops(caplog, 1)
    assert drops[0].reason == staleness.HANDED_OFF
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 0)
    assert [m for m in messages if m["authorType"] == "ai"] == []
    handoff = await client.get(
        f"/conversations/{conversation_id}/handoff", headers=kb_tenant.headers
    )
    assert handoff.json()["reason"] == "agent took it"


async def test_reply_after_assignment_is_dropped(client, kb_tenant, gate, caplog):
    caplog.set_level(logging.INFO, logger="campfire_server.assistant.actions")
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]

    await send_message(client, kb_tenant, conversation_id, "How do I reset my password?")
    await gate.wait_entered(1)
    await assign_agent(client, kb_tenant, conversation_id, "agent_late")
    gate.release()

    drops = await wait_for_drops(caplog, 1)
    assert drops[0].reason == staleness.AGENT_ASSIGNED
    assert drops[0].generated is True
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 0)
    assert [m for m in messages if m["authorType"] == "ai"] == []


async def test_assigned_agent_silences_ai_until_unassigned(client, kb_tenant, gate, caplog):
    caplog.set_level(logging.INFO, logger="campfire_server.assistant.actions")
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]
    await assign_agent(client, kb_tenant, conversation_id, "agent_owner")
    gate.release()

    await send_message(client, kb_tenant, conversation_id, "How do I reset my password?")
    drops = await wait_for_drops(caplog, 1)
    assert drops[0].reason == staleness.AGENT_ASSIGNED
    assert drops[0].generated is False
    assert gate.entered == 0
    generated = await client.post(
        "/ai/generate-response",
        json={"conversationId": conversation_id, "messageContent": "How do I reset my password?"},
        headers=kb_tenant.headers,
    )
    assert generated.status_code == 409, generated.text
    assert generated.json()["error"]["code"] == "CONVERSATION_IN_HANDOFF"
    assert "agent_owner" in generated.json()["error"]["message"]
    draft = await client.post(
        "/ai/generate-response",
        json={
            "conversationId": conversation_id,
            "messageContent": "How do I reset my password?",
            "draft": True,
        },
        headers=kb_tenant.headers,
    )
    assert draft.status_code == 200, draft.text
    handoff = await client.get(
        f"/conversations/{conversation_id}/handoff", headers=kb_tenant.headers
    )
    assert handoff.status_code == 404, handoff.text

    unassigned = await client.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": None},
        headers=kb_tenant.headers,
    )
    assert unassigned.status_code == 200, unassigned.text
    sent = await send_message(client, kb_tenant, conversation_id, "How do I download an invoice?")
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 3)
    replies = [m for m in messages if m["authorType"] == "ai"]
    assert len(replies) == 1
    assert replies[0]["metadata"]["ai"]["inReplyTo"] == sent.json()["id"]


async def test_only_newest_message_is_answered(client, kb_tenant, gate, caplog):
    caplog.set_level(logging.INFO, logger="campfire_server.assistant.actions")
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]

    await send_message(client, kb_tenant, conversation_id, "How do I reset my password?")
    await gate.wait_entered(1)
    newest = await send_message(client, kb_tenant, conversation_id, "How do I download an invoice?")
    await gate.wait_entered(2)
    gate.release()

    drops = await wait_for_drops(caplog, 1)
    assert drops[0].reason == staleness.NEWER_CUSTOMER_MESSAGE
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 3)
    replies = [m for m in messages if m["authorType"] == "ai"]
    assert len(replies) == 1
    assert replies[0]["metadata"]["ai"]["inReplyTo"] == newest.json()["id"]


async def test_dropped_reply_not_in_analytics(client, kb_tenant, gate, caplog):
    caplog.set_level(logging.INFO, logger="campfire_server.assistant.actions")
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)

    await send_message(client, kb_tenant, conversation["id"], "How do I reset my password?")
    await gate.wait_entered(1)
    await resolve(client, kb_tenant, conversation["id"])
    gate.release()
    await wait_for_drops(caplog, 1)

    response = await client.get(
        "/analytics/metrics",
        params={"period": "7d", "metrics": "ai_response_time,resolution_rate"},
        headers=kb_tenant.headers,
    )
    assert response.status_code == 200, response.text
    metrics = response.json()["metrics"]
    assert metrics["ai_response_time"]["sampleSize"] == 0
    assert metrics["resolution_rate"]["ai_resolution"] == 0


async def test_stale_before_generating_skips_engine(client, kb_tenant, gate, caplog):
    caplog.set_level(logging.INFO, logger="campfire_server.assistant.actions")
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    await hand_off(client, kb_tenant, conversation["id"])

    await send_message(client, kb_tenant, conversation["id"], "anyone there?")

    drops = await wait_for_drops(caplog, 1)
    assert drops[0].reason == staleness.HANDED_OFF
    assert drops[0].generated is False
    assert gate.entered == 0


ACTIVE = ReplyState(
    status="open",
    ai_paused=False,
    assigned_agent_id=None,
    message_created_ms=1_000,
    last_resolved_ms=None,
    later_authors=frozenset(),
)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"status": "pending"}, None),
        ({"later_authors": frozenset({"ai", "system"})}, None),
        ({"last_resolved_ms": 1_000}, None),
        ({"last_resolved_ms": 999}, None),
        ({"status": "resolved"}, staleness.CONVERSATION_RESOLVED),
        ({"status": "closed"}, staleness.CONVERSATION_CLOSED),
        ({"last_resolved_ms": 1_001}, staleness.CONVERSATION_RESOLVED),
        ({"ai_paused": True}, staleness.HANDED_OFF),
        ({"assigned_agent_id": "agent_1"}, staleness.AGENT_ASSIGNED),
        ({"ai_paused": True, "assigned_agent_id": "agent_1"}, staleness.HANDED_OFF),
        ({"assigned_agent_id": "agent_1", "status": "closed"}, staleness.CONVERSATION_CLOSED),
        ({"message_created_ms": None}, staleness.MESSAGE_NOT_FOUND),
        ({"later_authors": frozenset({"agent"})}, staleness.AGENT_REPLIED),
        ({"later_authors": frozenset({"customer"})}, staleness.NEWER_CUSTOMER_MESSAGE),
        ({"later_authors": frozenset({"customer", "agent"})}, staleness.AGENT_REPLIED),
        ({"status": "resolved", "ai_paused": True}, staleness.CONVERSATION_RESOLVED),
    ],
)
def test_stale_reason_table(changes, reason):
    assert stale_reason(dataclasses.replace(ACTIVE, **changes)) == reason

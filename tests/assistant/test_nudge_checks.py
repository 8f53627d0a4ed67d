"""A nudge that asks an earlier question again, checked as that question would be."""

import pytest

from campfire_server.assistant import handoff
from campfire_server.assistant.acknowledgements import acknowledgement
from campfire_server.assistant.engine import SMALL_TALK_MODEL
from campfire_server.assistant.small_talk import SmallTalk, small_talk_reply
from campfire_server.routing.actions import CANCEL_MESSAGE
from tests.assistant.test_api import (
    enable_auto_reply,
    wait_for_messages,
    wait_for_reply_skipped,
)
from tests.helpers import create_conversation, send_message

HACKED = "I think my account was hacked, how do I reset my password?"
PERSON = "I want to talk to a person"
PASSWORD_QUESTION = "How do I reset my password?"
GREETING = small_talk_reply(SmallTalk.GREETING, "en")
R = handoff.HandoffReason


async def ask(engine, tenant, question, history=()):
    return await engine.answer(
        org_id=tenant.org_id, mailbox_id=None, question=question, history=history
    )


@pytest.mark.parametrize("nudge", ["?", "hello?", "anyone there?", "!!!"])
async def test_nudged_security_question_hands_off(engine, demo_org, nudge):
    history = [("customer", HACKED)]
    answer = await ask(engine, demo_org, nudge, history)
    assert answer.should_handoff is True
    assert answer.handoff_reason == "out_of_scope"
    assert answer.handoff_topic == "account_security"
    assert answer.sources == []


@pytest.mark.parametrize("nudge", ["?", "hello?"])
async def test_nudged_person_request_after_handback(engine, demo_org, nudge):
    history = [
        ("customer", PASSWORD_QUESTION),
        ("ai", acknowledgement(R.LOW_CONFIDENCE, "en")),
        ("system", CANCEL_MESSAGE),
        ("customer", PERSON),
    ]
    answer = await ask(engine, demo_org, nudge, history)
    assert answer.should_handoff is True
    assert answer.handoff_reason == "requested_human"


async def test_nudged_angry_question_hands_off(engine, demo_org):
    history = [("customer", "This is ridiculous, how do I reset my password?")]
    answer = await ask(engine, demo_org, "?", history)
    assert answer.handoff_reason == "negative_sentiment"


@pytest.mark.parametrize(
    "closing",
    [
        [("agent", "I have reset it for you.")],
        [("ai", acknowledgement(R.OUT_OF_SCOPE, "en", None))],
        [("ai", acknowledgement(R.LOW_CONFIDENCE, "en")), ("system", CANCEL_MESSAGE)],
        [("ai", acknowledgement(R.REQUESTED_HUMAN, "en")), ("agent", "Hi, I am here.")],
    ],
)
@pytest.mark.parametrize("nudge", ["?", "hello?", "!!!"])
async def test_nudge_stops_at_person_or_handoff(engine, demo_org, closing, nudge):
    history = [("customer", PASSWORD_QUESTION), *closing]
    assert handoff.nudged_question(history, nudge) is None
    answer = await ask(engine, demo_org, nudge, history)
    assert answer.should_handoff is False
    assert answer.model == SMALL_TALK_MODEL
    assert answer.content == GREETING


@pytest.mark.parametrize("reason", list(R))
def test_acknowledgement_is_not_failed_reply(reason):
    history = [("customer", PERSON), ("ai", acknowledgement(reason, "en"))]
    assert not handoff.repeated_failure(history, "?")
    assert not handoff.before_answer(history, "?").should_handoff


def test_failed_reply_still_counts():
    history = [
        ("customer", "How do I export bookings to SAP?"),
        ("ai", "I couldn't find anything about that in our help articles."),
    ]
    assert handoff.repeated_failure(history, "?")


async def post_handoff_flow(client, tenant, question):
    """Send ``question`` with automatic replies on and wait for the AI handoff."""
    await enable_auto_reply(client, tenant)
    conversation = await create_conversation(client, tenant)
    conversation_id = conversation["id"]
    sent = await send_message(client, tenant, conversation_id, question)
    assert sent.status_code == 201, sent.text
    messages = await wait_for_messages(client, tenant, conversation_id, 2)
    public = [m for m in messages if not m.get("private")]
    assert [m["authorType"] for m in public] == ["customer", "ai"]
    assert public[1]["metadata"]["ai"]["shouldHandoff"] is True
    return conversation_id


async def cancel_handoff(client, tenant, conversation_id):
    cancelled = await client.post(
        f"/conversations/{conversation_id}/handoff/cancel", headers=tenant.headers
    )
    assert cancelled.status_code == 200, cancelled.text


async def last_reply(client, tenant, conversation_id, count):
    """Wait for ``count`` public messages and return the last, an AI reply."""
    # The AI's handoff adds one private note for agents.
    messages = await wait_for_messages(client, tenant, conversation_id, count + 1)
    public = [m for m in messages if not m.get("private")]
    assert len(public) == count, [m["content"] for m in public]
    assert public[-1]["authorType"] == "ai"
    return public[-1]


@pytest.mark.parametrize("nudge", ["?", "hello?"])
async def test_auto_reply_nudge_after_security_handback(client, kb_tenant, nudge):
    conversation_id = await post_handoff_flow(client, kb_tenant, HACKED)
    await cancel_handoff(client, kb_tenant, conversation_id)
    sent = await send_message(client, kb_tenant, conversation_id, nudge)
    assert sent.status_code == 201, sent.text

    # customer, ai, system (handed back), customer nudge, ai
    reply = await last_reply(client, kb_tenant, conversation_id, 5)
    assert reply["content"] == GREETING
    assert reply["metadata"]["ai"]["sources"] == []
    assert reply["metadata"]["ai"]["shouldHandoff"] is False


async def test_auto_reply_nudged_security_question(app, client, kb_tenant):
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]
    # Sent while automatic replies were off, so the question has no reply.
    sent = await send_message(client, kb_tenant, conversation_id, HACKED)
    assert sent.status_code == 201, sent.text
    await wait_for_reply_skipped(app, kb_tenant)
    await enable_auto_reply(client, kb_tenant)
    nudge = await send_message(client, kb_tenant, conversation_id, "?")
    assert nudge.status_code == 201, nudge.text

    messages = await wait_for_messages(client, kb_tenant, conversation_id, 3)
    reply = messages[2]
    assert reply["authorType"] == "ai"
    meta = reply["metadata"]["ai"]
    assert meta["shouldHandoff"] is True
    assert meta["handoffReason"] == "out_of_scope"
    assert meta["handoffTopic"] == "account_security"
    record = await client.get(
        f"/conversations/{conversation_id}/handoff", headers=kb_tenant.headers
    )
    assert record.status_code == 200, record.text
    assert record.json()["reason"] == "out_of_scope"
    assert record.json()["priority"] == "high"


async def test_auto_reply_nudged_person_request(app, client, kb_tenant):
    conversation_id = await post_handoff_flow(client, kb_tenant, PERSON)
    await cancel_handoff(client, kb_tenant, conversation_id)
    await client.patch(
        f"/mailboxes/{kb_tenant.mailbox_id}",
        json={"settings": {"autoReply": False}},
        headers=kb_tenant.headers,
    )
    # Sent while automatic replies were off, so the request has no reply.
    sent = await send_message(client, kb_tenant, conversation_id, PERSON)
    assert sent.status_code == 201, sent.text
    await wait_for_reply_skipped(app, kb_tenant)
    await enable_auto_reply(client, kb_tenant)
    nudge = await send_message(client, kb_tenant, conversation_id, "?")
    assert nudge.status_code == 201, nudge.text

    # customer, ai, system (handed back), customer, customer nudge, ai
    reply = await last_reply(client, kb_tenant, conversation_id, 6)
    assert reply["metadata"]["ai"]["handoffReason"] == "requested_human"


async def test_auto_reply_nudge_after_agent_answer(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]
    requested = await client.post(
        f"/conversations/{conversation_id}/handoff",
        json={"reason": "requested_human"},
        headers=kb_tenant.headers,
    )
    assert requested.status_code in (200, 201), requested.text
    # The AI is paused, so the question gets no automatic reply.
    await send_message(client, kb_tenant, conversation_id, PASSWORD_QUESTION)
    await send_message(
        client, kb_tenant, conversation_id, "I have reset it for you.", author_type="agent"
    )
    await cancel_handoff(client, kb_tenant, conversation_id)
    nudge = await send_message(client, kb_tenant, conversation_id, "?")
    assert nudge.status_code == 201, nudge.text

    messages = await wait_for_messages(client, kb_tenant, conversation_id, 6)
    reply = messages[-1]
    assert reply["authorType"] == "ai", [m["content"] for m in messages]
    assert reply["content"] == GREETING
    assert reply["metadata"]["ai"]["sources"] == []


async def test_draft_nudge_after_person_request(client, kb_tenant):
    conversation_id = await post_handoff_flow(client, kb_tenant, PERSON)
    # The AI is paused, so the nudge gets no automatic reply.
    sent = await send_message(client, kb_tenant, conversation_id, "?")
    assert sent.status_code == 201, sent.text

    draft = await client.post(
        "/ai/generate-response",
        json={"conversationId": conversation_id, "messageContent": "?", "draft": True},
        headers=kb_tenant.headers,
    )
    assert draft.status_code == 200, draft.text
    body = draft.json()
    assert body["handoffReason"] != "repeated_failure"
    assert body["content"] != acknowledgement(R.REPEATED_FAILURE, "en")

"""The AI and knowledge endpoints over HTTP, with the demo articles as the knowledge base."""

import asyncio

import pytest

from campfire_server.assistant import handoff
from campfire_server.assistant.acknowledgements import acknowledgement, connecting_notice
from campfire_server.assistant.handoff import HandoffReason
from campfire_server.assistant.sensitive import SensitiveTopic
from campfire_server.organizations import actions as org_actions
from campfire_server.organizations.schemas import MailboxCreate
from tests.helpers import create_conversation, send_message

HUMAN_REQUESTS = [
    "please get me a human",
    "can I talk to a real person",
    "agent please",
    "this bot isn't helping, escalate",
    "I need to speak with someone from support",
    "Connect me to a live agent",
    "Can you transfer me to customer service?",
    "Quiero hablar con una persona, por favor",
    "I'd like a representative",
    "Let me talk to your manager",
    "can you transfer me",
    "no bot please",
    "I don't want a bot",
    "no more bots",
]


async def generate(client, tenant, conversation_id, message, **context):
    body = {
        "conversationId": conversation_id,
        "messageContent": message,
        "context": {
            "customerTier": "premium",
            "previousInteractions": 1,
            "knowledgeBaseEnabled": True,
            **context,
        },
    }
    return await client.post("/ai/generate-response", json=body, headers=tenant.headers)


def check_contract(body):
    assert set(body) == {
        "content",
        "confidence",
        "sources",
        "shouldHandoff",
        "handoffReason",
        "responseTime",
        "model",
    }
    assert 0 <= body["confidence"] <= 1
    assert body["responseTime"] >= 0
    for source in body["sources"]:
        assert set(source) == {"title", "url", "relevance"}
        assert source["url"].startswith(("/", "https://", "http://"))
    if body["shouldHandoff"]:
        assert body["content"].strip()
    if handoff.promises_person(body["content"]):
        assert body["shouldHandoff"]
    if body["confidence"] >= 0.8 and body["model"] != "small-talk":
        assert body["sources"]


async def test_answer_cites_billing_faq(client, kb_tenant):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(
        client, kb_tenant, conversation["id"], "How do I update my billing information?"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    check_contract(body)
    assert not body["shouldHandoff"]
    assert body["handoffReason"] is None
    assert body["model"] == "extractive"
    assert body["sources"][0]["title"] == "Updating your billing information"


@pytest.mark.parametrize("message", HUMAN_REQUESTS)
async def test_requests_for_person_hand_off(client, kb_tenant, message):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(client, kb_tenant, conversation["id"], message)
    assert response.status_code == 200
    body = response.json()
    check_contract(body)
    assert body["shouldHandoff"] is True
    assert body["handoffReason"] == "requested_human"
    assert body["content"].strip()


async def test_downgrade_goes_through_support(client, kb_tenant):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(
        client,
        kb_tenant,
        conversation["id"],
        "How do I downgrade my plan myself from the settings page?",
    )
    body = response.json()
    check_contract(body)
    assert [s["title"] for s in body["sources"]] == ["Billing FAQ"]
    # The demo article has no url of its own, so it links to its help-centre page.
    assert body["sources"][0]["url"].startswith("/kb/art_")
    assert "support team" in body["content"]


async def test_uncovered_question_has_no_sources(client, kb_tenant):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(
        client,
        kb_tenant,
        conversation["id"],
        "Do you sign a HIPAA business associate agreement?",
    )
    body = response.json()
    check_contract(body)
    assert body["sources"] == []
    assert body["shouldHandoff"] is True
    assert body["confidence"] < 0.5


async def test_knowledge_base_disabled_answers_without_sources(client, kb_tenant):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(
        client,
        kb_tenant,
        conversation["id"],
        "How do I reset my password?",
        knowledgeBaseEnabled=False,
    )
    body = response.json()
    check_contract(body)
    assert body["sources"] == []
    assert body["confidence"] < 0.6
    assert body["shouldHandoff"] is True


async def test_invalid_request_is_validation_error(client, kb_tenant):
    response = await client.post(
        "/ai/generate-response",
        json={"conversationId": "conv_x", "messageContent": ""},
        headers=kb_tenant.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_other_tenant_conversation_not_found(client, kb_tenant, other_tenant):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(client, other_tenant, conversation["id"], "hello")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def wait_for_messages(client, tenant, conversation_id, count, timeout_s=10.0):
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        response = await client.get(
            f"/conversations/{conversation_id}/messages", headers=tenant.headers
        )
        messages = response.json()["data"]
        if len(messages) >= count or asyncio.get_running_loop().time() > deadline:
            return messages
        await asyncio.sleep(0.05)


async def wait_for_reply_skipped(app, tenant, timeout_s=10.0):
    """Wait until automatic replies have read the mailbox's setting as off.

    The setting is read when a message's event is handled, which can come
    after a quick switch to on. Waiting here puts the switch after that read.
    """
    replier = app.state.auto_replier
    deadline = asyncio.get_running_loop().time() + timeout_s
    while replier.cached_auto_reply(tenant.org_id, tenant.mailbox_id) is not False:
        assert asyncio.get_running_loop().time() < deadline, "the setting was never read as off"
        await asyncio.sleep(0.02)


async def enable_auto_reply(client, tenant):
    response = await client.patch(
        f"/mailboxes/{tenant.mailbox_id}",
        json={"settings": {"autoReply": True}},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text


async def test_auto_reply_posts_ai_message(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    sent = await send_message(client, kb_tenant, conversation["id"], "How do I reset my password?")
    assert sent.status_code == 201
    messages = await wait_for_messages(client, kb_tenant, conversation["id"], 2)
    reply = messages[-1]
    assert reply["authorType"] == "ai"
    assert "Forgot password" in reply["content"]
    meta = reply["metadata"]["ai"]
    assert meta["inReplyTo"] == sent.json()["id"]
    assert meta["sources"][0]["title"] == "Resetting your password"
    assert meta["shouldHandoff"] is False
    assert meta["confidence"] >= 0.6


async def test_handoff_pauses_ai_until_resolved(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]

    await send_message(client, kb_tenant, conversation_id, "can I talk to a real person")
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 3)
    acknowledgements = [m for m in messages if m["authorType"] == "ai"]
    assert len(acknowledgements) == 1
    assert acknowledgements[0]["metadata"]["ai"]["handoffReason"] == "requested_human"
    assert handoff.promises_person(acknowledgements[0]["content"])

    # While a person has the conversation, the AI neither answers nor posts.
    await send_message(client, kb_tenant, conversation_id, "hello? anyone there?")
    response = await generate(client, kb_tenant, conversation_id, "hello? anyone there?")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONVERSATION_IN_HANDOFF"
    await asyncio.sleep(0.3)
    messages = await wait_for_messages(client, kb_tenant, conversation_id, 0)
    assert sum(m["authorType"] == "ai" for m in messages) == 1

    # Resolving hands the conversation back; an old request for a person stays in the past.
    patched = await client.patch(
        f"/conversations/{conversation_id}", json={"status": "resolved"}, headers=kb_tenant.headers
    )
    assert patched.status_code == 200, patched.text
    question = "new question: how do I download an invoice?"
    response = await generate(client, kb_tenant, conversation_id, question)
    assert response.status_code == 200
    body = response.json()
    assert body["shouldHandoff"] is False
    assert body["sources"][0]["title"] == "Downloading invoices and receipts"


@pytest.mark.parametrize(
    "message", ["you are not helping", "this isn't helping", "that didn't work", "useless"]
)
async def test_complaint_hands_off(client, kb_tenant, message):
    conversation = await create_conversation(client, kb_tenant)
    body = (await generate(client, kb_tenant, conversation["id"], message)).json()
    check_contract(body)
    assert body["shouldHandoff"] is True
    assert body["handoffReason"] == "negative_sentiment"


async def test_broken_feature_report_not_complaint(client, kb_tenant):
    conversation = await create_conversation(client, kb_tenant)
    question = "my password reset email is not working"
    body = (await generate(client, kb_tenant, conversation["id"], question)).json()
    assert body["handoffReason"] != "negative_sentiment"


@pytest.mark.parametrize(
    ("message", "topic"),
    [
        ("I was charged twice", SensitiveTopic.BILLING_DISPUTE),
        ("someone hacked my account", SensitiveTopic.ACCOUNT_SECURITY),
    ],
)
async def test_sensitive_topic_hands_off(client, kb_tenant, message, topic):
    conversation = await create_conversation(client, kb_tenant)
    body = (await generate(client, kb_tenant, conversation["id"], message)).json()
    check_contract(body)
    assert body["shouldHandoff"] is True
    assert body["handoffReason"] == "out_of_scope"
    assert body["sources"] == []
    assert body["content"] == acknowledgement(HandoffReason.OUT_OF_SCOPE, "en", topic)


async def test_sensitive_auto_reply_queues_high_priority(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    await send_message(client, kb_tenant, conversation["id"], "I was charged twice")
    messages = await wait_for_messages(client, kb_tenant, conversation["id"], 3)
    reply = next(m for m in messages if m["authorType"] == "ai")
    assert reply["metadata"]["ai"]["handoffReason"] == "out_of_scope"
    assert reply["metadata"]["ai"]["handoffTopic"] == "billing_dispute"
    response = await client.get(
        f"/conversations/{conversation['id']}/handoff", headers=kb_tenant.headers
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["priority"] == "high"
    assert record["reason"] == "out_of_scope"
    assert record["context"]["topic"] == "billing_dispute"


@pytest.mark.parametrize(
    ("message", "language"),
    [
        ("Я хочу поговорить с человеком", "ru"),
        ("我要人工客服", "zh"),
        ("人間のオペレーターと話したい", "ja"),
        ("상담원과 통화하고 싶어요", "ko"),
        ("أريد التحدث مع موظف", "ar"),
        ("Chcę rozmawiać z człowiekiem", "pl"),
        ("Bir insanla konuşmak istiyorum", "tr"),
    ],
)
async def test_request_in_language_gets_its_reply(client, kb_tenant, message, language):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(client, kb_tenant, conversation["id"], message)
    body = response.json()
    check_contract(body)
    assert body["handoffReason"] == "requested_human"
    assert body["content"] == acknowledgement(HandoffReason.REQUESTED_HUMAN, language)


async def test_uncovered_question_in_russian_gets_russian_reply(client, kb_tenant):
    conversation = await create_conversation(client, kb_tenant)
    question = "Как настроить интеграцию с квантовым телескопом?"
    response = await generate(client, kb_tenant, conversation["id"], question)
    body = response.json()
    assert body["shouldHandoff"] is True
    assert body["content"] == acknowledgement(HandoffReason(body["handoffReason"]), "ru")
    assert body["content"].startswith("Я не знаю")


@pytest.mark.parametrize("message", ["no more bots", "no more", "nao"])
async def test_short_message_gets_english_reply(client, kb_tenant, message):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(client, kb_tenant, conversation["id"], message)
    body = response.json()
    assert body["shouldHandoff"] is True
    assert body["content"] == acknowledgement(HandoffReason(body["handoffReason"]), "en")


async def test_bot_refusal_posts_english_notice(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    await send_message(client, kb_tenant, conversation["id"], "no more bots")
    messages = await wait_for_messages(client, kb_tenant, conversation["id"], 3)
    reply = next(m for m in messages if m["authorType"] == "ai")
    note = next(m for m in messages if m["authorType"] == "system")
    assert reply["metadata"]["ai"]["handoffReason"] == "requested_human"
    assert reply["content"] == acknowledgement(HandoffReason.REQUESTED_HUMAN, "en")
    assert note["private"] is True


async def test_ai_handoff_announced_once(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    await send_message(client, kb_tenant, conversation["id"], "what is the airspeed of a swallow?")
    messages = await wait_for_messages(client, kb_tenant, conversation["id"], 3)
    public = [m for m in messages if not m["private"] and m["authorType"] != "customer"]
    notes = [m for m in messages if m["private"]]

    assert [m["authorType"] for m in public] == ["ai"]
    assert handoff.promises_person(public[0]["content"])
    assert len(notes) == 1
    assert notes[0]["authorType"] == "system"
    assert "out_of_scope" in notes[0]["content"]
    assert not handoff.promises_person(notes[0]["content"])
    assert notes[0]["content"] != connecting_notice("en")


@pytest.mark.parametrize(
    ("message", "resolved"),
    [
        ("new question: how do I change my billing email?", False),
        ("Unrelated - how do I change my billing email?", False),
        ("new question: how do I change my billing email?", True),
        ("how do I change my billing email?", True),
    ],
)
async def test_new_topic_ignores_earlier_turns(client, kb_tenant, message, resolved):
    conversation = await create_conversation(client, kb_tenant)
    conversation_id = conversation["id"]
    await send_message(client, kb_tenant, conversation_id, "My Google calendar stopped syncing")
    await send_message(
        client, kb_tenant, conversation_id, "Try reconnecting the calendar.", author_type="agent"
    )
    if resolved:
        await client.patch(
            f"/conversations/{conversation_id}",
            json={"status": "resolved"},
            headers=kb_tenant.headers,
        )
    await send_message(client, kb_tenant, conversation_id, message)

    response = await generate(client, kb_tenant, conversation_id, message)
    body = response.json()

    assert response.status_code == 200, response.text
    assert body["shouldHandoff"] is False, body
    assert body["sources"][0]["title"] == "Updating your billing information"
    assert body["confidence"] >= 0.7


async def test_article_crud(client, tenant):
    created = await client.post(
        "/knowledge/articles",
        json={"title": "Kayaks", "content": "Kayaks cost $20.", "tags": ["rental"]},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    article = created.json()
    assert article["id"].startswith("art_")
    assert article["mailboxIds"] == []
    assert article["updatedAt"].endswith("Z")

    changed = await client.patch(
        f"/knowledge/articles/{article['id']}",
        json={"title": "Kayak rental"},
        headers=tenant.headers,
    )
    assert changed.json()["title"] == "Kayak rental"

    listed = await client.get("/knowledge/articles?tag=rental", headers=tenant.headers)
    assert [a["id"] for a in listed.json()["data"]] == [article["id"]]

    found = await client.get("/knowledge/search?q=kayak", headers=tenant.headers)
    assert found.json()["data"][0]["url"] == f"/kb/{article['id']}"

    deleted = await client.delete(f"/knowledge/articles/{article['id']}", headers=tenant.headers)
    assert deleted.status_code == 204
    missing = await client.get(f"/knowledge/articles/{article['id']}", headers=tenant.headers)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("second", "field"),
    [
        ({"externalId": "kb-same"}, "articles[1].externalId"),
        ({"url": "https://help.example.test/same"}, "articles[1].url"),
        ({}, "articles[1].title"),
    ],
)
async def test_import_rejects_duplicate_rows(client, tenant, second, field):
    first = {"title": "Same", "content": "First text."}
    if "externalId" in second:
        first["externalId"] = second["externalId"]
    if "url" in second:
        first["url"] = second["url"]
    rows = [first, {"title": "Same", "content": "Second text.", **second}]
    response = await client.post(
        "/knowledge/articles/import", json={"articles": rows}, headers=tenant.headers
    )
    listed = await client.get("/knowledge/articles", headers=tenant.headers)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert "articles[0]" in error["message"]
    assert listed.json()["data"] == []


async def test_articles_reject_unknown_mailboxes(client, tenant):
    for mailbox_id in ("mailbox_missing", "MAILBOX_TEST_1"):
        created = await client.post(
            "/knowledge/articles",
            json={"title": "T", "content": "c", "mailboxIds": [tenant.mailbox_id, mailbox_id]},
            headers=tenant.headers,
        )
        imported = await client.post(
            "/knowledge/articles/import",
            json={
                "articles": [
                    {"title": "A", "content": "a"},
                    {"title": "B", "content": "b", "mailboxIds": [mailbox_id]},
                ]
            },
            headers=tenant.headers,
        )

        assert created.status_code == 404, created.text
        assert created.json()["error"]["details"] == {"field": "mailboxIds[1]", "value": mailbox_id}
        assert imported.status_code == 404, imported.text
        details = imported.json()["error"]["details"]
        assert details == {"field": "articles[1].mailboxIds[0]", "value": mailbox_id}

    listed = await client.get("/knowledge/articles", headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_article_rejects_other_org_mailbox(client, tenant, other_tenant, db):
    other_only = "mailbox_other_org_only"

    def work(tx):
        org_actions.create_mailbox(tx, other_tenant.org_id, MailboxCreate(id=other_only, name="X"))

    await db.write(work)
    article = await client.post(
        "/knowledge/articles", json={"title": "T", "content": "c"}, headers=tenant.headers
    )
    created = await client.post(
        "/knowledge/articles",
        json={"title": "T2", "content": "c", "mailboxIds": [other_only]},
        headers=tenant.headers,
    )
    patched = await client.patch(
        f"/knowledge/articles/{article.json()['id']}",
        json={"mailboxIds": [other_only]},
        headers=tenant.headers,
    )

    assert created.status_code == 404
    assert created.json()["error"]["details"]["field"] == "mailboxIds[0]"
    assert patched.status_code == 404
    assert patched.json()["error"]["details"]["field"] == "mailboxIds[0]"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:window.__xss=1//https://example.test/pricing",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
    ],
)
async def test_article_rejects_unsafe_url(client, tenant, url):
    response = await client.post(
        "/knowledge/articles",
        json={"title": "T", "content": "c", "url": url},
        headers=tenant.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("message", "title"),
    [
        (
            "I don't want to talk to a person, just tell me how to reset my password",
            "Resetting your password",
        ),
        ("No human please, how do I download an invoice?", "Downloading invoices and receipts"),
    ],
)
async def test_declined_person_gets_answer(client, kb_tenant, message, title):
    conversation = await create_conversation(client, kb_tenant)
    response = await generate(client, kb_tenant, conversation["id"], message)
    assert response.status_code == 200, response.text
    body = response.json()
    check_contract(body)
    assert body["handoffReason"] != "requested_human"
    assert not body["shouldHandoff"]
    assert body["sources"][0]["title"] == title


async def set_threshold(client, tenant, threshold):
    response = await client.patch(
        f"/mailboxes/{tenant.mailbox_id}",
        json={"settings": {"handoffThreshold": threshold}},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("question", ["billing", "How do I update my billing information?"])
async def test_strict_threshold_handoff_keeps_sources(client, kb_tenant, question):
    # Only a reply to small talk reaches confidence 1, so every answer hands off.
    await set_threshold(client, kb_tenant, 1.0)
    conversation = await create_conversation(client, kb_tenant)
    body = (await generate(client, kb_tenant, conversation["id"], question)).json()
    check_contract(body)
    assert body["shouldHandoff"] is True
    assert body["handoffReason"] == "low_confidence"
    # The billing article was weighed and is relevant, so it is the evidence shown.
    assert body["sources"]
    assert "billing" in body["sources"][0]["title"].lower()
    assert all(source["relevance"] >= 0.5 for source in body["sources"])


async def test_auto_reply_handoff_metadata_keeps_sources(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    await set_threshold(client, kb_tenant, 0.99)
    conversation = await create_conversation(client, kb_tenant)
    sent = await send_message(client, kb_tenant, conversation["id"], "billing")
    assert sent.status_code == 201
    messages = await wait_for_messages(client, kb_tenant, conversation["id"], 2)
    replies = [message for message in messages if "ai" in (message.get("metadata") or {})]
    assert replies, messages
    meta = replies[-1]["metadata"]["ai"]
    assert meta["shouldHandoff"] is True
    assert meta["sources"]
    assert meta["confidence"] < 0.99


async def test_relevance_same_on_search_and_sources(client, kb_tenant):
    question = "How do I update my billing information?"
    found = await client.get("/knowledge/search", params={"q": question}, headers=kb_tenant.headers)
    assert found.status_code == 200, found.text
    by_url = {hit["url"]: hit["relevance"] for hit in found.json()["data"]}
    conversation = await create_conversation(client, kb_tenant)
    body = (await generate(client, kb_tenant, conversation["id"], question)).json()
    assert body["sources"]
    for source in body["sources"]:
        assert source["relevance"] == by_url[source["url"]], source


async def test_partial_match_is_not_full_relevance(client, kb_tenant):
    found = await client.get(
        "/knowledge/search",
        params={"q": "billing warehouse forklift installation"},
        headers=kb_tenant.headers,
    )
    assert found.status_code == 200, found.text
    hits = found.json()["data"]
    assert hits
    assert 0 < hits[0]["relevance"] < 1.0
    assert all(0 <= hit["relevance"] <= 1 for hit in hits)


@pytest.mark.parametrize("query", ["billing", "invoices", "calendar", "password"])
async def test_search_orders_by_relevance(client, kb_tenant, query):
    found = await client.get("/knowledge/search", params={"q": query}, headers=kb_tenant.headers)
    assert found.status_code == 200, found.text
    relevances = [hit["relevance"] for hit in found.json()["data"]]

    assert len(relevances) >= 2
    assert relevances == sorted(relevances, reverse=True)
    # Only the article titled for the query reaches the top value.
    assert relevances[0] > relevances[1]
    assert relevances.count(1.0) <= 1


# Requests that name a role or a team instead of "a person".
ROLE_REQUESTS = [
    "let me talk to customer service representative",
    "can a real human help me with billing",
]


async def auto_reply_metadata(client, tenant, conversation_id, message, timeout_s=10.0):
    """Send a customer message and return the AI metadata of the automatic reply to it."""
    sent = await send_message(client, tenant, conversation_id, message)
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        response = await client.get(
            f"/conversations/{conversation_id}/messages", headers=tenant.headers
        )
        for reply in response.json()["data"]:
            metadata = (reply.get("metadata") or {}).get("ai") or {}
            if reply["authorType"] == "ai" and metadata.get("inReplyTo") == message_id:
                return metadata
        assert asyncio.get_running_loop().time() < deadline, "no automatic reply arrived"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("message", ROLE_REQUESTS)
async def test_role_request_hands_off_on_both_paths(client, kb_tenant, message):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    # An earlier answered question, so the search reads more than the request.
    first = await auto_reply_metadata(
        client, kb_tenant, conversation["id"], "How do I reset my password?"
    )
    assert first["shouldHandoff"] is False

    generated = await generate(client, kb_tenant, conversation["id"], message)
    automatic = await auto_reply_metadata(client, kb_tenant, conversation["id"], message)

    assert generated.status_code == 200, generated.text
    body = generated.json()
    check_contract(body)
    assert body["shouldHandoff"] is True
    assert body["handoffReason"] == "requested_human"
    assert automatic["shouldHandoff"] is True
    assert automatic["handoffReason"] == "requested_human"


async def test_question_about_agents_answered(client, kb_tenant):
    await enable_auto_reply(client, kb_tenant)
    conversation = await create_conversation(client, kb_tenant)
    question = "how do I add an agent to my team?"

    generated = await generate(client, kb_tenant, conversation["id"], question)
    automatic = await auto_reply_metadata(client, kb_tenant, conversation["id"], question)

    body = generated.json()
    assert body["shouldHandoff"] is False
    assert body["sources"][0]["title"] == "Adding team members"
    assert automatic["shouldHandoff"] is False
    assert automatic["sources"][0]["title"] == "Adding team members"


@pytest.mark.parametrize(
    "content",
    [
        "plain text article about passwords. Reset it from the login page.",
        "You can reset your password from the login page.",
    ],
)
async def test_agreeing_article_keeps_confidence(client, kb_tenant, content):
    question = "How do I reset my password?"
    conversation = await create_conversation(client, kb_tenant)
    before = (await generate(client, kb_tenant, conversation["id"], question)).json()
    created = await client.post(
        "/knowledge/articles",
        json={"title": content, "content": content},
        headers=kb_tenant.headers,
    )
    assert created.status_code == 201, created.text

    after = (await generate(client, kb_tenant, conversation["id"], question)).json()

    check_contract(after)
    assert before["shouldHandoff"] is False
    assert after["shouldHandoff"] is False
    assert after["handoffReason"] is None
    # A new article shifts every term's idf a little, so the confidence may
    # move by a few thousandths, as it does for an article on another subject.
    assert after["confidence"] >= before["confidence"] - 0.01
    # Either article may lead, because both answer the question.
    assert after["sources"][0]["title"] in {"Resetting your password", content}

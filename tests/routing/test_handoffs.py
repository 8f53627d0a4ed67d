"""Handoff API: request, read, complete, cancel, and what each does to the conversation."""

from __future__ import annotations

from campfire_server.auth import keys
from tests.helpers import create_conversation, get_conversation, send_message
from tests.routing.support import (
    HANDOFF_BODY,
    add_agent,
    events,
    get_handoff,
    hand_off,
)

HANDOFF_KEYS = {
    "id",
    "conversationId",
    "status",
    "agentId",
    "agentName",
    "estimatedWaitTime",
    "position",
    "priority",
    "requiredSkills",
    "unroutableSkills",
    "reason",
    "context",
    "createdAt",
    "assignedAt",
    "completedAt",
}


async def ai_paused(db, conversation_id: str) -> bool:
    value = await db.read(
        lambda tx: tx.value(
            "SELECT ai_paused FROM conversations WHERE id = :id", id=conversation_id
        )
    )
    return bool(value)


async def test_handoff_list_names_agent(client, tenant):
    await add_agent(client, tenant, "agent_alpha")
    conversation = await create_conversation(client, tenant)
    await hand_off(client, tenant, conversation["id"])

    response = await client.get("/handoffs", params={"status": "assigned"}, headers=tenant.headers)

    assert response.status_code == 200, response.text
    [listed] = response.json()["data"]
    assert listed["agentId"] == "agent_alpha"
    assert listed["agentName"] == "Agent Alpha"


async def test_handoff_assigned_at_once(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    conversation = await create_conversation(client, tenant)

    response = await hand_off(client, tenant, conversation["id"])

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == HANDOFF_KEYS
    assert body["id"].startswith("hnd_")
    assert body["conversationId"] == conversation["id"]
    assert body["status"] == "assigned"
    assert body["agentId"] == "agent_alpha"
    assert body["agentName"] == "Agent Alpha"
    assert body["estimatedWaitTime"] == 0
    assert body["position"] == 0
    assert body["priority"] == "medium"
    assert body["requiredSkills"] == []
    assert body["unroutableSkills"] == []
    assert body["reason"] == "Customer asked for a person"
    assert body["context"] == HANDOFF_BODY["context"]
    assert body["assignedAt"] is not None

    updated = await get_conversation(client, tenant, conversation["id"])
    assert updated["assignedAgentId"] == "agent_alpha"
    assert await ai_paused(db, conversation["id"]) is True
    assert await get_handoff(client, tenant, conversation["id"]) == body


async def test_handoff_posts_system_message_and_events(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    conversation = await create_conversation(client, tenant)
    body = (await hand_off(client, tenant, conversation["id"])).json()

    messages = await client.get(
        f"/conversations/{conversation['id']}/messages", headers=tenant.headers
    )
    system = [item for item in messages.json()["data"] if item["authorType"] == "system"]
    assert len(system) == 1
    assert system[0]["metadata"] == {"handoffId": body["id"]}

    logged = await events(db, tenant.org_id, conversation_id=conversation["id"])
    types = [item["type"] for item in logged]
    assert types == [
        "conversation.created",
        "message.sent",
        "handoff.requested",
        "handoff.assigned",
        "conversation.updated",
    ]
    sequences = [item["sequence"] for item in logged]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == len(sequences)

    assigned = logged[3]["data"]
    assert assigned["status"] == "assigned"
    assert assigned["agentId"] == "agent_alpha"
    assert assigned["estimatedWaitTime"] == 0
    assert assigned["position"] == 0
    assert assigned["handoff"]["id"] == body["id"]
    assert logged[4]["data"]["changes"] == {"assignedAgentId": "agent_alpha"}


async def test_handoff_queued_without_agents(client, db, tenant):
    conversation = await create_conversation(client, tenant)
    body = (await hand_off(client, tenant, conversation["id"])).json()

    assert body["status"] == "queued"
    assert body["agentId"] is None
    assert body["position"] == 1
    assert body["estimatedWaitTime"] is None
    assert body["assignedAt"] is None

    requested = await events(db, tenant.org_id, "handoff.requested")
    assert len(requested) == 1
    assert requested[0]["data"]["status"] == "queued"
    assert requested[0]["data"]["agentId"] is None
    assert await events(db, tenant.org_id, "handoff.assigned") == []


async def test_second_handoff_returns_existing(client, db, tenant):
    conversation = await create_conversation(client, tenant)
    first = await hand_off(client, tenant, conversation["id"])
    second = await hand_off(client, tenant, conversation["id"], priority="urgent")

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == first.json()
    rows = await db.read(
        lambda tx: tx.value(
            "SELECT COUNT(*) AS n FROM handoffs WHERE conversation_id = :id", id=conversation["id"]
        )
    )
    assert rows == 1
    assert len(await events(db, tenant.org_id, "handoff.requested")) == 1


async def test_handoff_on_closed_conversation_is_409(client, db, tenant):
    conversation = await create_conversation(client, tenant)
    await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "closed"}, headers=tenant.headers
    )
    response = await hand_off(client, tenant, conversation["id"])

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONVERSATION_CLOSED"
    missing = await client.get(
        f"/conversations/{conversation['id']}/handoff", headers=tenant.headers
    )
    assert missing.status_code == 404


async def test_handoff_reopens_resolved_conversation(client, tenant):
    conversation = await create_conversation(client, tenant)
    await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "resolved"}, headers=tenant.headers
    )
    response = await hand_off(client, tenant, conversation["id"])

    assert response.status_code == 201
    assert (await get_conversation(client, tenant, conversation["id"]))["status"] == "open"


async def test_other_tenant_conversation_is_404(client, tenant, other_tenant):
    conversation = await create_conversation(client, tenant)
    for path in ("", "/complete", "/cancel"):
        response = await client.post(
            f"/conversations/{conversation['id']}/handoff{path}",
            json=HANDOFF_BODY if not path else None,
            headers=other_tenant.headers,
        )
        assert response.status_code == 404, path
    response = await client.get(
        f"/conversations/{conversation['id']}/handoff", headers=other_tenant.headers
    )
    assert response.status_code == 404


async def test_handoff_rejects_bad_input(client, db, tenant):
    conversation = await create_conversation(client, tenant)
    deep = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    cases = [
        ({"priority": "critical"}, "priority"),
        ({"requiredSkills": ["billing", ""]}, "requiredSkills[1]"),
        ({"requiredSkills": "billing"}, "requiredSkills"),
        ({"context": deep}, "context"),
        ({"context": []}, "context"),
        ({"reason": "x" * 1001}, "reason"),
        ({"surprise": True}, "surprise"),
    ]
    for overrides, field in cases:
        response = await hand_off(client, tenant, conversation["id"], **overrides)
        assert response.status_code == 400, (overrides, response.text)
        assert response.json()["error"]["details"]["field"] == field, overrides

    assert await events(db, tenant.org_id, "handoff.requested") == []
    assert await ai_paused(db, conversation["id"]) is False


async def test_unroutable_skills_are_queued_and_listed(client, tenant):
    await add_agent(client, tenant, "agent_alpha", skills=["billing"])
    conversation = await create_conversation(client, tenant)
    body = (
        await hand_off(client, tenant, conversation["id"], requiredSkills=["Billing", "Klingon"])
    ).json()

    assert body["status"] == "queued"
    assert body["requiredSkills"] == ["billing", "klingon"]
    assert body["unroutableSkills"] == ["klingon"]
    assert body["estimatedWaitTime"] is None


async def test_unroutable_list_shrinks_when_skill_appears(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha", status="offline")
    conversation = await create_conversation(client, tenant)
    await hand_off(client, tenant, conversation["id"], requiredSkills=["klingon"])

    await client.patch("/agents/agent_alpha", json={"skills": ["klingon"]}, headers=tenant.headers)
    body = await get_handoff(client, tenant, conversation["id"])

    assert body["status"] == "queued"
    assert body["unroutableSkills"] == []
    updated = await events(db, tenant.org_id, "handoff.updated")
    assert updated[-1]["data"]["handoff"]["unroutableSkills"] == []


async def test_get_handoff_without_one_is_404(client, tenant):
    conversation = await create_conversation(client, tenant)
    response = await client.get(
        f"/conversations/{conversation['id']}/handoff", headers=tenant.headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_complete_frees_agent_and_resumes_ai(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha", capacity=1)
    first = await create_conversation(client, tenant)
    second = await create_conversation(client, tenant)
    await hand_off(client, tenant, first["id"])
    queued = (await hand_off(client, tenant, second["id"])).json()
    assert queued["status"] == "queued"

    response = await client.post(
        f"/conversations/{first['id']}/handoff/complete", headers=tenant.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "completed"
    assert body["agentId"] == "agent_alpha"
    assert body["completedAt"] is not None
    assert body["position"] is None
    assert await ai_paused(db, first["id"]) is False
    assert (await get_conversation(client, tenant, first["id"]))["assignedAgentId"] is None
    # The freed slot goes to the queued handoff at once.
    assert (await get_handoff(client, tenant, second["id"]))["agentId"] == "agent_alpha"

    completed = await events(db, tenant.org_id, "handoff.completed")
    assert [item["data"]["status"] for item in completed] == ["completed"]

    again = await client.post(
        f"/conversations/{first['id']}/handoff/complete", headers=tenant.headers
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "HANDOFF_NOT_OPEN"


async def test_complete_queued_is_409(client, tenant):
    conversation = await create_conversation(client, tenant)
    await hand_off(client, tenant, conversation["id"])
    response = await client.post(
        f"/conversations/{conversation['id']}/handoff/complete", headers=tenant.headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "HANDOFF_NOT_ASSIGNED"
    assert (await get_handoff(client, tenant, conversation["id"]))["status"] == "queued"


async def test_cancel_hands_back_to_ai(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha", capacity=1)
    conversation = await create_conversation(client, tenant)
    await hand_off(client, tenant, conversation["id"])

    response = await client.post(
        f"/conversations/{conversation['id']}/handoff/cancel", headers=tenant.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert await ai_paused(db, conversation["id"]) is False
    assert (await get_conversation(client, tenant, conversation["id"]))["assignedAgentId"] is None
    agent = (await client.get("/agents/agent_alpha", headers=tenant.headers)).json()
    assert agent["openAssignments"] == 0

    # After a cancel, a new handoff is a new row.
    again = await hand_off(client, tenant, conversation["id"])
    assert again.status_code == 201
    assert again.json()["id"] != response.json()["id"]


async def test_cancel_without_open_handoff(client, tenant):
    conversation = await create_conversation(client, tenant)
    response = await client.post(
        f"/conversations/{conversation['id']}/handoff/cancel", headers=tenant.headers
    )
    assert response.status_code == 404


async def test_resolve_completes_handoff(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha", capacity=1)
    conversation = await create_conversation(client, tenant)
    await hand_off(client, tenant, conversation["id"])

    patched = await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "resolved"}, headers=tenant.headers
    )

    assert patched.status_code == 200
    assert patched.json()["assignedAgentId"] == "agent_alpha"
    body = await get_handoff(client, tenant, conversation["id"])
    assert body["status"] == "completed"
    assert await ai_paused(db, conversation["id"]) is False
    agent = (await client.get("/agents/agent_alpha", headers=tenant.headers)).json()
    assert agent["openAssignments"] == 0


async def test_viewer_may_read_but_not_hand_off(client, db, tenant):
    issued = await db.write(
        lambda tx: keys.create_key(tx, org_id=tenant.org_id, name="viewer", role="viewer")
    )
    viewer = {"Authorization": f"Bearer {issued.key}"}
    conversation = await create_conversation(client, tenant)
    await hand_off(client, tenant, conversation["id"])

    denied = [
        await client.post(
            f"/conversations/{conversation['id']}/handoff", json=HANDOFF_BODY, headers=viewer
        ),
        await client.post(f"/conversations/{conversation['id']}/handoff/cancel", headers=viewer),
        await client.post("/agents", json={"name": "Nope"}, headers=viewer),
    ]
    assert [item.status_code for item in denied] == [403, 403, 403]

    read = await client.get(f"/conversations/{conversation['id']}/handoff", headers=viewer)
    assert read.status_code == 200
    assert (await client.get("/agents", headers=viewer)).status_code == 200


async def test_mailbox_scoped_key_sees_only_its_mailbox(client, db, tenant):
    issued = await db.write(
        lambda tx: keys.create_key(
            tx,
            org_id=tenant.org_id,
            name="sales only",
            role="agent",
            mailbox_ids=["mailbox_test_2"],
        )
    )
    scoped = {"Authorization": f"Bearer {issued.key}"}
    support = await create_conversation(client, tenant)
    path = f"/conversations/{support['id']}/handoff"

    denied = await client.post(path, json=HANDOFF_BODY, headers=scoped)
    assert denied.status_code == 404
    await hand_off(client, tenant, support["id"])
    for response in (
        await client.get(path, headers=scoped),
        await client.post(f"{path}/cancel", headers=scoped),
    ):
        assert response.status_code == 404
    assert (await get_handoff(client, tenant, support["id"]))["status"] == "queued"

    sales = await create_conversation(client, tenant, mailboxId="mailbox_test_2")
    allowed = await client.post(
        f"/conversations/{sales['id']}/handoff", json=HANDOFF_BODY, headers=scoped
    )
    assert allowed.status_code == 201


async def test_handoff_notice_speaks_customer_language(client, tenant):
    cases = {
        "Hallo, ich kann mich nicht anmelden und brauche Hilfe mit meinem Konto.": "Ich gebe",
        "Bonjour, je n'arrive pas à me connecter à mon compte, pouvez-vous m'aider ?": (
            "Je transmets"
        ),
        "Hello, I cannot sign in to my account and need some help with it.": "I'm passing",
    }
    for text, opening in cases.items():
        conversation = await create_conversation(client, tenant)
        await send_message(client, tenant, conversation["id"], text)
        await hand_off(client, tenant, conversation["id"])

        messages = await client.get(
            f"/conversations/{conversation['id']}/messages", headers=tenant.headers
        )
        system = [item for item in messages.json()["data"] if item["authorType"] == "system"]
        assert len(system) == 1
        assert system[0]["content"].startswith(opening), system[0]["content"]


async def test_handoff_notice_kanji_only_uses_locale(client, tenant):
    cases = {"ja": "この会話を", "zh-TW": "我會把這段對話", None: "I'm passing"}
    for locale, opening in cases.items():
        metadata = {"source": "widget"} if locale is None else {"locale": locale}
        conversation = await create_conversation(client, tenant, metadata=metadata)
        await send_message(client, tenant, conversation["id"], "担当者")
        await hand_off(client, tenant, conversation["id"])

        messages = await client.get(
            f"/conversations/{conversation['id']}/messages", headers=tenant.headers
        )
        system = [item for item in messages.json()["data"] if item["authorType"] == "system"]
        assert len(system) == 1, locale
        assert system[0]["content"].startswith(opening), system[0]["content"]


async def test_skill_errors_share_field_path(client, tenant):
    # An invalid skill fails the skill check, a number fails the schema, and
    # both name the item as requiredSkills[1].
    conversation = await create_conversation(client, tenant)
    cases = {"invalid skill": ["billing", "   "], "wrong type": ["billing", 5]}

    for case, skills in cases.items():
        response = await hand_off(client, tenant, conversation["id"], requiredSkills=skills)

        assert response.status_code == 400, (case, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR", case
        assert error["details"]["field"] == "requiredSkills[1]", case

"""The name and email a widget session stores reach agents through conversations and the queue."""

from __future__ import annotations

from tests.auth.test_widget_session import open_session
from tests.helpers import create_conversation

NAME = "Ana <b>Silva</b>"
EMAIL = "ana@example.test"


async def named_session(client, key, customer_id="customer_named"):
    response = await open_session(
        client, key, mailboxId="mailbox_test_1", customerId=customer_id, name=NAME, email=EMAIL
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_conversation_names_customer(client, tenant, publishable_key):
    await named_session(client, publishable_key)
    named = await create_conversation(client, tenant, customerId="customer_named")
    plain = await create_conversation(client, tenant, customerId="customer_plain")

    assert named["customer"] == {"id": "customer_named", "name": NAME, "email": EMAIL}
    response = await client.get(f"/conversations/{named['id']}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json()["customer"] == {"id": "customer_named", "name": NAME, "email": EMAIL}

    listed = await client.get("/conversations", headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    by_id = {item["id"]: item for item in listed.json()["data"]}
    assert by_id[named["id"]]["customer"]["name"] == NAME
    assert by_id[named["id"]]["customer"]["email"] == EMAIL
    assert by_id[plain["id"]]["customer"] == {"id": "customer_plain", "name": None, "email": None}


async def test_update_and_events_name_customer(client, tenant, publishable_key):
    await named_session(client, publishable_key)
    conversation = await create_conversation(client, tenant, customerId="customer_named")

    patched = await client.patch(
        f"/conversations/{conversation['id']}", json={"priority": "high"}, headers=tenant.headers
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["customer"]["name"] == NAME

    events = await client.get(
        "/events",
        params={"channel": f"conversation:{conversation['id']}", "since": 0},
        headers=tenant.headers,
    )
    assert events.status_code == 200, events.text
    frames = [e for e in events.json()["data"] if e["type"] == "conversation"]
    assert frames, events.json()
    assert frames[-1]["data"]["customer"]["email"] == EMAIL


async def test_queue_names_customer(client, tenant, publishable_key):
    await named_session(client, publishable_key)
    conversation = await create_conversation(client, tenant, customerId="customer_named")
    handoff = await client.post(
        f"/conversations/{conversation['id']}/handoff",
        json={"reason": "asked", "requiredSkills": ["nobody-has-this"]},
        headers=tenant.headers,
    )
    assert handoff.status_code == 201, handoff.text

    queue = await client.get("/handoffs", params={"status": "queued"}, headers=tenant.headers)
    assert queue.status_code == 200, queue.text
    [queued] = [h for h in queue.json()["data"] if h["conversationId"] == conversation["id"]]
    assert queued["customer"] == {"id": "customer_named", "name": NAME, "email": EMAIL}

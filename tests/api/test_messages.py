"""Messages: sending, listing, unread counts and status rules."""

from __future__ import annotations

import pytest

from campfire_server import clock
from campfire_server.auth.tokens import issue_token
from campfire_server.config import DEVELOPMENT_JWT_SECRET
from tests.helpers import create_agent
from tests.helpers import create_conversation as create
from tests.helpers import get_conversation as get
from tests.helpers import send_message as send


async def test_send_returns_documented_shape(client, tenant):
    conversation = await create(client, tenant)
    response = await send(
        client,
        tenant,
        conversation["id"],
        "Hello, I need help with my billing",
        authorId="customer_test_A",
        metadata={"timestamp": "2024-01-15T10:30:00Z", "source": "widget"},
    )
    body = response.json()

    assert response.status_code == 201
    assert body["id"].startswith("msg_")
    assert body["conversationId"] == conversation["id"]
    assert body["content"] == "Hello, I need help with my billing"
    assert body["authorType"] == "customer"
    assert body["authorId"] == "customer_test_A"
    assert body["metadata"] == {"timestamp": "2024-01-15T10:30:00Z", "source": "widget"}


async def test_unread_count_follows_read_rule(client, tenant):
    conversation = await create(client, tenant)
    await send(client, tenant, conversation["id"], "first")
    assert (await get(client, tenant, conversation["id"]))["unreadCount"] == 1

    await send(client, tenant, conversation["id"], "second")
    await send(client, tenant, conversation["id"], "third")
    detail = await get(client, tenant, conversation["id"])
    assert detail["unreadCount"] == 3

    listed = await client.get(
        "/conversations", params={"customerId": "customer_test_A"}, headers=tenant.headers
    )
    by_id = {item["id"]: item for item in listed.json()["data"]}
    assert by_id[conversation["id"]]["unreadCount"] == 3

    await send(client, tenant, conversation["id"], "an AI reply", "ai")
    assert (await get(client, tenant, conversation["id"]))["unreadCount"] == 3

    await send(client, tenant, conversation["id"], "an agent reply", "agent")
    assert (await get(client, tenant, conversation["id"]))["unreadCount"] == 0


async def test_last_message_at_and_count(client, tenant):
    conversation = await create(client, tenant)
    message = (await send(client, tenant, conversation["id"])).json()
    detail = await get(client, tenant, conversation["id"])

    assert detail["lastMessageAt"] == message["createdAt"]
    assert detail["messageCount"] == 1
    assert detail["updatedAt"] >= message["createdAt"]


async def test_customer_message_reopens_resolved(client, tenant):
    conversation = await create(client, tenant)
    await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "resolved"}, headers=tenant.headers
    )
    await send(client, tenant, conversation["id"], "one more question")
    detail = await get(client, tenant, conversation["id"])

    assert detail["status"] == "open"
    assert detail["resolvedAt"] is None


async def test_agent_message_keeps_resolved(client, tenant):
    conversation = await create(client, tenant)
    await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "resolved"}, headers=tenant.headers
    )
    await send(client, tenant, conversation["id"], "follow-up from us", "agent")
    assert (await get(client, tenant, conversation["id"]))["status"] == "resolved"


async def test_closed_conversation_rejects_messages(client, tenant):
    conversation = await create(client, tenant)
    await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "closed"}, headers=tenant.headers
    )
    response = await send(client, tenant, conversation["id"])

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "CONVERSATION_CLOSED"
    assert error["details"] == {"status": "closed"}
    assert 'PATCH {"status": "open"}' in error["message"]
    assert (await get(client, tenant, conversation["id"]))["messageCount"] == 0

    reopened = await client.patch(
        f"/conversations/{conversation['id']}", json={"status": "open"}, headers=tenant.headers
    )
    assert reopened.status_code == 200
    assert (await send(client, tenant, conversation["id"])).status_code == 201


async def test_list_messages_oldest_first(client, tenant):
    conversation = await create(client, tenant)
    sent = [
        (await send(client, tenant, conversation["id"], f"m{i}")).json()["id"] for i in range(3)
    ]
    response = await client.get(
        f"/conversations/{conversation['id']}/messages",
        params={"page": 1, "limit": 50},
        headers=tenant.headers,
    )
    body = response.json()

    assert response.status_code == 200
    assert [item["id"] for item in body["data"]] == sent
    assert body["pagination"]["total"] == 3
    assert body["pagination"]["hasMore"] is False


async def test_messages_of_unknown_conversation_is_404(client, tenant):
    response = await send(client, tenant, "conv_doesnotexist")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_private_note_does_not_count_as_reply(client, tenant):
    conversation = await create(client, tenant)
    await send(client, tenant, conversation["id"], "help")
    response = await send(client, tenant, conversation["id"], "note to team", "agent", private=True)

    assert response.status_code == 201
    assert response.json()["private"] is True
    assert (await get(client, tenant, conversation["id"]))["unreadCount"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"content": "x", "private": True, "authorType": "customer"},
        {"content": "x", "private": True},
        {"content": "x", "private": True, "authorType": "customer", "authorId": "customer_test_A"},
    ],
)
async def test_private_customer_message_rejected(client, tenant, body):
    conversation = await create(client, tenant)
    path = f"/conversations/{conversation['id']}/messages"

    response = await client.post(path, json=body, headers=tenant.headers)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "private"
    assert error["details"]["value"] is True
    assert "private notes are written by agents" in error["message"]
    # Following the hint with an API key needs an agent author too.
    assert "authorId" in error["message"]
    assert (await get(client, tenant, conversation["id"]))["messageCount"] == 0
    listed = await client.get(path, headers=tenant.headers)
    assert listed.json()["data"] == []


@pytest.mark.parametrize("author_type", ["agent", "ai", "system"])
async def test_private_note_by_non_customer_accepted(client, tenant, author_type):
    conversation = await create(client, tenant)
    author = {"authorId": "agent_note"} if author_type == "agent" else {}
    if author_type == "agent":
        await create_agent(client, tenant, "agent_note")

    response = await send(
        client, tenant, conversation["id"], "note", author_type, private=True, **author
    )

    assert response.status_code == 201, response.text
    assert response.json()["private"] is True


async def test_private_field_documents_customer_rule(client):
    document = (await client.get("/openapi.json")).json()

    description = document["components"]["schemas"]["MessageCreate"]["properties"]["private"][
        "description"
    ]
    assert "never shown to the customer" in description
    assert 'authorType "customer"' in description
    assert "400 VALIDATION_ERROR" in description


def _customer_headers(tenant, customer_id: str) -> dict[str, str]:
    token, _expires = issue_token(
        secret=DEVELOPMENT_JWT_SECRET,
        issuer="campfire",
        audience="campfire",
        org_id=tenant.org_id,
        role="customer",
        subject=customer_id,
        ttl_seconds=600,
        extra={"cid": customer_id},
    )
    return {"Authorization": f"Bearer {token}"}


async def test_customer_private_note_names_private(client, tenant):
    conversation = await create(client, tenant)
    headers = _customer_headers(tenant, conversation["customerId"])
    path = f"/conversations/{conversation['id']}/messages"

    response = await client.post(path, json={"content": "secret", "private": True}, headers=headers)

    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["details"]["field"] == "private"
    assert "cannot send private notes" in error["message"]
    assert "authorType" not in error["message"]
    listed = await client.get(path, headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_customer_agent_message_names_author_type(client, tenant):
    conversation = await create(client, tenant)
    headers = _customer_headers(tenant, conversation["customerId"])

    response = await client.post(
        f"/conversations/{conversation['id']}/messages",
        json={"content": "hi", "authorType": "agent"},
        headers=headers,
    )

    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["details"]["field"] == "authorType"
    assert '"agent"' in error["message"]


async def test_message_time_never_before_last(client, tenant):
    """A clock that steps back does not give a later message an earlier createdAt."""
    frozen = clock.FrozenClock(clock.now_ms())
    previous = clock.set_clock(frozen)
    try:
        conversation = await create(client, tenant)
        first = await send(client, tenant, conversation["id"], "first", "agent")
        frozen.advance(-5)
        second = await send(client, tenant, conversation["id"], "second", "agent")
        frozen.advance(10)
        third = await send(client, tenant, conversation["id"], "third", "agent")
    finally:
        clock.set_clock(previous)

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert third.status_code == 201, third.text
    assert second.json()["createdAt"] == first.json()["createdAt"]
    assert third.json()["createdAt"] > second.json()["createdAt"]
    listed = await client.get(
        f"/conversations/{conversation['id']}/messages", headers=tenant.headers
    )
    assert [message["content"] for message in listed.json()["data"]] == [
        "first",
        "second",
        "third",
    ]
    assert [message["createdAt"] for message in listed.json()["data"]] == [
        first.json()["createdAt"],
        second.json()["createdAt"],
        third.json()["createdAt"],
    ]
    detail = await get(client, tenant, conversation["id"])
    assert detail["lastMessageAt"] == third.json()["createdAt"]


async def _agent_headers(client, tenant, agent_id: str) -> dict[str, str]:
    email = f"{agent_id}@example.test"
    body = {"id": agent_id, "name": "Alex Agent", "email": email, "password": "a long password"}
    created = await client.post("/agents", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    login = await client.post("/auth/login", json={"email": email, "password": "a long password"})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}


async def test_agent_token_writes_as_own_agent(client, tenant):
    conversation = await create(client, tenant)
    headers = await _agent_headers(client, tenant, "agent_own")
    path = f"/conversations/{conversation['id']}/messages"

    named = await client.post(
        path,
        json={"content": "hi", "authorType": "agent", "authorId": "agent_own"},
        headers=headers,
    )
    unnamed = await client.post(
        path, json={"content": "hello", "authorType": "agent"}, headers=headers
    )

    assert named.status_code == 201, named.text
    assert named.json()["authorId"] == "agent_own"
    assert unnamed.status_code == 201, unnamed.text
    assert unnamed.json()["authorId"] == "agent_own"


async def test_agent_token_other_agent_is_403(client, tenant):
    conversation = await create(client, tenant)
    headers = await _agent_headers(client, tenant, "agent_one")
    await _agent_headers(client, tenant, "agent_two")
    path = f"/conversations/{conversation['id']}/messages"

    response = await client.post(
        path,
        json={"content": "hi", "authorType": "agent", "authorId": "agent_two"},
        headers=headers,
    )

    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "AUTHORIZATION_ERROR"
    assert error["details"]["field"] == "authorId"
    assert error["details"]["value"] == "agent_two"
    assert "'agent_one'" in error["message"]
    listed = await client.get(path, headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_agent_token_other_author_type_is_403(client, tenant):
    conversation = await create(client, tenant)
    headers = await _agent_headers(client, tenant, "agent_typed")
    path = f"/conversations/{conversation['id']}/messages"

    for author_type in ("customer", "ai", "system"):
        response = await client.post(
            path,
            json={"content": "hi", "authorType": author_type, "authorId": "agent_typed"},
            headers=headers,
        )
        assert response.status_code == 403, (author_type, response.text)
        error = response.json()["error"]
        assert error["details"]["field"] == "authorType"
        assert error["details"]["value"] == author_type
    listed = await client.get(path, headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_customer_token_other_customer_is_403(client, tenant):
    conversation = await create(client, tenant)
    headers = _customer_headers(tenant, conversation["customerId"])
    path = f"/conversations/{conversation['id']}/messages"

    response = await client.post(
        path, json={"content": "hi", "authorId": "someone_else"}, headers=headers
    )

    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["details"]["field"] == "authorId"
    assert error["details"]["value"] == "someone_else"
    listed = await client.get(path, headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_agent_token_default_author_is_agent(client, tenant):
    conversation = await create(client, tenant)
    headers = await _agent_headers(client, tenant, "agent_default")

    response = await client.post(
        f"/conversations/{conversation['id']}/messages", json={"content": "hi"}, headers=headers
    )

    assert response.status_code == 201, response.text
    assert response.json()["authorType"] == "agent"
    assert response.json()["authorId"] == "agent_default"


async def test_api_key_agent_author_must_exist(client, tenant, other_tenant):
    conversation = await create(client, tenant)
    await create_agent(client, tenant, "agent_here")
    await create_agent(client, other_tenant, "agent_elsewhere")
    path = f"/conversations/{conversation['id']}/messages"

    for author_id in ("agent_ghost", "agent_elsewhere"):
        rejected = await client.post(
            path,
            json={"content": "posing", "authorType": "agent", "authorId": author_id},
            headers=tenant.headers,
        )
        assert rejected.status_code == 400, rejected.text
        error = rejected.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["field"] == "authorId"
        assert error["details"]["value"] == author_id
        assert repr(author_id) in error["message"]

    listed = await client.get(path, headers=tenant.headers)
    assert listed.json()["data"] == []
    assert (await get(client, tenant, conversation["id"]))["messageCount"] == 0

    accepted = await client.post(
        path,
        json={"content": "real agent", "authorType": "agent", "authorId": "agent_here"},
        headers=tenant.headers,
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["authorId"] == "agent_here"
    # A customer message must come from the conversation's own customer.
    customer = await send(client, tenant, conversation["id"], "me", authorId="customer_free")
    assert customer.status_code == 400, customer.text
    assert customer.json()["error"]["details"]["field"] == "authorId"


async def test_api_key_agent_message_needs_author(client, tenant):
    conversation = await create(client, tenant)
    path = f"/conversations/{conversation['id']}/messages"
    bodies = [
        {"content": "x", "authorType": "agent"},
        {"content": "x", "authorType": "agent", "authorId": None},
        {"content": "note", "authorType": "agent", "private": True},
    ]

    for body in bodies:
        rejected = await client.post(path, json=body, headers=tenant.headers)

        assert rejected.status_code == 400, rejected.text
        error = rejected.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["field"] == "authorId"
        assert error["details"]["value"] is None
        assert "authorId is missing" in error["message"]

    listed = await client.get(path, headers=tenant.headers)
    assert listed.json()["data"] == []
    detail = await get(client, tenant, conversation["id"])
    assert detail["messageCount"] == 0
    assert detail["lastMessageAt"] is None


async def test_conversation_for_other_customer_403(client, tenant):
    headers = _customer_headers(tenant, "customer_own")

    response = await client.post(
        "/conversations", json={"customerId": "customer_other"}, headers=headers
    )

    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["details"]["field"] == "customerId"
    assert error["details"]["value"] == "customer_other"
    assert error["details"]["expected"] == "customer_own"
    assert "'customer_other'" in error["message"]
    assert "leave customerId out" in error["message"]
    assert "'customer_own'" in error["message"]
    listed = await client.get(
        "/conversations", params={"customerId": "customer_other"}, headers=tenant.headers
    )
    assert listed.json()["data"] == []

"""Conversations, messages, mailboxes and errors through both clients against a live server."""

from __future__ import annotations

import httpx
import pytest
from conftest import AGENT_ID, MAILBOX_ID, TEST_KEY

from campfire import (
    AsyncCampfireClient,
    AuthenticationError,
    CampfireClient,
    ConflictError,
    Conversation,
    Message,
    NotFoundError,
    Paginator,
    ValidationError,
)


def test_conversation_create_get_update(client, customer_id):
    created = client.conversations.create(
        customer_id=customer_id,
        subject="Billing Question",
        mailbox_id=MAILBOX_ID,
        priority="high",
        metadata={"source": "widget", "nested": {"snake_case": 1}},
    )
    assert isinstance(created, Conversation)
    assert created.priority == "high"
    assert created.metadata == {"source": "widget", "nested": {"snake_case": 1}}
    assert created.unread_count == 0
    assert created.created_at.endswith("Z")

    fetched = client.conversations.get(created.id)
    assert fetched.id == created.id
    assert fetched.subject == "Billing Question"

    updated = client.conversations.update(created.id, status="resolved", priority="low")
    assert updated.status == "resolved"
    assert updated.priority == "low"
    assert updated.subject == "Billing Question"


def test_message_create_and_list(client, customer_id):
    conversation = client.conversations.create(customer_id=customer_id)
    first = client.messages.create(
        conversation_id=conversation.id, content="Café ☕ first", author_type="customer"
    )
    second = client.messages.create(
        conversation.id,
        content="An internal note",
        author_type="agent",
        author_id=AGENT_ID,
        private=True,
    )
    assert isinstance(first, Message)
    assert first.content == "Café ☕ first"
    assert second.private is True

    # The development mailbox answers with AI, so only the messages sent here are compared.
    sent = {"customer", "agent"}
    contents = [m.content for m in client.messages.list(conversation.id) if m.author_type in sent]
    assert contents == ["Café ☕ first", "An internal note"]


def test_list_follows_cursor_across_pages(client, customer_id):
    created = [client.conversations.create(customer_id=customer_id).id for _ in range(7)]

    listing = client.conversations.list(customer_id=customer_id, limit=3)
    assert isinstance(listing, Paginator)
    seen = [conversation.id for conversation in listing]
    assert len(seen) == 7
    assert set(seen) == set(created)

    first = listing.first_page()
    assert len(first.data) == 3
    assert first.pagination.has_more is True
    assert first.pagination.next_cursor


def test_mailboxes_roundtrip(client):
    mailbox = client.mailboxes.create(name="Sales desk", settings={"auto_reply": False})
    assert mailbox.settings.auto_reply is False
    renamed = client.mailboxes.update(mailbox.id, name="Sales")
    assert renamed.name == "Sales"
    assert mailbox.id in {m.id for m in client.mailboxes.list()}
    assert client.mailboxes.delete(mailbox.id) is None
    with pytest.raises(NotFoundError):
        client.mailboxes.get(mailbox.id)


def test_not_found_carries_request_id(client, dev_server):
    with pytest.raises(NotFoundError) as caught:
        client.conversations.get("conv_does_not_exist")
    error = caught.value
    assert error.status_code == 404
    assert error.code == "NOT_FOUND"
    assert error.request_id
    assert error.request_id == error.headers["x-request-id"]
    assert error.request_id in str(error)


def test_validation_error_details(client, customer_id):
    conversation = client.conversations.create(customer_id=customer_id)
    with pytest.raises(ValidationError) as caught:
        client.messages.create(conversation.id, content="x" * 10_001)
    assert caught.value.status_code == 400
    assert caught.value.details["field"] == "content"


def test_bad_key_is_authentication_error(dev_server):
    with CampfireClient(api_key="sk_test_wrong", base_url=dev_server.api) as bad:
        with pytest.raises(AuthenticationError) as caught:
            bad.conversations.get("conv_x")
    assert caught.value.status_code == 401
    assert caught.value.request_id


def test_reused_idempotency_key_is_conflict(dev_server, customer_id):
    key = {"Idempotency-Key": f"reuse-{customer_id}"}
    with CampfireClient(api_key=TEST_KEY, base_url=dev_server.api, default_headers=key) as sdk:
        first = sdk.conversations.create(customer_id=customer_id, subject="one")
        again = sdk.conversations.create(customer_id=customer_id, subject="one")
        assert again.id == first.id
        with pytest.raises(ConflictError) as caught:
            sdk.conversations.create(customer_id=customer_id, subject="two")
    assert caught.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_mock_mode_writes_nothing(dev_server, client, customer_id):
    probe = httpx.get(
        f"{dev_server.api}/conversations/conv_probe",
        headers={"Authorization": f"Bearer {TEST_KEY}", "X-Campfire-Mock": "true"},
    )
    if probe.headers.get("x-campfire-mock") != "true":
        pytest.skip("this server does not implement mock mode (X-Campfire-Mock) yet")
    with CampfireClient(api_key=TEST_KEY, base_url=dev_server.api, mock=True) as mock:
        conversation = mock.conversations.create(customer_id=customer_id)
    assert conversation.customer_id == customer_id
    assert list(client.conversations.list(customer_id=customer_id)) == []


def test_missing_api_key_is_explained(monkeypatch):
    monkeypatch.delenv("CAMPFIRE_API_KEY", raising=False)
    with pytest.raises(TypeError, match="api_key is missing"):
        CampfireClient()


def test_empty_id_rejected_before_request(client):
    with pytest.raises(TypeError, match="non-empty id"):
        client.conversations.get("")


def test_ids_are_percent_encoded():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"id": "conv_1"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    sdk = CampfireClient(api_key="k", base_url="http://127.0.0.1:9/api/v2", http_client=http)
    sdk.conversations.get("a/b?c")
    assert seen == ["/api/v2/conversations/a%2Fb%3Fc"]


async def test_async_client_roundtrip(async_client, customer_id):
    conversation = await async_client.conversations.create(customer_id=customer_id, subject="Async")
    await async_client.messages.create(conversation.id, content="one")
    await async_client.messages.create(conversation.id, content="two")
    contents = [
        message.content
        async for message in async_client.messages.list(conversation.id)
        if message.author_type == "customer"
    ]
    assert contents == ["one", "two"]

    ids = [c.id async for c in async_client.conversations.list(customer_id=customer_id, limit=1)]
    assert ids == [conversation.id]

    with pytest.raises(NotFoundError) as caught:
        await async_client.conversations.get("conv_missing")
    assert caught.value.request_id


async def test_async_client_rejects_sync_iteration(dev_server):
    async with AsyncCampfireClient(api_key=TEST_KEY, base_url=dev_server.api) as sdk:
        with pytest.raises(TypeError, match="async for"):
            list(sdk.conversations.list())

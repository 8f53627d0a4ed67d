"""PATCH endpoints reject empty bodies and null in fields that always have a value."""

from __future__ import annotations

import pytest

from tests.helpers import create_agent, create_conversation


async def _article(client, tenant) -> str:
    created = await client.post(
        "/knowledge/articles",
        json={"title": "Refund policy", "content": "Refunds take five days."},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    return f"/knowledge/articles/{created.json()['id']}"


async def _mailbox(client, tenant) -> str:
    return f"/mailboxes/{tenant.mailbox_id}"


async def _conversation(client, tenant) -> str:
    conversation = await create_conversation(client, tenant)
    return f"/conversations/{conversation['id']}"


async def _agent(client, tenant) -> str:
    agent = await create_agent(client, tenant, "agent_patch")
    return f"/agents/{agent['id']}"


CASES = [
    (_article, "title"),
    (_article, "content"),
    (_mailbox, "name"),
    (_mailbox, "settings"),
    (_conversation, "status"),
    (_conversation, "priority"),
    (_conversation, "metadata"),
    (_agent, "status"),
    (_agent, "capacity"),
    (_agent, "name"),
]


@pytest.mark.parametrize(("make", "field"), CASES, ids=[f"{m.__name__[1:]}-{f}" for m, f in CASES])
async def test_null_required_field_is_400(client, tenant, make, field):
    path = await make(client, tenant)
    before = await client.get(path, headers=tenant.headers)

    response = await client.patch(path, json={field: None}, headers=tenant.headers)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert field in error["message"]
    after = await client.get(path, headers=tenant.headers)
    assert after.json() == before.json()


@pytest.mark.parametrize("make", [_article, _mailbox, _conversation, _agent])
async def test_empty_patch_is_400(client, tenant, make):
    path = await make(client, tenant)
    before = await client.get(path, headers=tenant.headers)

    response = await client.patch(path, json={}, headers=tenant.headers)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "body"
    after = await client.get(path, headers=tenant.headers)
    assert after.json() == before.json()


async def test_article_null_tags_clears_them(client, tenant):
    path = await _article(client, tenant)
    tagged = await client.patch(path, json={"tags": ["billing"]}, headers=tenant.headers)
    assert tagged.json()["tags"] == ["billing"]

    cleared = await client.patch(path, json={"tags": None}, headers=tenant.headers)

    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["tags"] == []


async def test_article_title_patch_keeps_content(client, tenant):
    path = await _article(client, tenant)

    response = await client.patch(path, json={"title": "Refunds"}, headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Refunds"
    assert response.json()["content"] == "Refunds take five days."

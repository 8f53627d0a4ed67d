"""Rejections whose messages name the value that was sent and how to fix it."""

from __future__ import annotations

from tests.helpers import create_conversation


async def test_empty_limit_shows_empty_value(client, tenant) -> None:
    response = await client.get("/conversations", params={"limit": ""}, headers=tenant.headers)

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith('limit "" is invalid; send ')
    assert "  " not in message


async def test_unreadable_cursor_says_what_to_send(client, tenant) -> None:
    response = await client.get("/conversations", params={"cursor": "abc"}, headers=tenant.headers)

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "send the nextCursor of a previous page" in message
    assert "leave cursor out" in message


async def test_reversed_dates_name_both(client, tenant) -> None:
    response = await client.get(
        "/analytics/metrics",
        params={"from": "2026-12-05", "to": "2026-12-01"},
        headers=tenant.headers,
    )

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "to 2026-12-01 is before from 2026-12-05" in message
    assert "swap the two" in message


async def test_malformed_from_named_before_missing_to(client, tenant) -> None:
    response = await client.get(
        "/analytics/metrics", params={"from": "yesterday"}, headers=tenant.headers
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["field"] == "from"
    assert error["message"].startswith('from "yesterday" is not a calendar date; send ')


async def test_long_idempotency_key_gives_length(client, tenant) -> None:
    conversation = await create_conversation(client, tenant)

    response = await client.post(
        f"/conversations/{conversation['id']}/messages",
        json={"content": "hello", "authorType": "customer"},
        headers={**tenant.headers, "Idempotency-Key": "k" * 300},
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "Idempotency-Key has 300 characters; send 1 to 255, such as a UUID"
    )


async def test_nul_in_body_says_remove_it(client, tenant) -> None:
    conversation = await create_conversation(client, tenant)

    response = await client.post(
        f"/conversations/{conversation['id']}/messages",
        content=b'{"content": "a\\u0000b", "authorType": "customer"}',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("content contains a character that cannot be stored; remove it")

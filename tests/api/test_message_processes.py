"""Messages sent to one conversation through two server processes on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from campfire_server.db import migrate
from tests.conftest import (
    LiveServer,
    create_postgres_database,
    drop_postgres_database,
    start_server,
)

HEADERS = {"Authorization": "Bearer test_sk_123456789"}


@contextlib.contextmanager
def two_servers(
    postgres_available: bool, tmp_path: Path, env: dict[str, str]
) -> Iterator[tuple[str, list[LiveServer]]]:
    """Yield a new PostgreSQL database's URL and two server processes that share it.

    The database is dropped and the servers stopped afterwards.
    """
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = create_postgres_database()
    migrate.upgrade(url)
    servers: list[LiveServer] = []
    try:
        # One after the other, so that only the first seeds the development data.
        for _ in range(2):
            servers.append(start_server(url, tmp_path, env=env))
        yield url, servers
    finally:
        for server in servers:
            server.stop()
        drop_postgres_database(url)


async def create_quiet_conversation(client: httpx.AsyncClient, api: str, name: str) -> str:
    """Open a conversation in a new mailbox, which has no AI auto-reply; return its id."""
    mailbox = await client.post(f"{api}/mailboxes", json={"name": name})
    assert mailbox.status_code == 201, mailbox.text
    created = await client.post(
        f"{api}/conversations",
        json={"customerId": "cus_1", "mailboxId": mailbox.json()["id"]},
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


async def test_two_processes_number_messages(postgres_available, tmp_path: Path) -> None:
    environment = {"CAMPFIRE_REDIS_URL": ""}
    with two_servers(postgres_available, tmp_path, environment) as (_url, servers):
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as client:
            # A new mailbox has no AI auto-reply, so only these messages are stored.
            conversation_id = await create_quiet_conversation(client, servers[0].api, "Processes")

            responses = await asyncio.gather(
                *(
                    client.post(
                        f"{servers[number % 2].api}/conversations/{conversation_id}/messages",
                        json={
                            "content": f"message {number}",
                            "authorType": "customer",
                            "authorId": "cus_1",
                        },
                    )
                    for number in range(60)
                )
            )
            listed = await client.get(
                f"{servers[1].api}/conversations/{conversation_id}/messages",
                params={"limit": 100},
            )
            conversation = await client.get(f"{servers[0].api}/conversations/{conversation_id}")

    statuses = [response.status_code for response in responses]
    assert statuses == [201] * 60, [response.text for response in responses if response.is_error]
    sent_ids = {response.json()["id"] for response in responses}
    listed_ids = [message["id"] for message in listed.json()["data"]]
    assert sorted(listed_ids) == sorted(sent_ids)
    assert len(listed_ids) == 60
    assert conversation.json()["messageCount"] == 60
    assert conversation.json()["unreadCount"] == 60


async def test_two_processes_order_message_times(postgres_available, tmp_path: Path) -> None:
    """A message with a higher seq never gets an earlier createdAt, whichever process stored it."""
    # Each process counts the per-conversation message limit on its own.
    environment = {"CAMPFIRE_REDIS_URL": "", "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "1000"}
    polled: list[str] = []
    with two_servers(postgres_available, tmp_path, environment) as (url, servers):
        async with httpx.AsyncClient(headers=HEADERS, timeout=60) as client:
            conversation_id = await create_quiet_conversation(client, servers[0].api, "Times")
            agent = await client.post(
                f"{servers[0].api}/agents", json={"id": "agent_1", "name": "Agent One"}
            )
            assert agent.status_code == 201, agent.text
            sending = True

            async def poll_last_message_at() -> None:
                while sending:
                    reply = await client.get(f"{servers[1].api}/conversations/{conversation_id}")
                    if reply.status_code == 200 and reply.json()["lastMessageAt"] is not None:
                        polled.append(reply.json()["lastMessageAt"])
                    await asyncio.sleep(0)

            poller = asyncio.create_task(poll_last_message_at())
            responses = []
            # Rounds of concurrent posts through both processes, so that their
            # transactions queue on the conversation's lock many times over.
            for round_number in range(4):
                responses += await asyncio.gather(
                    *(
                        client.post(
                            f"{servers[number % 2].api}/conversations/{conversation_id}/messages",
                            json={
                                "content": f"round {round_number} message {number}",
                                "authorType": "agent",
                                "authorId": "agent_1",
                            },
                        )
                        for number in range(50)
                    )
                )
            sending = False
            await poller
            listed = []
            cursor = None
            while True:
                params: dict[str, object] = {"limit": 100}
                if cursor:
                    params["cursor"] = cursor
                page = await client.get(
                    f"{servers[0].api}/conversations/{conversation_id}/messages", params=params
                )
                assert page.status_code == 200, page.text
                listed += page.json()["data"]
                cursor = page.json()["pagination"].get("nextCursor")
                if not cursor:
                    break
            conversation = await client.get(f"{servers[0].api}/conversations/{conversation_id}")
        with psycopg.connect(url) as connection:
            stored = connection.execute(
                "SELECT id, seq, created_at FROM messages WHERE conversation_id = %s ORDER BY seq",
                (conversation_id,),
            ).fetchall()

    assert [response.status_code for response in responses] == [201] * 200
    assert len(stored) == 200
    times = [created_at for _, _, created_at in stored]
    earlier = [
        (stored[index - 1][1], stored[index][1])
        for index in range(1, len(stored))
        if times[index] < times[index - 1]
    ]
    assert earlier == [], "these (seq, next seq) pairs have a createdAt earlier than before"
    assert [message["id"] for message in listed] == [row[0] for row in stored]
    sent_times = {response.json()["id"]: response.json()["createdAt"] for response in responses}
    assert [sent_times[message["id"]] for message in listed] == [
        message["createdAt"] for message in listed
    ]
    assert conversation.json()["lastMessageAt"] == listed[-1]["createdAt"]
    assert polled == sorted(polled)

"""Messages sent to one conversation through two server processes on one PostgreSQL database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from campfire_server.db import migrate
from tests.conftest import create_postgres_database, drop_postgres_database, start_server

HEADERS = {"Authorization": "Bearer test_sk_123456789"}


async def test_two_processes_number_messages(postgres_available, tmp_path: Path) -> None:
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = create_postgres_database()
    migrate.upgrade(url)
    servers = []
    try:
        # One after the other, so that only the first seeds the development data.
        for _ in range(2):
            servers.append(start_server(url, tmp_path, env={"CAMPFIRE_REDIS_URL": ""}))

        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as client:
            # A new mailbox has no AI auto-reply, so only these messages are stored.
            mailbox = await client.post(f"{servers[0].api}/mailboxes", json={"name": "Processes"})
            assert mailbox.status_code == 201, mailbox.text
            created = await client.post(
                f"{servers[0].api}/conversations",
                json={"customerId": "cus_1", "mailboxId": mailbox.json()["id"]},
            )
            assert created.status_code == 201, created.text
            conversation_id = created.json()["id"]

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
    finally:
        for server in servers:
            server.stop()
        drop_postgres_database(url)

    statuses = [response.status_code for response in responses]
    assert statuses == [201] * 60, [response.text for response in responses if response.is_error]
    sent_ids = {response.json()["id"] for response in responses}
    listed_ids = [message["id"] for message in listed.json()["data"]]
    assert sorted(listed_ids) == sorted(sent_ids)
    assert len(listed_ids) == 60
    assert conversation.json()["messageCount"] == 60
    assert conversation.json()["unreadCount"] == 60

"""Concurrent writes to several conversations through three processes on one PostgreSQL database.

Each process commits its queued writes in groups, and two groups that lock
the same conversations in different orders deadlock. Every request must
still succeed once, with nothing lost or stored twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from campfire_server.development import DEVELOPMENT_AGENT_ID
from tests.conftest import servers_on_new_postgres

HEADERS = {"Authorization": "Bearer test_sk_123456789"}
PROCESSES = 3
CONVERSATIONS = 10
MESSAGES = 200


async def test_cross_process_groups_commit_all(postgres_available, tmp_path: Path) -> None:
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    with servers_on_new_postgres(PROCESSES, tmp_path) as servers:
        limits = httpx.Limits(max_connections=MESSAGES)
        async with httpx.AsyncClient(headers=HEADERS, timeout=60, limits=limits) as client:
            mailbox = await client.post(f"{servers[0].api}/mailboxes", json={"name": "Deadlock"})
            assert mailbox.status_code == 201, mailbox.text
            conversation_ids = []
            for number in range(CONVERSATIONS):
                created = await client.post(
                    f"{servers[0].api}/conversations",
                    json={"customerId": f"cus_{number}", "mailboxId": mailbox.json()["id"]},
                )
                assert created.status_code == 201, created.text
                conversation_ids.append(created.json()["id"])

            # Message n goes to conversation n % 10 through process n % 3, so
            # every process's groups span most conversations in varying order.
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"{servers[number % PROCESSES].api}/conversations/"
                        f"{conversation_ids[number % CONVERSATIONS]}/messages",
                        json={
                            "content": f"message {number}",
                            "authorType": "agent",
                            "authorId": DEVELOPMENT_AGENT_ID,
                        },
                        headers={"Idempotency-Key": f"deadlock-{number}"},
                    )
                    for number in range(MESSAGES)
                )
            )
            stored: dict[str, list[str]] = {}
            for conversation_id in conversation_ids:
                listed = await client.get(
                    f"{servers[1].api}/conversations/{conversation_id}/messages",
                    params={"limit": 100},
                )
                assert listed.status_code == 200, listed.text
                stored[conversation_id] = [message["content"] for message in listed.json()["data"]]

    failures = [response.text for response in responses if response.status_code != 201]
    assert failures == []
    for number, conversation_id in enumerate(conversation_ids):
        expected = {f"message {n}" for n in range(number, MESSAGES, CONVERSATIONS)}
        assert sorted(stored[conversation_id]) == sorted(expected)
    logs = "".join(server.log_path.read_text() for server in servers)
    assert "write group failed" not in logs

"""The per-conversation message limit across two server processes sharing PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campfire_server.db.database import open_database
from tests.conftest import (
    LiveServer,
    make_tenant,
    scaled_postgres,
    start_server,
)
from tests.redis_support import REDIS_URL, claim_namespace

MESSAGES_PER_MINUTE = 4


@pytest.fixture
def scaled_url(postgres_available: bool) -> Iterator[str]:
    with scaled_postgres(postgres_available) as url:
        yield url


@pytest.fixture
def servers(scaled_url: str, tmp_path: Path) -> Iterator[list[LiveServer]]:
    env = {
        "CAMPFIRE_REDIS_URL": REDIS_URL,
        "CAMPFIRE_REDIS_PREFIX": claim_namespace("messages"),
        "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": str(MESSAGES_PER_MINUTE),
    }
    started: list[LiveServer] = []
    try:
        for _ in range(2):
            started.append(start_server(scaled_url, tmp_path, env=env))
        yield started
    finally:
        for server in started:
            server.stop()


async def test_two_servers_share_message_limit(scaled_url, servers) -> None:
    db = open_database(scaled_url, pool_size=1)
    try:
        tenant = await make_tenant(db, "Shared message limit org")
    finally:
        await db.close()
    async with httpx.AsyncClient(timeout=30) as http:
        opened = await http.post(
            f"{servers[0].api}/conversations",
            json={"customerId": "customer_shared", "mailboxId": tenant.mailbox_id},
            headers=tenant.headers,
        )
        assert opened.status_code == 201, opened.text
        path = f"/conversations/{opened.json()['id']}/messages"
        body = {"content": "hello", "authorType": "customer"}

        # The posts alternate between the processes, so each one sees half of them.
        responses = [
            await http.post(f"{servers[index % 2].api}{path}", json=body, headers=tenant.headers)
            for index in range(MESSAGES_PER_MINUTE + 2)
        ]

    statuses = [response.status_code for response in responses]
    assert statuses == [201] * MESSAGES_PER_MINUTE + [429, 429]
    for rejected in responses[MESSAGES_PER_MINUTE:]:
        error = rejected.json()["error"]
        assert error["details"]["name"] == "messagesPerMinute"
        assert error["details"]["limit"] == MESSAGES_PER_MINUTE
        assert 1 <= int(rejected.headers["retry-after"]) <= 60

"""Two ``campfire serve`` processes on one PostgreSQL database fan out every committed event."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campfire_server.db import migrate
from campfire_server.db.database import open_database
from tests.conftest import (
    POSTGRES_URL,
    LiveServer,
    create_postgres_database,
    drop_postgres_database,
    make_tenant,
    start_server,
)
from tests.redis_support import REDIS_URL, redis_reachable

from .receiver import Reply

SERVER_ENV = {
    "CAMPFIRE_WEBHOOK_POLL_SECONDS": "0.5",
    "CAMPFIRE_WEBHOOK_CONCURRENCY": "8",
    "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000",
    "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
    "CAMPFIRE_REDIS_URL": REDIS_URL,
}
CLIENTS = 40
POST_SECONDS = 8.0


@pytest.fixture
def fresh_postgres(postgres_available: bool) -> Iterator[str]:
    if not postgres_available:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    url = create_postgres_database()
    migrate.upgrade(url)
    yield url
    drop_postgres_database(url)


async def _post_for(
    servers: list[LiveServer], headers: dict[str, str], conversation_ids: list[str]
) -> list[str]:
    """Post messages from ``CLIENTS`` concurrent clients across the servers and return their ids."""
    deadline = time.monotonic() + POST_SECONDS
    message_ids: list[str] = []
    clients = [httpx.AsyncClient(base_url=server.api, headers=headers, timeout=30)
               for server in servers]

    async def post_loop(worker: int) -> None:
        client = clients[worker % len(clients)]
        conversation_id = conversation_ids[worker % len(conversation_ids)]
        for count in itertools.count():
            if time.monotonic() >= deadline:
                return
            response = await client.post(
                f"/conversations/{conversation_id}/messages",
                json={"content": f"load {worker}-{count}", "authorType": "agent"},
            )
            assert response.status_code == 201, response.text
            message_ids.append(response.json()["id"])

    try:
        await asyncio.gather(*(post_loop(worker) for worker in range(CLIENTS)))
    finally:
        for client in clients:
            await client.aclose()
    return message_ids


async def test_two_servers_deliver_every_message(
    fresh_postgres: str, tmp_path: Path, make_receiver
) -> None:
    receiver = await make_receiver(lambda request: Reply())
    db = open_database(fresh_postgres, pool_size=2)
    servers: list[LiveServer] = []
    try:
        tenant = await make_tenant(db, "Fan-out org")
        servers = [start_server(fresh_postgres, tmp_path, env=SERVER_ENV) for _ in range(2)]
        async with httpx.AsyncClient(
            base_url=servers[0].api, headers=tenant.headers, timeout=30
        ) as client:
            created = await client.post(
                "/webhooks", json={"url": receiver.url, "events": ["message.sent"]}
            )
            assert created.status_code == 201, created.text
            webhook_id = created.json()["id"]
            conversation_ids = []
            for index in range(CLIENTS // 2):
                opened = await client.post(
                    "/conversations", json={"customerId": f"load_{index}"}
                )
                assert opened.status_code == 201, opened.text
                conversation_ids.append(opened.json()["id"])

        message_ids = await _post_for(servers, tenant.headers, conversation_ids)
        assert len(message_ids) == len(set(message_ids))

        def counts(tx):  # type: ignore[no-untyped-def]
            return tx.one(
                "SELECT (SELECT COUNT(*) FROM messages m JOIN conversations c "
                "ON c.id = m.conversation_id WHERE c.org_id = :org) AS messages, "
                "(SELECT COUNT(*) FROM events WHERE org_id = :org AND type = 'message.sent') "
                "AS events, "
                "(SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = :webhook) "
                "AS deliveries, "
                "(SELECT COUNT(DISTINCT event_id) FROM webhook_deliveries "
                "WHERE webhook_id = :webhook) AS delivered_events",
                org=tenant.org_id,
                webhook=webhook_id,
            )

        deadline = time.monotonic() + 90
        while True:
            row = await db.read(counts)
            if row["deliveries"] >= row["events"] and len(set(receiver.ids())) >= row["events"]:
                break
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        missing = await db.read(lambda tx: tx.all(
            "SELECT e.id FROM events e WHERE e.org_id = :org AND e.type = 'message.sent' "
            "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id "
            "AND d.webhook_id = :webhook)",
            org=tenant.org_id, webhook=webhook_id,
        ))
        event_ids = await db.read(lambda tx: {r["id"] for r in tx.all(
            "SELECT id FROM events WHERE org_id = :org AND type = 'message.sent'",
            org=tenant.org_id,
        )})
    finally:
        for server in servers:
            server.stop()
        await db.close()

    assert row["messages"] == len(message_ids)
    assert row["events"] == len(message_ids)
    assert missing == [], f"{len(missing)} committed events have no delivery"
    assert row["deliveries"] == row["events"]
    assert row["delivered_events"] == row["events"]
    assert set(receiver.ids()) == event_ids

"""Two ``campfire serve`` processes on one PostgreSQL database fan out every committed event.

Forty clients post messages to both servers at once, so the two writers'
group commits finish out of the order in which they took their
transaction ids. Every stored ``message.sent`` event must get exactly one
delivery row and reach the receiver, also when one server is killed with
SIGKILL halfway through.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campfire_server.db.database import Database, open_database
from tests.conftest import (
    LiveServer,
    make_tenant,
    scaled_postgres,
    start_server,
)
from tests.helpers import HELPER_AGENT, ensure_agent
from tests.redis_support import REDIS_URL

from .receiver import Reply

SERVER_ENV = {
    "CAMPFIRE_WEBHOOK_POLL_SECONDS": "0.5",
    "CAMPFIRE_WEBHOOK_CONCURRENCY": "8",
    # A killed server's leased deliveries go back to the other one this soon.
    "CAMPFIRE_WEBHOOK_LEASE_SECONDS": "3",
    "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000",
    "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
    "CAMPFIRE_REDIS_URL": REDIS_URL,
}
CLIENTS = 40
POST_SECONDS = 8.0


@pytest.fixture
def fresh_postgres(postgres_available: bool) -> Iterator[str]:
    with scaled_postgres(postgres_available) as url:
        yield url


async def _post_for(
    servers: list[LiveServer],
    headers: dict[str, str],
    conversation_ids: list[str],
    kill_at: float | None,
) -> list[str]:
    """Post from ``CLIENTS`` concurrent clients across the servers and return the acknowledged ids.

    With ``kill_at`` the first server is killed that many seconds in, and
    its clients stop, because a request it was serving may or may not have
    committed.
    """
    started = time.monotonic()
    deadline = started + POST_SECONDS
    message_ids: list[str] = []
    clients = [
        httpx.AsyncClient(base_url=server.api, headers=headers, timeout=30) for server in servers
    ]

    async def post_loop(worker: int) -> None:
        client = clients[worker % len(clients)]
        conversation_id = conversation_ids[worker % len(conversation_ids)]
        for count in itertools.count():
            if time.monotonic() >= deadline:
                return
            try:
                response = await client.post(
                    f"/conversations/{conversation_id}/messages",
                    json={
                        "content": f"load {worker}-{count}",
                        "authorType": "agent",
                        "authorId": HELPER_AGENT,
                    },
                )
            except httpx.TransportError:
                if kill_at is not None and client is clients[0]:
                    return
                raise
            assert response.status_code == 201, response.text
            message_ids.append(response.json()["id"])

    async def kill_first() -> None:
        if kill_at is None:
            return
        await asyncio.sleep(kill_at)
        servers[0].process.send_signal(signal.SIGKILL)
        servers[0].process.wait(10)

    try:
        await asyncio.gather(kill_first(), *(post_loop(worker) for worker in range(CLIENTS)))
    finally:
        for client in clients:
            await client.aclose()
    return message_ids


def _counts(tx, org_id: str, webhook_id: str):  # type: ignore[no-untyped-def]
    return tx.one(
        "SELECT (SELECT COUNT(*) FROM messages m JOIN conversations c "
        "ON c.id = m.conversation_id WHERE c.org_id = :org AND m.content LIKE 'load %') "
        "AS messages, "
        "(SELECT COUNT(*) FROM events WHERE org_id = :org AND type = 'message.sent') AS events, "
        "(SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = :webhook) AS deliveries, "
        "(SELECT COUNT(DISTINCT event_id) FROM webhook_deliveries WHERE webhook_id = :webhook) "
        "AS delivered_events",
        org=org_id,
        webhook=webhook_id,
    )


async def _event_ids(db: Database, org_id: str) -> set[str]:
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT id FROM events WHERE org_id = :org AND type = 'message.sent'", org=org_id
        )
    )
    return {row["id"] for row in rows}


@pytest.mark.parametrize("kill_one", [False, True], ids=["both-running", "one-killed"])
async def test_servers_deliver_every_message(
    fresh_postgres: str, tmp_path: Path, make_receiver, kill_one: bool
) -> None:
    receiver = await make_receiver(lambda request: Reply())
    db = open_database(fresh_postgres, pool_size=2)
    servers: list[LiveServer] = []
    try:
        tenant = await make_tenant(db, "Fan-out org")
        servers = [start_server(fresh_postgres, tmp_path, env=SERVER_ENV) for _ in range(2)]
        async with httpx.AsyncClient(
            base_url=servers[1].api, headers=tenant.headers, timeout=30
        ) as client:
            created = await client.post(
                "/webhooks", json={"url": receiver.url, "events": ["message.sent"]}
            )
            assert created.status_code == 201, created.text
            webhook_id = created.json()["id"]
            await ensure_agent(client, tenant, HELPER_AGENT)
            conversation_ids = []
            for index in range(CLIENTS // 2):
                opened = await client.post("/conversations", json={"customerId": f"load_{index}"})
                assert opened.status_code == 201, opened.text
                conversation_ids.append(opened.json()["id"])

        kill_at = POST_SECONDS / 2 if kill_one else None
        message_ids = await _post_for(servers, tenant.headers, conversation_ids, kill_at)

        deadline = time.monotonic() + 90
        while True:
            row = await db.read(lambda tx: _counts(tx, tenant.org_id, webhook_id))
            arrived = set(receiver.ids())
            if row["deliveries"] >= row["events"] and len(arrived) >= row["events"]:
                break
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        event_ids = await _event_ids(db, tenant.org_id)
    finally:
        for server in servers:
            server.stop()
        await db.close()

    assert len(message_ids) == len(set(message_ids))
    assert len(message_ids) > CLIENTS
    if kill_one:
        # A request in flight at the kill may have committed unacknowledged.
        assert row["messages"] >= len(message_ids)
    else:
        assert row["messages"] == len(message_ids)
    assert row["events"] == row["messages"]
    assert row["deliveries"] == row["events"], f"logs in {tmp_path}"
    assert row["delivered_events"] == row["events"]
    assert set(receiver.ids()) == event_ids

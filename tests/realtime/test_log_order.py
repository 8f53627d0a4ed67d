"""Mailbox channel cursors across three ``campfire serve`` processes on PostgreSQL and Redis.

Concurrent writes in several processes commit in another order than they
drew their log positions. A mailbox subscriber must still receive every
event once, in increasing ``cursor``, and a resubscribe with ``since`` set
to the last cursor it saw must replay exactly what it missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from campfire_server.db.database import Database, open_database
from tests.conftest import (
    LiveServer,
    Tenant,
    make_tenant,
    start_server,
)
from tests.helpers import HELPER_AGENT
from tests.realtime.conftest import SERVER_ENV, connect, next_frame, subscribe, token_for
from tests.redis_support import REDIS_URL

PROCESSES = 3
CONVERSATIONS = 20
MESSAGES = 200
# Events read by the socket that disconnects in the middle of the burst.
FIRST_SESSION_EVENTS = 60
# Polls of the events list before the test gives up on the missing messages.
MAX_POLLS = 3000
# How long the SDK test waits for the burst's messages before it fails.
SDK_WAIT_SECONDS = 120


@pytest.fixture(scope="module")
def log_order_servers(
    scaled_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[LiveServer]]:
    env = {
        **SERVER_ENV,
        "CAMPFIRE_REDIS_URL": REDIS_URL,
        "CAMPFIRE_REALTIME_SEND_QUEUE_FRAMES": "4096",
        "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "100000",
    }
    logs: Path = tmp_path_factory.mktemp("log-order-logs")
    servers: list[LiveServer] = []
    try:
        for _ in range(PROCESSES):
            servers.append(start_server(scaled_url, logs, env=env))
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
async def log_order_db(scaled_url: str) -> AsyncIterator[Database]:
    database = open_database(scaled_url, pool_size=2)
    yield database
    await database.close()


async def send_burst(servers: list[LiveServer], tenant: Tenant) -> list[str]:
    """Post ``MESSAGES`` messages at once over every process; return their ids."""
    limits = httpx.Limits(max_connections=MESSAGES)
    async with httpx.AsyncClient(headers=tenant.headers, timeout=60, limits=limits) as client:
        agent = await client.post(
            f"{servers[0].api}/agents", json={"id": HELPER_AGENT, "name": "Helper Agent"}
        )
        assert agent.status_code in (201, 409), agent.text
        conversation_ids = []
        for number in range(CONVERSATIONS):
            created = await client.post(
                f"{servers[number % PROCESSES].api}/conversations",
                json={"customerId": f"cus_order_{number}", "mailboxId": tenant.mailbox_id},
            )
            assert created.status_code == 201, created.text
            conversation_ids.append(created.json()["id"])

        responses = await asyncio.gather(
            *(
                client.post(
                    f"{servers[number % PROCESSES].api}/conversations/"
                    f"{conversation_ids[number % CONVERSATIONS]}/messages",
                    json={
                        "content": f"burst {number}",
                        "authorType": "agent",
                        "authorId": HELPER_AGENT,
                    },
                )
                for number in range(MESSAGES)
            )
        )
    failures = [response.text for response in responses if response.status_code != 201]
    assert failures == []
    return [response.json()["id"] for response in responses]


async def read_events(ws: Any, until: Any) -> list[dict[str, Any]]:
    """Collect event frames (those with a cursor) until ``until(frames)`` is true."""
    frames: list[dict[str, Any]] = []
    while not until(frames):
        frame = await next_frame(ws, timeout=30)
        if "cursor" in frame:
            frames.append(frame)
    return frames


def message_ids(frames: list[dict[str, Any]]) -> list[str]:
    return [frame["data"]["id"] for frame in frames if frame["type"] == "message"]


async def test_mailbox_cursors_increase_without_gaps(log_order_servers, log_order_db) -> None:
    servers = log_order_servers
    tenant = await make_tenant(log_order_db, "Log order org")
    channel = f"mailbox:{tenant.mailbox_id}"
    token = token_for(tenant, "admin")
    live = await connect(servers[0], token)
    await subscribe(live, channel)
    interrupted = await connect(servers[1], token)
    await subscribe(interrupted, channel)

    sending = asyncio.create_task(send_burst(servers, tenant))
    first_session = await read_events(
        interrupted, lambda frames: len(frames) >= FIRST_SESSION_EVENTS
    )
    await interrupted.close()
    posted = set(await sending)

    live_frames = await read_events(live, lambda frames: posted <= set(message_ids(frames)))
    resumed = await connect(servers[2], token)
    acknowledged = await subscribe(resumed, channel, since=first_session[-1]["cursor"])
    # The replay, then live events if this process has not settled the whole burst yet.
    replayed = await read_events(
        resumed, lambda frames: posted <= set(message_ids(first_session + frames))
    )
    await live.close()
    await resumed.close()

    live_cursors = [frame["cursor"] for frame in live_frames]
    assert live_cursors == sorted(set(live_cursors))
    assert len(message_ids(live_frames)) == MESSAGES

    assert acknowledged["data"]["hasMore"] is False
    resumed_frames = first_session + replayed
    resumed_cursors = [frame["cursor"] for frame in resumed_frames]
    assert resumed_cursors == sorted(set(resumed_cursors))
    assert set(message_ids(resumed_frames)) == posted
    assert len(message_ids(resumed_frames)) == MESSAGES
    # Both sockets saw the same events, whichever process served them.
    assert resumed_cursors == live_cursors[: len(resumed_cursors)]


async def test_events_poll_follows_cursor_order(log_order_servers, log_order_db) -> None:
    servers = log_order_servers
    tenant = await make_tenant(log_order_db, "Log poll org")
    channel = f"mailbox:{tenant.mailbox_id}"
    polled: list[dict[str, Any]] = []
    sending = asyncio.create_task(send_burst(servers, tenant))

    async with httpx.AsyncClient(headers=tenant.headers, timeout=60) as client:
        since = "0"
        for number in range(MAX_POLLS):
            page = await client.get(
                f"{servers[number % PROCESSES].api}/events",
                params={"channel": channel, "since": since, "limit": 50},
            )
            assert page.status_code == 200, page.text
            polled += page.json()["data"]
            since = page.json()["pagination"]["nextCursor"]
            if sending.done() and set(await sending) <= set(message_ids(polled)):
                break
            await asyncio.sleep(0.01)
    posted = set(await sending)

    cursors = [frame["cursor"] for frame in polled]
    assert cursors == sorted(set(cursors))
    assert set(message_ids(polled)) == posted
    assert len(message_ids(polled)) == MESSAGES


async def test_python_sdk_keeps_every_mailbox_message(log_order_servers, log_order_db) -> None:
    from campfire import RealtimeClient

    servers = log_order_servers
    tenant = await make_tenant(log_order_db, "Log SDK org")
    received: list[str] = []
    async with RealtimeClient(api_key=token_for(tenant, "admin"), base_url=servers[0].api) as sdk:
        # From the start of the new tenant's log, so no message posted before
        # the server registered the subscription is missed.
        await sdk.subscribe(f"mailbox:{tenant.mailbox_id}", since=0)
        sending = asyncio.create_task(send_burst(servers, tenant))

        async def collect_messages() -> None:
            async for event in sdk:
                if event.type == "message":
                    received.append(event.data["id"])
                if len(received) == MESSAGES:
                    return

        # A generous bound, so that a dropped event fails the test instead of hanging it.
        await asyncio.wait_for(collect_messages(), SDK_WAIT_SECONDS)
        posted = set(await sending)

    assert len(received) == MESSAGES
    assert set(received) == posted

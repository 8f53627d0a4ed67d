"""The position of a ``subscribed`` reply against events committed during the subscribe.

Every event after the reported position must reach the socket live, and no
event at or before it may, even when the event commits while the subscribe
reads the position. Each backend runs a real server: SQLite with the
in-process broker, SQLite with Redis, and PostgreSQL with Redis.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from campfire_server.db import migrate
from campfire_server.db.database import Database, open_database
from tests.conftest import (
    LiveServer,
    Tenant,
    create_postgres_database,
    drop_postgres_database,
    make_tenant,
    start_server,
)
from tests.helpers import HELPER_AGENT, ensure_agent
from tests.realtime.conftest import SERVER_ENV, connect, next_frame, open_conversation, sqlite_url
from tests.redis_support import REDIS_URL, claim_namespace, redis_reachable

ROUNDS = 40
WRITERS = 3
# Subscriptions that must see live events while the writers post.
MIN_ROUNDS = 5


@pytest.fixture(scope="module", params=["sqlite", "sqlite-redis", "postgresql-redis"])
def database_url(
    request: pytest.FixtureRequest,
    postgres_available: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """Yield the backend's name and a migrated database for it."""
    kind = request.param
    if kind.endswith("redis") and not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    if kind.startswith("postgresql"):
        if not postgres_available:
            pytest.skip("PostgreSQL is not reachable")
        url = create_postgres_database()
        migrate.upgrade(url)
        yield kind, url
        drop_postgres_database(url)
        return
    yield kind, sqlite_url(tmp_path_factory.mktemp(f"position-{kind}"))


@pytest.fixture(scope="module")
def position_server(
    database_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    kind, url = database_url
    env = dict(SERVER_ENV)
    if kind.endswith("redis"):
        env["CAMPFIRE_REDIS_URL"] = REDIS_URL
        env["CAMPFIRE_REDIS_PREFIX"] = claim_namespace("position")
    live = start_server(url, tmp_path_factory.mktemp("position-logs"), env=env)
    yield live
    live.stop()


@pytest.fixture(scope="module")
async def position_db(database_url: tuple[str, str]) -> AsyncIterator[Database]:
    database = open_database(database_url[1])
    yield database
    await database.close()


async def post_messages(
    server: LiveServer,
    tenant: Tenant,
    conversation_id: str,
    count: int,
    until: asyncio.Event | None = None,
):
    """Post ``count`` messages, and go on posting until ``until`` is set when one is given."""
    async with httpx.AsyncClient(base_url=server.api, timeout=30) as http:
        await ensure_agent(http, tenant, HELPER_AGENT)
        index = 0
        while index < count or (until is not None and not until.is_set()):
            response = await http.post(
                f"/conversations/{conversation_id}/messages",
                json={"content": f"burst {index}", "authorType": "agent", "authorId": HELPER_AGENT},
                headers=tenant.headers,
            )
            assert response.status_code == 201, response.text
            index += 1


async def channel_sequences(server: LiveServer, tenant: Tenant, channel: str) -> list[int]:
    """Return the sequence of every event the channel carries, from the event log."""
    async with httpx.AsyncClient(base_url=server.api, timeout=30) as http:
        response = await http.get(
            "/events",
            params={"channel": channel, "since": 0, "limit": 1000},
            headers=tenant.headers,
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pagination"]["hasMore"] is False
    return [event["sequence"] for event in body["data"]]


async def subscribe_round(ws: Any, channel: str) -> tuple[int, list[int]]:
    """Subscribe without ``since``, read live events for a moment, unsubscribe.

    Returns the reply's sequence and the sequences received before the
    ``unsubscribed`` reply.
    """
    await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
    reply = await next_frame(ws)
    assert reply["type"] == "subscribed", reply
    await asyncio.sleep(0.02)
    await ws.send(json.dumps({"type": "unsubscribe", "channel": channel}))
    received = []
    while True:
        frame = await next_frame(ws)
        if frame["type"] == "unsubscribed":
            return reply["data"]["sequence"], received
        if frame.get("channel") == channel and frame.get("sequence") is not None:
            received.append(frame["sequence"])


async def test_subscribe_during_writes_hands_over_exactly(
    position_server: LiveServer, position_db: Database
) -> None:
    tenant = await make_tenant(position_db, "Subscribe position")
    async with httpx.AsyncClient(base_url=position_server.api, timeout=30) as http:
        conversation_id = await open_conversation(http, tenant)
    channel = f"conversation:{conversation_id}"
    ws = await connect(position_server, tenant.key)
    # The writers go on until enough rounds have seen their events, however
    # fast the machine posts.
    enough_rounds = asyncio.Event()
    writers = [
        asyncio.create_task(
            post_messages(position_server, tenant, conversation_id, ROUNDS, enough_rounds)
        )
        for _ in range(WRITERS)
    ]
    rounds: list[tuple[int, list[int]]] = []
    try:
        while sum(1 for _, received in rounds if received) < MIN_ROUNDS:
            for writer in writers:
                if writer.done():
                    writer.result()
            assert len(rounds) < 50 * MIN_ROUNDS, "the writers' events never reached the socket"
            rounds.append(await subscribe_round(ws, channel))
        enough_rounds.set()
        for writer in writers:
            await writer
    finally:
        for writer in writers:
            writer.cancel()
        await ws.close()

    logged = await channel_sequences(position_server, tenant, channel)
    for position, received in rounds:
        assert all(sequence > position for sequence in received), (position, received)
        if received:
            expected = [s for s in logged if position < s <= received[-1]]
            assert received == expected, (position, received)


async def test_subscribe_then_post_delivers_after_position(
    position_server: LiveServer, position_db: Database
) -> None:
    tenant = await make_tenant(position_db, "Subscribe then post")
    async with httpx.AsyncClient(base_url=position_server.api, timeout=30) as http:
        conversation_id = await open_conversation(http, tenant)
    channel = f"conversation:{conversation_id}"
    ws = await connect(position_server, tenant.key)
    try:
        await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
        reply = await next_frame(ws)
        assert reply["type"] == "subscribed", reply
        await post_messages(position_server, tenant, conversation_id, 1)
        frame = await next_frame(ws)
    finally:
        await ws.close()

    assert frame["type"] == "message"
    assert frame["sequence"] == reply["data"]["sequence"] + 1


async def test_resume_from_reply_after_drop(
    position_server: LiveServer, position_db: Database
) -> None:
    tenant = await make_tenant(position_db, "Resume from reply")
    async with httpx.AsyncClient(base_url=position_server.api, timeout=30) as http:
        conversation_id = await open_conversation(http, tenant)
    channel = f"conversation:{conversation_id}"
    ws = await connect(position_server, tenant.key)
    await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
    reply = await next_frame(ws)
    assert reply["type"] == "subscribed", reply
    start = reply["data"]["sequence"]

    # No event reached the socket, so the reply's position is all a client has to resume from.
    ws.transport.abort()
    await post_messages(position_server, tenant, conversation_id, 1)
    resumed = await connect(position_server, tenant.key)
    try:
        await resumed.send(json.dumps({"type": "subscribe", "channel": channel, "since": start}))
        again = await next_frame(resumed)
        replayed = await next_frame(resumed)
    finally:
        await resumed.close()

    assert again["type"] == "subscribed"
    assert again["data"]["replayed"] == 1
    assert replayed["type"] == "message"
    assert replayed["sequence"] == start + 1
    assert replayed["data"]["content"] == "burst 0"
    assert again["data"]["sequence"] == replayed["sequence"]

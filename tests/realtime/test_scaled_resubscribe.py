"""Two processes on one database and Redis: events published while one's subscription was down.

The test kills the second process's Redis pub/sub connection (found by the
client name the broker gives it) and posts messages meanwhile. The log
contains every one of them, so its sockets must still receive each message
once and in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis
from websockets.asyncio.client import ClientConnection

from campfire_server.db.database import Database, open_database
from tests.conftest import LiveServer, make_tenant, server_pair
from tests.realtime.conftest import (
    SERVER_ENV,
    agent_token,
    connect,
    frame_of_type,
    frames_until_quiet,
    open_conversation,
    post_message,
    sqlite_url,
    subscribe,
)
from tests.redis_support import REDIS_URL, claim_namespace, redis_reachable

BURST_MESSAGES = 120
BURST_KILLS = 6


@pytest.fixture(scope="module")
def prefix() -> str:
    return claim_namespace("resub")


def _start_pair(
    database_url: str, prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {**SERVER_ENV, "CAMPFIRE_REDIS_URL": REDIS_URL, "CAMPFIRE_REDIS_PREFIX": prefix}
    logs = tmp_path_factory.mktemp("resubscribe-logs")
    with server_pair(database_url, logs, env=env) as servers:
        yield servers


@pytest.fixture(scope="module")
def pair(
    scaled_url: str, prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    yield from _start_pair(scaled_url, prefix, tmp_path_factory)


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_url(tmp_path_factory.mktemp("resubscribe-sqlite"))


@pytest.fixture(scope="module")
def sqlite_pair(
    sqlite_file: str, prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    yield from _start_pair(sqlite_file, prefix, tmp_path_factory)


@pytest.fixture(scope="module")
async def scaled_db(scaled_url: str) -> AsyncIterator[Database]:
    database = open_database(scaled_url, pool_size=2)
    yield database
    await database.close()


def kill_subscription(prefix: str, server: LiveServer) -> int:
    """Close the server's Redis pub/sub connection from the Redis side; return its client id."""
    name = f"{prefix}:db0:realtime:subscriber:{server.process.pid}"
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        for entry in client.client_list(_type="pubsub"):
            if entry.get("name") == name:
                client.client_kill_filter(_id=entry["id"])
                return int(entry["id"])
    finally:
        client.close()
    raise AssertionError(f"no pub/sub client named {name} is connected")


async def wait_for_subscription(prefix: str, server: LiveServer, timeout: float = 10.0) -> None:
    """Wait until the server's pub/sub connection is back."""
    name = f"{prefix}:db0:realtime:subscriber:{server.process.pid}"
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if any(entry.get("name") == name for entry in client.client_list(_type="pubsub")):
                return
            await asyncio.sleep(0.05)
    finally:
        client.close()
    raise AssertionError(f"the pub/sub client {name} did not come back in {timeout} s")


def messages(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [frame for frame in frames if frame["type"] == "message"]


async def messages_until(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """Read ``count`` message frames, then any more that come before a second of quiet.

    The catch-up may wait for redis-py's reconnection, which takes seconds on
    a loaded machine, so the first frames get a long deadline.
    """
    received = [await frame_of_type(ws, "message", timeout=20.0) for _ in range(count)]
    return messages([*received, *await frames_until_quiet(ws, 1.0)])


async def test_message_after_subscription_killed(pair, prefix, scaled_db) -> None:
    first, second = pair
    tenant = await make_tenant(scaled_db, "Resubscribe org")
    async with httpx.AsyncClient(base_url=first.api, timeout=30) as http:
        conversation = await open_conversation(http, tenant)
        ws = await connect(second, await agent_token(scaled_db, tenant, "agent_resub"))
        reply = await subscribe(ws, f"conversation:{conversation}")
        assert reply["type"] == "subscribed", reply

        for trial in range(3):
            await wait_for_subscription(prefix, second)
            kill_subscription(prefix, second)
            posted = await post_message(http, tenant, conversation, f"while down {trial}")

            received = await messages_until(ws, 1)

            assert [frame["data"]["id"] for frame in received] == [posted["id"]]
        await ws.close()


async def _kill_repeatedly(prefix: str, server: LiveServer, kills: int, every: float) -> int:
    killed = 0
    for _ in range(kills):
        await asyncio.sleep(every)
        await wait_for_subscription(prefix, server)
        kill_subscription(prefix, server)
        killed += 1
    return killed


async def _collect(ws: ClientConnection, frames: list[dict[str, Any]], quiet: float) -> None:
    frames.extend(await frames_until_quiet(ws, quiet))


async def test_burst_with_repeated_kills(pair, prefix, scaled_db) -> None:
    first, second = pair
    tenant = await make_tenant(scaled_db, "Resubscribe burst org")
    token = await agent_token(scaled_db, tenant, "agent_burst")
    async with (
        httpx.AsyncClient(base_url=first.api, timeout=30) as http_first,
        httpx.AsyncClient(base_url=second.api, timeout=30) as http_second,
    ):
        conversation = await open_conversation(http_first, tenant)
        on_conversation = await connect(second, token)
        reply = await subscribe(on_conversation, f"conversation:{conversation}")
        assert reply["type"] == "subscribed", reply
        on_mailbox = await connect(second, token)
        reply = await subscribe(on_mailbox, f"mailbox:{tenant.mailbox_id}")
        assert reply["type"] == "subscribed", reply

        conversation_frames: list[dict[str, Any]] = []
        mailbox_frames: list[dict[str, Any]] = []
        readers = [
            asyncio.create_task(_collect(on_conversation, conversation_frames, 5.0)),
            asyncio.create_task(_collect(on_mailbox, mailbox_frames, 5.0)),
        ]
        killer = asyncio.create_task(_kill_repeatedly(prefix, second, BURST_KILLS, 0.8))
        posted = []
        for index in range(BURST_MESSAGES):
            # Through both processes: the second one misses its own envelopes too.
            http = http_first if index % 3 else http_second
            posted.append(await post_message(http, tenant, conversation, f"burst {index}"))
            await asyncio.sleep(0.02)
        assert await killer == BURST_KILLS
        await asyncio.gather(*readers)

    posted_ids = [message["id"] for message in posted]
    conversation_messages = messages(conversation_frames)
    sequences = [frame["sequence"] for frame in conversation_frames if "sequence" in frame]
    assert [frame["data"]["id"] for frame in conversation_messages] == posted_ids
    assert sequences == sorted(set(sequences))
    assert [frame["data"]["id"] for frame in messages(mailbox_frames)] == posted_ids
    cursors = [frame["cursor"] for frame in mailbox_frames if "cursor" in frame]
    assert cursors == sorted(set(cursors))
    await on_conversation.close()
    await on_mailbox.close()


async def test_sqlite_channels_after_subscription_killed(sqlite_pair, prefix, sqlite_file) -> None:
    first, second = sqlite_pair
    database = open_database(sqlite_file)
    try:
        tenant = await make_tenant(database, "Resubscribe SQLite org")
        token = await agent_token(database, tenant, "agent_sqlite")
    finally:
        await database.close()
    async with httpx.AsyncClient(base_url=first.api, timeout=30) as http:
        conversation = await open_conversation(http, tenant)
        on_conversation = await connect(second, token)
        reply = await subscribe(on_conversation, f"conversation:{conversation}")
        assert reply["type"] == "subscribed", reply
        on_mailbox = await connect(second, token)
        reply = await subscribe(on_mailbox, f"mailbox:{tenant.mailbox_id}")
        assert reply["type"] == "subscribed", reply

        await wait_for_subscription(prefix, second)
        kill_subscription(prefix, second)
        posted = await post_message(http, tenant, conversation, "while down")
        # No socket of the second process follows this conversation itself.
        unfollowed = await open_conversation(http, tenant, customer_id="customer_unfollowed")
        await wait_for_subscription(prefix, second)
        kill_subscription(prefix, second)
        unfollowed_posted = await post_message(http, tenant, unfollowed, "unfollowed while down")

        conversation_messages = await messages_until(on_conversation, 1)
        mailbox_messages = await messages_until(on_mailbox, 2)

    assert [frame["data"]["id"] for frame in conversation_messages] == [posted["id"]]
    assert [frame["data"]["id"] for frame in mailbox_messages] == [
        posted["id"],
        unfollowed_posted["id"],
    ]
    await on_conversation.close()
    await on_mailbox.close()

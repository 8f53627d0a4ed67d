"""Idempotency claims held by ``campfire serve`` processes that were killed or still run.

A message POST is held in flight after its key was claimed. On SQLite the
test takes the database write lock between the claim and the message write.
On PostgreSQL it locks the conversation row, which the message write locks too.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from campfire_server.db import migrate
from tests.conftest import LiveServer, scaled_postgres, start_server
from tests.redis_support import REDIS_URL, claim_namespace

HEADERS = {"Authorization": "Bearer test_sk_123456789"}

# The longest HTTP round trip of a retry that takes over a dead process's
# claim, with room for a loaded 2-core machine. Before claims named their
# process, such a retry waited 10 s and got a 409.
PROMPT_SECONDS = 3.0


@dataclass
class Storage:
    kind: str
    url: str
    env: dict[str, str]


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_available: bool
) -> Iterator[Storage]:
    limits = {
        "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
        "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "100000",
    }
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'campfire.db'}"
        migrate.upgrade(url)
        yield Storage("sqlite", url, {"CAMPFIRE_REDIS_URL": "", **limits})
        return
    # Scale-out mode: the processes share PostgreSQL and Redis.
    with scaled_postgres(postgres_available) as url:
        env = {
            "CAMPFIRE_REDIS_URL": REDIS_URL,
            "CAMPFIRE_REDIS_PREFIX": claim_namespace("idempotency"),
            **limits,
        }
        yield Storage("postgresql", url, env)


@contextlib.contextmanager
def running() -> Iterator[list[LiveServer]]:
    """Yield a list for started servers, and stop each of them on leaving."""
    servers: list[LiveServer] = []
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


async def create_quiet_conversation(client: httpx.AsyncClient, api: str) -> str:
    """Open a conversation in a new mailbox, which has no AI auto-reply, and return its id."""
    mailbox = await client.post(f"{api}/mailboxes", json={"name": "Claims"})
    assert mailbox.status_code == 201, mailbox.text
    created = await client.post(
        f"{api}/conversations", json={"customerId": "cus_1", "mailboxId": mailbox.json()["id"]}
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def post_message(
    client: httpx.AsyncClient, server: LiveServer, conversation_id: str, key: str
) -> Any:
    return client.post(
        f"{server.api}/conversations/{conversation_id}/messages",
        json={"content": f"message {key}", "authorType": "customer", "authorId": "cus_1"},
        headers={"Idempotency-Key": key},
    )


def _sqlite_lock_after_claim(path: str, key: str) -> sqlite3.Connection | None:
    """Take the write lock once ``key`` is claimed, before its request writes.

    Returns the connection that holds the lock, or None when the request
    wrote before the lock was taken, so the caller tries another key.
    """
    conn = sqlite3.connect(path, isolation_level=None, timeout=0.05, check_same_thread=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            continue
        row = conn.execute(
            "SELECT status_code, write_results FROM idempotency_keys WHERE key = ?", (key,)
        ).fetchone()
        if row == (None, None):
            return conn
        conn.execute("ROLLBACK")
        if row is not None:
            conn.close()
            return None
        time.sleep(0.0005)
    conn.close()
    raise AssertionError(f"key {key} was not claimed within 30 s")


def _postgres_claimed(url: str, key: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT status_code, write_results FROM idempotency_keys WHERE key = %s", (key,)
        ).fetchone()
    return row == (None, None)


@contextlib.asynccontextmanager
async def held_in_flight(
    storage: Storage, client: httpx.AsyncClient, server: LiveServer, conversation_id: str
) -> AsyncIterator[tuple[str, asyncio.Task[httpx.Response]]]:
    """Send a message POST to ``server`` and hold it after its key's claim, until the block ends.

    Yields the key and the task of the request.
    """
    if storage.kind == "sqlite":
        path = storage.url.removeprefix("sqlite:///")
        for attempt in range(20):
            key = f"held-{attempt}"
            task = asyncio.create_task(post_message(client, server, conversation_id, key))
            lock = await asyncio.to_thread(_sqlite_lock_after_claim, path, key)
            if lock is not None:
                break
            # The request wrote before the lock was taken, so another key is tried.
            await task
        else:
            raise AssertionError("no request was caught between its claim and its write")
        try:
            yield key, task
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        return

    key = "held-0"
    row_lock = await asyncio.to_thread(psycopg.connect, storage.url)
    try:
        await asyncio.to_thread(
            row_lock.execute,
            "SELECT id FROM conversations WHERE id = %s FOR UPDATE",
            (conversation_id,),
        )
        task = asyncio.create_task(post_message(client, server, conversation_id, key))
        deadline = time.monotonic() + 30
        while not await asyncio.to_thread(_postgres_claimed, storage.url, key):
            assert time.monotonic() < deadline, f"key {key} was not claimed within 30 s"
            await asyncio.sleep(0.02)
        yield key, task
    finally:
        await asyncio.to_thread(row_lock.rollback)
        await asyncio.to_thread(row_lock.close)


async def messages_sent(
    client: httpx.AsyncClient, server: LiveServer, conversation_id: str, key: str
) -> int:
    """Count the conversation's messages sent with ``key`` (other keys may have been tried)."""
    response = await client.get(
        f"{server.api}/conversations/{conversation_id}/messages", params={"limit": 100}
    )
    assert response.status_code == 200, response.text
    return sum(item["content"] == f"message {key}" for item in response.json()["data"])


async def test_retry_after_kill_runs_at_once(storage: Storage, tmp_path: Path) -> None:
    with running() as servers:
        servers.append(start_server(storage.url, tmp_path, env=storage.env))
        first = servers[0]
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as client:
            conversation_id = await create_quiet_conversation(client, first.api)
            async with held_in_flight(storage, client, first, conversation_id) as (key, task):
                first.kill()
            with contextlib.suppress(httpx.HTTPError):
                await task

            servers.append(start_server(storage.url, tmp_path, env=storage.env))
            restarted = servers[1]
            started = time.monotonic()
            retried = await post_message(client, restarted, conversation_id, key)
            elapsed = time.monotonic() - started
            again = await post_message(client, restarted, conversation_id, key)
            count = await messages_sent(client, restarted, conversation_id, key)

    assert retried.status_code == 201, retried.text
    assert elapsed < PROMPT_SECONDS, f"the retry took {elapsed:.2f} s"
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == retried.json()["id"]
    assert count == 1


async def test_running_holder_is_waited_for(storage: Storage, tmp_path: Path) -> None:
    with running() as servers:
        servers.append(start_server(storage.url, tmp_path, env=storage.env))
        holder = servers[0]
        if storage.kind == "sqlite":
            # The held write lock would stall a start-up's writes, so this one starts first.
            servers.append(start_server(storage.url, tmp_path, env=storage.env))
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as client:
            conversation_id = await create_quiet_conversation(client, holder.api)
            async with held_in_flight(storage, client, holder, conversation_id) as (key, task):
                if storage.kind == "postgresql":
                    # A process that starts while the claim is open leaves it to its holder.
                    servers.append(start_server(storage.url, tmp_path, env=storage.env))
                other = servers[1]
                repeat = asyncio.create_task(post_message(client, other, conversation_id, key))
                await asyncio.sleep(1.5)
                waited = not repeat.done()
            first = await task
            repeated = await repeat
            count = await messages_sent(client, other, conversation_id, key)

    assert waited
    assert first.status_code == 201, first.text
    assert repeated.status_code == 201, repeated.text
    assert repeated.headers["idempotent-replayed"] == "true"
    assert repeated.json()["id"] == first.json()["id"]
    assert count == 1

"""Retries that take over a claim whose holder still runs write once.

A takeover hands the claim to the retry while the first request keeps
running, so the first request's later writes and its response must not
go through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from campfire_server.db import liveness
from tests.api.test_idempotency_processes import (
    HEADERS,
    Storage,
    create_quiet_conversation,
    held_in_flight,
    messages_sent,
    post_message,
    running,
)
from tests.conftest import scaled_postgres, start_server
from tests.redis_support import REDIS_URL, claim_namespace


@pytest.fixture
def storage(postgres_available: bool) -> Iterator[Storage]:
    """Scale-out mode: the processes share a new PostgreSQL database and Redis."""
    with scaled_postgres(postgres_available) as url:
        env = {
            "CAMPFIRE_REDIS_URL": REDIS_URL,
            "CAMPFIRE_REDIS_PREFIX": claim_namespace("fencing"),
            "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
            "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "100000",
        }
        yield Storage("postgresql", url, env)


def assert_one_answer(first: httpx.Response, repeated: httpx.Response) -> None:
    """Check that one request made the message and the other got it or a 409 to retry."""
    statuses = sorted([first.status_code, repeated.status_code])
    assert statuses in ([201, 201], [201, 409]), (first.text, repeated.text)
    created = [r.json()["id"] for r in (first, repeated) if r.status_code == 201]
    assert len(set(created)) == 1
    for response in (first, repeated):
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
            assert response.headers["retry-after"] == "1"


def _holder_owner(url: str, key: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT owner FROM idempotency_keys WHERE key = %s", (key,)).fetchone()
    assert row is not None
    return str(row[0])


def _terminate_lock_session(url: str, owner: str) -> int:
    """End the backend of this database that holds ``owner``'s advisory lock."""
    key = int(owner, 16) >> 33
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 2",
            (liveness.ADVISORY_LOCK_SPACE, key),
        ).fetchall()
    return len(rows)


def _age_claim(url: str, key: str) -> None:
    """Make the open claim look 61 s old, as if its request had been slow that long."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE idempotency_keys SET created_at = created_at - 61000 WHERE key = %s", (key,)
        )


async def test_lock_session_killed_writes_once(storage: Storage, tmp_path: Path) -> None:
    with running() as servers:
        servers.append(start_server(storage.url, tmp_path, env=storage.env))
        holder = servers[0]
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as client:
            conversation_id = await create_quiet_conversation(client, holder.api)
            async with held_in_flight(storage, client, holder, conversation_id) as (key, task):
                servers.append(start_server(storage.url, tmp_path, env=storage.env))
                other = servers[1]
                owner = await asyncio.to_thread(_holder_owner, storage.url, key)
                terminated = await asyncio.to_thread(_terminate_lock_session, storage.url, owner)
                repeat = asyncio.create_task(post_message(client, other, conversation_id, key))
                await asyncio.sleep(1.5)
            first = await task
            repeated = await repeat
            count = await messages_sent(client, other, conversation_id, key)

    assert terminated == 1
    assert_one_answer(first, repeated)
    assert count == 1


async def test_slow_holder_taken_over_by_age_writes_once(storage: Storage, tmp_path: Path) -> None:
    with running() as servers:
        servers.append(start_server(storage.url, tmp_path, env=storage.env))
        holder = servers[0]
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as client:
            conversation_id = await create_quiet_conversation(client, holder.api)
            async with held_in_flight(storage, client, holder, conversation_id) as (key, task):
                servers.append(start_server(storage.url, tmp_path, env=storage.env))
                other = servers[1]
                await asyncio.to_thread(_age_claim, storage.url, key)
                repeat = asyncio.create_task(post_message(client, other, conversation_id, key))
                await asyncio.sleep(1.5)
            first = await task
            repeated = await repeat
            count = await messages_sent(client, other, conversation_id, key)

    assert_one_answer(first, repeated)
    assert count == 1


async def test_racing_retries_after_kill_write_once(storage: Storage, tmp_path: Path) -> None:
    with running() as servers:
        servers.append(start_server(storage.url, tmp_path, env=storage.env))
        holder = servers[0]
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as client:
            conversation_id = await create_quiet_conversation(client, holder.api)
            async with held_in_flight(storage, client, holder, conversation_id) as (key, task):
                holder.kill()
            with contextlib.suppress(httpx.HTTPError):
                await task
            servers.append(start_server(storage.url, tmp_path, env=storage.env))
            servers.append(start_server(storage.url, tmp_path, env=storage.env))
            retries = await asyncio.gather(
                *(
                    post_message(client, server, conversation_id, key)
                    for server in (servers[1], servers[2], servers[1], servers[2])
                )
            )
            count = await messages_sent(client, servers[1], conversation_id, key)

    assert [retry.status_code for retry in retries] == [201] * 4
    assert len({retry.json()["id"] for retry in retries}) == 1
    assert count == 1

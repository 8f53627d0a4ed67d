"""Idempotency-Key while the database fails: 503 with Retry-After, one stored outcome.

The server runs on 127.0.0.1 in a thread of the test process, so a test can
make the database fail at the claim or at the settle step. On PostgreSQL the
step's own connection is killed with ``pg_terminate_backend``. On SQLite
another connection holds the write lock for longer than the busy timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from campfire_server.api import idempotency
from campfire_server.app import create_app
from tests.conftest import free_port, make_tenant
from tests.conftest import test_settings as make_settings
from tests.helpers import served_in_thread

BUSY_TIMEOUT_MS = 300


@pytest.fixture
def api_url(db) -> Iterator[str]:
    """The API root of a server on 127.0.0.1 with its own connections to the test database."""
    settings = make_settings(db.url, sqlite_busy_timeout_ms=BUSY_TIMEOUT_MS)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    with served_in_thread(config, start_timeout=30):
        yield f"http://127.0.0.1:{port}/api/v2"


def sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def kill_own_connection(tx: Any) -> None:
    """End the PostgreSQL backend that runs ``tx``, as a server restart would."""
    tx.value("SELECT pg_terminate_backend(pg_backend_pid()) AS killed")


def fail_first_call(function: Any) -> Any:
    """Wrap a storage step so that its first run loses its PostgreSQL connection."""
    calls = []

    def wrapped(tx: Any, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            kill_own_connection(tx)
        return function(tx, *args)

    return wrapped


class HeldWriteLock:
    """Another process's SQLite write transaction, held until ``release``."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=5)
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.connection.execute("ROLLBACK")
        self.connection.close()


async def message_ids(db, conversation_id: str) -> list[str]:
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT id FROM messages WHERE conversation_id = :id ORDER BY id", id=conversation_id
        )
    )
    return [row["id"] for row in rows]


async def open_conversation(http: httpx.AsyncClient) -> str:
    response = await http.post("/conversations", json={"customerId": "customer_outage"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) >= 1


async def test_failed_claim_is_503(db, backend, api_url, monkeypatch):
    tenant = await make_tenant(db, "Claim outage")
    async with httpx.AsyncClient(base_url=api_url, headers=tenant.headers, timeout=30) as http:
        conversation_id = await open_conversation(http)
        path = f"/conversations/{conversation_id}/messages"
        headers = {"Idempotency-Key": "claim-outage"}
        body = {"content": "during the outage"}

        if backend == "postgresql":
            with monkeypatch.context() as patch:
                patch.setattr(idempotency, "_claim", fail_first_call(idempotency._claim))
                failed = await http.post(path, json=body, headers=headers)
        else:
            lock = HeldWriteLock(sqlite_path(db.url))
            try:
                failed = await http.post(path, json=body, headers=headers)
            finally:
                lock.release()
        stored_after_failure = await message_ids(db, conversation_id)
        retried = await http.post(path, json=body, headers=headers)

    assert_unavailable(failed)
    assert stored_after_failure == []
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert await message_ids(db, conversation_id) == [retried.json()["id"]]


async def test_failed_settle_is_503_then_replays(db, backend, api_url, monkeypatch):
    tenant = await make_tenant(db, "Settle outage")
    async with httpx.AsyncClient(base_url=api_url, headers=tenant.headers, timeout=30) as http:
        conversation_id = await open_conversation(http)
        path = f"/conversations/{conversation_id}/messages"
        headers = {"Idempotency-Key": "settle-outage"}
        body = {"content": "stored before the outage"}

        if backend == "postgresql":
            monkeypatch.setattr(idempotency, "_complete", fail_first_call(idempotency._complete))
        else:
            original = idempotency.IdempotencyMiddleware._settle
            calls = []

            async def settle_under_lock(*args: Any) -> None:
                calls.append(1)
                if len(calls) > 1:
                    return await original(*args)
                lock = HeldWriteLock(sqlite_path(db.url))
                try:
                    return await original(*args)
                finally:
                    lock.release()

            monkeypatch.setattr(
                idempotency.IdempotencyMiddleware, "_settle", staticmethod(settle_under_lock)
            )
        failed = await http.post(path, json=body, headers=headers)
        stored_after_failure = await message_ids(db, conversation_id)

        # The background store needs a moment; a retry meanwhile waits or gets 409.
        retried = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            retried = await http.post(path, json=body, headers=headers)
            if retried.status_code != 409:
                break
            await asyncio.sleep(0.2)

    assert_unavailable(failed)
    assert len(stored_after_failure) == 1
    assert retried is not None
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["id"] == stored_after_failure[0]
    assert await message_ids(db, conversation_id) == stored_after_failure


async def test_5xx_after_write_resumes_at_once(db, api_url, monkeypatch):
    """A claim settled as a 5xx after its write committed is resumed by the next retry.

    The first settle receives status 503 in place of the route's 201, as it does when the
    database fails after the write commits but before the route returns.
    """
    tenant = await make_tenant(db, "Resume after 5xx")
    original = idempotency.IdempotencyMiddleware._settle
    calls = []

    async def settle_as_503(db_, scope_key, key, captured):
        calls.append(1)
        if len(calls) == 1:
            captured = {**captured, "status": 503}
        return await original(db_, scope_key, key, captured)

    async with httpx.AsyncClient(base_url=api_url, headers=tenant.headers, timeout=30) as http:
        conversation_id = await open_conversation(http)
        path = f"/conversations/{conversation_id}/messages"
        headers = {"Idempotency-Key": "resume-after-5xx"}
        body = {"content": "stored, then 5xx"}
        with monkeypatch.context() as patch:
            patch.setattr(idempotency.IdempotencyMiddleware, "_settle", staticmethod(settle_as_503))
            await http.post(path, json=body, headers=headers)
        stored = await message_ids(db, conversation_id)
        started = time.monotonic()
        retried = await http.post(path, json=body, headers=headers)
        waited = time.monotonic() - started

    assert len(stored) == 1
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json()["id"] == stored[0]
    assert waited < 5
    assert await message_ids(db, conversation_id) == stored

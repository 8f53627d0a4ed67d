"""Crashes and competing workers: nothing acknowledged is lost or sent twice at once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from campfire_server.auth.keys import DEVELOPMENT_KEY, DEVELOPMENT_ORG_ID
from campfire_server.db import migrate
from campfire_server.db.database import open_database
from campfire_server.events import records
from campfire_server.events.emit import emit
from campfire_server.webhooks import actions
from campfire_server.webhooks.schemas import WebhookCreate
from tests.conftest import (
    NO_DNS,
    POSTGRES_URL,
    create_postgres_database,
    drop_postgres_database,
    make_tenant,
    start_server,
)

from .receiver import Reply

WORKER_ENV = {
    "CAMPFIRE_WEBHOOK_RETRY_BASE_SECONDS": "0.1",
    "CAMPFIRE_WEBHOOK_RETRY_MAX_DELAY_SECONDS": "0.5",
    "CAMPFIRE_WEBHOOK_POLL_SECONDS": "0.2",
    "CAMPFIRE_WEBHOOK_LEASE_SECONDS": "2",
    "CAMPFIRE_WEBHOOK_CONCURRENCY": "4",
}
HEADERS = {"Authorization": f"Bearer {DEVELOPMENT_KEY}"}


async def _wait_until(condition, timeout: float, message: str) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(message())
        await asyncio.sleep(0.1)


async def test_kill_9_with_500_pending_loses_nothing(tmp_path: Path, make_receiver):
    delay = {"seconds": 0.2}
    receiver = await make_receiver(lambda request: Reply(delay=delay["seconds"]))
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    server = start_server(url, tmp_path, env=WORKER_ENV)
    try:
        async with httpx.AsyncClient(base_url=server.api, headers=HEADERS, timeout=30) as client:
            created = await client.post(
                "/webhooks", json={"url": receiver.url, "events": ["conversation.created"]}
            )
            assert created.status_code == 201, created.text
            gate = asyncio.Semaphore(16)

            async def open_conversation(index: int) -> str:
                async with gate:
                    response = await client.post(
                        "/conversations", json={"customerId": f"crash_{index}"}
                    )
                assert response.status_code == 201, response.text
                return response.json()["id"]

            conversation_ids = await asyncio.gather(*(open_conversation(i) for i in range(500)))
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    finally:
        server.stop()
    received_before_kill = len(receiver.requests)

    db = open_database(url)
    try:
        event_ids = set(
            await db.read(
                lambda tx: [
                    row["id"]
                    for row in tx.all(
                        "SELECT id FROM events WHERE org_id = :org AND type = :type",
                        org=DEVELOPMENT_ORG_ID,
                        type=records.CONVERSATION_CREATED,
                    )
                ]
            )
        )
    finally:
        await db.close()
    assert len(set(conversation_ids)) == 500
    assert len(event_ids) == 500
    # Events not yet sent at the kill, whether still unread by the fan-out or
    # queued as deliveries.
    undelivered = len(event_ids - set(receiver.ids()))
    assert undelivered >= 100, f"only {undelivered} events were undelivered at the kill"
    assert received_before_kill < 500

    delay["seconds"] = 0.0
    restarted = start_server(url, tmp_path, env=WORKER_ENV)
    try:
        await _wait_until(
            lambda: event_ids <= set(receiver.ids()),
            timeout=90,
            message=lambda: f"{len(event_ids - set(receiver.ids()))} events never arrived",
        )
    finally:
        restarted.stop()

    bodies: dict[str, bytes] = {}
    for request in receiver.requests:
        payload = json.loads(request.body)
        assert payload["id"] == request.webhook_id
        assert bodies.setdefault(request.webhook_id, request.body) == request.body
    assert set(bodies) == event_ids


async def test_kill_9_mid_attempt_counts_it(tmp_path: Path, make_receiver):
    arrivals: list[str] = []

    def hang_first(request):  # type: ignore[no-untyped-def]
        # The first request hangs, so the server is killed while it waits for the response.
        arrivals.append(request.webhook_id)
        return Reply(delay=60.0 if len(arrivals) == 1 else 0.0)

    receiver = await make_receiver(hang_first)
    url = f"sqlite:///{tmp_path / 'mid-attempt.db'}"
    server = start_server(url, tmp_path, env=WORKER_ENV)
    try:
        async with httpx.AsyncClient(base_url=server.api, headers=HEADERS, timeout=30) as client:
            created = await client.post(
                "/webhooks", json={"url": receiver.url, "events": ["conversation.created"]}
            )
            assert created.status_code == 201, created.text
            webhook_id = created.json()["id"]
            opened = await client.post("/conversations", json={"customerId": "mid_attempt"})
            assert opened.status_code == 201, opened.text
        await _wait_until(
            lambda: len(arrivals) == 1,
            timeout=30,
            message=lambda: f"{len(arrivals)} requests arrived; expected 1",
        )
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    finally:
        server.stop()

    restarted = start_server(url, tmp_path, env=WORKER_ENV)
    try:
        await _wait_until(
            lambda: len(receiver.succeeded()) == 1,
            timeout=60,
            message=lambda: f"{len(arrivals)} requests arrived and none was answered",
        )
        async with httpx.AsyncClient(base_url=restarted.api, headers=HEADERS, timeout=30) as client:
            for _ in range(50):
                listed = await client.get(f"/webhooks/{webhook_id}/deliveries")
                delivery = listed.json()["data"][0]
                if delivery["status"] == "succeeded":
                    break
                await asyncio.sleep(0.1)
    finally:
        restarted.stop()

    assert len(arrivals) == 2
    assert arrivals[0] == arrivals[1] == receiver.succeeded()[0].webhook_id
    assert delivery["status"] == "succeeded"
    assert delivery["attemptCount"] == 2
    assert [attempt["attempt"] for attempt in delivery["attempts"]] == [1, 2]
    lost, answered = delivery["attempts"]
    assert lost["error"] == actions.ATTEMPT_LOST
    assert lost["statusCode"] is None
    assert answered["statusCode"] == 200
    assert answered["error"] is None


def _start_worker(database_url: str, log_path: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        **WORKER_ENV,
        "CAMPFIRE_ENV": "development",
        "CAMPFIRE_DATABASE_URL": database_url,
        "CAMPFIRE_LOG_LEVEL": "WARNING",
        "CAMPFIRE_WEBHOOK_CONCURRENCY": "8",
        "CAMPFIRE_WEBHOOK_LEASE_SECONDS": "60",
        **NO_DNS,
    }
    with open(log_path, "wb") as log_file:
        return subprocess.Popen(
            [sys.executable, "-m", "campfire_server.cli", "worker"],
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


async def test_two_postgres_workers_share_1000_events(
    postgres_available, tmp_path: Path, make_receiver
):
    if not postgres_available:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    receiver = await make_receiver(lambda request: Reply(delay=0.005))
    url = create_postgres_database()
    workers: list[subprocess.Popen[bytes]] = []
    db = open_database(url)
    try:
        migrate.upgrade(url)
        tenant = await make_tenant(db, "Two workers")
        await db.write(
            lambda tx: actions.create_webhook(
                tx, tenant.org_id, WebhookCreate(url=receiver.url, events=["*"])
            )
        )
        workers = [_start_worker(url, tmp_path / f"worker-{n}.log") for n in range(2)]

        def emit_batch(tx):  # type: ignore[no-untyped-def]
            return [
                emit(tx, org_id=tenant.org_id, type=records.MESSAGE_SENT, data={"n": n}).id
                for n in range(100)
            ]

        event_ids: set[str] = set()
        for _ in range(10):
            event_ids.update(await db.write(emit_batch))
        await _wait_until(
            lambda: len(set(receiver.ids())) >= 1000,
            timeout=120,
            message=lambda: (
                f"{len(set(receiver.ids()))} of 1000 events arrived; logs in {tmp_path}"
            ),
        )
        await asyncio.sleep(0.5)
        per_worker = await db.read(
            lambda tx: tx.all(
                "SELECT worker_id, COUNT(*) AS n FROM webhook_attempts GROUP BY worker_id"
            )
        )
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        await db.close()
        drop_postgres_database(url)

    assert set(receiver.ids()) == event_ids
    assert len(receiver.requests) == 1000
    assert receiver.max_in_flight_per_id == 1
    assert len(per_worker) == 2
    assert sum(row["n"] for row in per_worker) == 1000
    assert all(row["n"] > 0 for row in per_worker)
    assert [process.returncode for process in workers] == [0, 0]

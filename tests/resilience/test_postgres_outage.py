"""PostgreSQL restarted mid-load: 503 in the envelope meanwhile, recovery without a restart."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from campfire_server.db import migrate
from tests.conftest import start_server

from .services import PrivatePostgres

DEV = {"Authorization": "Bearer test_sk_123456789"}


@pytest.fixture
def private_postgres():
    server = PrivatePostgres()
    server.start()
    yield server
    server.remove()


async def test_outage_answers_503_then_recovers(private_postgres, tmp_path):
    migrate.upgrade(private_postgres.url)
    app_server = start_server(private_postgres.url, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=app_server.api, headers=DEV, timeout=15) as http:
            conversation_id = (
                await http.post("/conversations", json={"customerId": "customer_outage"})
            ).json()["id"]

            private_postgres.stop()
            outage_statuses = []
            for _ in range(6):
                started = time.monotonic()
                post = await http.post(
                    f"/conversations/{conversation_id}/messages", json={"content": "during"}
                )
                get = await http.get(f"/conversations/{conversation_id}")
                for response in (post, get):
                    outage_statuses.append(response.status_code)
                    assert response.status_code == 503, response.text
                    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
                    assert response.headers.get("retry-after")
                assert time.monotonic() - started < 12
            assert set(outage_statuses) == {503}

            private_postgres.start()
            restarted = time.monotonic()
            recovered_after = None
            while time.monotonic() - restarted < 15:
                post = await http.post(
                    f"/conversations/{conversation_id}/messages", json={"content": "after"}
                )
                get = await http.get(f"/conversations/{conversation_id}")
                if post.status_code == 201 and get.status_code == 200:
                    recovered_after = time.monotonic() - restarted
                    break
                await asyncio.sleep(0.2)
            assert recovered_after is not None, "the API did not recover"
            assert recovered_after < 5
    finally:
        app_server.stop()


def _log_entries(path) -> list[dict]:  # type: ignore[no-untyped-def]
    entries = []
    for line in path.read_text().splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            entries.append({"level": "unparsed", "message": line})
    return entries


async def test_outage_logs_worker_warnings(private_postgres, tmp_path):
    migrate.upgrade(private_postgres.url)
    env = {"CAMPFIRE_WEBHOOK_POLL_SECONDS": "0.5", "CAMPFIRE_LOG_FORMAT": "json"}
    app_server = start_server(private_postgres.url, tmp_path, env=env)
    try:
        private_postgres.stop()
        # Several poll rounds of the webhook worker and sweeps of realtime.
        await asyncio.sleep(4)
        private_postgres.start()
        async with httpx.AsyncClient(base_url=app_server.api, headers=DEV, timeout=15) as http:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if (await http.get("/conversations")).status_code == 200:
                    break
                await asyncio.sleep(0.2)
        await asyncio.sleep(2)
    finally:
        app_server.stop()

    entries = _log_entries(app_server.log_path)
    worker = [entry for entry in entries if "webhook worker could not" in entry["message"]]
    assert worker, "the webhook worker logged nothing during the outage"
    assert {entry["level"] for entry in worker} == {"warning"}
    assert all("retrying" in entry["message"] for entry in worker)
    assert all("exception" not in entry for entry in worker)
    raw_lines = [entry["message"] for entry in entries if entry["level"] == "unparsed"]
    assert [line for line in raw_lines if "Traceback" in line] == []
    errors = [entry for entry in entries if entry["level"] in ("error", "critical")]
    assert errors == []

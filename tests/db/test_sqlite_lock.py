"""Another process holding SQLite's write lock: one bounded wait, then a 503 that names it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import httpx

from campfire_server.app import create_app
from campfire_server.db import migrate
from campfire_server.db.database import open_database
from tests.conftest import make_tenant
from tests.conftest import test_settings as make_settings
from tests.helpers import CREATE_CONVERSATION

BUSY_TIMEOUT_MS = 400


async def test_locked_sqlite_waits_once_then_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    migrate.upgrade(url)
    db = open_database(url, busy_timeout_ms=BUSY_TIMEOUT_MS)
    settings = make_settings(url, sqlite_busy_timeout_ms=BUSY_TIMEOUT_MS)
    application = create_app(settings, db=db)
    # A second connection stands for another process that holds the lock.
    other = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    try:
        async with application.router.lifespan_context(application):
            tenant = await make_tenant(db)
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver/api/v2", timeout=30
            ) as client:
                other.execute("BEGIN IMMEDIATE")
                started = time.monotonic()
                # Three requests queue behind each other; none waits much longer
                # than the one budget, though each group tries the lock again.
                responses = await asyncio.gather(
                    *(
                        client.post(
                            "/conversations", json=CREATE_CONVERSATION, headers=tenant.headers
                        )
                        for _ in range(3)
                    )
                )
                elapsed = time.monotonic() - started
                other.execute("ROLLBACK")
                after = await client.post(
                    "/conversations", json=CREATE_CONVERSATION, headers=tenant.headers
                )
    finally:
        other.close()
        await db.close()

    for response in responses:
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert "locked by another process" in error["message"]
        assert "CAMPFIRE_SQLITE_BUSY_TIMEOUT_MS (400 ms)" in error["message"]
        assert response.headers["retry-after"] == "1"
    assert BUSY_TIMEOUT_MS / 1000 <= elapsed < BUSY_TIMEOUT_MS / 1000 + 1.0
    assert after.status_code == 201, after.text

"""`campfire serve` on PostgreSQL without Redis, killed with SIGKILL and started again.

The killed process leaves its agents ``online`` in the database. Its socket
leases in ``presence_leases`` then expire, and a live process marks those
agents offline, while an agent whose socket another live server holds stays
online. Leases last 3 s here, so the sweep runs every second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from campfire_server.db import migrate
from campfire_server.db.database import Database, open_database
from tests.conftest import (
    LiveServer,
    create_postgres_database,
    drop_postgres_database,
    make_tenant,
    start_server,
)
from tests.realtime.conftest import SERVER_ENV, agent_token, connect

LEASE_SECONDS = 3
# How long the killed process's lease is held while its server starts again.
LEASE_HELD_MS = 600_000
SERVER_ENV_NO_REDIS = {
    **SERVER_ENV,
    "CAMPFIRE_REDIS_URL": "",
    "CAMPFIRE_REALTIME_PRESENCE_LEASE_SECONDS": str(LEASE_SECONDS),
}


@pytest.fixture(scope="module")
def lease_url(postgres_available: bool) -> Iterator[str]:
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = create_postgres_database()
    migrate.upgrade(url)
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="module")
async def lease_db(lease_url: str) -> AsyncIterator[Database]:
    database = open_database(lease_url, pool_size=2)
    yield database
    await database.close()


async def agent_status(server: LiveServer, headers: dict[str, str], agent_id: str) -> str:
    async with httpx.AsyncClient(base_url=server.api, timeout=30) as http:
        response = await http.get(f"/agents/{agent_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def wait_for_status(
    server: LiveServer, headers: dict[str, str], agent_id: str, expected: str, timeout: float
) -> str:
    """Poll the agent until its status is ``expected`` or ``timeout`` seconds pass; return it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    status = await agent_status(server, headers, agent_id)
    while status != expected and loop.time() < deadline:
        await asyncio.sleep(0.25)
        status = await agent_status(server, headers, agent_id)
    return status


async def lease_count(db: Database, agent_id: str) -> int:
    return int(
        await db.read(
            lambda tx: tx.value(
                "SELECT COUNT(*) AS n FROM presence_leases WHERE agent_id = :agent_id",
                agent_id=agent_id,
            )
        )
    )


async def set_lease_end(db: Database, agent_id: str, milliseconds_from_now: int) -> None:
    """Make the agent's socket leases end ``milliseconds_from_now`` from now."""
    await db.write(
        lambda tx: tx.execute(
            "UPDATE presence_leases SET expires_at = :expires_at WHERE agent_id = :agent_id",
            expires_at=int(time.time() * 1000) + milliseconds_from_now,
            agent_id=agent_id,
        )
    )


async def test_lone_server_clears_presence_after_kill(
    lease_url: str, lease_db: Database, tmp_path: Path
) -> None:
    tenant = await make_tenant(lease_db, "Lone server presence")
    token = await agent_token(lease_db, tenant, "agent_lone")
    server = start_server(lease_url, tmp_path, env=SERVER_ENV_NO_REDIS)
    restarted: LiveServer | None = None
    try:
        socket = await connect(server, token)
        online = await wait_for_status(server, tenant.headers, "agent_lone", "online", 10)
        server.kill()
        socket.transport.abort()
        # A restart under load can take longer than a lease, so the dead
        # process's lease is held until the restarted server has responded.
        await set_lease_end(lease_db, "agent_lone", LEASE_HELD_MS)
        leases_after_kill = await lease_count(lease_db, "agent_lone")

        restarted = start_server(lease_url, tmp_path, env=SERVER_ENV_NO_REDIS)
        status_after_start = await agent_status(restarted, tenant.headers, "agent_lone")
        await set_lease_end(lease_db, "agent_lone", LEASE_SECONDS * 1000)
        cleared = await wait_for_status(
            restarted, tenant.headers, "agent_lone", "offline", LEASE_SECONDS * 10
        )
    finally:
        server.stop()
        if restarted is not None:
            restarted.stop()

    assert online == "online"
    assert leases_after_kill == 1
    # The start-up alone cannot know the agent is stale, so it stays online until the lease ends.
    assert status_after_start == "online"
    assert cleared == "offline"
    assert await lease_count(lease_db, "agent_lone") == 0


async def test_other_server_socket_keeps_agent_online(
    lease_url: str, lease_db: Database, tmp_path: Path
) -> None:
    tenant = await make_tenant(lease_db, "Shared database presence")
    crashed_token = await agent_token(lease_db, tenant, "agent_crashed")
    held_token = await agent_token(lease_db, tenant, "agent_held")
    survivor = start_server(lease_url, tmp_path, env=SERVER_ENV_NO_REDIS)
    victim = start_server(lease_url, tmp_path, env=SERVER_ENV_NO_REDIS)
    restarted: LiveServer | None = None
    try:
        held_socket = await connect(survivor, held_token)
        crashed_socket = await connect(victim, crashed_token)
        for agent_id in ("agent_held", "agent_crashed"):
            status = await wait_for_status(survivor, tenant.headers, agent_id, "online", 10)
            assert status == "online", agent_id
        victim.kill()
        crashed_socket.transport.abort()
        restarted = start_server(lease_url, tmp_path, env=SERVER_ENV_NO_REDIS)

        cleared = await wait_for_status(
            restarted, tenant.headers, "agent_crashed", "offline", LEASE_SECONDS * 5
        )
        # Several lease lifetimes later, the live socket's lease is still renewed.
        await asyncio.sleep(LEASE_SECONDS * 2)
        held_status = await agent_status(restarted, tenant.headers, "agent_held")
        leases = await lease_count(lease_db, "agent_held")
        await held_socket.close()
        released = await wait_for_status(survivor, tenant.headers, "agent_held", "offline", 10)
    finally:
        survivor.stop()
        victim.stop()
        if restarted is not None:
            restarted.stop()

    assert cleared == "offline"
    assert held_status == "online"
    assert leases == 1
    assert released == "offline"

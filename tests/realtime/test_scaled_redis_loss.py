"""Agent presence across two processes after Redis loses its keys while sockets stay open.

Leases last 6 s here, so each process renews them every 2 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis
from websockets.asyncio.client import ClientConnection

from campfire_server.db.database import Database, open_database
from tests.conftest import LiveServer, Tenant, make_tenant, server_pair
from tests.realtime.conftest import SERVER_ENV, agent_token, connect
from tests.redis_support import REDIS_URL, claim_namespace, delete_namespace

LEASE_SECONDS = 6


@pytest.fixture(scope="module")
def prefix() -> str:
    return claim_namespace("loss")


@pytest.fixture(scope="module")
def pair(
    scaled_url: str, prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {
        **SERVER_ENV,
        "CAMPFIRE_REDIS_URL": REDIS_URL,
        "CAMPFIRE_REDIS_PREFIX": prefix,
        "CAMPFIRE_REALTIME_PRESENCE_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    logs = tmp_path_factory.mktemp("redis-loss-logs")
    with server_pair(scaled_url, logs, env=env) as servers:
        yield servers


@pytest.fixture(scope="module")
async def scaled_db(scaled_url: str) -> AsyncIterator[Database]:
    database = open_database(scaled_url, pool_size=2)
    yield database
    await database.close()


def flush_namespace(prefix: str) -> int:
    """Delete every key of the deployment's namespace, as a Redis restart without data would."""
    return delete_namespace(prefix)


async def _lease_count(prefix: str, org_id: str, agent_id: str) -> int:
    """Return how many socket leases of the agent Redis contains."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return int(client.zcard(f"{prefix}:realtime:agent:{org_id}:{agent_id}"))
    finally:
        client.close()


async def _statuses(
    http: httpx.AsyncClient, headers: dict[str, str], agent_id: str, seconds: float
) -> list[str]:
    """Read the agent's status every 0.25 s for ``seconds``."""
    statuses = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        response = await http.get(f"/agents/{agent_id}", headers=headers)
        assert response.status_code == 200, response.text
        statuses.append(response.json()["status"])
        await asyncio.sleep(0.25)
    return statuses


async def agent_socket(
    database: Database, server: LiveServer, org_name: str, agent_id: str
) -> tuple[Tenant, str, ClientConnection]:
    """Create an organization with the agent ``agent_id``; open the agent's socket on ``server``.

    Returns the organization, the agent's token and the socket.
    """
    tenant = await make_tenant(database, org_name)
    token = await agent_token(database, tenant, agent_id)
    return tenant, token, await connect(server, token)


async def last_status(http: httpx.AsyncClient, headers: dict[str, str], agent_id: str) -> str:
    """Return the agent's status at the end of half a second of reads."""
    return (await _statuses(http, headers, agent_id, 0.5))[-1]


async def set_away(http: httpx.AsyncClient, headers: dict[str, str], agent_id: str) -> None:
    response = await http.patch(f"/agents/{agent_id}", json={"status": "away"}, headers=headers)
    assert response.status_code == 200, response.text


async def test_agent_online_after_redis_loses_keys(pair, prefix, scaled_db) -> None:
    first, second = pair
    tenant, token, on_first = await agent_socket(scaled_db, first, "Redis loss org", "agent_kept")
    on_second = await connect(second, token)

    async with httpx.AsyncClient(base_url=second.api, timeout=30) as http:
        assert await last_status(http, tenant.headers, "agent_kept") == "online"

        assert flush_namespace(prefix) > 0
        await on_first.close()
        # The first process no longer finds its socket's lease, so it leaves the
        # status to a recheck after the second process has stored its lease again.
        await asyncio.sleep(1.5)
        statuses = await _statuses(http, tenant.headers, "agent_kept", LEASE_SECONDS * 2)

        assert set(statuses) == {"online"}

        await on_second.close()
        await asyncio.sleep(1.0)
        assert await last_status(http, tenant.headers, "agent_kept") == "offline"


async def test_away_agent_stays_away_after_loss(pair, prefix, scaled_db) -> None:
    first, second = pair
    tenant, token, socket = await agent_socket(scaled_db, first, "Redis loss away org", "agent_bob")

    async with httpx.AsyncClient(base_url=second.api, timeout=30) as http:
        assert await last_status(http, tenant.headers, "agent_bob") == "online"
        await set_away(http, tenant.headers, "agent_bob")

        assert flush_namespace(prefix) > 0
        # The first process creates the lost lease again within a refresh (2 s).
        statuses = await _statuses(http, tenant.headers, "agent_bob", LEASE_SECONDS)

        assert set(statuses) == {"away"}
        assert await _lease_count(prefix, tenant.org_id, "agent_bob") == 1

        await socket.close()
        await asyncio.sleep(1.0)
        assert await last_status(http, tenant.headers, "agent_bob") == "offline"


async def test_away_agent_closing_socket_after_loss(pair, prefix, scaled_db) -> None:
    first, second = pair
    tenant, token, on_first = await agent_socket(
        scaled_db, first, "Redis loss closing org", "agent_carol"
    )
    on_second = await connect(second, token)

    async with httpx.AsyncClient(base_url=second.api, timeout=30) as http:
        assert await last_status(http, tenant.headers, "agent_carol") == "online"
        await set_away(http, tenant.headers, "agent_carol")

        assert flush_namespace(prefix) > 0
        # The first process no longer finds the lease of the closing socket, so
        # it cannot tell whether the agent's socket on the second one is open.
        await on_first.close()
        statuses = await _statuses(http, tenant.headers, "agent_carol", LEASE_SECONDS * 1.5)

        assert set(statuses) == {"away"}
        assert await _lease_count(prefix, tenant.org_id, "agent_carol") == 1

        await on_second.close()
        await asyncio.sleep(1.0)
        assert await last_status(http, tenant.headers, "agent_carol") == "offline"


async def test_last_socket_closing_after_loss(pair, prefix, scaled_db) -> None:
    first, second = pair
    tenant, token, socket = await agent_socket(
        scaled_db, first, "Redis loss last socket org", "agent_dan"
    )

    async with httpx.AsyncClient(base_url=second.api, timeout=30) as http:
        assert await last_status(http, tenant.headers, "agent_dan") == "online"

        assert flush_namespace(prefix) > 0
        await socket.close()
        # Offline after every process's next renewal (every 2 s) found no lease.
        statuses = await _statuses(http, tenant.headers, "agent_dan", LEASE_SECONDS / 3 + 3)

        assert statuses[-1] == "offline"
        assert await _lease_count(prefix, tenant.org_id, "agent_dan") == 0


async def test_status_chosen_by_patch_survives_loss(pair, prefix, scaled_db) -> None:
    first, second = pair
    tenant = await make_tenant(scaled_db, "Redis loss patch org")
    await agent_token(scaled_db, tenant, "agent_erin")
    await agent_token(scaled_db, tenant, "agent_finn")

    async with httpx.AsyncClient(base_url=second.api, timeout=30) as http:
        for agent_id, status in (("agent_erin", "online"), ("agent_finn", "away")):
            response = await http.patch(
                f"/agents/{agent_id}", json={"status": status}, headers=tenant.headers
            )
            assert response.status_code == 200, response.text

        assert flush_namespace(prefix) > 0
        # The check of stored presence against the leases runs a lease period
        # after a process notices the loss, which its next sweep (every 2 s) does.
        erin = await _statuses(http, tenant.headers, "agent_erin", LEASE_SECONDS * 2)
        finn = await _statuses(http, tenant.headers, "agent_finn", 0.5)

        assert set(erin) == {"online"}
        assert set(finn) == {"away"}

"""A `campfire serve` process killed with SIGKILL while others share PostgreSQL and Redis.

The killed process never closes its sockets, so its agents' presence and
its sockets' typing indicators must be ended by the processes that live on.
Leases last 3 s here, so the sweep runs every second.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from campfire_server.db.database import Database, open_database
from tests.conftest import LiveServer, make_tenant, start_server
from tests.realtime.conftest import (
    SERVER_ENV,
    agent_token,
    connect,
    frame_of_type,
    open_conversation,
    subscribe,
)
from tests.redis_support import REDIS_URL, claim_namespace, delete_namespace

LEASE_SECONDS = 3
TYPING_TTL_SECONDS = float(SERVER_ENV["CAMPFIRE_REALTIME_TYPING_TTL_SECONDS"])


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    # A prefix of its own keeps the sweep away from other test runs on this Redis.
    return {
        **SERVER_ENV,
        "CAMPFIRE_REDIS_URL": REDIS_URL,
        "CAMPFIRE_REDIS_PREFIX": claim_namespace("crash"),
        "CAMPFIRE_REALTIME_PRESENCE_LEASE_SECONDS": str(LEASE_SECONDS),
    }


@pytest.fixture(scope="module")
def survivor(
    scaled_url: str, server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = start_server(scaled_url, tmp_path_factory.mktemp("survivor-logs"), env=server_env)
    yield server
    server.stop()


@pytest.fixture
def victim(scaled_url: str, server_env: dict[str, str], tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(scaled_url, tmp_path, env=server_env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def scaled_db(scaled_url: str) -> AsyncIterator[Database]:
    database = open_database(scaled_url, pool_size=2)
    yield database
    await database.close()


async def _agent_status(http: httpx.AsyncClient, headers: dict[str, str], agent_id: str) -> str:
    response = await http.get(f"/agents/{agent_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def test_killed_process_agent_goes_offline(survivor, victim, scaled_db) -> None:
    tenant = await make_tenant(scaled_db, "Crash presence org")
    token = await agent_token(scaled_db, tenant, "agent_ghost")
    observer = await connect(survivor, tenant.key)
    await subscribe(observer, "agent:agent_ghost")
    await subscribe(observer, f"mailbox:{tenant.mailbox_id}")
    agent_socket = await connect(victim, token)
    online_frames = [await frame_of_type(observer, "presence") for _ in range(2)]

    async with httpx.AsyncClient(base_url=survivor.api, timeout=30) as http:
        status_online = await _agent_status(http, tenant.headers, "agent_ghost")
        victim.kill()
        started = asyncio.get_running_loop().time()
        offline_frames = [
            await frame_of_type(observer, "presence", timeout=LEASE_SECONDS + 10) for _ in range(2)
        ]
        elapsed = asyncio.get_running_loop().time() - started
        status_offline = await _agent_status(http, tenant.headers, "agent_ghost")

        conversation = await open_conversation(http, tenant, customer_id="customer_crash")
        handoff = await http.post(
            f"/conversations/{conversation}/handoff",
            json={"reason": "needs a person"},
            headers=tenant.headers,
        )
    await agent_socket.close()
    await observer.close()

    assert [frame["data"]["status"] for frame in online_frames] == ["online", "online"]
    assert status_online == "online"
    assert {frame["channel"] for frame in offline_frames} == {
        "agent:agent_ghost",
        f"mailbox:{tenant.mailbox_id}",
    }
    for frame in offline_frames:
        assert frame["data"]["agentId"] == "agent_ghost"
        assert frame["data"]["status"] == "offline"
        assert frame["data"]["connections"] == 0
    # The lease (3 s) plus one sweep interval (1 s), with room for a loaded machine.
    assert elapsed < LEASE_SECONDS + 5
    assert status_offline == "offline"
    assert handoff.status_code in (200, 201), handoff.text
    assert handoff.json()["status"] == "queued"
    assert handoff.json()["agentId"] is None


async def test_agent_with_live_socket_stays_online(survivor, victim, scaled_db) -> None:
    tenant = await make_tenant(scaled_db, "Crash two sockets org")
    token = await agent_token(scaled_db, tenant, "agent_twice")
    observer = await connect(survivor, tenant.key)
    await subscribe(observer, "agent:agent_twice")
    on_victim = await connect(victim, token)
    online = await frame_of_type(observer, "presence")
    on_survivor = await connect(survivor, token)

    victim.kill()
    # Two leases and a sweep: the killed socket's lease is gone by then.
    await asyncio.sleep(LEASE_SECONDS * 2 + 1)
    async with httpx.AsyncClient(base_url=survivor.api, timeout=30) as http:
        status_after_kill = await _agent_status(http, tenant.headers, "agent_twice")
        await on_survivor.close()
        offline = await frame_of_type(observer, "presence")
        status_after_close = await _agent_status(http, tenant.headers, "agent_twice")
    await on_victim.close()
    await observer.close()

    assert online["data"]["status"] == "online"
    assert status_after_kill == "online"
    assert offline["data"]["status"] == "offline"
    assert status_after_close == "offline"


async def test_killed_typist_indicator_expires(survivor, victim, scaled_db) -> None:
    tenant = await make_tenant(scaled_db, "Crash typing org")
    async with httpx.AsyncClient(base_url=survivor.api, timeout=30) as http:
        conversation = await open_conversation(http, tenant, customer_id="customer_typing")
    channel = f"conversation:{conversation}"
    typist = await connect(victim, await agent_token(scaled_db, tenant, "agent_typist"))
    observer = await connect(survivor, tenant.key)
    for ws in (typist, observer):
        await subscribe(ws, channel)

    await typist.send(
        json.dumps({"type": "typing", "channel": channel, "data": {"isTyping": True}})
    )
    started_frame = await frame_of_type(observer, "typing")
    started = asyncio.get_running_loop().time()
    victim.kill()
    ended = await frame_of_type(observer, "typing", timeout=TYPING_TTL_SECONDS + 5)
    elapsed = asyncio.get_running_loop().time() - started
    await typist.close()
    await observer.close()

    assert started_frame["data"]["isTyping"] is True
    assert ended["data"] == {
        "authorId": "agent_typist",
        "authorType": "agent",
        "isTyping": False,
        "conversationId": conversation,
    }
    assert TYPING_TTL_SECONDS - 0.5 <= elapsed <= TYPING_TTL_SECONDS + 2


def _delete_keys(prefix: str) -> int:
    """Delete every key of the deployment's namespace, as a Redis restart without data would."""
    return delete_namespace(prefix)


async def test_killed_after_redis_loss_goes_offline(
    survivor, victim, scaled_db, server_env
) -> None:
    tenant = await make_tenant(scaled_db, "Crash after loss org")
    token = await agent_token(scaled_db, tenant, "agent_lost")
    observer = await connect(survivor, tenant.key)
    await subscribe(observer, "agent:agent_lost")
    agent_socket = await connect(victim, token)
    online = await frame_of_type(observer, "presence")

    # The victim dies before its next refresh (every second) could store
    # its lease again, so no key in Redis names the agent any more.
    assert _delete_keys(server_env["CAMPFIRE_REDIS_PREFIX"]) > 0
    victim.kill()
    started = asyncio.get_running_loop().time()
    offline = await frame_of_type(observer, "presence", timeout=LEASE_SECONDS * 2 + 10)
    elapsed = asyncio.get_running_loop().time() - started

    async with httpx.AsyncClient(base_url=survivor.api, timeout=30) as http:
        status = await _agent_status(http, tenant.headers, "agent_lost")
        conversation = await open_conversation(http, tenant, customer_id="customer_lost")
        handoff = await http.post(
            f"/conversations/{conversation}/handoff",
            json={"reason": "needs a person"},
            headers=tenant.headers,
        )
    await agent_socket.close()
    await observer.close()

    assert online["data"]["status"] == "online"
    assert offline["data"]["agentId"] == "agent_lost"
    assert offline["data"]["status"] == "offline"
    assert offline["data"]["connections"] == 0
    # The loss is noticed within a sweep (1 s) and checked a lease (3 s) later.
    assert elapsed < LEASE_SECONDS * 2 + 5
    assert status == "offline"
    assert handoff.status_code in (200, 201), handoff.text
    assert handoff.json()["status"] == "queued"
    assert handoff.json()["agentId"] is None

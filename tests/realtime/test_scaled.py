"""Two ``campfire serve`` processes sharing PostgreSQL and Redis, as in the scaled deployment."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from campfire_server.db.database import Database, open_database
from tests.conftest import (
    LiveServer,
    make_tenant,
    server_pair,
)
from tests.realtime.conftest import (
    SERVER_ENV,
    agent_token,
    connect,
    frame_of_type,
    frames_until_quiet,
    next_frame,
    open_conversation,
    post_message,
    subscribe,
    ws_url,
)
from tests.redis_support import REDIS_URL

CONNECTION_LIMIT = 3


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def servers(
    scaled_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {
        **SERVER_ENV,
        "CAMPFIRE_REDIS_URL": REDIS_URL,
        "CAMPFIRE_RATE_LIMIT_WEBSOCKET_CONNECTIONS": str(CONNECTION_LIMIT),
    }
    logs: Path = tmp_path_factory.mktemp("scaled-logs")
    with server_pair(scaled_url, logs, env=env) as servers:
        yield servers


@pytest.fixture(scope="module")
async def scaled_db(scaled_url: str) -> AsyncIterator[Database]:
    database = open_database(scaled_url, pool_size=2)
    yield database
    await database.close()


async def test_event_crosses_processes_in_order(servers, scaled_db) -> None:
    server_a, server_b = servers
    tenant = await make_tenant(scaled_db, "Scaled org")
    async with httpx.AsyncClient(base_url=server_b.api, timeout=30) as http_b:
        conversation = await open_conversation(http_b, tenant)
        ws = await connect(server_a, await agent_token(scaled_db, tenant, "agent_alpha"))
        await subscribe(ws, f"conversation:{conversation}")

        posted = [await post_message(http_b, tenant, conversation, f"via B {i}") for i in range(10)]
        frames = [await frame_of_type(ws, "message") for _ in posted]
        assert [f["data"]["id"] for f in frames] == [m["id"] for m in posted]
        assert [f["sequence"] for f in frames] == list(range(2, 12))
        assert await frames_until_quiet(ws, 0.5) == []
        await ws.close()


async def test_typing_crosses_processes(servers, scaled_db) -> None:
    server_a, server_b = servers
    tenant = await make_tenant(scaled_db, "Scaled typing org")
    async with httpx.AsyncClient(base_url=server_a.api, timeout=30) as http:
        conversation = await open_conversation(http, tenant)
    channel = f"conversation:{conversation}"
    typist = await connect(server_b, await agent_token(scaled_db, tenant, "agent_b"))
    observer = await connect(server_a, tenant.key)
    for ws in (typist, observer):
        await subscribe(ws, channel)

    await typist.send(
        json.dumps({"type": "typing", "channel": channel, "data": {"isTyping": True}})
    )
    frame = await frame_of_type(observer, "typing")
    assert frame["data"]["authorId"] == "agent_b"
    assert frame["data"]["isTyping"] is True
    await typist.close()
    assert (await frame_of_type(observer, "typing"))["data"]["isTyping"] is False
    await observer.close()


async def test_connection_limit_counts_every_process(servers, scaled_db) -> None:
    server_a, server_b = servers
    tenant = await make_tenant(scaled_db, "Scaled limit org")
    held = [
        await connect(server_a, tenant.key),
        await connect(server_b, tenant.key),
        await connect(server_a, tenant.key),
    ]
    refused = await websockets.connect(ws_url(server_b))
    await refused.send(json.dumps({"type": "auth", "token": tenant.key}))
    error = await next_frame(refused)
    assert error["data"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert error["data"]["details"]["retryAfter"] == 5
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(refused.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4429

    await held.pop().close()
    await asyncio.sleep(0.3)
    held.append(await connect(server_b, tenant.key))
    await asyncio.gather(*(ws.close() for ws in held))


async def test_revocation_in_other_process_closes_socket(servers, scaled_db) -> None:
    server_a, server_b = servers
    tenant = await make_tenant(scaled_db, "Scaled revocation org")
    async with httpx.AsyncClient(base_url=server_b.api, timeout=30) as http_b:
        created = await http_b.post(
            "/keys", json={"name": "socket key", "role": "admin"}, headers=tenant.headers
        )
        assert created.status_code == 201, created.text
        key = created.json()
        ws = await connect(server_a, key["key"])
        other_ws = await connect(server_a, tenant.key)

        started = asyncio.get_running_loop().time()
        revoked = await http_b.delete(f"/keys/{key['id']}", headers=tenant.headers)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        elapsed = asyncio.get_running_loop().time() - started
        still_open = await subscribe(other_ws, f"mailbox:{tenant.mailbox_id}")
        await other_ws.close()

    assert revoked.status_code == 204
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    assert "revoked" in closed.value.rcvd.reason
    # The key cache and the periodic check take 30 s, so a close this soon
    # came through the broker.
    assert elapsed < 3
    assert still_open["type"] == "subscribed"


async def test_agent_deletion_in_other_process(servers, scaled_db) -> None:
    """Deleting an agent on one process closes its sockets and rejects its token on the other."""
    server_a, server_b = servers
    tenant = await make_tenant(scaled_db, "Scaled agent deletion org")
    async with (
        httpx.AsyncClient(base_url=server_a.api, timeout=30) as http_a,
        httpx.AsyncClient(base_url=server_b.api, timeout=30) as http_b,
    ):
        conversation = await open_conversation(http_a, tenant)
        agent = {"id": "agent_leaving", "name": "Leaving", "capacity": 5}
        created = await http_a.post("/agents", json=agent, headers=tenant.headers)
        assert created.status_code == 201, created.text
        issued = await http_a.post(
            "/auth/tokens",
            json={"role": "agent", "agentId": "agent_leaving"},
            headers=tenant.headers,
        )
        assert issued.status_code == 201, issued.text
        token = issued.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        # Process A caches the token's agent before the deletion.
        warm = await http_a.get(f"/conversations/{conversation}", headers=headers)
        assert warm.status_code == 200, warm.text
        ws = await connect(server_a, token)

        started = asyncio.get_running_loop().time()
        deleted = await http_b.delete("/agents/agent_leaving", headers=tenant.headers)
        assert deleted.status_code == 204, deleted.text
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        elapsed = asyncio.get_running_loop().time() - started
        read_a = await http_a.get(f"/conversations/{conversation}", headers=headers)

        recreated = await http_b.post("/agents", json=agent, headers=tenant.headers)
        assert recreated.status_code == 201, recreated.text
        reads_after = [
            await http.get(f"/conversations/{conversation}", headers=headers)
            for http in (http_a, http_b)
        ]

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401
    assert "deleted" in closed.value.rcvd.reason
    # The key cache and the periodic check take 30 s, so a close this soon
    # came through the broker.
    assert elapsed < 3
    assert read_a.status_code == 401, read_a.text
    assert [response.status_code for response in reads_after] == [401, 401]

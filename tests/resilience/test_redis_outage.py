"""Redis stopped: REST keeps working, realtime stays local, and both recover with Redis."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import websockets

from tests.conftest import start_server

DEV = {"Authorization": "Bearer test_sk_123456789"}


async def _subscribe(api: str, conversation_id: str):
    socket = await websockets.connect(api.replace("http://", "ws://") + "/realtime")
    await socket.send(json.dumps({"type": "auth", "token": "test_sk_123456789"}))
    await socket.send(
        json.dumps({"type": "subscribe", "channel": f"conversation:{conversation_id}"})
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if frame["type"] == "subscribed":
            return socket
    raise AssertionError("no subscribed acknowledgement")


async def _next_message(socket, content: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = json.loads(await asyncio.wait_for(socket.recv(), deadline - time.monotonic()))
        except TimeoutError:
            return False
        if frame["type"] == "message" and frame["data"].get("content") == content:
            return True
    return False


async def test_redis_outage_degrades_and_recovers(db, backend, tmp_path, private_redis):
    if backend != "sqlite":
        pytest.skip("one engine is enough to show the Redis fallback")
    env = {"CAMPFIRE_REDIS_URL": private_redis.url}
    first = start_server(db.url, tmp_path, env=env)
    second = start_server(db.url, tmp_path, env=env)
    try:
        async with httpx.AsyncClient(headers=DEV, timeout=15) as http:
            created = await http.post(f"{first.api}/conversations", json={"customerId": "c_redis"})
            conversation_id = created.json()["id"]
            socket = await _subscribe(first.api, conversation_id)
            path = f"/conversations/{conversation_id}/messages"

            sent = await http.post(f"{second.api}{path}", json={"content": "across processes"})
            assert sent.status_code == 201
            assert await _next_message(socket, "across processes", 10)

            private_redis.stop()
            for server in (first, second):
                listed = await http.get(f"{server.api}/conversations/{conversation_id}")
                assert listed.status_code == 200
                assert "x-ratelimit-limit" in listed.headers
            local = await http.post(f"{first.api}{path}", json={"content": "while redis is down"})
            assert local.status_code == 201
            assert await _next_message(socket, "while redis is down", 10)
            remote = await http.post(f"{second.api}{path}", json={"content": "stored meanwhile"})
            assert remote.status_code == 201

            private_redis.start()
            recovered = False
            deadline = time.monotonic() + 30
            attempt = 0
            while time.monotonic() < deadline and not recovered:
                attempt += 1
                content = f"after recovery {attempt}"
                response = await http.post(f"{second.api}{path}", json={"content": content})
                assert response.status_code == 201
                recovered = await _next_message(socket, content, 2)
            assert recovered, "events from the other process never came back"
            await socket.close()

            history = await http.get(f"{first.api}{path}", params={"limit": 100})
            contents = [item["content"] for item in history.json()["data"]]
            assert "stored meanwhile" in contents
    finally:
        first.stop()
        second.stop()

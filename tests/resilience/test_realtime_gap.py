"""The SDK realtime client recovers the events that a Redis outage kept from its socket."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from campfire import AsyncCampfireClient

from campfire_server.development import DEVELOPMENT_AGENT_ID
from tests.conftest import start_server

TEST_KEY = "test_sk_123456789"
DEV = {"Authorization": f"Bearer {TEST_KEY}"}


def _content(event) -> str | None:
    data = event.data if isinstance(event.data, dict) else {}
    return data.get("content") if event.type == "message" else None


async def _collect(realtime, messages: list[tuple[int, str]]) -> None:
    async for event in realtime:
        content = _content(event)
        if content is not None:
            messages.append((event.sequence, content))


async def _wait_for(messages: list[tuple[int, str]], content: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(seen == content for _, seen in messages):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_sdk_replays_redis_outage_gap(db, backend, tmp_path, private_redis):
    if backend != "sqlite":
        pytest.skip("one engine is enough to show the gap recovery")
    env = {"CAMPFIRE_REDIS_URL": private_redis.url}
    first = start_server(db.url, tmp_path, env=env)
    second = start_server(db.url, tmp_path, env=env)
    messages: list[tuple[int, str]] = []
    posted: list[str] = []
    try:
        async with (
            httpx.AsyncClient(headers=DEV, timeout=15) as http,
            AsyncCampfireClient(api_key=TEST_KEY, base_url=first.api) as sdk,
        ):
            created = await http.post(f"{first.api}/conversations", json={"customerId": "c_gap"})
            conversation_id = created.json()["id"]
            path = f"{second.api}/conversations/{conversation_id}/messages"

            async def post(content: str) -> None:
                response = await http.post(
                    path,
                    json={
                        "content": content,
                        "authorType": "agent",
                        "authorId": DEVELOPMENT_AGENT_ID,
                    },
                )
                assert response.status_code == 201
                posted.append(content)

            realtime = sdk.realtime(max_reconnect_attempts=5)
            await realtime.connect()
            await realtime.subscribe(f"conversation:{conversation_id}")
            reader = asyncio.create_task(_collect(realtime, messages))
            try:
                await post("before the outage")
                assert await _wait_for(messages, "before the outage", 10)

                private_redis.stop()
                for number in range(3):
                    await post(f"during the outage {number}")

                # The second process publishes again once it has reconnected to Redis.
                private_redis.start()
                recovered = False
                deadline = time.monotonic() + 30
                attempt = 0
                while time.monotonic() < deadline and not recovered:
                    attempt += 1
                    await post(f"after the outage {attempt}")
                    recovered = await _wait_for(messages, f"after the outage {attempt}", 2)
                assert recovered, "events from the other process never came back"
                for number in range(2):
                    await post(f"after recovery {number}")
                assert await _wait_for(messages, "after recovery 1", 10)
            finally:
                await realtime.close()
                reader.cancel()
    finally:
        first.stop()
        second.stop()

    assert realtime.reconnects == 0
    assert [content for _, content in messages] == posted
    sequences = [sequence for sequence, _ in messages]
    assert sequences == sorted(set(sequences))

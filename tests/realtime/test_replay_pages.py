"""Replays longer than the replay limit, continued page by page from ``nextSince``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, start_server
from tests.realtime.conftest import (
    SERVER_ENV,
    connect,
    frames_until_quiet,
    open_conversation,
    post_message,
    subscribe,
    token_for,
)

REPLAY_LIMIT = 3


@pytest.fixture(scope="module")
def server(realtime_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {**SERVER_ENV, "CAMPFIRE_REALTIME_REPLAY_LIMIT": str(REPLAY_LIMIT)}
    live = start_server(realtime_url, tmp_path_factory.mktemp("logs"), env=env)
    yield live
    live.stop()


async def post_mostly_notes(http, org, conversation: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Post public replies between runs of internal notes; return the replies in order."""
    public: list[str] = []
    for run in range(3):
        for note in range(3 * REPLAY_LIMIT):
            await post_message(http, org, conversation, f"note {run}.{note}", private=True)
        public.append(f"public {run}")
        await post_message(http, org, conversation, public[-1])
    return public


async def test_customer_replay_continues_past_notes(server, http, org) -> None:
    customer_id = "customer_replay_pages"
    conversation = await open_conversation(http, org, customer_id=customer_id)
    public = await post_mostly_notes(http, org, conversation)
    channel = f"conversation:{conversation}"

    ws = await connect(server, token_for(org, "customer", customer_id=customer_id))
    since = 1
    seen: list[str] = []
    empty_pages = 0
    for _ in range(50):
        reply = await subscribe(ws, channel, since=since)
        assert reply["type"] == "subscribed"
        frames = await frames_until_quiet(ws, 0.3)
        assert len(frames) == reply["data"]["replayed"]
        seen += [frame["data"]["content"] for frame in frames]
        if not reply["data"]["hasMore"]:
            assert "nextSince" not in reply["data"]
            break
        if not frames:
            empty_pages += 1
        assert reply["data"]["nextSince"] > since
        since = reply["data"]["nextSince"]
        await ws.send(json.dumps({"type": "unsubscribe", "channel": channel}))
        unsubscribed = await frames_until_quiet(ws, 0.3)
        assert [frame["type"] for frame in unsubscribed] == ["unsubscribed"]
    await ws.close()

    assert seen == public
    assert empty_pages > 0


async def test_events_poll_continues_past_notes(server, http, org) -> None:
    customer_id = "customer_poll_pages"
    conversation = await open_conversation(http, org, customer_id=customer_id)
    public = await post_mostly_notes(http, org, conversation)
    headers = {"Authorization": f"Bearer {token_for(org, 'customer', customer_id=customer_id)}"}

    since = "1"
    seen: list[str] = []
    for _ in range(50):
        response = await http.get(
            "/events",
            params={"channel": f"conversation:{conversation}", "since": since, "limit": 2},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [frame["data"]["content"] for frame in body["data"]]
        if not body["pagination"]["hasMore"]:
            break
        assert int(body["pagination"]["nextCursor"]) > int(since)
        since = body["pagination"]["nextCursor"]

    assert seen == public

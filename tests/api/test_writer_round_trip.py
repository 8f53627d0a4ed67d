"""Message text and metadata that grouped PostgreSQL writes must store and send as sent.

Concurrent messages to many conversations are written as grouped rows
with binary parameters, and each event carries a conversation snapshot
built without the response model. GET, the WebSocket frames and the
webhook payloads must all show what was sent.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from campfire_server.db.database import open_database
from tests.conftest import LiveServer, make_tenant, scaled_postgres, start_server
from tests.realtime.conftest import connect, next_frame, token_for
from tests.redis_support import REDIS_URL, claim_namespace
from tests.webhooks.receiver import Receiver

CONTENTS = [
    "quote \" and 'single'",
    "back\\slash \\\\ and \\n literal",
    '{braces}, {"a": 1}, [1,2]',
    "comma, separated, values",
    "NULL",
    "null",
    '""',
    "{}",
    "caf\u00e9 \u00fc\u00df \u4e2d\u6587",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1eb\U0001f1f7 \u2764\ufe0f",
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u202bembedded\u202c",
    "x" * 9_999 + "\U0001f600",
    "line\nbreak\ttab",
    " leading and trailing spaces ",
]
METADATA = {
    "quote": 'a "b" c',
    "backslash": "\\",
    "braces": "{x}",
    "null_text": "NULL",
    "empty": "",
    "none": None,
    "list": [None, "", "NULL", "{", "}", ","],
    "nested": {"emoji": "\U0001f600", "rtl": "\u05e9"},
    "number": 1.5,
    "big": 2**53,
    "flag": False,
}
CONVERSATIONS = 6


@pytest.fixture
def postgres_url(postgres_available: bool) -> Iterator[str]:
    with scaled_postgres(postgres_available) as url:
        yield url


def _is_message_event(captured: Any) -> bool:
    return str(json.loads(captured.body)["type"]).startswith("message.")


async def _collect(ws: Any, frames: list[dict[str, Any]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            frames.append(await next_frame(ws, 0.3))
        except TimeoutError:
            continue


async def test_grouped_messages_round_trip(postgres_url: str, tmp_path: Path) -> None:
    db = open_database(postgres_url)
    tenant = await make_tenant(db)
    await db.close()
    receiver = await Receiver().start()
    env = {
        "CAMPFIRE_REDIS_URL": REDIS_URL,
        "CAMPFIRE_REDIS_PREFIX": claim_namespace("writer-round-trip"),
        "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000",
        "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
        "CAMPFIRE_WEBHOOK_POLL_SECONDS": "0.2",
    }
    server: LiveServer = start_server(postgres_url, tmp_path, env=env)
    try:
        async with httpx.AsyncClient(
            base_url=server.api, headers=tenant.headers, timeout=60
        ) as http:
            hook = await http.post("/webhooks", json={"url": receiver.url, "events": ["*"]})
            assert hook.status_code == 201, hook.text
            conversation_ids = []
            for index in range(CONVERSATIONS):
                created = await http.post(
                    "/conversations",
                    json={
                        "customerId": f"cus_{index}",
                        "mailboxId": tenant.mailbox_id,
                        "subject": 'Subject "NULL", {x} \\ \u05e9',
                        "metadata": METADATA,
                    },
                )
                assert created.status_code == 201, created.text
                conversation_ids.append(created.json()["id"])

            ws = await connect(server, token_for(tenant, "admin"))
            for conversation_id in conversation_ids:
                await ws.send(
                    json.dumps({"type": "subscribe", "channel": f"conversation:{conversation_id}"})
                )
                reply = await next_frame(ws)
                assert reply["type"] == "subscribed", reply
            frames: list[dict[str, Any]] = []
            stop = asyncio.Event()
            collector = asyncio.create_task(_collect(ws, frames, stop))

            async def send(conversation_id: str, content: str) -> dict[str, Any]:
                response = await http.post(
                    f"/conversations/{conversation_id}/messages",
                    json={
                        "content": content,
                        "authorType": "customer",
                        "metadata": {**METADATA, "content": content},
                    },
                )
                assert response.status_code == 201, response.text
                return response.json()

            sent = await asyncio.gather(
                *(send(cid, content) for content in CONTENTS for cid in conversation_ids)
            )
            lone = await send(conversation_ids[0], 'lone "NULL" {} \\')
            sent.append(lone)
            await receiver.wait_for(len(sent), 60, predicate=_is_message_event)
            await asyncio.sleep(1.0)
            stop.set()
            await collector
            await ws.close()

            stored: dict[str, dict[str, Any]] = {}
            conversations: dict[str, dict[str, Any]] = {}
            for conversation_id in conversation_ids:
                listed = await http.get(
                    f"/conversations/{conversation_id}/messages", params={"limit": 100}
                )
                for message in listed.json()["data"]:
                    stored[message["id"]] = message
                conversations[conversation_id] = (
                    await http.get(f"/conversations/{conversation_id}")
                ).json()
    finally:
        server.stop()
        await receiver.stop()

    for message in sent:
        assert stored[message["id"]]["content"] == message["metadata"]["content"]
        assert stored[message["id"]] == message

    framed = {
        frame["data"]["id"]: frame["data"]
        for frame in frames
        if frame.get("type") == "message" and "id" in frame.get("data", {})
    }
    for message in sent:
        frame = framed.get(message["id"])
        assert frame is not None, f"no frame for {message['id']}"
        for name in ("content", "metadata", "authorType", "conversationId", "createdAt"):
            assert frame.get(name) == message.get(name), (name, frame, message)

    payloads = [json.loads(captured.body) for captured in receiver.succeeded()]
    message_events = [p for p in payloads if p["type"].startswith("message.")]
    assert len(message_events) == len(sent), sorted({p["type"] for p in payloads})
    latest: dict[str, dict[str, Any]] = {}
    for payload in message_events:
        message = payload["data"]["message"]
        assert message == stored[message["id"]]
        snapshot = payload["data"]["conversation"]
        previous = latest.get(snapshot["id"])
        if previous is None or snapshot["messageCount"] > previous["messageCount"]:
            latest[snapshot["id"]] = snapshot
    for conversation_id, conversation in conversations.items():
        snapshot = latest[conversation_id]
        for name in sorted(set(conversation) | set(snapshot)):
            assert snapshot.get(name) == conversation.get(name), name


async def test_one_group_stores_tricky_values(client, tenant, db):
    from tests.api.test_message_groups import _events, _in_one_group
    from tests.helpers import create_conversation, get_conversation, send_message

    conversations = [
        await create_conversation(client, tenant, metadata=METADATA, subject='S "NULL" {}')
        for _ in range(3)
    ]
    requests = [
        send_message(
            client,
            tenant,
            conversation["id"],
            content,
            authorId="customer_test_A",
            metadata={**METADATA, "content": content},
        )
        for content in CONTENTS
        for conversation in conversations
    ]

    responses = await _in_one_group(db, requests)

    assert [response.status_code for response in responses] == [201] * len(requests)
    for conversation in conversations:
        listed = await client.get(
            f"/conversations/{conversation['id']}/messages",
            params={"limit": 100},
            headers=tenant.headers,
        )
        stored = {message["id"]: message for message in listed.json()["data"]}
        for response in responses:
            message = response.json()
            if message["conversationId"] == conversation["id"]:
                assert stored[message["id"]] == message
                assert message["content"] == message["metadata"]["content"]
                assert message["metadata"] == {**METADATA, "content": message["content"]}
        detail = await get_conversation(client, tenant, conversation["id"])
        events = await _events(db, conversation["id"])
        last = events[-1]["data"]
        assert last["message"] == stored[last["message"]["id"]]
        for name in sorted(set(detail) | set(last["conversation"])):
            assert last["conversation"].get(name) == detail.get(name), name

"""The realtime endpoint against a live ``campfire serve``, with real websocket clients."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from campfire_server.config import DEVELOPMENT_JWT_SECRET
from campfire_server.db.database import open_database
from tests.conftest import LiveServer, make_tenant, start_server
from tests.realtime.conftest import (
    SERVER_ENV,
    abort,
    agent_token,
    connect,
    create_agent,
    frame_of_type,
    frames_until_quiet,
    next_frame,
    open_conversation,
    post_message,
    sqlite_url,
    subscribe,
    token_for,
    ws_url,
)

MS_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def closed_with(ws, timeout: float = 5.0) -> int:  # type: ignore[no-untyped-def]
    """Read until the server closes the socket and return the close code."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the server dropped the connection without a close frame"
        return closed.rcvd.code


# Authentication -------------------------------------------------------------------


async def test_auth_with_api_key(server, org) -> None:
    ws = await websockets.connect(ws_url(server))
    await ws.send(json.dumps({"type": "auth", "token": org.key}))
    frame = await next_frame(ws)
    assert frame["type"] == "authenticated"
    assert frame["data"]["organizationId"] == org.org_id
    assert frame["data"]["role"] == "admin"
    assert frame["data"]["connectionId"].startswith("ws_")
    await ws.close()


async def test_auth_with_agent_token(server, org, realtime_db) -> None:
    ws = await connect(server, await agent_token(realtime_db, org, "agent_alpha"))
    await ws.send(json.dumps({"type": "ping", "id": "p1"}))
    pong = await next_frame(ws)
    assert pong["type"] == "pong"
    assert pong["id"] == "p1"
    assert MS_TIMESTAMP.match(pong["timestamp"])
    await ws.close()


@pytest.mark.parametrize(
    "first_frame",
    [
        {"type": "auth", "token": "sk_live_notarealkeynotarealkeynotarealkeynotareal1"},
        {"type": "auth", "token": "a.b.c"},
        {"type": "auth"},
        {"type": "subscribe", "channel": "conversation:conv_1"},
    ],
    ids=["unknown-key", "bad-jwt", "no-token", "not-auth"],
)
async def test_auth_failure_closes_4401(server, first_frame) -> None:
    ws = await websockets.connect(ws_url(server))
    await ws.send(json.dumps(first_frame))
    error = await next_frame(ws)
    assert error["type"] == "error"
    assert error["data"]["code"] == "AUTHENTICATION_ERROR"
    assert error["data"]["message"]
    assert await closed_with(ws) == 4401


async def test_auth_timeout_closes_4408(server) -> None:
    ws = await websockets.connect(ws_url(server))
    error = await next_frame(ws, timeout=5)
    assert error["type"] == "error"
    assert error["data"]["code"] == "TIMEOUT"
    assert await closed_with(ws) == 4408


async def test_expired_token_rejected(server, org) -> None:
    from campfire_server.auth.tokens import issue_token

    token, _ = issue_token(
        secret=DEVELOPMENT_JWT_SECRET,
        issuer="campfire",
        audience="campfire",
        org_id=org.org_id,
        role="agent",
        subject="agent_old",
        ttl_seconds=-3600,
    )
    ws = await websockets.connect(ws_url(server))
    await ws.send(json.dumps({"type": "auth", "token": token}))
    error = await next_frame(ws)
    assert error["data"]["code"] == "AUTHENTICATION_ERROR"
    assert "expired" in error["data"]["message"]
    assert await closed_with(ws) == 4401


# Subscriptions and authorization ------------------------------------------------------


async def test_cross_tenant_subscribe_answers_like_missing(server, http, org, other_org) -> None:
    foreign = await open_conversation(http, other_org)
    ws = await connect(server, org.key)

    missing = await subscribe(ws, "conversation:conv_doesnotexist0000000000000")
    other = await subscribe(ws, f"conversation:{foreign}")
    for error in (missing, other):
        assert error["type"] == "error"
        assert error["data"]["code"] == "NOT_FOUND"
        assert set(error["data"]) == {"code", "message", "details"}
        assert set(error["data"]["details"]) == {"field", "value"}
    assert other["data"]["message"] == missing["data"]["message"].replace(
        "conversation:conv_doesnotexist0000000000000", f"conversation:{foreign}"
    )
    assert other["data"]["message"].startswith(f'channel "conversation:{foreign}" was not found')

    # Mailbox ids repeat across organizations; the channel is still this org's own.
    own_mailbox = await subscribe(ws, f"mailbox:{org.mailbox_id}")
    assert own_mailbox["type"] == "subscribed"
    await post_message(http, other_org, foreign, "not for org A")
    assert await frames_until_quiet(ws, 0.5) == []
    await ws.close()


async def test_customer_token_scope(server, http, org) -> None:
    mine = await open_conversation(http, org, customer_id="customer_rt_self")
    theirs = await open_conversation(http, org, customer_id="customer_rt_other")
    ws = await connect(server, token_for(org, "customer", customer_id="customer_rt_self"))

    assert (await subscribe(ws, f"conversation:{mine}"))["type"] == "subscribed"
    refused = await subscribe(ws, f"conversation:{theirs}")
    assert refused["data"]["code"] == "NOT_FOUND"
    mailbox = await subscribe(ws, f"mailbox:{org.mailbox_id}")
    assert mailbox["data"]["code"] == "AUTHORIZATION_ERROR"
    agent = await subscribe(ws, "agent:agent_alpha")
    assert agent["data"]["code"] == "AUTHORIZATION_ERROR"
    await ws.close()


async def test_agent_channel_only_own(server, http, org) -> None:
    await create_agent(http, org, "agent_alpha")
    await create_agent(http, org, "agent_beta")
    ws = await connect(server, token_for(org, "agent", agent_id="agent_alpha"))
    assert (await subscribe(ws, "agent:agent_alpha"))["type"] == "subscribed"
    other = await subscribe(ws, "agent:agent_beta")
    assert other["data"]["code"] == "AUTHORIZATION_ERROR"
    await ws.close()

    admin = await connect(server, org.key)
    assert (await subscribe(admin, "agent:agent_beta"))["type"] == "subscribed"
    assert (await subscribe(admin, "agent:agent_nobody"))["data"]["code"] == "NOT_FOUND"
    await admin.close()


async def test_mailbox_limited_token(server, http, org, realtime_db) -> None:
    conversation = await open_conversation(http, org)
    # An agent token limited to mailboxes names no agent, because an agent is routed
    # conversations of every mailbox.
    ws = await connect(server, token_for(org, "agent", mailbox_ids=[org.other_mailbox_id]))
    assert (await subscribe(ws, f"mailbox:{org.mailbox_id}"))["data"]["code"] == "NOT_FOUND"
    assert (await subscribe(ws, f"conversation:{conversation}"))["data"]["code"] == "NOT_FOUND"
    assert (await subscribe(ws, f"mailbox:{org.other_mailbox_id}"))["type"] == "subscribed"
    await ws.close()


async def test_unsubscribe_stops_events(server, http, org) -> None:
    conversation = await open_conversation(http, org)
    ws = await connect(server, org.key)
    await subscribe(ws, f"conversation:{conversation}")
    await ws.send(json.dumps({"type": "unsubscribe", "channel": f"conversation:{conversation}"}))
    ack = await next_frame(ws)
    assert ack == {"type": "unsubscribed", "channel": f"conversation:{conversation}"}
    await post_message(http, org, conversation, "after unsubscribe")
    assert await frames_until_quiet(ws, 0.5) == []
    await ws.close()


# Events ----------------------------------------------------------------------------


async def test_message_post_arrives_as_event(server, http, org) -> None:
    conversation = await open_conversation(http, org)
    ws = await connect(server, org.key)
    ack = await subscribe(ws, f"conversation:{conversation}")
    assert ack["type"] == "subscribed"
    assert ack["data"]["sequence"] == 1

    message = await post_message(http, org, conversation, "Hello, how can I help?", "ai")
    frame = await frame_of_type(ws, "message", timeout=2)
    assert frame["channel"] == f"conversation:{conversation}"
    data = frame["data"]
    assert data["id"] == message["id"]
    assert data["content"] == "Hello, how can I help?"
    assert data["authorType"] == "ai"
    assert data["conversationId"] == conversation
    assert data["timestamp"] == message["createdAt"]
    assert frame["sequence"] == 2
    assert isinstance(frame["cursor"], int)
    assert frame["eventId"].startswith("evt_")
    assert MS_TIMESTAMP.match(frame["timestamp"])
    await ws.close()


async def test_private_note_hidden_from_customer(server, http, org, realtime_db) -> None:
    conversation = await open_conversation(http, org, customer_id="customer_rt_private")
    customer = await connect(server, token_for(org, "customer", customer_id="customer_rt_private"))
    agent = await connect(server, await agent_token(realtime_db, org, "agent_alpha"))
    for ws in (customer, agent):
        await subscribe(ws, f"conversation:{conversation}")

    await post_message(http, org, conversation, "internal note", "agent", private=True)
    await post_message(http, org, conversation, "public reply", "agent")

    seen_by_agent = [f["data"]["content"] for f in await frames_until_quiet(agent)]
    seen_by_customer = [f["data"]["content"] for f in await frames_until_quiet(customer)]
    assert seen_by_agent == ["internal note", "public reply"]
    assert seen_by_customer == ["public reply"]

    # A replay applies the same rule.
    replay_ws = await connect(server, token_for(org, "customer", customer_id="customer_rt_private"))
    await subscribe(replay_ws, f"conversation:{conversation}", since=1)
    replayed = [f["data"]["content"] for f in await frames_until_quiet(replay_ws)]
    assert replayed == ["public reply"]
    for ws in (customer, agent, replay_ws):
        await ws.close()


async def test_conversation_events_on_three_channels(server, http, org) -> None:
    await create_agent(http, org, "agent_alpha")
    conversation = await open_conversation(http, org)
    agent = await connect(server, token_for(org, "agent", agent_id="agent_alpha"))
    for channel in (
        f"conversation:{conversation}",
        f"mailbox:{org.mailbox_id}",
        "agent:agent_alpha",
    ):
        assert (await subscribe(agent, channel))["type"] == "subscribed"

    response = await http.patch(
        f"/conversations/{conversation}",
        json={"assignedAgentId": "agent_alpha", "priority": "high"},
        headers=org.headers,
    )
    assert response.status_code == 200, response.text
    frames = await frames_until_quiet(agent)
    assert sorted(f["channel"] for f in frames) == sorted(
        [f"conversation:{conversation}", f"mailbox:{org.mailbox_id}", "agent:agent_alpha"]
    )
    for frame in frames:
        assert frame["type"] == "conversation"
        assert frame["data"]["action"] == "updated"
        assert frame["data"]["assignedAgentId"] == "agent_alpha"
        assert frame["data"]["priority"] == "high"
        assert frame["sequence"] == 2
    await agent.close()


# Typing ------------------------------------------------------------------------------


async def test_typing_relayed_not_echoed_and_expires(server, http, org, realtime_db) -> None:
    conversation = await open_conversation(http, org, customer_id="customer_rt_typing")
    channel = f"conversation:{conversation}"
    agent = await connect(server, await agent_token(realtime_db, org, "agent_alpha"))
    customer = await connect(server, token_for(org, "customer", customer_id="customer_rt_typing"))
    for ws in (agent, customer):
        await subscribe(ws, channel)

    await agent.send(json.dumps({"type": "typing", "channel": channel, "data": {"isTyping": True}}))
    started = await frame_of_type(customer, "typing")
    assert started["channel"] == channel
    assert started["data"]["authorId"] == "agent_alpha"
    assert started["data"]["isTyping"] is True

    # No echo: the next frame the typing socket gets is the pong of its own ping.
    await agent.send(json.dumps({"type": "ping"}))
    assert (await next_frame(agent))["type"] == "pong"

    # Without a refresh the indicator expires (the test server's TTL is 3 s).
    expired = await frame_of_type(customer, "typing", timeout=8)
    assert expired["data"] == {
        "authorId": "agent_alpha",
        "authorType": "agent",
        "isTyping": False,
        "conversationId": conversation,
    }

    # An explicit false is always forwarded.
    await customer.send(
        json.dumps({"type": "typing", "channel": channel, "data": {"isTyping": False}})
    )
    explicit = await frame_of_type(agent, "typing")
    assert explicit["data"]["authorId"] == "customer_rt_typing"
    assert explicit["data"]["isTyping"] is False
    assert await frames_until_quiet(agent, 0.5) == []
    for ws in (agent, customer):
        await ws.close()


async def test_typing_off_at_once_when_socket_drops(server, http, org, realtime_db) -> None:
    conversation = await open_conversation(http, org)
    channel = f"conversation:{conversation}"
    typist = await connect(server, await agent_token(realtime_db, org, "agent_alpha"))
    observer = await connect(server, org.key)
    for ws in (typist, observer):
        await subscribe(ws, channel)
    await typist.send(
        json.dumps({"type": "typing", "channel": channel, "data": {"isTyping": True}})
    )
    assert (await frame_of_type(observer, "typing"))["data"]["isTyping"] is True

    loop = asyncio.get_running_loop()
    dropped_at = loop.time()
    abort(typist)
    stopped = await frame_of_type(observer, "typing", timeout=5)
    assert stopped["data"]["authorId"] == "agent_alpha"
    assert stopped["data"]["isTyping"] is False
    # Sooner than the 3 s expiry: it came from the close, not from the timer.
    assert loop.time() - dropped_at < 2.5
    await observer.close()


async def test_typing_rejected_without_subscription(server, http, org) -> None:
    conversation = await open_conversation(http, org)
    ws = await connect(server, org.key)
    frame = {
        "type": "typing",
        "channel": f"conversation:{conversation}",
        "data": {"isTyping": True},
    }
    await ws.send(json.dumps(frame))
    error = await next_frame(ws)
    assert error["type"] == "error"
    assert error["data"]["code"] == "VALIDATION_ERROR"
    assert error["channel"] == f"conversation:{conversation}"
    await ws.close()


# Reconnecting with since ---------------------------------------------------------------


async def test_reconnect_since_loses_nothing_duplicates_nothing(
    server, http, org, realtime_db
) -> None:
    conversation = await open_conversation(http, org)
    channel = f"conversation:{conversation}"
    token = await agent_token(realtime_db, org, "agent_alpha")
    w1 = await connect(server, token)
    await subscribe(w1, channel)
    m1 = await post_message(http, org, conversation, "m1", "customer")
    first = await frame_of_type(w1, "message")
    assert first["data"]["id"] == m1["id"]
    abort(w1)

    m2 = await post_message(http, org, conversation, "m2")
    m3 = await post_message(http, org, conversation, "m3")

    w1 = await connect(server, token)
    ack = await subscribe(w1, channel, since=first["sequence"])
    assert ack["type"] == "subscribed"
    assert ack["data"]["replayed"] == 2
    assert ack["data"]["hasMore"] is False
    m4 = await post_message(http, org, conversation, "m4")
    frames = await frames_until_quiet(w1)
    assert [f["data"]["id"] for f in frames] == [m2["id"], m3["id"], m4["id"]]
    sequences = [f["sequence"] for f in frames]
    assert sequences == sorted(set(sequences))

    # A time works as since too: everything after m1's creation.
    w2 = await connect(server, token)
    await subscribe(w2, channel, since=m1["createdAt"])
    replayed = [f["data"]["id"] for f in await frames_until_quiet(w2)]
    assert replayed == [m2["id"], m3["id"], m4["id"]]

    listed = await http.get(f"/conversations/{conversation}/messages", headers=org.headers)
    assert [m["content"] for m in listed.json()["data"]] == ["m1", "m2", "m3", "m4"]
    for ws in (w1, w2):
        await ws.close()


async def test_subscribe_during_writes_sees_each_once(server, http, org) -> None:
    conversation = await open_conversation(http, org)
    channel = f"conversation:{conversation}"
    count = 30

    async def writer() -> None:
        for index in range(count):
            await post_message(http, org, conversation, f"burst {index}")

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.05)
    ws = await connect(server, org.key)
    await subscribe(ws, channel, since=0)
    await task
    frames = [f for f in await frames_until_quiet(ws, 1.0) if f["type"] == "message"]
    contents = [f["data"]["content"] for f in frames]
    assert contents == [f"burst {index}" for index in range(count)]
    sequences = [f["sequence"] for f in frames]
    assert sequences == list(range(2, count + 2))
    await ws.close()


# Limits and bad input --------------------------------------------------------------


@pytest.fixture
def patient_server(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    """Yield a server that waits 30 s for a socket's auth frame, and its database URL.

    The module's server waits 0.5 s, which a client opening 100 sockets
    under load can miss.
    """
    url = sqlite_url(tmp_path)
    live = start_server(
        url, tmp_path, env={**SERVER_ENV, "CAMPFIRE_REALTIME_AUTH_TIMEOUT_SECONDS": "30"}
    )
    yield live, url
    live.stop()


async def connect_when_free(server: LiveServer, token: str, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """Connect once the server has released a slot; each try refused with 4429 is retried."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        ws = await websockets.connect(ws_url(server))
        await ws.send(json.dumps({"type": "auth", "token": token}))
        frame = await next_frame(ws)
        if frame["type"] == "authenticated":
            return ws
        assert frame["data"]["code"] == "RATE_LIMIT_EXCEEDED", frame
        assert await closed_with(ws) == 4429
        assert loop.time() < deadline, f"no slot was free within {timeout} s"
        await asyncio.sleep(0.05)


async def test_101st_socket_refused_4429(patient_server) -> None:
    server, url = patient_server
    db = open_database(url)
    try:
        org = await make_tenant(db, "Socket limit org")
    finally:
        await db.close()
    sockets = [await connect(server, org.key) for _ in range(100)]
    extra = await websockets.connect(ws_url(server))
    await extra.send(json.dumps({"type": "auth", "token": org.key}))
    error = await next_frame(extra)
    assert error["data"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert "100" in error["data"]["message"]
    assert await closed_with(extra) == 4429

    # Closing one frees its slot, once the server has handled the close.
    await sockets.pop().close()
    sockets.append(await connect_when_free(server, org.key))
    await asyncio.gather(*(ws.close() for ws in sockets))


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "VALIDATION_ERROR"),
        ("[1, 2]", "VALIDATION_ERROR"),
        ('{"type": "dance"}', "VALIDATION_ERROR"),
        ('{"type": "subscribe", "channel": "room:1"}', "VALIDATION_ERROR"),
        ('{"type": "subscribe", "channel": "conversation:x", "since": -1}', "VALIDATION_ERROR"),
        ('{"type": "auth", "token": "again"}', "VALIDATION_ERROR"),
        (b"\x00\x01", "VALIDATION_ERROR"),
    ],
    ids=["not-json", "array", "unknown-type", "bad-channel", "bad-since", "second-auth", "binary"],
)
async def test_invalid_frame_answered_with_error(server, org, frame, code) -> None:
    ws = await connect(server, org.key)
    await ws.send(frame)
    error = await next_frame(ws)
    assert error["type"] == "error"
    assert error["data"]["code"] == code
    assert error["data"]["message"]
    await ws.send(json.dumps({"type": "ping"}))
    assert (await next_frame(ws))["type"] == "pong"
    await ws.close()


async def test_oversized_frame_closes_1009(server, org) -> None:
    ws = await connect(server, org.key, max_size=None)
    await ws.send(json.dumps({"type": "ping", "padding": "x" * (70 * 1024)}))
    assert await closed_with(ws) == 1009
    # The server is fine afterwards.
    again = await connect(server, org.key)
    await again.close()


async def test_slow_consumer_dropped_others_unharmed(server, http, org) -> None:
    from tests.realtime.conftest import small_receive_buffer_socket

    conversation = await open_conversation(http, org)
    channel = f"conversation:{conversation}"
    fast = await connect(server, org.key)
    slow = await connect(
        server, org.key, sock=small_receive_buffer_socket(server.port), max_queue=1
    )
    for ws in (fast, slow):
        await subscribe(ws, channel)

    # The slow client stops reading. Each message is about 40 KB of UTF-8, so the
    # kernel's socket buffers (up to 4 MiB on Linux) fill and the send queue backs up.
    count = 150
    received: list[str] = []

    async def read_fast() -> None:
        while len(received) < count:
            frame = await frame_of_type(fast, "message", timeout=20)
            received.append(frame["data"]["content"][:8])

    reader = asyncio.create_task(read_fast())
    for index in range(count):
        await post_message(http, org, conversation, f"{index:08d}" + "\U0001f600" * 9990)
    await reader
    assert received == [f"{index:08d}" for index in range(count)]

    # The slow socket has been dropped: once it reads again, it reaches the end.
    with pytest.raises(ConnectionClosed):
        for _ in range(count + 10):
            await asyncio.wait_for(slow.recv(), 10)
    await fast.close()


# Polling -----------------------------------------------------------------------------


async def test_events_endpoint_polls_with_since(server, http, org, other_org) -> None:
    conversation = await open_conversation(http, org)
    m1 = await post_message(http, org, conversation, "poll 1")
    m2 = await post_message(http, org, conversation, "poll 2")

    first = await http.get(
        "/events",
        params={"channel": f"conversation:{conversation}", "limit": 2},
        headers=org.headers,
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert [f["type"] for f in body["data"]] == ["conversation", "message"]
    assert body["data"][1]["data"]["id"] == m1["id"]
    assert body["pagination"]["hasMore"] is True
    assert body["pagination"]["nextCursor"] == "2"

    second = await http.get(
        "/events",
        params={
            "channel": f"conversation:{conversation}",
            "since": body["pagination"]["nextCursor"],
        },
        headers=org.headers,
    )
    rest = second.json()
    assert [f["data"]["id"] for f in rest["data"]] == [m2["id"]]
    assert rest["pagination"]["hasMore"] is False
    assert rest["pagination"]["nextCursor"] == "3"

    foreign = await http.get(
        "/events", params={"channel": f"conversation:{conversation}"}, headers=other_org.headers
    )
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "NOT_FOUND"
    invalid = await http.get("/events", params={"channel": "room:1"}, headers=org.headers)
    assert invalid.status_code == 400
    assert invalid.json()["error"]["details"]["field"] == "channel"


# Presence ----------------------------------------------------------------------------


async def test_agent_presence_follows_sockets(server, http, org) -> None:
    await create_agent(http, org, "agent_presence")
    observer = await connect(server, org.key)
    await subscribe(observer, f"mailbox:{org.mailbox_id}")
    token = token_for(org, "agent", agent_id="agent_presence")

    first = await connect(server, token)
    online = await frame_of_type(observer, "presence")
    assert online["data"] == {"agentId": "agent_presence", "status": "online", "connections": 1}
    stored = await http.get("/agents/agent_presence", headers=org.headers)
    assert stored.json()["status"] == "online"
    second = await connect(server, token)
    await first.close()
    # The agent still has a socket, so nothing changes.
    assert [f for f in await frames_until_quiet(observer, 0.5) if f["type"] == "presence"] == []
    await second.close()
    offline = await frame_of_type(observer, "presence")
    assert offline["data"]["status"] == "offline"
    assert offline["data"]["connections"] == 0
    stored = await http.get("/agents/agent_presence", headers=org.headers)
    assert stored.json()["status"] == "offline"
    await observer.close()


async def test_handoff_event_reaches_agent(server, http, org) -> None:
    await create_agent(http, org, "agent_handoff")
    conversation = await open_conversation(http, org)
    agent = await connect(server, token_for(org, "agent", agent_id="agent_handoff"))
    await frames_until_quiet(agent, 0.3)
    for channel in (f"conversation:{conversation}", "agent:agent_handoff"):
        assert (await subscribe(agent, channel))["type"] == "subscribed"

    response = await http.post(
        f"/conversations/{conversation}/handoff",
        json={"reason": "billing question"},
        headers=org.headers,
    )
    assert response.status_code in (200, 201), response.text
    frames = [f for f in await frames_until_quiet(agent) if f["type"] == "handoff"]
    assert sorted(f["channel"] for f in frames) == [
        "agent:agent_handoff",
        f"conversation:{conversation}",
    ]
    for frame in frames:
        assert frame["data"]["status"] == "assigned"
        assert frame["data"]["agentId"] == "agent_handoff"
        assert "estimatedWaitTime" in frame["data"]
        assert frame["data"]["conversationId"] == conversation
        assert isinstance(frame["sequence"], int)
    await agent.close()

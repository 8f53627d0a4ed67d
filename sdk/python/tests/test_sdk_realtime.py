"""Realtime client: protocol state, and reconnect with resume over a real WebSocket."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from conftest import TEST_KEY

from campfire import AsyncCampfireClient, RealtimeError, RealtimeSession
from campfire._realtime import realtime_url


def test_realtime_url_from_base_url():
    assert realtime_url("http://127.0.0.1:3000/api/v2") == "ws://127.0.0.1:3000/api/v2/realtime"
    assert realtime_url("https://example.test/api/v2/") == "wss://example.test/api/v2/realtime"


def test_session_resumes_after_last_sequence():
    session = RealtimeSession("tok")
    session.subscribe_frame("conversation:conv_1")
    session.subscribe_frame("mailbox:mailbox_456")
    for sequence in (1, 2, 3):
        frame = {"type": "message", "channel": "conversation:conv_1", "sequence": sequence}
        assert session.receive(json.dumps(frame)) is not None

    frames = [json.loads(frame) for frame in session.connect_frames()]
    assert frames[0] == {"type": "auth", "token": "tok"}
    assert frames[1] == {"type": "subscribe", "channel": "conversation:conv_1", "since": 3}
    assert frames[2] == {"type": "subscribe", "channel": "mailbox:mailbox_456"}


def test_session_drops_replayed_duplicates():
    session = RealtimeSession("tok")
    session.subscribe_frame("conversation:conv_1", since=5)
    old = {"type": "message", "channel": "conversation:conv_1", "sequence": 5}
    new = {**old, "sequence": 6}
    assert session.receive(json.dumps(old)) is None
    assert session.receive(json.dumps(new)).sequence == 6
    assert session.receive(json.dumps(new)) is None


def test_session_auth_error_is_fatal():
    session = RealtimeSession("tok")
    frame = {"type": "error", "data": {"code": "AUTHENTICATION_ERROR", "message": "bad token"}}
    with pytest.raises(RealtimeError, match="bad token"):
        session.receive(json.dumps(frame))
    other = {"type": "error", "data": {"code": "VALIDATION_ERROR", "message": "bad frame"}}
    assert session.receive(json.dumps(other)).type == "error"


def test_session_reconnect_delay_grows_and_caps():
    session = RealtimeSession("tok", random_fraction=lambda: 0.0)
    assert [session.reconnect_delay(n) for n in range(4)] == [0.25, 0.5, 1.0, 2.0]
    assert session.reconnect_delay(20) == 15.0


class ReplayServer:
    """A WebSocket server speaking the realtime protocol with a replayable log.

    It closes every connection abruptly after ``drop_after`` events, so the
    client must reconnect and resume with ``since``.
    """

    def __init__(self, events: int, drop_after: int) -> None:
        self.log = [
            {
                "type": "message",
                "channel": "conversation:conv_1",
                "sequence": n,
                "data": {"id": f"msg_{n}"},
            }
            for n in range(1, events + 1)
        ]
        self.drop_after = drop_after
        self.subscribes: list[dict] = []
        self.tokens: list[str] = []

    async def handler(self, connection) -> None:
        auth = json.loads(await connection.recv())
        self.tokens.append(auth.get("token"))
        if auth.get("token") != TEST_KEY:
            await connection.send(
                json.dumps(
                    {
                        "type": "error",
                        "data": {"code": "AUTHENTICATION_ERROR", "message": "invalid"},
                    }
                )
            )
            await connection.close(4401)
            return
        subscribe = json.loads(await connection.recv())
        self.subscribes.append(subscribe)
        await connection.send(json.dumps({"type": "subscribed", "channel": subscribe["channel"]}))
        since = subscribe.get("since") or 0
        pending = [event for event in self.log if event["sequence"] > since]
        # Replay one event the client has already seen, as a log may at a boundary.
        if since:
            pending.insert(0, self.log[since - 1])
        for sent, event in enumerate(pending):
            if sent == self.drop_after:
                connection.transport.abort()  # no close frame, as on a network failure
                return
            await connection.send(json.dumps(event))
        await connection.wait_closed()


async def test_reconnect_resumes_without_loss_or_duplicates():
    server = ReplayServer(events=10, drop_after=4)
    async with websockets.serve(server.handler, "127.0.0.1", 0) as listener:
        port = listener.sockets[0].getsockname()[1]
        client = AsyncCampfireClient(api_key=TEST_KEY, base_url=f"http://127.0.0.1:{port}/api/v2")
        sequences = []
        async with client.realtime() as realtime:
            await realtime.subscribe("conversation:conv_1")

            async def collect() -> None:
                async for event in realtime:
                    if event.type == "message":
                        sequences.append(event.sequence)
                        if len(sequences) == 10:
                            return

            await asyncio.wait_for(collect(), timeout=20)
            reconnects = realtime.reconnects

    assert sequences == list(range(1, 11))
    assert reconnects >= 2
    assert server.subscribes[0] == {"type": "subscribe", "channel": "conversation:conv_1"}
    assert server.subscribes[1]["since"] == 4
    assert server.subscribes[2]["since"] == 7
    assert set(server.tokens) == {TEST_KEY}


async def test_rejected_token_raises_without_reconnect():
    server = ReplayServer(events=1, drop_after=5)
    async with websockets.serve(server.handler, "127.0.0.1", 0) as listener:
        port = listener.sockets[0].getsockname()[1]
        client = AsyncCampfireClient(api_key="wrong", base_url=f"http://127.0.0.1:{port}/api/v2")
        async with client.realtime() as realtime:
            await realtime.subscribe("conversation:conv_1")
            with pytest.raises(RealtimeError) as caught:
                await asyncio.wait_for(realtime.recv(), timeout=10)
    assert caught.value.code in {"AUTHENTICATION_ERROR", "4401"}
    assert server.tokens == ["wrong"]

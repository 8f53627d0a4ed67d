"""Realtime client: protocol state, and reconnect with resume over a real WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import pytest
import websockets
from conftest import AGENT_ID, MAILBOX_ID, TEST_KEY, start_dev_server, stop_dev_server

from campfire import AsyncCampfireClient, RealtimeError, RealtimeSession
from campfire._realtime import auth_refusal, realtime_url


def test_realtime_url_from_base_url():
    assert realtime_url("http://127.0.0.1:3000/api/v2") == "ws://127.0.0.1:3000/api/v2/realtime"
    assert realtime_url("https://example.test/api/v2/") == "wss://example.test/api/v2/realtime"


def test_session_resumes_after_last_position():
    session = RealtimeSession("tok")
    session.subscribe_frame("conversation:conv_1")
    session.subscribe_frame("mailbox:mailbox_456")
    for sequence in (1, 2, 3):
        frame = {
            "type": "message",
            "channel": "conversation:conv_1",
            "sequence": sequence,
            "cursor": 100 + sequence,
        }
        assert session.receive(json.dumps(frame)) is not None
    mailbox_event = {
        "type": "message",
        "channel": "mailbox:mailbox_456",
        "sequence": 9,
        "cursor": 250,
    }
    assert session.receive(json.dumps(mailbox_event)) is not None

    assert json.loads(session.auth_frame()) == {"type": "auth", "token": "tok"}
    frames = [json.loads(frame) for frame in session.subscribe_frames()]
    assert frames[0] == {"type": "subscribe", "channel": "conversation:conv_1", "since": 3}
    assert frames[1] == {"type": "subscribe", "channel": "mailbox:mailbox_456", "since": 250}


def test_session_without_events_subscribes_plainly():
    session = RealtimeSession("tok")
    session.subscribe_frame("agent:agt_1")
    assert [json.loads(f) for f in session.subscribe_frames()] == [
        {"type": "subscribe", "channel": "agent:agt_1"}
    ]


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


def test_session_reconnect_delay_honours_retry_after():
    session = RealtimeSession("tok", random_fraction=lambda: 0.0)
    assert session.reconnect_delay(0, retry_after=5) == 5.0
    assert session.reconnect_delay(0, retry_after=0.1) == 0.25
    assert session.reconnect_delay(20, retry_after=5) == 15.0
    assert session.reconnect_delay(0, retry_after=3600) == 60.0


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("RATE_LIMIT_EXCEEDED", True),
        ("TIMEOUT", True),
        ("INTERNAL_ERROR", True),
        ("SERVICE_UNAVAILABLE", True),
        ("AUTHENTICATION_ERROR", False),
        ("AUTHORIZATION_ERROR", False),
        ("VALIDATION_ERROR", False),
        ("PAYLOAD_TOO_LARGE", False),
        (None, False),
    ],
)
def test_auth_refusal_retryable_codes(code, retryable):
    error = auth_refusal({"code": code, "message": "refused"})
    assert error.code == code
    assert error.retryable is retryable
    assert error.retry_after is None


def test_auth_refusal_reads_retry_after():
    frame = {"code": "RATE_LIMIT_EXCEEDED", "message": "m", "details": {"retryAfter": 7}}
    assert auth_refusal(frame).retry_after == 7.0
    frame["details"] = {"retryAfter": "soon"}
    assert auth_refusal(frame).retry_after is None


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
        await connection.send(json.dumps({"type": "authenticated", "data": {}}))
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
        realtime = client.realtime()
        with pytest.raises(RealtimeError) as caught:
            await asyncio.wait_for(realtime.connect(), timeout=10)
    assert caught.value.code in {"AUTHENTICATION_ERROR", "4401"}
    assert server.tokens == ["wrong"]


def message_content(event) -> str | None:
    data = event.data if isinstance(event.data, dict) else {}
    inner = data.get("message") if isinstance(data.get("message"), dict) else data
    return inner.get("content")


async def subscribe_live(realtime, channel: str) -> None:
    """Subscribe to ``channel`` and wait for the server's ``subscribed`` reply.

    The server sends live only the events after the position it reads when
    it handles the subscribe, so an event posted before that would never come.
    """
    await realtime.subscribe(channel)
    reply = await asyncio.wait_for(realtime.recv(), 10)
    assert reply.type == "subscribed", reply


async def next_customer_message(realtime, expected: str, seen: list[str]) -> None:
    while True:
        event = await realtime.recv()
        if event.type == "message" and message_content(event) is not None:
            seen.append(message_content(event))
            if message_content(event) == expected:
                return


async def test_live_resume_after_drop(dev_server, client, customer_id):
    from websockets.exceptions import InvalidHandshake

    conversation = client.conversations.create(customer_id=customer_id)
    channel = f"conversation:{conversation.id}"
    async with AsyncCampfireClient(api_key=TEST_KEY, base_url=dev_server.api) as sdk:
        realtime = sdk.realtime(max_reconnect_attempts=20)
        try:
            await realtime.connect()
        except InvalidHandshake:
            pytest.skip("this server has no realtime endpoint yet")
        try:
            await subscribe_live(realtime, channel)
            seen: list[str] = []
            await sdk.messages.create(conversation.id, content="before the drop")
            await asyncio.wait_for(next_customer_message(realtime, "before the drop", seen), 10)

            # Drop the socket without a close frame, as a network failure does, and
            # post while the client is away: the resume must replay exactly that.
            realtime._connection.transport.abort()
            await sdk.messages.create(conversation.id, content="while away")
            await asyncio.wait_for(next_customer_message(realtime, "while away", seen), 20)
        finally:
            await realtime.close()

    assert realtime.reconnects >= 1
    assert seen.count("before the drop") == 1
    assert seen.count("while away") == 1
    assert realtime.session.channels[channel] is not None


def test_session_starts_at_subscribed_position():
    session = RealtimeSession("tok")
    session.subscribe_frame("conversation:conv_1")
    session.subscribe_frame("mailbox:mailbox_456")

    reply = {"type": "subscribed", "channel": "conversation:conv_1", "data": {"sequence": 7}}
    session.receive(json.dumps(reply))
    reply = {"type": "subscribed", "channel": "mailbox:mailbox_456", "data": {"cursor": 90}}
    session.receive(json.dumps(reply))

    frames = [json.loads(frame) for frame in session.subscribe_frames()]
    assert frames[0] == {"type": "subscribe", "channel": "conversation:conv_1", "since": 7}
    assert frames[1] == {"type": "subscribe", "channel": "mailbox:mailbox_456", "since": 90}


def test_session_keeps_event_position_over_reply():
    session = RealtimeSession("tok")
    session.subscribe_frame("conversation:conv_1", since=3)

    reply = {"type": "subscribed", "channel": "conversation:conv_1", "data": {"sequence": 9}}
    session.receive(json.dumps(reply))

    assert session.channels["conversation:conv_1"] == 3


def test_session_first_live_event_after_reply_kept():
    session = RealtimeSession("tok")
    session.subscribe_frame("conversation:conv_1")
    reply = {"type": "subscribed", "channel": "conversation:conv_1", "data": {"sequence": 4}}
    session.receive(json.dumps(reply))

    event = session.receive(
        json.dumps({"type": "message", "channel": "conversation:conv_1", "sequence": 5})
    )

    assert event is not None
    assert session.channels["conversation:conv_1"] == 5


async def test_live_resume_on_fresh_channel(dev_server, client, customer_id):
    conversation = client.conversations.create(customer_id=customer_id)
    channel = f"conversation:{conversation.id}"
    async with AsyncCampfireClient(api_key=TEST_KEY, base_url=dev_server.api) as sdk:
        realtime = sdk.realtime(max_reconnect_attempts=20)
        await realtime.connect()
        try:
            await realtime.subscribe(channel)
            reply = await asyncio.wait_for(realtime.recv(), 10)
            assert reply.type == "subscribed"
            start = realtime.session.channels[channel]
            assert start == reply.data["sequence"]

            # No event has reached this channel since the subscribe, so only the
            # reply's position is where the resume replays from.
            realtime._connection.transport.abort()
            await sdk.messages.create(conversation.id, content="while away")
            seen: list[str] = []
            await asyncio.wait_for(next_customer_message(realtime, "while away", seen), 20)
        finally:
            await realtime.close()

    assert realtime.reconnects >= 1
    assert seen == ["while away"]
    assert realtime.session.channels[channel] > start


@pytest.fixture(scope="module")
def short_replay_server(tmp_path_factory):
    server = start_dev_server(
        tmp_path_factory.mktemp("sdk-short-replay"),
        {
            "CAMPFIRE_REALTIME_REPLAY_LIMIT": "20",
            # The notes test posts more than the default 60 messages a minute.
            "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
        },
    )
    yield server
    stop_dev_server(server)


async def test_live_resume_continues_past_replay_limit(short_replay_server, customer_id):
    channel = f"mailbox:{MAILBOX_ID}"
    missed = [f"missed {number}" for number in range(45)]
    async with AsyncCampfireClient(api_key=TEST_KEY, base_url=short_replay_server.api) as sdk:
        conversation = await sdk.conversations.create(
            customer_id=customer_id, mailbox_id=MAILBOX_ID
        )
        realtime = sdk.realtime(max_reconnect_attempts=20)
        await realtime.connect()
        seen: list[str] = []
        try:
            await subscribe_live(realtime, channel)
            await sdk.messages.create(
                conversation.id, content="before", author_type="agent", author_id=AGENT_ID
            )
            await asyncio.wait_for(next_customer_message(realtime, "before", seen), 10)

            # 45 events missed while away need three replays of at most 20.
            realtime._connection.transport.abort()
            for content in missed:
                await sdk.messages.create(
                    conversation.id, content=content, author_type="agent", author_id=AGENT_ID
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(next_customer_message(realtime, missed[-1], seen), 20)
        finally:
            await realtime.close()

    assert realtime.reconnects >= 1
    assert [content for content in seen if content.startswith("missed ")] == missed


async def test_customer_resume_continues_past_notes(short_replay_server, customer_id):
    missed = [f"missed {number}" for number in range(3)]
    api = short_replay_server.api
    async with (
        AsyncCampfireClient(api_key=TEST_KEY, base_url=api) as sdk,
        AsyncCampfireClient(api_key="pk_test_development", base_url=api) as widget,
    ):
        session = await widget.widget.create_session(mailbox_id=MAILBOX_ID, customer_id=customer_id)
        conversation = await sdk.conversations.create(
            customer_id=customer_id, mailbox_id=MAILBOX_ID
        )
        realtime = AsyncCampfireClient(api_key=session["token"], base_url=api).realtime(
            max_reconnect_attempts=20
        )
        await realtime.connect()
        seen: list[str] = []
        try:
            await subscribe_live(realtime, f"conversation:{conversation.id}")
            await sdk.messages.create(
                conversation.id, content="before", author_type="agent", author_id=AGENT_ID
            )
            await asyncio.wait_for(next_customer_message(realtime, "before", seen), 10)

            # Each run of 41 internal notes fills at least one replay of 20
            # log events with nothing a customer socket is sent.
            realtime._connection.transport.abort()
            for content in missed:
                for note in range(41):
                    await sdk.messages.create(
                        conversation.id,
                        content=f"note {note}",
                        author_type="agent",
                        author_id=AGENT_ID,
                        private=True,
                    )
                await sdk.messages.create(
                    conversation.id, content=content, author_type="agent", author_id=AGENT_ID
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(next_customer_message(realtime, missed[-1], seen), 30)
        finally:
            await realtime.close()

    assert realtime.reconnects >= 1
    assert seen == ["before", *missed]


@pytest.fixture(scope="module")
def one_socket_server(tmp_path_factory):
    server = start_dev_server(
        tmp_path_factory.mktemp("sdk-one-socket"),
        {"CAMPFIRE_RATE_LIMIT_WEBSOCKET_CONNECTIONS": "1"},
    )
    yield server
    stop_dev_server(server)


async def take_only_socket(url: str):
    """Open a socket with ``TEST_KEY`` once the organization's only slot is free."""
    while True:
        connection = await websockets.connect(url)
        await connection.send(json.dumps({"type": "auth", "token": TEST_KEY}))
        frame = json.loads(await connection.recv())
        if frame["type"] == "authenticated":
            return connection
        await connection.close()
        assert frame["data"]["code"] == "RATE_LIMIT_EXCEEDED", frame
        await asyncio.sleep(0.05)


class RefusalWatch(logging.Handler):
    """Set ``refused`` when the realtime client logs a reconnect refused for the socket limit."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.refused = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "RATE_LIMIT_EXCEEDED" in record.getMessage():
            self.refused.set()


async def test_reconnect_retries_at_socket_limit(one_socket_server, customer_id):
    api = one_socket_server.api
    watch = RefusalWatch()
    logging.getLogger("campfire.realtime").addHandler(watch)
    async with AsyncCampfireClient(api_key=TEST_KEY, base_url=api) as sdk:
        conversation = await sdk.conversations.create(customer_id=customer_id)
        realtime = sdk.realtime()
        await realtime.connect()
        filler = None
        seen: list[str] = []
        try:
            await subscribe_live(realtime, f"conversation:{conversation.id}")

            # Another socket takes the only slot while the client is away, as
            # the sockets of a killed server process keep counting for a while.
            realtime._connection.transport.abort()
            filler = await asyncio.wait_for(take_only_socket(realtime.url), 20)
            receiving = asyncio.create_task(
                next_customer_message(realtime, "after room is free", seen)
            )
            refused = asyncio.create_task(watch.refused.wait())
            await asyncio.wait({receiving, refused}, timeout=20, return_when="FIRST_COMPLETED")
            if receiving.done():
                receiving.result()  # raises the error that ended the client
            assert watch.refused.is_set()

            await sdk.messages.create(conversation.id, content="while refused")
            await filler.close()
            await sdk.messages.create(conversation.id, content="after room is free")
            await asyncio.wait_for(receiving, 60)
        finally:
            logging.getLogger("campfire.realtime").removeHandler(watch)
            if filler is not None:
                await filler.close()
            await realtime.close()

    assert seen == ["while refused", "after room is free"]
    assert realtime.reconnects == 1


async def test_reconnect_raises_on_revoked_key():
    """A credential rejected on reconnect raises at once instead of retrying."""
    tokens: list[str] = []

    async def handler(connection) -> None:
        tokens.append(json.loads(await connection.recv())["token"])
        if len(tokens) == 1:
            await connection.send(json.dumps({"type": "authenticated", "data": {}}))
            connection.transport.abort()
            return
        error = {"code": "AUTHENTICATION_ERROR", "message": "the API key was revoked"}
        await connection.send(json.dumps({"type": "error", "data": error}))
        await connection.close(4401)

    async with websockets.serve(handler, "127.0.0.1", 0) as listener:
        port = listener.sockets[0].getsockname()[1]
        client = AsyncCampfireClient(api_key=TEST_KEY, base_url=f"http://127.0.0.1:{port}/api/v2")
        realtime = client.realtime()
        await realtime.connect()
        with pytest.raises(RealtimeError) as caught:
            await asyncio.wait_for(realtime.recv(), 20)
        await realtime.close()

    assert caught.value.code == "AUTHENTICATION_ERROR"
    assert caught.value.retryable is False
    assert tokens == [TEST_KEY, TEST_KEY]

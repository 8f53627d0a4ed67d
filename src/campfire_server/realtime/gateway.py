"""The WebSocket endpoint ``/api/v2/realtime``: the I/O around ``protocol.Protocol``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketState

from ..api.deps import authenticate
from ..errors import PermissionDenied, ServiceError
from . import service
from .events import dumps
from .hub import Connection, DirectWriter
from .protocol import (
    Action,
    Authenticate,
    Close,
    Protocol,
    Send,
    State,
    Subscribe,
    Typing,
    Unsubscribe,
    close_reason,
)
from .runtime import RealtimeService

log = logging.getLogger(__name__)

router = APIRouter()

# The scope key under which the request pipeline keeps the web server's own send
# callable of a WebSocket scope. ``direct_writer`` writes frames through it.
RAW_SEND_KEY = "campfire.raw_send"

# How long a closing socket may take to send what is still queued.
CLOSE_FLUSH_SECONDS = 1.0


def direct_writer(raw_send: Any) -> DirectWriter | None:
    """Return a synchronous frame writer for uvicorn's sans-I/O WebSocket protocol, else ``None``.

    NOTE: this reaches into ``WebSocketsSansIOProtocol`` (uvicorn 0.55: its
    ``conn``, ``transport``, ``writable``, ``close_sent`` and ``disconnected``).
    Under another server or implementation, frames take the queue and writer
    task instead, which is correct but slower.
    """
    protocol = getattr(raw_send, "__self__", None)
    if type(protocol).__name__ != "WebSocketsSansIOProtocol":
        return None
    names = ("conn", "transport", "writable", "close_sent", "disconnected")
    if not all(hasattr(protocol, name) for name in names):
        return None
    conn, transport, writable = protocol.conn, protocol.transport, protocol.writable

    def write_now(text: str) -> bool:
        if protocol.close_sent or protocol.disconnected or not writable.is_set():
            return False
        if transport.is_closing():
            return False
        conn.send_text(text.encode())
        transport.write(b"".join(conn.data_to_send()))
        return True

    return write_now


@router.websocket("/realtime")
async def realtime(websocket: WebSocket) -> None:
    await Session(websocket.app.state.realtime, websocket).run()


class Session:
    """One socket from accept to close."""

    def __init__(self, runtime: RealtimeService, websocket: WebSocket) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.websocket = websocket
        self.protocol = Protocol(max_frame_bytes=self.settings.realtime_max_frame_bytes)
        self.connection: Connection | None = None
        self.task: asyncio.Task[Any] | None = None
        self.drop_request: tuple[int, str] | None = None

    async def run(self) -> None:
        self.task = asyncio.current_task()
        await self.websocket.accept()
        try:
            if await self._authenticate():
                await self._receive_loop()
        except asyncio.CancelledError:
            if self.drop_request is None:
                raise
            self.task.uncancel()  # type: ignore[union-attr]
            await self._close(*self.drop_request)
        except Exception:
            log.exception("realtime session failed")
            await self._close(1011, "internal error")
        finally:
            self.protocol.closed()
            if self.connection is not None:
                self.connection.closed = True
                await self.runtime.close_connection(self.connection)

    # Phases --------------------------------------------------------------------

    async def _authenticate(self) -> bool:
        loop = asyncio.get_running_loop()
        timeout = self.settings.realtime_auth_timeout_seconds
        deadline = loop.time() + timeout
        while self.protocol.state is State.AWAITING_AUTH:
            remaining = deadline - loop.time()
            try:
                message = await asyncio.wait_for(self.websocket.receive(), max(remaining, 0.0))
            except TimeoutError:
                await self._perform(self.protocol.auth_timed_out(timeout))
                return False
            if message["type"] == "websocket.disconnect":
                return False
            await self._perform(self._feed(message))
        return self.protocol.state is State.OPEN

    async def _receive_loop(self) -> None:
        loop = asyncio.get_running_loop()
        connection = self.connection
        assert connection is not None
        while self.protocol.state is State.OPEN:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            connection.last_received = loop.time()
            await self._perform(self._feed(message))

    def _feed(self, message: dict[str, Any]) -> list[Action]:
        text = message.get("text")
        if text is not None:
            return self.protocol.receive_text(text)
        return self.protocol.receive_bytes(message.get("bytes") or b"")

    # Actions --------------------------------------------------------------------

    async def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                await self._send(action.frame)
            elif isinstance(action, Close):
                await self._close(action.code, action.reason)
            elif isinstance(action, Authenticate):
                await self._perform(await self._open(action.token))
            elif isinstance(action, Subscribe):
                await self._perform(await self._subscribe(action))
            elif isinstance(action, Unsubscribe):
                self._unsubscribe(action.channel.name)
            elif isinstance(action, Typing):
                assert self.connection is not None
                self.runtime.publish_typing(self.connection, action.channel.name, action.is_typing)

    async def _send(self, frame: dict[str, Any]) -> None:
        if self.connection is not None:
            self.connection.enqueue_frame(frame)
        elif self.websocket.application_state is WebSocketState.CONNECTED:
            await self.websocket.send_text(dumps(frame))

    async def _close(self, code: int, reason: str) -> None:
        self.protocol.closed()
        if self.connection is not None:
            await self.connection.flush(CLOSE_FLUSH_SECONDS)
        if self.websocket.application_state is not WebSocketState.CONNECTED:
            return
        try:
            await asyncio.wait_for(
                self.websocket.close(code, close_reason(reason)), CLOSE_FLUSH_SECONDS
            )
        except (TimeoutError, RuntimeError, OSError):
            pass

    async def _open(self, token: str) -> list[Action]:
        state = self.websocket.app.state
        try:
            principal = await authenticate(token, state.db, state.settings, state.key_cache)
            if principal.kind == "publishable":
                raise PermissionDenied(
                    "a publishable key cannot open a realtime socket; use the customer token "
                    "of a widget session"
                )
            self.connection = await self.runtime.open_connection(
                principal,
                self._send_text,
                self._on_drop,
                direct_writer(self.websocket.scope.get(RAW_SEND_KEY)),
            )
        except ServiceError as error:
            return self.protocol.authentication_failed(error)
        self.websocket.scope.setdefault("state", {})["organization_id"] = principal.org_id
        return self.protocol.authenticated(
            principal,
            {
                "connectionId": self.connection.id,
                "heartbeatInterval": self.settings.realtime_heartbeat_seconds,
                "idleTimeout": self.settings.realtime_idle_timeout_seconds,
            },
        )

    async def _send_text(self, text: str) -> None:
        await self.websocket.send({"type": "websocket.send", "text": text})

    def _on_drop(self, connection: Connection, code: int, reason: str) -> None:
        if self.drop_request is None and self.task is not None:
            self.drop_request = (code, reason)
            self.task.cancel()

    async def _subscribe(self, action: Subscribe) -> list[Action]:
        connection = self.connection
        assert connection is not None
        channel, since = action.channel, action.since
        principal = connection.principal
        limit = self.settings.realtime_replay_limit
        subscription = self.runtime.hub.subscribe(connection, channel.name)
        # Read in the same step as the subscribe: the live stream sends the
        # mailbox and agent events after this position, the replay the rest.
        horizon = self.runtime.log_horizon()

        def work(tx):  # type: ignore[no-untyped-def]
            access = service.authorize(tx, principal, channel).settled_at(horizon)
            if since is None:
                return access, service.Replay([], False, None)
            return access, service.replay(tx, principal, access, since, limit, horizon)

        try:
            access, page = await self.runtime.db.read(work)
        except ServiceError as error:
            self.runtime.hub.unsubscribe(connection, channel.name)
            return self.protocol.subscribe_failed(channel, error, action.frame_id)

        if access.conversation_id is not None:
            self.runtime.hub.prime(principal.org_id, access.conversation_id, access.current)
        # The subscription was registered before the read, so every event
        # after the position read reaches it live. Events at or before it
        # are in the replay or before ``since``, so ``go_live`` drops their
        # live copies, which may still arrive after this point.
        position = access.current
        if since is not None and since.value is not None:
            position = max(position, since.value)
        key = "sequence" if access.by_sequence else "cursor"
        frames = page.frames
        data: dict[str, Any] = {key: position, "replayed": len(frames), "hasMore": page.has_more}
        if page.has_more:
            data["nextSince"] = page.next_since
        actions = self.protocol.subscribed(channel, data, action.frame_id)
        for item in actions:
            if isinstance(item, Send):
                connection.enqueue_frame(item.frame)
        customer = principal.is_customer
        connection.enqueue_replay(
            [frame.render(channel.name, customer=customer) for frame in frames]
        )
        subscription.go_live(position)
        return [item for item in actions if not isinstance(item, Send)]

    def _unsubscribe(self, channel: str) -> None:
        connection = self.connection
        assert connection is not None
        self.runtime.stop_typing(connection, channel)
        self.runtime.hub.unsubscribe(connection, channel)

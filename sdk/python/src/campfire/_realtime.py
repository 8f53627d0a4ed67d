"""Realtime client: WebSocket events that survive reconnects.

``RealtimeSession`` is the I/O-free protocol state: it builds frames,
remembers the subscribed channels and the last ``sequence`` seen on each
conversation channel, and drops events already seen. ``RealtimeClient``
drives it over the ``websockets`` package and, when the connection drops,
reconnects with backoff and subscribes again with ``since`` set to the last
sequence, so the server replays exactly what was missed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

from ._exceptions import RealtimeError
from ._models import RealtimeEvent

log = logging.getLogger("campfire.realtime")

# Close codes after which reconnecting cannot help: normal closure requested
# by this client, a rejected credential, a forbidden action, a policy breach.
FATAL_CLOSE_CODES = frozenset({4401, 4403, 1008})
# Error frame codes that end the session for the same reason.
FATAL_ERROR_CODES = frozenset({"AUTHENTICATION_ERROR", "AUTHORIZATION_ERROR"})

INITIAL_RECONNECT_DELAY = 0.5
MAX_RECONNECT_DELAY = 30.0

CONVERSATION_PREFIX = "conversation:"


def realtime_url(base_url: str) -> str:
    """Map the REST base URL (``http://host/api/v2``) to the WebSocket endpoint."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return base + "/realtime"


class RealtimeSession:
    """Protocol state of one logical realtime session across any number of connections."""

    def __init__(self, token: str, *, random_fraction: Callable[[], float] = random.random) -> None:
        self.token = token
        # channel -> last sequence seen; only conversation channels have one
        # sequence, so only they resume with ``since`` and drop duplicates.
        self.channels: dict[str, int | None] = {}
        self._random = random_fraction

    @staticmethod
    def _frame(payload: dict[str, Any]) -> str:
        return json.dumps(payload, separators=(",", ":"))

    def auth_frame(self) -> str:
        return self._frame({"type": "auth", "token": self.token})

    def subscribe_frame(self, channel: str, since: int | None = None) -> str:
        """Record ``channel`` and return its subscribe frame."""
        if since is None:
            since = self.channels.get(channel)
        self.channels[channel] = since if channel.startswith(CONVERSATION_PREFIX) else None
        payload: dict[str, Any] = {"type": "subscribe", "channel": channel}
        if since is not None:
            payload["since"] = since
        return self._frame(payload)

    def unsubscribe_frame(self, channel: str) -> str:
        self.channels.pop(channel, None)
        return self._frame({"type": "unsubscribe", "channel": channel})

    def typing_frame(self, channel: str, is_typing: bool) -> str:
        return self._frame({"type": "typing", "channel": channel, "data": {"isTyping": is_typing}})

    def connect_frames(self) -> list[str]:
        """Return the frames that open a connection: auth, then every subscription."""
        frames = [self.auth_frame()]
        for channel, since in list(self.channels.items()):
            frames.append(self.subscribe_frame(channel, since))
        return frames

    def receive(self, text: str | bytes) -> RealtimeEvent | None:
        """Parse one frame; return None for an event already seen.

        Raises:
            RealtimeError: the server rejected the credential or the access.
        """
        try:
            event = RealtimeEvent.model_validate(json.loads(text))
        except ValueError:
            log.warning("ignored a realtime frame that is not a JSON event: %.200r", text)
            return None
        if event.type == "error":
            data = event.data if isinstance(event.data, dict) else {}
            code = data.get("code")
            if code in FATAL_ERROR_CODES:
                raise RealtimeError(data.get("message") or "realtime access rejected", code=code)
            return event
        channel, sequence = event.channel, event.sequence
        if channel in self.channels and channel.startswith(CONVERSATION_PREFIX):
            if sequence is not None:
                last = self.channels[channel]
                if last is not None and sequence <= last:
                    return None
                self.channels[channel] = sequence
        return event

    @staticmethod
    def is_fatal_close(code: int | None) -> bool:
        return code in FATAL_CLOSE_CODES

    def reconnect_delay(self, attempt: int) -> float:
        """Return the wait before reconnect ``attempt`` (0-based): capped exponential, jittered."""
        delay = min(MAX_RECONNECT_DELAY, INITIAL_RECONNECT_DELAY * 2**attempt)
        return delay * (0.5 + self._random() / 2)


class RealtimeClient:
    """Receive conversation, message, typing and handoff events over a WebSocket.

    ```python
    async with client.realtime() as realtime:
        await realtime.subscribe("conversation:conv_789")
        async for event in realtime:
            print(event.type, event.data)
    ```

    The connection is re-opened with backoff when it drops, and every
    conversation channel resumes after the last ``sequence`` received, so no
    event is lost or delivered twice. Iteration ends after ``close()``;
    ``RealtimeError`` is raised when the server rejects the credential.

    **Parameters**

    * **api_key**: a secret key or a JWT, sent in the ``auth`` frame.
    * **base_url**: the REST API root; the WebSocket is ``<base_url>/realtime``.
    * **url**: the WebSocket URL, when it is not derived from ``base_url``.
    * **max_reconnect_attempts**: consecutive failed reconnects before giving up; None
      keeps trying.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        url: str | None = None,
        max_reconnect_attempts: int | None = None,
        open_timeout: float = 10.0,
    ) -> None:
        self.url = url or realtime_url(base_url)
        self.session = RealtimeSession(api_key)
        self.max_reconnect_attempts = max_reconnect_attempts
        self.open_timeout = open_timeout
        self.reconnects = 0
        self._connection: Any = None
        self._closed = False
        self._ever_connected = False

    async def connect(self) -> None:
        """Open the connection and authenticate; subscriptions made before are sent too."""
        try:
            import websockets
        except ImportError as error:
            raise ImportError(
                "the realtime client needs the websockets package: "
                "pip install 'campfire-sdk[realtime]'"
            ) from error
        connection = await websockets.connect(self.url, open_timeout=self.open_timeout)
        for frame in self.session.connect_frames():
            await connection.send(frame)
        self._connection = connection
        self._ever_connected = True

    async def subscribe(self, channel: str, *, since: int | None = None) -> None:
        """Subscribe to ``conversation:{id}``, ``mailbox:{id}`` or ``agent:{id}``.

        ``since`` asks for the events after that sequence first.
        """
        frame = self.session.subscribe_frame(channel, since)
        await self._send(frame)

    async def unsubscribe(self, channel: str) -> None:
        await self._send(self.session.unsubscribe_frame(channel))

    async def send_typing(self, channel: str, is_typing: bool = True) -> None:
        await self._send(self.session.typing_frame(channel, is_typing))

    async def _send(self, frame: str) -> None:
        from websockets.exceptions import ConnectionClosed

        if self._connection is None:
            return  # sent by connect_frames() when the connection opens
        try:
            await self._connection.send(frame)
        except ConnectionClosed:
            pass  # the next recv() reconnects and resends the subscriptions

    async def recv(self) -> RealtimeEvent:
        """Return the next new event, reconnecting as often as needed."""
        from websockets.exceptions import ConnectionClosed

        while True:
            if self._closed:
                raise RealtimeError("the realtime client is closed")
            if self._connection is None:
                await self._reconnect()
            try:
                text = await self._connection.recv()
            except ConnectionClosed as closed:
                if self._closed:
                    raise RealtimeError("the realtime client is closed") from None
                code = closed.rcvd.code if closed.rcvd is not None else None
                reason = closed.rcvd.reason if closed.rcvd is not None else ""
                if self.session.is_fatal_close(code):
                    raise RealtimeError(
                        f"the server closed the realtime connection ({code} {reason})".strip(),
                        code=str(code),
                    ) from None
                log.warning("realtime connection closed (%s %s); reconnecting", code, reason)
                self._connection = None
                continue
            event = self.session.receive(text)
            if event is not None:
                return event

    async def _reconnect(self) -> None:
        from websockets.exceptions import WebSocketException

        attempt = 0
        while True:
            if self._closed:
                raise RealtimeError("the realtime client is closed")
            if attempt or self._ever_connected:
                await asyncio.sleep(self.session.reconnect_delay(attempt))
            try:
                await self.connect()
            except (OSError, asyncio.TimeoutError, WebSocketException) as error:
                attempt += 1
                log.warning("realtime reconnect attempt %d failed: %s", attempt, error)
                if (
                    self.max_reconnect_attempts is not None
                    and attempt >= self.max_reconnect_attempts
                ):
                    raise RealtimeError(
                        f"could not reconnect to {self.url} after {attempt} attempts: {error}"
                    ) from error
                continue
            if self._ever_connected:
                self.reconnects += 1
            return

    def __aiter__(self) -> AsyncIterator[RealtimeEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[RealtimeEvent]:
        while not self._closed:
            try:
                yield await self.recv()
            except RealtimeError:
                if self._closed:
                    return
                raise

    async def close(self) -> None:
        self._closed = True
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def __aenter__(self) -> RealtimeClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

"""Realtime client: WebSocket events that survive reconnects.

``RealtimeSession`` is the I/O-free protocol state: it builds frames,
remembers the subscribed channels and the last position seen on each, and
drops events already seen. The position is the event's ``sequence`` on a
``conversation:`` channel and its ``cursor`` (its place in the
organization's event log) on ``mailbox:`` and ``agent:`` channels, which is
what the server's ``since`` counts on each. ``RealtimeClient`` drives the
session over the ``websockets`` package. When the connection drops, it
reconnects with backoff, authenticates, and subscribes again with ``since``
set to the last position, so the server replays exactly what was missed. A
reconnect refused for a while (a full connection limit, an unavailable
server) is retried, and one refused for good (a rejected credential) raises.

Two cases resubscribe on an open connection. A replay that reports
``hasMore`` is continued from the reply's ``nextSince`` until the server
reports no more. A ``conversation:`` event whose sequence skips past the next one
after the last seen may mean that a live event was lost, for instance while
Redis was down between two server processes. The session then drops that
event and resubscribes with ``since``, and the replay returns the missed
events and the dropped one in order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ._exceptions import RealtimeError
from ._models import RealtimeEvent

log = logging.getLogger("campfire.realtime")

# Close codes after which reconnecting cannot help: a rejected credential,
# a forbidden action, a policy breach.
FATAL_CLOSE_CODES = frozenset({4401, 4403, 1008})
# Error frame codes that end the session for the same reason.
FATAL_ERROR_CODES = frozenset({"AUTHENTICATION_ERROR", "AUTHORIZATION_ERROR"})
# Error frame codes of a rejected ``auth`` frame that a later connection may
# not get: the REST API's retryable 408, 429, 500 and 503. The server sends
# RATE_LIMIT_EXCEEDED when the organization already has its maximum number
# of sockets open. Every other code raises, because the same frame would be
# rejected again.
RETRYABLE_ERROR_CODES = frozenset(
    {"TIMEOUT", "RATE_LIMIT_EXCEEDED", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE"}
)

INITIAL_RECONNECT_DELAY = 0.5
MAX_RECONNECT_DELAY = 30.0
# A longer ``retryAfter`` than this is waited for only this long.
MAX_RETRY_AFTER = 60.0

CONVERSATION_PREFIX = "conversation:"


def realtime_url(base_url: str) -> str:
    """Map the REST base URL (``http://host/api/v2``) to the WebSocket endpoint."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return base + "/realtime"


@dataclass
class _Resync:
    """A channel whose events come from a replay that the session requested or continues."""

    awaiting_reply: bool = True
    """Whether the ``subscribed`` reply of the resubscribe is still to come."""
    replay_left: int = 0
    """Replayed events of the last reply not received yet."""
    has_more: bool = False
    """Whether the last reply reported more events than it replayed."""
    next_since: int | None = None
    """The last reply's ``nextSince``: where the next replay starts."""


def auth_refusal(data: dict[str, Any]) -> RealtimeError:
    """Build the ``RealtimeError`` for an error frame sent in reply to the ``auth`` frame."""
    code = data.get("code")
    details = data.get("details") if isinstance(data.get("details"), dict) else {}
    retry_after = details.get("retryAfter")
    if isinstance(retry_after, bool) or not isinstance(retry_after, (int, float)):
        retry_after = None
    return RealtimeError(
        data.get("message") or "the server rejected the auth frame",
        code=code,
        retryable=code in RETRYABLE_ERROR_CODES,
        retry_after=max(0.0, float(retry_after)) if retry_after is not None else None,
    )


def _close_code(closed: Exception) -> tuple[int | None, str]:
    received = getattr(closed, "rcvd", None)
    if received is None:
        return None, ""
    return received.code, received.reason


class RealtimeSession:
    """Protocol state of one logical realtime session across any number of connections."""

    def __init__(self, token: str, *, random_fraction: Callable[[], float] = random.random) -> None:
        self.token = token
        self.channels: dict[str, int | None] = {}
        """Subscribed channel -> the last position seen on it (None before its first event)."""
        self._random = random_fraction
        self._resyncs: dict[str, _Resync] = {}
        self._outgoing: list[str] = []

    @staticmethod
    def _frame(payload: dict[str, Any]) -> str:
        return json.dumps(payload, separators=(",", ":"))

    @staticmethod
    def position(event: RealtimeEvent) -> int | None:
        """Return the event's position as ``since`` counts it on the event's channel."""
        if event.channel and event.channel.startswith(CONVERSATION_PREFIX):
            return event.sequence
        return event.cursor

    def auth_frame(self) -> str:
        return self._frame({"type": "auth", "token": self.token})

    def subscribe_frame(self, channel: str, since: int | None = None) -> str:
        """Record ``channel`` and return its subscribe frame."""
        if since is None:
            since = self.channels.get(channel)
        self.channels[channel] = since
        payload: dict[str, Any] = {"type": "subscribe", "channel": channel}
        if since is not None:
            payload["since"] = since
        return self._frame(payload)

    def unsubscribe_frame(self, channel: str) -> str:
        self.channels.pop(channel, None)
        return self._frame({"type": "unsubscribe", "channel": channel})

    def typing_frame(self, channel: str, is_typing: bool) -> str:
        return self._frame({"type": "typing", "channel": channel, "data": {"isTyping": is_typing}})

    def subscribe_frames(self) -> list[str]:
        """Return the frames that restore every subscription once the server has authenticated."""
        # A new connection replays every channel from its last position, so no resync is pending.
        self._resyncs.clear()
        self._outgoing.clear()
        return [
            self.subscribe_frame(channel, since) for channel, since in list(self.channels.items())
        ]

    def receive(self, text: str | bytes) -> RealtimeEvent | None:
        """Parse one frame; return None for an event already seen or an unreadable frame.

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
            self._end_resync(event)
            return event
        if event.type == "subscribed":
            self._start_at_reply(event)
            self._track_replay(event)
            return event
        position = self.position(event)
        if event.channel in self.channels and position is not None:
            if not self._accept_in_order(event.channel, position):
                return None
            last = self.channels[event.channel]
            # The server sends each channel's events in increasing position,
            # live and replayed, so a position not above the last is a duplicate.
            duplicate = last is not None and position <= last
            if not duplicate:
                self.channels[event.channel] = position
            self._continue_replay(event.channel)
            if duplicate:
                return None
        return event

    def _start_at_reply(self, event: RealtimeEvent) -> None:
        """Store the reply's position for a channel that has none yet.

        The server sends live every event after that position and none at or
        before it, so a reconnect before the channel's first event resumes
        from there and replays what was sent while the socket was down.
        """
        if event.channel not in self.channels or self.channels[event.channel] is not None:
            return
        data = event.data if isinstance(event.data, dict) else {}
        start = data.get("sequence", data.get("cursor"))
        if isinstance(start, int) and not isinstance(start, bool):
            self.channels[event.channel] = start

    def take_frames(self) -> list[str]:
        """Return and forget the subscribe frames that ``receive`` asked to send."""
        frames, self._outgoing = self._outgoing, []
        return frames

    def _resubscribe(self, channel: str) -> None:
        self._resyncs[channel] = _Resync()
        self._outgoing.append(self.subscribe_frame(channel, self.channels[channel]))

    def _track_replay(self, event: RealtimeEvent) -> None:
        """Count the events that the ``subscribed`` reply announces as replayed."""
        channel = event.channel
        if channel not in self.channels:
            return
        data = event.data if isinstance(event.data, dict) else {}
        replayed = data.get("replayed")
        replay_left = replayed if isinstance(replayed, int) and replayed > 0 else 0
        has_more = data.get("hasMore") is True
        next_since = data.get("nextSince")
        if not isinstance(next_since, int) or isinstance(next_since, bool):
            next_since = None
        if has_more and next_since is None and replay_left == 0:
            # A server older than ``nextSince`` names no later ``since`` to
            # continue from when it replayed nothing.
            log.warning("%s: the replay reported more events but no nextSince", channel)
            has_more = False
        if replay_left == 0:
            self._resyncs.pop(channel, None)
            if has_more:
                self._replay_next(channel, next_since)
            return
        self._resyncs[channel] = _Resync(False, replay_left, has_more, next_since)

    def _replay_next(self, channel: str, next_since: int | None) -> None:
        """Resubscribe from ``next_since``, the last event the previous replay examined.

        That event may be one the socket is never sent, such as an internal
        note on a customer socket, so ``next_since`` can be above the last
        position seen.
        """
        last = self.channels[channel]
        if next_since is not None and (last is None or next_since > last):
            self.channels[channel] = next_since
        self._resubscribe(channel)

    def _accept_in_order(self, channel: str, position: int) -> bool:
        """Return whether ``channel``'s event may be delivered now, resubscribing on a gap.

        While a resubscribe awaits its reply, events of the channel are dropped
        because the replay that follows the reply contains them.
        """
        resync = self._resyncs.get(channel)
        if resync is not None:
            return not resync.awaiting_reply
        last = self.channels[channel]
        # Sequences count a conversation's log events without holes, but a
        # socket is not sent every one of them (internal notes skip customer
        # sockets, some log events have no frame), so a jump may be harmless.
        # A replay from ``last`` distinguishes the two. Cursors number the
        # whole log, so mailbox and agent channels have no such check, and
        # the server itself sends their events missed over Redis from the log.
        if channel.startswith(CONVERSATION_PREFIX) and last is not None and position > last + 1:
            log.info("%s: sequence %d follows %d; replaying the gap", channel, position, last)
            self._resubscribe(channel)
            return False
        return True

    def _continue_replay(self, channel: str) -> None:
        """Count a replayed event, and ask for the next replay after the last one."""
        resync = self._resyncs.get(channel)
        if resync is None:
            return
        resync.replay_left -= 1
        if resync.replay_left > 0:
            return
        if resync.has_more:
            self._replay_next(channel, resync.next_since)
        else:
            del self._resyncs[channel]

    def _end_resync(self, event: RealtimeEvent) -> None:
        if event.channel and self._resyncs.pop(event.channel, None) is not None:
            log.warning("%s: the resubscribe failed; events may be missing", event.channel)

    @staticmethod
    def is_fatal_close(code: int | None) -> bool:
        return code in FATAL_CLOSE_CODES

    def reconnect_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Return the wait before reconnect ``attempt`` (0-based): capped exponential, jittered.

        The wait is at least ``retry_after``, the server's hint, up to 60 s.
        """
        delay = min(MAX_RECONNECT_DELAY, INITIAL_RECONNECT_DELAY * 2**attempt)
        delay *= 0.5 + self._random() / 2
        if retry_after is not None:
            delay = max(delay, min(MAX_RETRY_AFTER, retry_after))
        return delay


class RealtimeClient:
    """Receive conversation, message, typing and handoff events over a WebSocket.

    ```python
    async with client.realtime() as realtime:
        await realtime.subscribe("conversation:conv_789")
        async for event in realtime:
            print(event.type, event.data)
    ```

    The connection is re-opened with backoff when it drops, and every
    channel resumes after the last position received, so no event is lost
    or delivered twice. A reconnect that the server rejects for a while
    (``RATE_LIMIT_EXCEEDED`` when the organization already has its maximum
    number of sockets open, ``TIMEOUT``, ``INTERNAL_ERROR``,
    ``SERVICE_UNAVAILABLE``) is retried with the same backoff, waiting at
    least the ``retryAfter`` of the error frame. Iteration ends after
    ``close()``. ``RealtimeError`` is raised when the server rejects the
    credential or the access, or on any other error code.

    **Parameters**

    * **api_key**: a secret key or a JWT, sent in the ``auth`` frame.
    * **base_url**: the REST API root; the WebSocket is ``<base_url>/realtime``.
    * **url**: the WebSocket URL, when it is not derived from ``base_url``.
    * **max_reconnect_attempts**: consecutive failed reconnects before giving up; None
      keeps trying.
    * **open_timeout**: seconds to open the socket and to get the ``authenticated`` frame.
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
        """How many times the connection was re-opened after a drop."""
        self._connection: Any = None
        self._closed = False
        self._ever_connected = False

    async def connect(self) -> None:
        """Open the connection, authenticate, and send the subscriptions made so far."""
        try:
            import websockets
        except ImportError as error:
            raise ImportError(
                "the realtime client needs the websockets package: "
                "pip install 'campfire-sdk[realtime]'"
            ) from error
        connection = await websockets.connect(self.url, open_timeout=self.open_timeout)
        try:
            await connection.send(self.session.auth_frame())
            await asyncio.wait_for(self._authenticated(connection), self.open_timeout)
            # The server rejects other frames until it has accepted the auth frame.
            for frame in self.session.subscribe_frames():
                await connection.send(frame)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self._ever_connected = True

    async def _authenticated(self, connection: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                text = await connection.recv()
            except ConnectionClosed as closed:
                code, reason = _close_code(closed)
                if self.session.is_fatal_close(code):
                    raise RealtimeError(
                        f"the server rejected the realtime credential ({code} {reason})".strip(),
                        code=str(code),
                    ) from None
                raise
            event = self.session.receive(text)
            if event is None:
                continue
            if event.type == "authenticated":
                return
            if event.type == "error":
                raise auth_refusal(event.data if isinstance(event.data, dict) else {})

    async def subscribe(self, channel: str, *, since: int | None = None) -> None:
        """Subscribe to ``conversation:{id}``, ``mailbox:{id}`` or ``agent:{id}``.

        ``since`` requests a replay of the events after that position first.
        """
        await self._send(self.session.subscribe_frame(channel, since))

    async def unsubscribe(self, channel: str) -> None:
        await self._send(self.session.unsubscribe_frame(channel))

    async def send_typing(self, channel: str, is_typing: bool = True) -> None:
        await self._send(self.session.typing_frame(channel, is_typing))

    async def _send(self, frame: str) -> None:
        from websockets.exceptions import ConnectionClosed

        if self._connection is None:
            return  # subscriptions are sent by connect() when the connection opens
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
                code, reason = _close_code(closed)
                if self.session.is_fatal_close(code):
                    raise RealtimeError(
                        f"the server closed the realtime connection ({code} {reason})".strip(),
                        code=str(code),
                    ) from None
                log.warning("realtime connection closed (%s %s); reconnecting", code, reason)
                self._connection = None
                continue
            event = self.session.receive(text)
            for frame in self.session.take_frames():
                await self._send(frame)
            if event is not None:
                return event

    async def _reconnect(self) -> None:
        from websockets.exceptions import WebSocketException

        attempt = 0
        retry_after: float | None = None
        was_connected = self._ever_connected
        while True:
            if self._closed:
                raise RealtimeError("the realtime client is closed")
            if attempt or was_connected:
                await asyncio.sleep(self.session.reconnect_delay(attempt, retry_after))
            try:
                await self.connect()
            except RealtimeError as error:
                if not error.retryable:
                    raise
                failure: Exception = error
                retry_after = error.retry_after
            except (OSError, asyncio.TimeoutError, WebSocketException) as error:
                failure = error
                retry_after = None
            else:
                if was_connected:
                    self.reconnects += 1
                return
            attempt += 1
            code = failure.code if isinstance(failure, RealtimeError) else None
            log.warning(
                "realtime reconnect attempt %d to %s failed%s: %s",
                attempt,
                self.url,
                f" ({code})" if code else "",
                failure,
            )
            limit = self.max_reconnect_attempts
            if limit is not None and attempt >= limit:
                raise RealtimeError(
                    f"could not reconnect to {self.url} after {attempt} attempts: {failure}",
                    code=code,
                ) from failure

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

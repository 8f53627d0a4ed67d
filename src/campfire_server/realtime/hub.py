"""The sockets of one process and the channels they subscribe to.

Fan-out is a plain loop over a channel's subscriptions, each of which puts
the already serialised frame on its socket's bounded send queue; a writer
task per socket drains the queue. A socket whose queue is full is closed
(1013) instead of letting its backlog grow without bound.

The hub receives everything from the broker as envelopes (plain dicts, so
they can cross Redis): ``event`` (a logged event), ``typing`` and
``presence``. A typing ``true`` expires in every process that relayed it
(``typing_ttl_seconds`` after it arrived, unless a refresh or a ``false``
arrived), so the indicator ends even when the typing socket's process
died. Events of one conversation are put back in sequence order
before fan-out, because two transactions can reach the hub in the other
order than they committed in (two threads, or two processes). A sequence
still missing after ``REORDER_HOLD_SECONDS`` is read from the log through
``gap_reader`` (``catch_up``), so an event whose envelope never arrived
(a lost Redis subscription) reaches the sockets in its place.

With ``ordered_log`` (PostgreSQL, or any database with Redis), mailbox and agent channels get their
events only through ``deliver_logged``, in position order (``log_tail``),
and broker envelopes reach conversation channels alone.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import clock
from ..auth.principal import Principal
from ..events.records import EventRecord
from .events import EventFrame, dumps, frame_for, presence_frame, typing_frame
from .protocol import CLOSE_TRY_AGAIN

log = logging.getLogger(__name__)

Sender = Callable[[str], Any]  # an async function sending one text frame
# A function that writes one text frame at once and returns True, or returns
# False when the socket cannot take it now (the queue and writer then do).
DirectWriter = Callable[[str], bool]

# How long an event that arrived ahead of a missing sequence waits for it
# before the missing one is read from the log.
REORDER_HOLD_SECONDS = 0.25
# Log reads after which a sequence still missing is taken as pruned and skipped.
MAX_GAP_READS = 3
# Conversations whose next expected sequence the hub remembers.
MAX_STREAMS = 50_000
# Frames a subscription buffers while its replay is read from the log.
MAX_REPLAY_BUFFER = 10_000

# A typist: organization, channel, authorId, authorType and the sending socket's id.
TypingKey = tuple[str, str, str, str, str | None]


class Connection:
    """One authenticated socket: its send queue, writer task and subscriptions."""

    def __init__(
        self,
        connection_id: str,
        principal: Principal,
        send: Sender,
        *,
        queue_frames: int,
        on_drop: Callable[[Connection, int, str], None],
        write_now: DirectWriter | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.id = connection_id
        self.principal = principal
        self.is_customer = principal.is_customer
        self.subscriptions: dict[str, Subscription] = {}
        self.typing: dict[str, asyncio.TimerHandle] = {}
        self.last_received = loop.time()
        self.next_heartbeat = 0.0
        self.closed = False
        # The connection limiter's claim for this socket, given back on close.
        self.slot: Any = None
        # The timer that closes the socket when its token expires.
        self.expiry: asyncio.TimerHandle | None = None
        self._send = send
        self._write_now = write_now
        self._sending = False
        self._limit = queue_frames
        # Replayed frames still in the queue; they do not count against the bound.
        self._replayed = 0
        self._pending: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_drop = on_drop
        self._writer = loop.create_task(self._write_loop())

    def enqueue(self, text: str) -> None:
        if self.closed:
            return
        # An idle, writable socket gets the frame at once, as a bare broadcast
        # would write it, which saves a task switch per delivery.
        write_now = self._write_now
        if write_now is not None and not self._pending and not self._sending:
            try:
                if write_now(text):
                    return
            except Exception as error:  # the socket went away; the writer reports it
                log.debug("realtime direct write failed", extra={"error": str(error)})
        if len(self._pending) - self._replayed >= self._limit:
            log.warning(
                "realtime socket dropped: send queue full",
                extra={"connection_id": self.id, "organization_id": self.principal.org_id},
            )
            self.drop(CLOSE_TRY_AGAIN, "the client reads too slowly; reconnect with since")
            return
        self._pending.append(text)
        self._idle.clear()
        self._wakeup.set()

    def enqueue_frame(self, frame: dict[str, Any]) -> None:
        self.enqueue(dumps(frame))

    def enqueue_replay(self, texts: list[str]) -> None:
        """Queue replayed frames even past the queue bound; a replay is bounded by itself."""
        if self.closed or not texts:
            return
        self._pending.extend(texts)
        self._replayed += len(texts)
        self._idle.clear()
        self._wakeup.set()

    def drop(self, code: int, reason: str) -> None:
        """Stop sending and ask the gateway to close the socket with ``code``."""
        if self.closed:
            return
        self.closed = True
        self._writer.cancel()
        self._on_drop(self, code, reason)

    async def flush(self, timeout: float) -> None:
        """Wait until the queue is sent (or ``timeout`` passes), then stop the writer."""
        if not self.closed:
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except TimeoutError:
                pass
        await self.close()

    async def close(self) -> None:
        """Stop sending, cancel the writer task and wait until it has ended.

        A writer left waiting on its wake-up event would be garbage collected
        with the connection while still pending.
        """
        self.closed = True
        self._writer.cancel()
        # asyncio.wait does not re-raise the writer's CancelledError, so only
        # a cancellation of the caller's own task propagates from here.
        await asyncio.wait([self._writer])

    async def _write_loop(self) -> None:
        pending = self._pending
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                self._sending = True
                while pending:
                    text = pending.popleft()
                    if self._replayed:
                        # Every frame sent shrinks the allowance, so a live
                        # frame queued before the replay only ends it early,
                        # which makes the bound stricter, never looser.
                        self._replayed -= 1
                    await self._send(text)
                self._sending = False
                self._idle.set()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the socket went away while sending
            log.debug(
                "realtime writer stopped", extra={"connection_id": self.id, "error": str(error)}
            )
            self.closed = True
            pending.clear()
            self._idle.set()


@dataclass(eq=False, slots=True)
class Subscription:
    """One socket's interest in one channel.

    While the subscribe reads the channel's position (and any replay) from
    the log, live frames wait in ``buffer``. ``go_live`` then sets ``floor``
    to the position the ``subscribed`` reply reports and sends the buffered
    frames after it. A frame at or below the floor is never sent live, even
    when it reaches the hub later (through Redis, or after the commit that
    the read already saw), because the reply and the replay count it.
    """

    connection: Connection
    channel: str
    buffer: list[tuple[int, int | None, str]] | None = field(default_factory=list)
    # Whether the floor is a cursor (mailbox and agent channels) or a sequence.
    by_cursor: bool = False
    floor: int | None = None

    def offer(self, position: int, sequence: int | None, text: str) -> None:
        if self.buffer is None:
            if self._after_floor(position, sequence):
                self._send(sequence, text)
        elif len(self.buffer) < MAX_REPLAY_BUFFER:
            self.buffer.append((position, sequence, text))
        else:
            self.connection.drop(CLOSE_TRY_AGAIN, "too many events during the replay; reconnect")

    def go_live(self, floor: int) -> None:
        """Send the buffered frames after ``floor``, and every later frame after it live."""
        self.floor = floor
        buffered, self.buffer = self.buffer or [], None
        for position, sequence, text in buffered:
            if self._after_floor(position, sequence):
                self._send(sequence, text)

    def _send(self, sequence: int | None, text: str) -> None:
        self.connection.enqueue(text)
        if not self.by_cursor and sequence is not None:
            # The hub hands a conversation's events over in sequence order, so
            # the floor follows the last one sent, and a second copy of it
            # (from Redis after the log, or the other way round) is dropped.
            self.floor = sequence

    def _after_floor(self, position: int, sequence: int | None) -> bool:
        key = position if self.by_cursor else sequence
        return self.floor is None or key is None or key > self.floor


class _Stream:
    __slots__ = ("expected", "gap_reads", "held", "org_id", "timer")

    def __init__(self, org_id: str, expected: int) -> None:
        self.org_id = org_id
        # The next sequence to fan out; every lower one was sent or skipped.
        self.expected = expected
        self.held: list[tuple[int, int, EventRecord]] = []
        self.timer: asyncio.TimerHandle | None = None
        # Log reads since the missing sequence was first waited for.
        self.gap_reads = 0


class Hub:
    """Connection registry and channel fan-out of one process."""

    def __init__(
        self,
        *,
        heartbeat_seconds: float = 25.0,
        idle_timeout_seconds: float = 0.0,
        ordered_log: bool = False,
        typing_ttl_seconds: float = 10.0,
    ):
        self.connections: dict[str, Connection] = {}
        self.ordered_log = ordered_log
        # Subscriptions to mailbox and agent channels, whose events the log tail reads.
        self.log_subscriptions = 0
        # (org_id, channel) -> connection id -> subscription
        self.channels: dict[tuple[str, str], dict[str, Subscription]] = {}
        self.deliveries = 0
        self._streams: OrderedDict[str, _Stream] = OrderedDict()
        self._heartbeat_seconds = heartbeat_seconds
        self._idle_timeout_seconds = idle_timeout_seconds
        self._typing_ttl_seconds = typing_ttl_seconds
        # The timers that turn a relayed typing ``true`` into ``false``.
        self._typing: dict[TypingKey, asyncio.TimerHandle] = {}
        # Called with (organization id, conversation id) to read a conversation's
        # missing events from the log and hand them to ``fill``. Without it, a
        # missing sequence is skipped after the hold.
        self.gap_reader: Callable[[str, str], None] | None = None

    # Registry ----------------------------------------------------------------

    def add(self, connection: Connection) -> None:
        self.connections[connection.id] = connection
        connection.next_heartbeat = self._next_heartbeat(asyncio.get_running_loop().time())

    def remove(self, connection: Connection) -> None:
        self.connections.pop(connection.id, None)
        for name in list(connection.subscriptions):
            self.unsubscribe(connection, name)

    def subscribe(self, connection: Connection, channel: str) -> Subscription:
        """Register a buffering subscription; call ``go_live`` on it once replayed."""
        self.unsubscribe(connection, channel)
        subscription = Subscription(connection, channel, by_cursor=_is_log_channel(channel))
        connection.subscriptions[channel] = subscription
        key = (connection.principal.org_id, channel)
        self.channels.setdefault(key, {})[connection.id] = subscription
        if _is_log_channel(channel):
            self.log_subscriptions += 1
        return subscription

    def unsubscribe(self, connection: Connection, channel: str) -> None:
        subscription = connection.subscriptions.pop(channel, None)
        if subscription is None:
            return
        if _is_log_channel(channel):
            self.log_subscriptions -= 1
        key = (connection.principal.org_id, channel)
        members = self.channels.get(key)
        if members is not None:
            members.pop(connection.id, None)
            if not members:
                del self.channels[key]

    def prime(self, org_id: str, conversation_id: str, current_sequence: int) -> None:
        """Tell the reorder step the sequence a conversation has reached, if it has no state yet."""
        if conversation_id not in self._streams:
            self._remember(conversation_id, _Stream(org_id, current_sequence + 1))

    def subscribed_conversations(self) -> list[tuple[str, str]]:
        """Return (organization id, conversation id) of every conversation channel with a socket."""
        return [
            (org_id, channel.removeprefix("conversation:"))
            for org_id, channel in self.channels
            if channel.startswith("conversation:")
        ]

    def next_sequence(self, org_id: str, conversation_id: str) -> int | None:
        """Return the conversation's first sequence not fanned out yet, or None if unknown."""
        stream = self._streams.get(conversation_id)
        if stream is not None:
            return stream.expected
        return self._sent_floor(org_id, conversation_id)

    def _sent_floor(self, org_id: str, conversation_id: str) -> int | None:
        """Return one above the lowest sequence that a live subscription has sent, if any."""
        members = self.channels.get((org_id, f"conversation:{conversation_id}"))
        floors = [
            subscription.floor
            for subscription in (members or {}).values()
            if subscription.buffer is None and subscription.floor is not None
        ]
        return min(floors) + 1 if floors else None

    # Delivery ----------------------------------------------------------------

    def deliver(self, envelope: dict[str, Any]) -> None:
        """Fan one broker envelope out to the subscribed sockets of this process."""
        kind = envelope.get("kind")
        try:
            if kind == "event":
                self._order(EventRecord(**envelope["record"]))
            elif kind == "typing":
                self._deliver_typing(envelope)
            elif kind == "presence":
                self._deliver_presence(envelope)
            else:
                log.warning("realtime envelope of unknown kind ignored", extra={"kind": kind})
        except Exception:
            log.exception("realtime delivery failed", extra={"kind": kind})

    def deliver_logged(self, record: EventRecord) -> None:
        """Fan a settled log event out to its mailbox and agent channels (``ordered_log``)."""
        try:
            self._dispatch(record, conversation=False, log_channels=True)
        except Exception:
            log.exception("realtime delivery failed", extra={"event_id": record.id})

    def fill(self, record: EventRecord) -> None:
        """Fan out an event read from the log; a socket that was sent it already drops the copy."""
        try:
            self._order(record)
        except Exception:
            log.exception("realtime delivery failed", extra={"event_id": record.id})

    def fill_done(self, conversation_id: str) -> None:
        """Note the end of a log read for the conversation; wait again if a gap remains.

        The events after a gap may be on their way still (committed after the
        read), so the hold starts again. After ``MAX_GAP_READS`` reads the
        missing events are taken as pruned, and the held ones are sent.
        """
        stream = self._streams.get(conversation_id)
        if stream is None or not stream.held or stream.timer is not None:
            return
        stream.gap_reads += 1
        if stream.gap_reads >= MAX_GAP_READS:
            log.warning(
                "realtime events missing from the log; sending the later ones",
                extra={
                    "conversation_id": conversation_id,
                    "missing_from": stream.expected,
                    "next_held": stream.held[0][0],
                },
            )
            self._release_held(conversation_id)
            return
        self._hold(conversation_id, stream)

    def _order(self, record: EventRecord) -> None:
        conversation_id, sequence = record.conversation_id, record.sequence
        if conversation_id is None or sequence is None:
            self._dispatch(record)
            return
        stream = self._streams.get(conversation_id)
        if stream is None:
            # A socket may have been sent events before this state was evicted,
            # so the gap after its last one is filled rather than skipped.
            floor = self._sent_floor(record.org_id, conversation_id)
            expected = sequence if floor is None else min(floor, sequence)
            stream = _Stream(record.org_id, expected)
            self._remember(conversation_id, stream)
        else:
            self._streams.move_to_end(conversation_id)
        if sequence < stream.expected:
            # Sent already (a copy from the log or Redis), or late after a skip.
            # A conversation channel drops it by its subscriptions' floors. A
            # mailbox or agent channel fed from here (SQLite without Redis)
            # gets a late event rather than none, as a reorder hold would.
            self._dispatch(record)
            return
        if sequence > stream.expected:
            heapq.heappush(stream.held, (sequence, record.position, record))
            if stream.timer is None:
                self._hold(conversation_id, stream)
            return
        self._dispatch(record)
        stream.expected = sequence + 1
        self._drain(stream)

    def _drain(self, stream: _Stream) -> None:
        """Send the held events that follow ``stream.expected`` without a gap."""
        while stream.held and stream.held[0][0] <= stream.expected:
            held_sequence, _, held = heapq.heappop(stream.held)
            if held_sequence < stream.expected:
                continue  # a second copy of a held event
            self._dispatch(held)
            stream.expected = held_sequence + 1
        if not stream.held:
            stream.gap_reads = 0
            if stream.timer is not None:
                stream.timer.cancel()
                stream.timer = None

    def _hold(self, conversation_id: str, stream: _Stream) -> None:
        stream.timer = asyncio.get_running_loop().call_later(
            REORDER_HOLD_SECONDS, self._gap_timed_out, conversation_id
        )

    def _gap_timed_out(self, conversation_id: str) -> None:
        """Read the missing events from the log, or skip them when no socket here needs them."""
        stream = self._streams.get(conversation_id)
        if stream is None:
            return
        stream.timer = None
        channel = (stream.org_id, f"conversation:{conversation_id}")
        needed = channel in self.channels or (not self.ordered_log and self.log_subscriptions > 0)
        if self.gap_reader is None or not needed:
            self._release_held(conversation_id)
            return
        self.gap_reader(stream.org_id, conversation_id)

    def _release_held(self, conversation_id: str) -> None:
        stream = self._streams.get(conversation_id)
        if stream is None:
            return
        if stream.timer is not None:
            stream.timer.cancel()
        stream.timer = None
        stream.gap_reads = 0
        while stream.held:
            sequence, _, record = heapq.heappop(stream.held)
            if sequence < stream.expected:
                continue
            self._dispatch(record)
            stream.expected = sequence + 1

    def _remember(self, conversation_id: str, stream: _Stream) -> None:
        self._streams[conversation_id] = stream
        while len(self._streams) > MAX_STREAMS:
            _, evicted = self._streams.popitem(last=False)
            if evicted.timer is not None:
                evicted.timer.cancel()
                for _, _, record in sorted(evicted.held):
                    self._dispatch(record)

    def _dispatch(
        self, record: EventRecord, *, conversation: bool = True, log_channels: bool | None = None
    ) -> None:
        if not self.channels:
            # No socket of this process subscribes to any channel, so it builds no frame.
            return
        if log_channels is None:
            log_channels = not self.ordered_log
        frame = frame_for(record)
        if frame is None:
            return
        org_id = record.org_id
        names: list[str] = []
        if conversation and record.conversation_id:
            names.append(f"conversation:{record.conversation_id}")
        if log_channels and record.mailbox_id:
            names.append(f"mailbox:{record.mailbox_id}")
        if log_channels:
            names.extend(f"agent:{agent_id}" for agent_id in frame.agent_ids)
        for name in names:
            members = self.channels.get((org_id, name))
            if members:
                self._fan_out(frame, name, members)

    def _fan_out(self, frame: EventFrame, channel: str, members: dict[str, Subscription]) -> None:
        text = frame.render(channel)
        customer_text: str | None = None
        position, sequence = frame.record.position, frame.record.sequence
        private = frame.private
        mailbox_id = frame.record.mailbox_id
        count = 0
        for subscription in list(members.values()):
            connection = subscription.connection
            # An agent channel carries every mailbox's events, so a limited socket skips others.
            scope = connection.principal.mailbox_ids
            if scope and mailbox_id not in scope:
                continue
            if connection.is_customer:
                if private:
                    continue
                if customer_text is None:
                    customer_text = frame.render(channel, customer=True)
                subscription.offer(position, sequence, customer_text)
                count += 1
                continue
            subscription.offer(position, sequence, text)
            count += 1
        self.deliveries += count

    def _deliver_typing(self, envelope: dict[str, Any]) -> None:
        channel = envelope["channel"]
        key: TypingKey = (
            envelope["org"],
            channel,
            envelope["authorId"],
            envelope["authorType"],
            envelope.get("origin"),
        )
        timer = self._typing.pop(key, None)
        if timer is not None:
            timer.cancel()
        members = self.channels.get((key[0], channel))
        if not members:
            return
        if envelope["isTyping"]:
            self._typing[key] = asyncio.get_running_loop().call_later(
                self._typing_ttl_seconds, self._expire_typing, key
            )
        self._send_typing(key, members, envelope["isTyping"], envelope["ts"])

    def _expire_typing(self, key: TypingKey) -> None:
        """Send ``isTyping: false`` for a ``true`` that was not refreshed in time."""
        self._typing.pop(key, None)
        members = self.channels.get((key[0], key[1]))
        if members:
            self._send_typing(key, members, False, clock.now_ms())

    def _send_typing(
        self, key: TypingKey, members: dict[str, Subscription], is_typing: bool, now_ms: int
    ) -> None:
        _org_id, channel, author_id, author_type, origin = key
        text = dumps(
            typing_frame(
                channel,
                author_id=author_id,
                author_type=author_type,
                is_typing=is_typing,
                now_ms=now_ms,
            )
        )
        for connection_id, subscription in list(members.items()):
            if connection_id != origin and subscription.buffer is None:
                subscription.connection.enqueue(text)

    def _deliver_presence(self, envelope: dict[str, Any]) -> None:
        org_id, agent_id = envelope["org"], envelope["agentId"]
        mailbox_ids = set(envelope.get("mailboxIds") or ())
        for (org, channel), members in list(self.channels.items()):
            if org != org_id:
                continue
            kind, _, channel_id = channel.partition(":")
            wanted = (kind == "agent" and channel_id == agent_id) or (
                kind == "mailbox" and (not mailbox_ids or channel_id in mailbox_ids)
            )
            if not wanted:
                continue
            text = dumps(
                presence_frame(
                    channel,
                    agent_id=agent_id,
                    status=envelope["status"],
                    connections=envelope["connections"],
                    now_ms=envelope["ts"],
                )
            )
            for subscription in list(members.values()):
                if subscription.buffer is None:
                    subscription.connection.enqueue(text)

    # Heartbeats and idle sockets ------------------------------------------------

    def _next_heartbeat(self, now: float) -> float:
        # +-20 % jitter spreads the pings of sockets that connected together.
        return now + self._heartbeat_seconds * random.uniform(0.8, 1.2)

    def sweep(self, now: float) -> None:
        """Send due heartbeats and close idle sockets; the service calls this every second."""
        ping: str | None = None
        for connection in list(self.connections.values()):
            if connection.closed:
                continue
            idle = now - connection.last_received
            if self._idle_timeout_seconds and idle > self._idle_timeout_seconds:
                connection.drop(
                    4408,
                    f"no frame received for {self._idle_timeout_seconds:g} s; "
                    "answer each ping with a pong",
                )
                continue
            if now >= connection.next_heartbeat:
                if ping is None:
                    ping = dumps({"type": "ping", "timestamp": clock.to_iso(clock.now_ms())})
                connection.enqueue(ping)
                connection.next_heartbeat = self._next_heartbeat(now)


def _is_log_channel(channel: str) -> bool:
    """Tell whether ``channel`` resumes by log position (mailbox and agent channels)."""
    return channel.startswith(("mailbox:", "agent:"))

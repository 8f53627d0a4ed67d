"""Mailbox and agent channel events of the log, sent in position order.

A mailbox or agent channel carries the events of many conversations, and
its resume point is the event's position in the whole log (``cursor``).
On PostgreSQL events arrive from the bus (or Redis) in commit order,
which is not position order, and with Redis several processes publish in
no common order, and a process may miss envelopes while its subscription
is down. So this process reads them from the log up
to the settled horizon (``events.horizon``) instead, and hands them to the
hub in position order. A socket therefore receives each such event once,
in increasing ``cursor``, and a resubscribe with ``since`` set to the last
cursor seen replays exactly what it missed.

Any event envelope (local or from another process) wakes the tail, and
so does the realtime sweep every second, which catches an event whose
Redis message was lost or that another process wrote without Redis.
While transactions that drew positions are still running, the tail probes
again every ``PROBE_INTERVAL_SECONDS``.

NOTE: a long transaction that draws event positions (a bulk import) holds
back the mailbox and agent channels of every process until it ends.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

from ..db.database import Database
from ..events import horizon
from ..events.records import EventRecord
from ..outage_log import OutageLog

log = logging.getLogger(__name__)

_READ_FAILED = "realtime log tail read failed; retrying"

PROBE_INTERVAL_SECONDS = 0.01
READ_BATCH = 1000
# Probes at startup after which a still running transaction is logged.
STARTUP_WARNING_PROBES = 500


class LogTail:
    """Sends the settled part of the event log to ``deliver``, once and in position order."""

    def __init__(
        self,
        db: Database,
        deliver: Callable[[EventRecord], None],
        has_subscribers: Callable[[], bool],
        *,
        outages: OutageLog | None = None,
    ) -> None:
        self._db = db
        self._deliver = deliver
        # Whether any socket of this process subscribes to a mailbox or agent channel.
        self._has_subscribers = has_subscribers
        self._sequence = ""
        self._horizon = horizon.Horizon()
        # Every event at or below this position has been handed to ``deliver``, or
        # was settled while no socket subscribed to its channels.
        self.released = 0
        self._task: asyncio.Task[None] | None = None
        self._again = False
        # Failures in a row, which set the pause before the next read.
        self._failures = 0
        self._outages = outages if outages is not None else OutageLog(log)

    async def start(self) -> None:
        """Find the sequence and wait until the current end of the log is settled."""
        self._sequence = await self._db.read(horizon.position_sequence)
        probes = 0
        while True:
            settled = self._horizon.observe(await self._db.read(self._probe))
            if settled is not None:
                self.released = settled
                return
            probes += 1
            if probes == STARTUP_WARNING_PROBES:
                log.warning(
                    "realtime waits for transactions that drew event positions to end",
                    extra={"sequence": self._sequence},
                )
            await asyncio.sleep(PROBE_INTERVAL_SECONDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def wake(self) -> None:
        """Probe the log soon; calls while a probe runs make it probe once more."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._again = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    def _probe(self, tx) -> horizon.Probe:  # type: ignore[no-untyped-def]
        return horizon.probe(tx, self._sequence)

    async def _run(self) -> None:
        while True:
            try:
                await self._advance()
                self._outages.recovery(_READ_FAILED, "realtime log tail recovered")
                self._failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._failures += 1
                self._outages.failure(_READ_FAILED, _READ_FAILED, extra={"error": str(error)[:300]})
                await asyncio.sleep(min(1.0, PROBE_INTERVAL_SECONDS * 2**self._failures))
                continue
            if not self._again and not self._horizon.waiting:
                return
            self._again = False
            await asyncio.sleep(PROBE_INTERVAL_SECONDS)

    async def _advance(self) -> None:
        settled = self._horizon.observe(await self._db.read(self._probe))
        while settled is not None and settled > self.released:
            # Decided and applied without an await in between, so a socket
            # that subscribes meanwhile replays up to ``released`` and then
            # gets everything after it from here.
            if not self._has_subscribers():
                self.released = settled
                return
            after = self.released
            records = await self._db.read(
                functools.partial(horizon.read_range, after=after, upto=settled, limit=READ_BATCH)
            )
            if self.released != after:
                return
            if len(records) < READ_BATCH:
                upto = settled
            else:
                upto = records[-1].position
            for record in records:
                self._deliver(record)
            self.released = upto

"""Conversation events that this process's broker may have missed, read from the event log.

Conversation channels get their events from the broker, which can miss
some: a Redis subscription that dropped and was made again, or another
process that could not publish. The log contains every committed event, so
this reads what is missing and hands it to the hub (``Hub.fill``), which
sends it in sequence order and drops the copies that arrive twice.

Two things start a read:

* a gap in a conversation's sequences that the hub held for
  ``REORDER_HOLD_SECONDS`` (``request``);
* a ``resync`` envelope (``resync``), which the Redis broker delivers after
  every confirmed subscription and publishes once it can publish again
  after a failure. Then every conversation that a socket of this process
  subscribes to is read from the first sequence the hub has not sent.
"""

from __future__ import annotations

import asyncio
import functools
import logging

from ..db.database import Database
from ..db.tx import Tx
from ..events.records import EventRecord
from .hub import Hub
from .service import EVENT_COLUMNS, record_from_row

log = logging.getLogger(__name__)

READ_BATCH = 1000
# Conversation ids per query when a resync reads their last sequences.
SEQUENCE_BATCH = 500
# Attempts of one read before its conversation waits for the next gap or resync.
MAX_ATTEMPTS = 5


def read_conversation_events(
    tx: Tx, org_id: str, conversation_id: str, after: int, limit: int
) -> list[EventRecord]:
    """Return up to ``limit`` events of the conversation after sequence ``after``, in order."""
    rows = tx.all(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE org_id = :org_id "
        "AND conversation_id = :conversation_id AND sequence > :after "
        "ORDER BY sequence LIMIT :limit",
        org_id=org_id,
        conversation_id=conversation_id,
        after=after,
        limit=limit,
    )
    return [record_from_row(row) for row in rows]


def read_last_sequences(tx: Tx, org_id: str, conversation_ids: list[str]) -> dict[str, int]:
    """Return the last event sequence of each conversation that exists."""
    names = [f"id{index}" for index in range(len(conversation_ids))]
    placeholders = ", ".join(f":{name}" for name in names)
    rows = tx.all(
        "SELECT id, event_seq FROM conversations "
        f"WHERE org_id = :org_id AND id IN ({placeholders})",
        org_id=org_id,
        **dict(zip(names, conversation_ids, strict=True)),
    )
    return {row["id"]: int(row["event_seq"]) for row in rows}


class CatchUp:
    """Reads missed conversation events from the log, one task per conversation."""

    def __init__(self, db: Database, hub: Hub) -> None:
        self._db = db
        self._hub = hub
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Conversations asked for again while their read ran, so read once more.
        self._again: set[str] = set()
        self._resyncs: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        tasks = [*self._tasks.values(), *self._resyncs]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._resyncs.clear()

    def request(self, org_id: str, conversation_id: str) -> None:
        """Read the conversation's events after the last one the hub sent, soon."""
        if conversation_id in self._tasks:
            self._again.add(conversation_id)
            return
        task = asyncio.get_running_loop().create_task(self._read(org_id, conversation_id))
        self._tasks[conversation_id] = task
        task.add_done_callback(functools.partial(self._finished, conversation_id))

    def resync(self) -> None:
        """Read every subscribed conversation that the log shows events of beyond the hub."""
        task = asyncio.get_running_loop().create_task(self._resync())
        self._resyncs.add(task)
        task.add_done_callback(self._resyncs.discard)

    def _finished(self, conversation_id: str, task: asyncio.Task[None]) -> None:
        self._tasks.pop(conversation_id, None)

    async def _resync(self) -> None:
        by_org: dict[str, list[str]] = {}
        for org_id, conversation_id in self._hub.subscribed_conversations():
            by_org.setdefault(org_id, []).append(conversation_id)
        for org_id, conversation_ids in by_org.items():
            for start in range(0, len(conversation_ids), SEQUENCE_BATCH):
                batch = conversation_ids[start : start + SEQUENCE_BATCH]
                try:
                    read = functools.partial(
                        read_last_sequences, org_id=org_id, conversation_ids=batch
                    )
                    last = await self._db.read(read)
                except Exception as error:
                    # Each conversation still reads its gap once its next event arrives.
                    log.warning(
                        "realtime resync could not read conversation sequences; "
                        "gaps are read when the next event of each arrives",
                        extra={"organization_id": org_id, "error": str(error)[:300]},
                    )
                    continue
                for conversation_id, sequence in last.items():
                    expected = self._hub.next_sequence(org_id, conversation_id)
                    if expected is not None and sequence >= expected:
                        self.request(org_id, conversation_id)

    async def _read(self, org_id: str, conversation_id: str) -> None:
        attempt = 0
        while True:
            try:
                await self._read_pages(org_id, conversation_id)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                attempt += 1
                if attempt >= MAX_ATTEMPTS:
                    log.warning(
                        "realtime catch-up read failed; giving up until the next gap or resync",
                        extra={
                            "organization_id": org_id,
                            "conversation_id": conversation_id,
                            "attempts": attempt,
                            "error": str(error)[:300],
                        },
                    )
                    self._again.discard(conversation_id)
                    self._hub.fill_done(conversation_id)
                    return
                await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
                continue
            self._hub.fill_done(conversation_id)
            if conversation_id not in self._again:
                return
            self._again.discard(conversation_id)

    async def _read_pages(self, org_id: str, conversation_id: str) -> None:
        expected = self._hub.next_sequence(org_id, conversation_id)
        if expected is None:
            return
        after = expected - 1
        while True:
            records = await self._db.read(
                functools.partial(
                    read_conversation_events,
                    org_id=org_id,
                    conversation_id=conversation_id,
                    after=after,
                    limit=READ_BATCH,
                )
            )
            for record in records:
                self._hub.fill(record)
            if len(records) < READ_BATCH:
                return
            # Not the hub's next sequence: a pruned event would keep that one back.
            after = int(records[-1].sequence or after)

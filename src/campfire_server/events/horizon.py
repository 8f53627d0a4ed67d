"""The settled horizon of the PostgreSQL event log: no new event can appear at or below it.

On PostgreSQL an event takes its position from a sequence when it is
inserted, but becomes visible when its transaction commits, and
transactions commit in another order than they drew positions. A reader
that sends events on as they commit therefore sends position 12 before
position 10, and a client that resumes after "the last position seen"
skips 10.

``nextval`` locks the sequence (``RowExclusiveLock``) until the drawing
transaction ends. So when a probe reads the sequence's last value ``L``
and then the transactions that hold that lock, every position up to ``L``
belongs to a transaction that has ended or is among those holders. Once
all of them have ended, no event at or below ``L`` can still appear: ``L``
is settled. Reading the log up to a settled position, in position order,
gives every committed event once and in order.

This relies on the sequence having ``CACHE 1`` (PostgreSQL's default),
because a session that cached values could use them after the probe
without drawing from the sequence again. ``probe`` checks it.

SQLite has one writer at a time, and a row's position is drawn inside its
write transaction, so an event that commits later always has a higher
position than every committed one. There the highest committed position is
settled as soon as it is read.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass

from ..db.tx import Tx
from .records import EventRecord

# Probes waiting for their holders to end; past this many, the newest two merge.
MAX_PENDING_PROBES = 256

EVENT_COLUMNS = (
    "position, id, org_id, conversation_id, mailbox_id, sequence, type, data, created_at"
)


@dataclass(frozen=True, slots=True)
class Probe:
    """The sequence's last value and the transactions that may still hold positions up to it."""

    last_position: int
    holders: frozenset[str]


def position_sequence(tx: Tx) -> str:
    """Return the name of the sequence behind ``events.position``, after checking its cache.

    Raises:
        RuntimeError: the sequence caches more than one value per session.
    """
    if tx.dialect == "sqlite":
        return ""
    name = tx.value("SELECT pg_get_serial_sequence('events', 'position') AS name")
    if name is None:
        raise RuntimeError("events.position has no sequence; run `campfire migrate`")
    cache = tx.value(
        "SELECT seqcache FROM pg_sequence WHERE seqrelid = CAST(:name AS regclass)", name=name
    )
    if cache != 1:
        raise RuntimeError(
            f"the sequence {name} caches {cache} values per session, so realtime cannot tell "
            f"which positions are settled; run `ALTER SEQUENCE {name} CACHE 1`"
        )
    return str(name)


def probe(tx: Tx, sequence: str) -> Probe:
    """Read the last position drawn, then the other transactions that drew from the sequence.

    The two reads are separate statements, in this order: a transaction
    that drew a position up to the value read already holds the lock when
    the second statement looks.
    """
    if tx.dialect == "sqlite":
        return Probe(int(tx.value("SELECT MAX(position) AS last FROM events") or 0), frozenset())
    last = tx.value("SELECT pg_sequence_last_value(CAST(:name AS regclass)) AS last", name=sequence)
    rows = tx.all(
        "SELECT DISTINCT virtualtransaction FROM pg_locks WHERE locktype = 'relation' "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND relation = CAST(:name AS regclass) AND mode = 'RowExclusiveLock' "
        "AND pid <> pg_backend_pid()",
        name=sequence,
    )
    return Probe(int(last or 0), frozenset(row["virtualtransaction"] for row in rows))


class Horizon:
    """The settled position, advanced by successive probes.

    A probe whose holders have all ended (none of them appears in a later
    probe) settles its last position.
    """

    def __init__(self) -> None:
        self.settled: int | None = None
        self._pending: deque[Probe] = deque()

    @property
    def waiting(self) -> bool:
        """Tell whether a probe still waits for transactions to end."""
        return bool(self._pending)

    def observe(self, current: Probe) -> int | None:
        """Take the result of a new probe and return the settled position, if one is known."""
        while self._pending and self._pending[0].holders.isdisjoint(current.holders):
            self._settle(self._pending.popleft().last_position)
        if not current.holders:
            # No running transaction has drawn a position, so the older probes are settled too.
            self._pending.clear()
            self._settle(current.last_position)
        elif len(self._pending) >= MAX_PENDING_PROBES:
            newest = self._pending.pop()
            self._pending.append(Probe(current.last_position, newest.holders | current.holders))
        else:
            self._pending.append(current)
        return self.settled

    def _settle(self, position: int) -> None:
        if self.settled is None or position > self.settled:
            self.settled = position


REALTIME_TYPES_SQL = (
    "(type = 'message.sent' OR type LIKE 'handoff.%' OR type LIKE 'conversation.%')"
)


def read_range(tx: Tx, after: int, upto: int, limit: int) -> list[EventRecord]:
    """Return up to ``limit`` events of realtime types in ``(after, upto]``, in position order."""
    rows = tx.all(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE position > :after AND position <= :upto "
        f"AND {REALTIME_TYPES_SQL} ORDER BY position LIMIT :limit",
        after=after,
        upto=upto,
        limit=limit,
    )
    records = []
    for row in rows:
        if not isinstance(row["data"], str):
            # A JSON column arrives decoded; from_row expects the stored text.
            row = {**row, "data": json.dumps(row["data"])}
        records.append(EventRecord.from_row(row))
    return records

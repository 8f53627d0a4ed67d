"""A durable cursor that reads every committed event of the log once, in batches.

Consumers that run after the commit (the webhook fan-out) read the log
through a named row of ``event_cursors`` and advance it in the transaction
that acts on what they read, so a crash repeats a batch but never skips one.

SQLite has one writer at a time, and an event's position is allocated
while it holds the write lock, so events commit in position order and the
cursor is the last position read.

On PostgreSQL positions come from a sequence: a transaction can take
position 10, commit after position 11 was read, and a plain ``position >
cursor`` scan would skip it. So every event row records the transaction
that wrote it (``tx_id``), and the cursor stores a snapshot: every event
whose transaction had committed in ``consumed_snapshot`` was read. A read
takes a new snapshot (``target_snapshot``) and returns the events visible
in it but not in the consumed one, ordered by ``(tx_id, position)`` so that
a range can be read in several batches. When a range is done, the target
becomes the consumed snapshot. A transaction still running at the target
is in the target's in-progress list, so its events belong to a later range.

NOTE: a range starts at the oldest transaction still running in the whole
PostgreSQL server, so one long write transaction there makes each read scan
the index entries of the events written since it began.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import clock
from ..db.tx import Dialect, Tx

# A snapshot in which no transaction is visible: with it every event that
# has a tx_id is unread. Events older than the cursor table have none.
EMPTY_SNAPSHOT = "1:1:"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A PostgreSQL ``pg_snapshot``: ``xmin:xmax:xip1,xip2,...`` with 64-bit ids."""

    xmin: int
    xmax: int
    in_progress: frozenset[int]

    @classmethod
    def parse(cls, text: str) -> Snapshot:
        xmin, xmax, listed = text.split(":")
        in_progress = frozenset(int(xid) for xid in listed.split(",") if xid)
        return cls(int(xmin), int(xmax), in_progress)

    def __str__(self) -> str:
        listed = ",".join(str(xid) for xid in sorted(self.in_progress))
        return f"{self.xmin}:{self.xmax}:{listed}"

    def visible(self, xid: int) -> bool:
        """Tell whether transaction ``xid`` had finished when this snapshot was taken."""
        return xid < self.xmin or (xid < self.xmax and xid not in self.in_progress)

    def covers(self, other: Snapshot) -> bool:
        """Tell whether every transaction finished in ``other`` had finished in this one too."""
        if self.xmax < other.xmax:
            return False
        return all(xid in other.in_progress or xid >= other.xmax for xid in self.in_progress)

    def with_running(self, xid: int) -> Snapshot:
        """Return this snapshot with ``xid`` counted as still running.

        ``xmax`` is one past the latest transaction that had finished, so
        every id from ``xmax`` up to ``xid`` was still running or not yet
        assigned when the snapshot was taken. Raising ``xmax`` past them
        without listing them would mark them finished, and a cursor would
        then skip their events for good.
        """
        running = set(self.in_progress)
        running.add(xid)
        running.update(range(self.xmax, xid))
        return Snapshot(min(self.xmin, xid), max(self.xmax, xid + 1), frozenset(running))


def current_snapshot(tx: Tx) -> Snapshot:
    """Return the current PostgreSQL snapshot with this transaction counted as running.

    A snapshot leaves out the transaction that takes it, so it would count
    this transaction's own events as committed, including those that a later
    work of the same group commit writes after the read.
    """
    row = tx.one(
        "SELECT pg_current_snapshot()::text AS snapshot, "
        "pg_current_xact_id_if_assigned()::text AS own"
    )
    assert row is not None
    snapshot = Snapshot.parse(row["snapshot"])
    if row["own"] is not None:
        snapshot = snapshot.with_running(int(row["own"]))
    return snapshot


@dataclass(frozen=True, slots=True)
class EventHead:
    """The columns of an event that decide who wants it."""

    position: int
    org_id: str
    type: str
    tx_id: int | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """Events read past a cursor and the state the cursor moves to once they are handled."""

    name: str
    events: list[EventHead]
    caught_up: bool
    position: int
    resume_tx_id: str | None = None
    consumed_snapshot: str | None = None
    target_snapshot: str | None = None


def _missing(name: str) -> RuntimeError:
    return RuntimeError(
        f"the event cursor {name!r} is missing from event_cursors; run `campfire migrate`"
    )


def read(tx: Tx, name: str, limit: int) -> Batch | None:
    """Lock cursor ``name`` and return up to ``limit`` events past it, oldest first.

    Returns None when another transaction has the cursor locked (on PostgreSQL
    the row is claimed with ``FOR UPDATE SKIP LOCKED``, so concurrent
    workers never read the same range).
    """
    row = tx.one(
        "SELECT position, resume_tx_id, consumed_snapshot, target_snapshot FROM event_cursors "
        "WHERE name = :name" + tx.skip_locked,
        name=name,
    )
    if row is None:
        if tx.dialect == "postgresql" and tx.value(
            "SELECT 1 AS found FROM event_cursors WHERE name = :name", name=name
        ):
            return None
        raise _missing(name)

    if tx.dialect == "sqlite":
        return _read_sqlite(tx, name, int(row["position"]), limit)
    return _read_postgres(tx, name, row, limit)


def _read_sqlite(tx: Tx, name: str, position: int, limit: int) -> Batch:
    rows = tx.all(
        "SELECT position, org_id, type FROM events WHERE position > :position "
        "ORDER BY position LIMIT :limit",
        position=position,
        limit=limit,
    )
    events = [EventHead(row["position"], row["org_id"], row["type"]) for row in rows]
    last = events[-1].position if events else position
    return Batch(name, events, caught_up=len(events) < limit, position=last)


def _read_postgres(tx: Tx, name: str, row: dict, limit: int) -> Batch:
    consumed = Snapshot.parse(row["consumed_snapshot"] or EMPTY_SNAPSHOT)
    if row["target_snapshot"] is None:
        target = current_snapshot(tx)
        # Every unread event has a tx_id of at least consumed.xmin.
        resume_tx_id, resume_position = consumed.xmin, -1
    else:
        target = Snapshot.parse(row["target_snapshot"])
        resume_tx_id, resume_position = int(row["resume_tx_id"]), int(row["position"])

    rows = tx.all(
        "SELECT position, org_id, type, tx_id::text AS tx_id FROM events "
        "WHERE (tx_id, position) > (CAST(:resume_tx_id AS xid8), :resume_position) "
        "AND tx_id < CAST(:target_xmax AS xid8) "
        "AND pg_visible_in_snapshot(tx_id, CAST(:target AS pg_snapshot)) "
        "AND NOT pg_visible_in_snapshot(tx_id, CAST(:consumed AS pg_snapshot)) "
        "ORDER BY tx_id, position LIMIT :limit",
        resume_tx_id=str(resume_tx_id),
        resume_position=resume_position,
        target_xmax=str(target.xmax),
        target=str(target),
        consumed=str(consumed),
        limit=limit,
    )
    events = [
        EventHead(row["position"], row["org_id"], row["type"], int(row["tx_id"])) for row in rows
    ]
    if len(events) < limit:
        # The range is done: the target becomes what was consumed.
        return Batch(name, events, caught_up=True, position=0, consumed_snapshot=str(target))
    last = events[-1]
    return Batch(
        name,
        events,
        caught_up=False,
        position=last.position,
        resume_tx_id=str(last.tx_id),
        consumed_snapshot=str(consumed),
        target_snapshot=str(target),
    )


def advance(tx: Tx, batch: Batch) -> None:
    """Move the cursor past ``batch``, in the transaction that handled its events."""
    tx.execute(
        "UPDATE event_cursors SET position = :position, resume_tx_id = :resume_tx_id, "
        "consumed_snapshot = :consumed, target_snapshot = :target, updated_at = :now "
        "WHERE name = :name",
        position=batch.position,
        resume_tx_id=batch.resume_tx_id,
        consumed=batch.consumed_snapshot,
        target=batch.target_snapshot,
        now=clock.now_ms(),
        name=batch.name,
    )


def has_unread(tx: Tx, name: str) -> bool:
    """Tell, without locking, whether cursor ``name`` has committed events left to read."""
    row = tx.one(
        "SELECT position, consumed_snapshot, target_snapshot FROM event_cursors WHERE name = :name",
        name=name,
    )
    if row is None:
        raise _missing(name)
    if tx.dialect == "sqlite":
        found = tx.value(
            "SELECT 1 AS found FROM events WHERE position > :position LIMIT 1",
            position=row["position"],
        )
        return found is not None
    if row["target_snapshot"] is not None:
        return True
    consumed = Snapshot.parse(row["consumed_snapshot"] or EMPTY_SNAPSHOT)
    found = tx.value(
        "SELECT 1 AS found FROM events WHERE tx_id >= CAST(:xmin AS xid8) "
        "AND pg_visible_in_snapshot(tx_id, pg_current_snapshot()) "
        "AND NOT pg_visible_in_snapshot(tx_id, CAST(:consumed AS pg_snapshot)) LIMIT 1",
        xmin=str(consumed.xmin),
        consumed=str(consumed),
    )
    return found is not None


def consumed_condition(dialect: Dialect) -> str:
    """Return SQL that is true for an ``events`` row that every cursor has read.

    The event log's pruning adds it, so no event is deleted before its
    consumers have seen it.
    """
    if dialect == "sqlite":
        return (
            "events.position <= COALESCE((SELECT MIN(position) FROM event_cursors), "
            "events.position)"
        )
    return (
        "(events.tx_id IS NULL OR NOT EXISTS (SELECT 1 FROM event_cursors c WHERE "
        "c.consumed_snapshot IS NULL OR NOT pg_visible_in_snapshot(events.tx_id, "
        "CAST(c.consumed_snapshot AS pg_snapshot))))"
    )

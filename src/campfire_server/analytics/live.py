"""Keep the analytics facts current inside the transaction of every change.

``on_event`` runs as an ``events.emit`` hook, so the facts row and the waits
of a conversation change in the same transaction as the message,
resolution, handoff request or rating that changes them. A metrics request
therefore reads finished rows and never rebuilds anything.

An item usually arrives after everything already in its conversation's
stream and is folded in with one read and one update of the facts row by
primary key (a customer message needs only the update, whose row count is
checked before commit), plus one insert per answered wait, one upsert of
the hour's wait count per wait-length bin that the waits fall in
(``wait_bins``) and one upsert of the hour's rollup row when a total
changes. On PostgreSQL the writes after the read cost no round trip of
their own (see ``run_together``). An item that sorts before the stream's
last ordered item, or a conversation without a facts row (rows imported
directly), is derived again from the whole history instead.
"""

from __future__ import annotations

import logging
from typing import Any

from ..db.tx import Tx
from ..events import records
from ..events.records import EventRecord
from . import facts, rollups, wait_bins
from .stream import (
    AGENT,
    AGENT_NOTE,
    AI,
    CUSTOMER,
    HANDOFF,
    RESOLVED,
    STATE_COLUMNS,
    advance,
    position,
)
from .stream import in_order as sorts_after_stream

log = logging.getLogger(__name__)

Statement = tuple[str, dict[str, Any]]

_SELECT_STATE_SQL = (
    f"SELECT org_id, mailbox_id, created_at, rating, {', '.join(STATE_COLUMNS)} "
    "FROM analytics_facts WHERE conversation_id = :id"
)
# Columns that no rollup total depends on: a change to these alone, such as
# a customer message opening a wait, leaves the rollups as they are.
_STATE_ONLY = frozenset({"stream_position", "reply_wait_from", "human_wait_from"})
# Rollup contributions of a conversation without messages, resolutions or a rating.
_NEW_CONVERSATION = {column: 0 for column in rollups.COLUMNS} | {"n": 1}
_EVENT_KINDS = {records.CONVERSATION_RESOLVED: RESOLVED, records.HANDOFF_REQUESTED: HANDOFF}


def message_kind(message: dict[str, Any]) -> int | None:
    """Return the stream kind of a message, or ``None`` for one that analytics ignores."""
    author_type = message.get("authorType")
    if message.get("private"):
        return AGENT_NOTE if author_type == "agent" else None
    return {"customer": CUSTOMER, "ai": AI, "agent": AGENT}.get(author_type)  # type: ignore[arg-type]


def on_event(tx: Tx, record: EventRecord) -> None:
    """Apply one event to its conversation's facts, in the emitting transaction."""
    conversation_id = record.conversation_id
    if conversation_id is None:
        return

    if record.type == records.CONVERSATION_CREATED:
        _insert_facts(tx, conversation_id)
    elif record.type == records.MESSAGE_SENT:
        kind = message_kind(record.data.get("message") or {})
        if kind is not None:
            apply_item(tx, conversation_id, kind, record.created_at)
    elif record.type in _EVENT_KINDS:
        apply_item(tx, conversation_id, _EVENT_KINDS[record.type], record.created_at)
    elif record.type == records.SATISFACTION_RATED:
        _copy_rating(tx, conversation_id)


def _insert_facts(tx: Tx, conversation_id: str) -> None:
    created = tx.one(
        "INSERT INTO analytics_facts (conversation_id, org_id, mailbox_id, created_at) "
        "SELECT id, org_id, mailbox_id, created_at FROM conversations WHERE id = :id "
        "ON CONFLICT (conversation_id) DO NOTHING RETURNING org_id, mailbox_id, created_at",
        id=conversation_id,
    )
    if created is not None:
        rollups.apply_delta(tx, created, None, _NEW_CONVERSATION)


def _copy_rating(tx: Tx, conversation_id: str) -> None:
    state = tx.one(_SELECT_STATE_SQL, id=conversation_id)
    if state is None:
        _rebuild(tx, conversation_id, "no facts row")
        return

    rating = tx.value(
        "SELECT rating FROM satisfaction_ratings WHERE conversation_id = :id", id=conversation_id
    )
    if rating == state["rating"]:
        return
    tx.execute(
        "UPDATE analytics_facts SET rating = :rating WHERE conversation_id = :id",
        rating=rating,
        id=conversation_id,
    )
    after = {**state, "rating": rating}
    rollups.apply_delta(tx, state, rollups.contributions(state), rollups.contributions(after))


# ``advance`` for a customer message in order (not before the stream's last
# millisecond), as one statement: it opens each series' wait unless one is
# open and changes no total. Customer messages are the most frequent write,
# so they skip reading the row.
_CUSTOMER_SQL = (
    "UPDATE analytics_facts SET reply_wait_from = COALESCE(reply_wait_from, :at_ms), "
    "human_wait_from = COALESCE(human_wait_from, :at_ms), "
    "stream_position = CASE WHEN stream_position > :position THEN stream_position "
    "ELSE :position END WHERE conversation_id = :id "
    "AND (stream_position IS NULL OR stream_position < :next_ms_position)"
)


def apply_item(tx: Tx, conversation_id: str, kind: int, at_ms: int) -> None:
    """Fold one stream item into the conversation's facts and store the waits it answers."""
    if kind == CUSTOMER:
        _apply_customer(tx, conversation_id, at_ms)
        return

    state = tx.one(_SELECT_STATE_SQL, id=conversation_id)
    if state is None:
        _rebuild(tx, conversation_id, "no facts row")
        return
    if not sorts_after_stream(state, at_ms, kind):
        _rebuild(tx, conversation_id, "item older than the stream")
        return

    changes, waits = advance(state, kind, at_ms)
    statements: list[Statement] = []
    if changes:
        assignments = ", ".join(f"{column} = :{column}" for column in changes)
        statements.append(
            (
                f"UPDATE analytics_facts SET {assignments} "
                "WHERE conversation_id = :conversation_id",
                {"conversation_id": conversation_id, **changes},
            )
        )
    for wait in waits:
        statements.append(
            (
                "INSERT INTO analytics_waits (conversation_id, org_id, mailbox_id, created_at, "
                "series, answered, reply_kind, ms, bin) VALUES (:conversation_id, :org_id, "
                ":mailbox_id, :created_at, :series, :answered, :reply_kind, :ms, :bin)",
                {
                    "conversation_id": conversation_id,
                    "org_id": state["org_id"],
                    "mailbox_id": state["mailbox_id"],
                    "created_at": state["created_at"],
                    "series": wait.series,
                    "answered": wait.answered,
                    "reply_kind": wait.reply_kind,
                    "ms": wait.ms,
                    "bin": wait_bins.wait_bin(wait.ms),
                },
            )
        )
    statements += wait_bins.add_statements(state, waits, rollups.slot_of(int(state["created_at"])))
    if not changes.keys() <= _STATE_ONLY:
        after = {**state, **changes}
        delta = rollups.delta_statement(
            state, rollups.contributions(state), rollups.contributions(after)
        )
        if delta is not None:
            statements.append(delta)
    run_together(tx, statements)


def _apply_customer(tx: Tx, conversation_id: str, at_ms: int) -> None:
    """Apply a customer message with one update whose row count is checked before commit.

    The update changes nothing when the conversation has no facts row or the
    message sorts before the stream's last ordered item. The check then
    derives the facts again from the whole history, which by then also
    contains every later change of this transaction. Reading the row count
    only at commit saves a round trip per message in PostgreSQL's writer.
    """
    applied = tx.send_counted(
        _CUSTOMER_SQL,
        # The update reads and writes only this conversation's facts row.
        row_key=conversation_id,
        id=conversation_id,
        at_ms=at_ms,
        position=position(at_ms, CUSTOMER),
        next_ms_position=position(at_ms + 1, CUSTOMER),
    )

    def check() -> None:
        if not applied.get():
            _rebuild(tx, conversation_id, "no facts row, or an item older than the stream")

    tx.before_commit(check)


def run_together(tx: Tx, statements: list[Statement]) -> None:
    """Run statements whose results are not used.

    They go out with ``Tx.send``, so in PostgreSQL's pipelined writer they
    travel with the next statement whose result is read and cost no round
    trip of their own.
    """
    for sql, params in statements:
        tx.send(sql, **params)


def _rebuild(tx: Tx, conversation_id: str, reason: str) -> None:
    tx.log(
        log.debug,
        "analytics facts derived again",
        extra={"conversation_id": conversation_id, "reason": reason},
    )
    facts.rebuild(tx, [conversation_id])

"""Write an event row inside the transaction that caused it.

The row is the transactional outbox: it commits or rolls back with the
change, so a crash can neither lose an event nor leave one for a change
that never happened. Webhook deliveries are queued from these rows after
the commit (``webhooks.fanout``). Hooks registered here run inside the
same transaction.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from .. import clock, ids
from ..db.tx import Deferred, Tx
from . import bus
from .records import CATALOG, EventRecord

TxHook = Callable[[Tx, EventRecord], None]

_tx_hooks: list[TxHook] = []


def register_tx_hook(hook: TxHook) -> None:
    """Run ``hook(tx, record)`` for each event, inside the emitting transaction.

    The hook's record has ``position`` 0, because the row's position is read
    only after commit (positions start at 1).
    """
    if hook not in _tx_hooks:
        _tx_hooks.append(hook)


def next_sequence(tx: Tx, conversation_id: str) -> int:
    """Allocate the next per-conversation event sequence number."""
    return int(
        tx.value(
            "UPDATE conversations SET event_seq = event_seq + 1 WHERE id = :id "
            "RETURNING event_seq",
            id=conversation_id,
        )
    )


_KNOWN_TYPES = frozenset(CATALOG)


def emit(
    tx: Tx,
    *,
    org_id: str,
    type: str,
    data: dict[str, Any],
    conversation_id: str | None = None,
    mailbox_id: str | None = None,
    sequence: int | None = None,
    created_at: int | None = None,
    position: int | None = None,
) -> EventRecord:
    """Log one event and publish it once the transaction commits.

    Callers that touch a conversation pass the ``sequence`` they allocated
    while updating its row; otherwise one is allocated here. The insert's
    position is read after commit, so in the pipelined writer it costs no
    round trip; the returned record and the hooks' record have position 0.
    A caller that logs the event after later changes of the same
    transaction passes the ``position`` it reserved from the events'
    sequence before them (PostgreSQL only).

    A conversation event's stored ``created_at`` is raised to the previous
    event's when the clock read earlier (see ``_created_at_sql``), and the
    published record carries the stored value. The returned record and the
    hooks' record keep the clock's value.
    """
    if type not in _KNOWN_TYPES:
        raise ValueError(
            f"event type {type!r} is not in records.CATALOG; add it there, and to the "
            "event table of docs/webhooks.md, before emitting it"
        )
    if conversation_id is not None and sequence is None:
        sequence = next_sequence(tx, conversation_id)
    event_id = ids.new("event")
    created_at = created_at if created_at is not None else clock.now_ms()
    values = {
        "id": event_id,
        "org_id": org_id,
        "conversation_id": conversation_id,
        "mailbox_id": mailbox_id,
        "sequence": sequence,
        "type": type,
        "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        "created_at": created_at,
    }
    columns = "id, org_id, conversation_id, mailbox_id, sequence, type, data, created_at"
    raised = conversation_id is not None and sequence is not None
    stamp = ":created_at"
    if raised:
        stamp = _created_at_sql(tx.dialect)
        values.update(
            previous_conversation_id=conversation_id,
            previous_sequence=sequence,
            clock_created_at=created_at,
        )
    row_values = (
        f":id, :org_id, :conversation_id, :mailbox_id, :sequence, :type, :data, {stamp}"
    )
    inserted: Deferred
    if position is None and not raised:
        inserted = tx.send_returning(
            f"INSERT INTO events ({columns}) VALUES ({row_values}) RETURNING position", **values
        )
    elif position is None:
        inserted = tx.send_row(
            f"INSERT INTO events ({columns}) VALUES ({row_values}) "
            "RETURNING position, created_at",
            **values,
        )
    else:
        # Returns the stored created_at, which is the clock's value unless raised.
        inserted = tx.send_returning(
            f"INSERT INTO events (position, {columns}) VALUES (:position, {row_values}) "
            "RETURNING created_at",
            position=position,
            **values,
        )
    record = EventRecord(
        position=0,
        id=event_id,
        org_id=org_id,
        type=type,
        data=data,
        created_at=created_at,
        conversation_id=conversation_id,
        mailbox_id=mailbox_id,
        sequence=sequence,
    )
    for hook in _tx_hooks:
        hook(tx, record)
    def publish() -> None:
        stored = inserted.get()
        if position is None and not raised:
            bus.publish(dataclasses.replace(record, position=int(stored)))
        elif position is None:
            bus.publish(
                dataclasses.replace(
                    record, position=int(stored["position"]), created_at=int(stored["created_at"])
                )
            )
        else:
            bus.publish(dataclasses.replace(record, position=position, created_at=int(stored)))

    tx.after_commit(publish)
    return record


def _created_at_sql(dialect: str) -> str:
    """Return SQL for ``:created_at`` raised to the previous event's time in the conversation.

    Two transactions may read the clock in one order and draw sequences in
    the other, because drawing a sequence locks the conversation's row.
    Raising the time keeps an event's ``created_at`` at or after every
    event with a lower sequence in the same conversation. The previous
    event suffices, because its own time was raised the same way.
    """
    greatest = "GREATEST" if dialect == "postgresql" else "MAX"
    # Parameters of their own, because PostgreSQL deduces one type per parameter.
    previous = (
        "(SELECT e.created_at FROM events e WHERE e.conversation_id = :previous_conversation_id "
        "AND e.sequence < :previous_sequence ORDER BY e.sequence DESC LIMIT 1)"
    )
    return f"{greatest}(:created_at, COALESCE({previous}, :clock_created_at))"

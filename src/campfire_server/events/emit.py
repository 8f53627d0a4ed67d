"""Write an event row inside the transaction that caused it.

The row is the transactional outbox: it commits or rolls back with the
change, so a crash can neither lose an event nor leave one for a change
that never happened. Webhook deliveries are queued from these rows after
the commit (``webhooks.fanout``). Hooks registered here run inside the
same transaction.
"""

from __future__ import annotations

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
            "UPDATE conversations SET event_seq = event_seq + 1 WHERE id = :id RETURNING event_seq",
            id=conversation_id,
        )
    )


_KNOWN_TYPES = frozenset(CATALOG)

# ``json.dumps`` with options builds an encoder on every call, but this one is
# built once and encodes the same text.
_DATA_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


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
        "data": _DATA_ENCODER.encode(data),
        "created_at": created_at,
    }
    inserted: Deferred | None = None
    if position is None:
        inserted = tx.send_returning(
            "INSERT INTO events (id, org_id, conversation_id, mailbox_id, sequence, type, data, "
            "created_at) VALUES (:id, :org_id, :conversation_id, :mailbox_id, :sequence, :type, "
            ":data, :created_at) RETURNING position",
            **values,
        )
    else:
        # With its position given, the insert draws nothing from the events'
        # sequence and reads no row, so it is keyed by its own id and can
        # share a merged statement with the inserts of other works.
        tx.send(
            "INSERT INTO events (position, id, org_id, conversation_id, mailbox_id, sequence, "
            "type, data, created_at) VALUES (:position, :id, :org_id, :conversation_id, "
            ":mailbox_id, :sequence, :type, :data, :created_at)",
            row_key=event_id,
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
    tx.after_commit(
        lambda: bus.publish(
            _at_position(record, int(position if inserted is None else inserted.get()))
        )
    )
    return record


def _at_position(record: EventRecord, position: int) -> EventRecord:
    """Return ``record`` with its row's position, as ``dataclasses.replace`` would, but faster."""
    return EventRecord(
        position=position,
        id=record.id,
        org_id=record.org_id,
        type=record.type,
        data=record.data,
        created_at=record.created_at,
        conversation_id=record.conversation_id,
        mailbox_id=record.mailbox_id,
        sequence=record.sequence,
    )

"""Turn committed events into deliveries, after the transaction that wrote them.

The emitting transaction writes only its event row. Delivery workers read
the event log through the ``webhooks`` cursor (``events.cursor``) and, in
the transaction that advances it, insert one delivery per matching webhook
that was enabled when the event committed. A crash before that commit
leaves the cursor where it was, so the batch is read again. Delivery ids
are built from the event and webhook ids, so a batch read twice inserts
nothing twice.

A webhook disabled since the event committed gets the delivery as failed,
as the disabling would have failed it had the fan-out run before, so it
can be replayed once the webhook is enabled again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from .. import clock
from ..db.tx import Tx
from ..events import cursor
from ..events.cursor import EventHead
from ..events.records import EventRecord
from .subscriptions import Subscription

log = logging.getLogger(__name__)

CURSOR = "webhooks"
BATCH_EVENTS = 200
# 12 values per row; SQLite allows 32,766 parameters per statement.
INSERT_ROWS = 200
# Maximum number of event and webhook pairs that one log line of skipped events lists.
LOGGED_SKIPS = 20

# Events paired with the webhooks they matched.
Pairs = list[tuple[EventHead, Subscription]]

# The error of a delivery queued for a webhook disabled after its event.
DISABLED_ERROR = "the webhook was disabled"

EVENT_COLUMNS = (
    "position, id, org_id, conversation_id, mailbox_id, sequence, type, data, created_at"
)


@dataclass(frozen=True, slots=True)
class FanOut:
    """The counts of one fan-out transaction."""

    events: int
    deliveries: int
    caught_up: bool


# The width of webhook_deliveries.id.
DELIVERY_ID_MAX_CHARS = 64


def delivery_id(event_id: str, webhook_id: str) -> str:
    """Return the id of the delivery of one event to one webhook.

    Joining the two ids makes it unique, sortable by event time and the same
    every time the event is read. The join of two 31-character ids is cut to
    the 64 characters of the ``webhook_deliveries.id`` column, which drops the
    last random characters of the webhook id. Two webhooks of one event still
    differ there unless they were made in the same millisecond with the same
    first 19 random characters (about 110 random bits). Shorter joins, such as those
    of ids made before ids had 31 characters, stay whole, so an event read
    again after an upgrade gets the same delivery ids.
    """
    joined = "dlv_" + event_id.removeprefix("evt_") + "_" + webhook_id.removeprefix("wh_")
    return joined[:DELIVERY_ID_MAX_CHARS]


def _in_list(prefix: str, values: list) -> tuple[str, dict]:  # type: ignore[type-arg]
    names = {f"{prefix}{index}": value for index, value in enumerate(values)}
    return ", ".join(f":{name}" for name in names), names


def _subscriptions(tx: Tx, org_ids: list[str]) -> list[Subscription]:
    """Return every webhook of ``org_ids``, disabled ones included.

    Whether a webhook receives an event depends on whether it was enabled
    when the event committed (``Subscription.enabled_at``), not now.
    """
    placeholders, params = _in_list("o", org_ids)
    # On PostgreSQL the key-share lock makes a concurrent delete wait for
    # this transaction (or this read wait for it), so no delivery is queued
    # for a webhook that is already gone. Disabling and enabling lock the
    # row FOR UPDATE before they take their marker, so this read returns the
    # disabled periods that every event of the batch falls in or out of.
    lock = " FOR KEY SHARE" if tx.dialect == "postgresql" else ""
    rows = tx.all(
        "SELECT id, org_id, events, mailbox_ids, start_position, start_snapshot, enabled, "
        f"disabled_periods FROM webhooks WHERE org_id IN ({placeholders}) ORDER BY id{lock}",
        **params,
    )
    return [Subscription.from_row(row) for row in rows]


def _records(tx: Tx, positions: list[int]) -> dict[int, EventRecord]:
    placeholders, params = _in_list("p", positions)
    rows = tx.all(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE position IN ({placeholders})", **params
    )
    return {row["position"]: EventRecord.from_row(row) for row in rows}


def match(
    events: list[EventHead], subscriptions: list[Subscription], dialect: str
) -> list[tuple[EventHead, Subscription]]:
    """Pair every event with each subscription that receives it, in event order."""
    pairs, _before_start, _while_disabled = _match(events, subscriptions, dialect)
    return pairs


def _match(
    events: list[EventHead], subscriptions: list[Subscription], dialect: str
) -> tuple[Pairs, Pairs, Pairs]:
    """Return the receiving pairs, and those left out because the webhook is newer or was off.

    An event that a webhook's filter matches but that committed before the
    webhook was created, or while it was disabled, is left out on purpose,
    and the caller logs it.
    """
    by_org: dict[str, list[Subscription]] = {}
    for subscription in subscriptions:
        by_org.setdefault(subscription.org_id, []).append(subscription)
    pairs: Pairs = []
    before_start: Pairs = []
    while_disabled: Pairs = []
    for event in events:
        for subscription in by_org.get(event.org_id, ()):
            if subscription.receives(event, dialect):  # type: ignore[arg-type]
                pairs.append((event, subscription))
            elif not subscription.wants(event.type):
                continue
            elif not subscription.created_before(event, dialect):  # type: ignore[arg-type]
                before_start.append((event, subscription))
            else:
                while_disabled.append((event, subscription))
    return pairs, before_start, while_disabled


def _insert(tx: Tx, rows: list[dict]) -> int:  # type: ignore[type-arg]
    inserted = 0
    for start in range(0, len(rows), INSERT_ROWS):
        chunk = rows[start : start + INSERT_ROWS]
        values = []
        params: dict = {}  # type: ignore[type-arg]
        for index, row in enumerate(chunk):
            names = [f"{column}{index}" for column in row]
            values.append("(" + ", ".join(f":{name}" for name in names) + ", 0)")
            params.update({f"{column}{index}": value for column, value in row.items()})
        columns = ", ".join(chunk[0])
        inserted += tx.execute(
            f"INSERT INTO webhook_deliveries ({columns}, attempts) VALUES "
            + ", ".join(values)
            + " ON CONFLICT (id) DO NOTHING",
            **params,
        )
    return inserted


def fan_out(tx: Tx, *, limit: int = BATCH_EVENTS) -> FanOut | None:
    """Queue the deliveries of the next ``limit`` unread events and advance the cursor.

    Returns None when another worker has the cursor locked right now.
    """
    batch = cursor.read(tx, CURSOR, limit)
    if batch is None:
        return None

    pairs: Pairs = []
    before_start: Pairs = []
    while_disabled: Pairs = []
    if batch.events:
        org_ids = sorted({event.org_id for event in batch.events})
        subscriptions = _subscriptions(tx, org_ids)
        if subscriptions:
            pairs, before_start, while_disabled = _match(batch.events, subscriptions, tx.dialect)
    _log_skipped(tx, "the event committed before the webhook was created", before_start, log.info)
    _log_skipped(
        tx, "the event committed while the webhook was disabled", while_disabled, log.debug
    )

    inserted = 0
    if pairs:
        records = _records(tx, sorted({event.position for event, _ in pairs}))
        payloads = {
            position: json.dumps(record.payload(), ensure_ascii=False, separators=(",", ":"))
            for position, record in records.items()
        }
        now = clock.now_ms()
        rows = []
        missing: Pairs = []
        outside_mailboxes: Pairs = []
        for event, subscription in pairs:
            record = records.get(event.position)
            if record is None:
                missing.append((event, subscription))
                continue
            if not subscription.covers(record.mailbox_id):
                outside_mailboxes.append((event, subscription))
                continue
            rows.append(
                {
                    "id": delivery_id(record.id, subscription.id),
                    "webhook_id": subscription.id,
                    "org_id": record.org_id,
                    "event_id": record.id,
                    "event_type": record.type,
                    "payload": payloads[event.position],
                    "status": "pending" if subscription.enabled else "failed",
                    "last_error": None if subscription.enabled else DISABLED_ERROR,
                    "next_attempt_at": now if subscription.enabled else None,
                    "created_at": record.created_at,
                    "updated_at": now,
                }
            )
        inserted = _insert(tx, rows)
        _log_skipped(tx, "the event row is gone", missing, log.warning)
        _log_skipped(
            tx, "the event is outside the webhook's mailboxes", outside_mailboxes, log.debug
        )

    cursor.advance(tx, batch)
    if inserted:
        tx.log(
            log.debug,
            "webhook deliveries queued",
            extra={"events": len(batch.events), "deliveries": inserted},
        )
    return FanOut(len(batch.events), inserted, batch.caught_up)


def _log_skipped(
    tx: Tx,
    reason: str,
    skipped: Pairs,
    emit: Callable[..., None],
) -> None:
    """Log, once the fan-out commits, the events it left out of some webhook on purpose.

    One line per reason and batch lists at most ``LOGGED_SKIPS`` pairs and
    counts the rest.
    """
    if not skipped:
        return
    listed = [
        {"position": event.position, "webhook_id": subscription.id}
        for event, subscription in skipped[:LOGGED_SKIPS]
    ]
    tx.log(
        emit,
        "webhook fan-out skipped events",
        extra={"reason": reason, "skipped": len(skipped), "pairs": listed},
    )


def has_unread(tx: Tx) -> bool:
    return cursor.has_unread(tx, CURSOR)

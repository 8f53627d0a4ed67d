"""Webhook subscriptions matched against events, and the per-process index of wake-ups."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..db.tx import Dialect
from ..events.cursor import EventHead, Snapshot

WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class Marker:
    """A point in the event log: where a webhook was disabled or enabled again.

    On SQLite the events that committed later have a higher ``position``.
    On PostgreSQL they are those whose transaction had not committed in
    ``snapshot``. A marker without a snapshot on PostgreSQL (one copied
    from another database) comes before every event.
    """

    position: int
    snapshot: Snapshot | None = None

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Marker:
        snapshot = value.get("snapshot")
        return cls(int(value["position"]), Snapshot.parse(snapshot) if snapshot else None)

    def to_json(self) -> dict[str, Any]:
        snapshot = None if self.snapshot is None else str(self.snapshot)
        return {"position": self.position, "snapshot": snapshot}

    def precedes(self, event: EventHead, dialect: Dialect) -> bool:
        """Tell whether ``event`` committed after this marker."""
        if dialect == "postgresql":
            if self.snapshot is None or event.tx_id is None:
                return True
            return not self.snapshot.visible(event.tx_id)
        return event.position > self.position


@dataclass(frozen=True, slots=True)
class DisabledPeriod:
    """A span of the event log in which a webhook was disabled.

    ``start`` None reaches back before every event, and ``end`` None means
    the webhook is still disabled.
    """

    start: Marker | None
    end: Marker | None

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> DisabledPeriod:
        start, end = value.get("from"), value.get("to")
        return cls(
            Marker.from_json(start) if start else None, Marker.from_json(end) if end else None
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "from": None if self.start is None else self.start.to_json(),
            "to": None if self.end is None else self.end.to_json(),
        }

    def covers(self, event: EventHead, dialect: Dialect) -> bool:
        """Tell whether ``event`` committed while the webhook was disabled."""
        after_start = self.start is None or self.start.precedes(event, dialect)
        before_end = self.end is None or not self.end.precedes(event, dialect)
        return after_start and before_end


def parse_periods(text: str | None) -> tuple[DisabledPeriod, ...]:
    """Return the ``disabled_periods`` column of a webhook row as periods."""
    return tuple(DisabledPeriod.from_json(value) for value in json.loads(text or "[]"))


def dump_periods(periods: Iterable[DisabledPeriod]) -> str:
    return json.dumps([period.to_json() for period in periods], separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Subscription:
    """A webhook as the fan-out matches it against events, enabled or not."""

    id: str
    org_id: str
    events: frozenset[str]
    # Mailboxes whose events it receives. An empty set receives every mailbox's events.
    mailbox_ids: frozenset[str] = frozenset()
    start_position: int | None = None
    start_snapshot: Snapshot | None = None
    # Whether it is enabled now. A disabled webhook still receives, as failed
    # deliveries that can be replayed, the events that happened before it
    # was disabled.
    enabled: bool = True
    disabled_periods: tuple[DisabledPeriod, ...] = ()

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Subscription:
        snapshot = row.get("start_snapshot")
        return cls(
            id=row["id"],
            org_id=row["org_id"],
            events=frozenset(json.loads(row["events"])),
            mailbox_ids=frozenset(json.loads(row.get("mailbox_ids") or "[]")),
            start_position=row.get("start_position"),
            start_snapshot=Snapshot.parse(snapshot) if snapshot else None,
            enabled=bool(row.get("enabled", True)),
            disabled_periods=parse_periods(row.get("disabled_periods")),
        )

    def wants(self, event_type: str) -> bool:
        return WILDCARD in self.events or event_type in self.events

    def covers(self, mailbox_id: str | None) -> bool:
        """Tell whether an event of ``mailbox_id`` is for it.

        A webhook limited to mailboxes skips events without a mailbox.
        """
        return not self.mailbox_ids or mailbox_id in self.mailbox_ids

    def created_before(self, event: EventHead, dialect: Dialect) -> bool:
        """Tell whether the event committed after this webhook was created.

        On SQLite an event that committed later has a higher position. On
        PostgreSQL it is one whose transaction had not committed in the
        snapshot taken when the webhook was created.
        """
        if dialect == "postgresql":
            if self.start_snapshot is None or event.tx_id is None:
                return True
            return not self.start_snapshot.visible(event.tx_id)
        return self.start_position is None or event.position > self.start_position

    def enabled_at(self, event: EventHead, dialect: Dialect) -> bool:
        """Tell whether the webhook was enabled when ``event`` committed."""
        return not any(period.covers(event, dialect) for period in self.disabled_periods)

    def receives(self, event: EventHead, dialect: Dialect) -> bool:
        return (
            event.org_id == self.org_id
            and self.wants(event.type)
            and self.created_before(event, dialect)
            and self.enabled_at(event, dialect)
        )


class WakeIndex:
    """The event types each organization has an enabled webhook for, in this process.

    A listener checks it after every committed event to decide whether to
    wake the delivery worker, so a message in an organization without webhooks costs
    a dictionary lookup. It decides wake-ups only: the fan-out reads the
    subscriptions from the database, so a stale index can delay a delivery
    until the worker's next poll but cannot lose or misdirect one. Until it
    is loaded, and after ``invalidate``, every event wakes the worker.
    """

    def __init__(self) -> None:
        self._types: dict[str, frozenset[str]] | None = None
        self.revision: int | None = None

    @property
    def loaded(self) -> bool:
        return self._types is not None

    def load(self, rows: Iterable[dict[str, Any]], revision: int) -> None:
        """Replace the index with ``rows`` (``org_id`` and ``events`` of enabled webhooks)."""
        types: dict[str, set[str]] = {}
        for row in rows:
            types.setdefault(row["org_id"], set()).update(json.loads(row["events"]))
        self._types = {org_id: frozenset(names) for org_id, names in types.items()}
        self.revision = revision

    def invalidate(self) -> None:
        self._types = None
        self.revision = None

    def wants(self, org_id: str, event_type: str) -> bool:
        if self._types is None:
            return True
        names = self._types.get(org_id)
        if names is None:
            return False
        return WILDCARD in names or event_type in names

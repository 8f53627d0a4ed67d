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
class Subscription:
    """An enabled webhook as the fan-out matches it against events."""

    id: str
    org_id: str
    events: frozenset[str]
    # Mailboxes whose events it receives. An empty set receives every mailbox's events.
    mailbox_ids: frozenset[str] = frozenset()
    start_position: int | None = None
    start_snapshot: Snapshot | None = None

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

    def receives(self, event: EventHead, dialect: Dialect) -> bool:
        return (
            event.org_id == self.org_id
            and self.wants(event.type)
            and self.created_before(event, dialect)
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

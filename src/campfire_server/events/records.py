"""The shape of one logged event, shared by realtime delivery and webhooks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..clock import to_iso

# Webhook event types; realtime maps them onto its own frame types.
CONVERSATION_CREATED = "conversation.created"
CONVERSATION_UPDATED = "conversation.updated"
CONVERSATION_RESOLVED = "conversation.resolved"
MESSAGE_SENT = "message.sent"
HANDOFF_REQUESTED = "handoff.requested"
HANDOFF_ASSIGNED = "handoff.assigned"
HANDOFF_UPDATED = "handoff.updated"
HANDOFF_COMPLETED = "handoff.completed"
SATISFACTION_RATED = "satisfaction.rated"

# Every type that ``emit`` accepts. The event table of docs/webhooks.md lists each of them.
CATALOG = (
    CONVERSATION_CREATED,
    CONVERSATION_UPDATED,
    CONVERSATION_RESOLVED,
    MESSAGE_SENT,
    HANDOFF_REQUESTED,
    HANDOFF_ASSIGNED,
    HANDOFF_UPDATED,
    HANDOFF_COMPLETED,
    SATISFACTION_RATED,
)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One row of the ``events`` table."""

    position: int
    id: str
    org_id: str
    type: str
    data: dict[str, Any]
    created_at: int
    conversation_id: str | None = None
    mailbox_id: str | None = None
    sequence: int | None = None

    def payload(self) -> dict[str, Any]:
        """Return the public form that webhooks send and ``GET /events`` lists."""
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "data": self.data,
            "timestamp": to_iso(self.created_at),
        }
        if self.sequence is not None:
            body["sequence"] = self.sequence
        if self.conversation_id is not None:
            body["conversationId"] = self.conversation_id
        return body

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> EventRecord:
        return cls(
            position=row["position"],
            id=row["id"],
            org_id=row["org_id"],
            type=row["type"],
            data=json.loads(row["data"]),
            created_at=row["created_at"],
            conversation_id=row["conversation_id"],
            mailbox_id=row["mailbox_id"],
            sequence=row["sequence"],
        )

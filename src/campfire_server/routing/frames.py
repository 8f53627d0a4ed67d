"""The realtime ``handoff`` frame that each handoff event maps to.

A handoff assigned at once logs ``handoff.requested`` and ``handoff.assigned``
in the same transaction, both with status ``assigned``. Clients should see
that state change once, so only the second one becomes a frame.
"""

from __future__ import annotations

from typing import Any

from ..events import records

HANDOFF_EVENT_TYPES = frozenset(
    {
        records.HANDOFF_REQUESTED,
        records.HANDOFF_ASSIGNED,
        records.HANDOFF_UPDATED,
        records.HANDOFF_COMPLETED,
    }
)


def handoff_frame(record: records.EventRecord) -> dict[str, Any] | None:
    """Return the ``{"type": "handoff", "channel", "data"}`` frame of ``record``, or None.

    None means the event is not a handoff event, or it repeats a state that
    another event of the same transaction carries.
    """
    if record.type not in HANDOFF_EVENT_TYPES or record.conversation_id is None:
        return None
    data = record.data
    if record.type == records.HANDOFF_REQUESTED and data["status"] == "assigned":
        return None
    return {
        "type": "handoff",
        "channel": f"conversation:{record.conversation_id}",
        "data": {
            "handoffId": data["handoff"]["id"],
            "event": record.type,
            "status": data["status"],
            "agentId": data["agentId"],
            "estimatedWaitTime": data["estimatedWaitTime"],
            "position": data["position"],
        },
    }

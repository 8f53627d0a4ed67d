"""Rules that decide whether an automatic reply has gone stale, free of storage for testing.

The AI takes seconds to answer, and the conversation may move on in the
meantime. The reply is checked against the conversation as it is when the
reply would be stored, under the conversation's lock, and a stale reply is
dropped with everything it would have done (its message and any handoff).
"""

from __future__ import annotations

from dataclasses import dataclass

CONVERSATION_RESOLVED = "conversation_resolved"
CONVERSATION_CLOSED = "conversation_closed"
HANDED_OFF = "handed_off"
AGENT_ASSIGNED = "agent_assigned"
AGENT_REPLIED = "agent_replied"
NEWER_CUSTOMER_MESSAGE = "newer_customer_message"
MESSAGE_NOT_FOUND = "message_not_found"


@dataclass(frozen=True, slots=True)
class ReplyState:
    """The conversation as an automatic reply to one customer message finds it.

    ``message_created_ms`` is ``None`` when the message being replied to
    is not stored in the conversation. ``assigned_agent_id`` is the agent who
    owns the conversation, if any. ``later_authors`` are the author types of
    the public messages stored after it.
    """

    status: str
    ai_paused: bool
    assigned_agent_id: str | None
    message_created_ms: int | None
    last_resolved_ms: int | None
    later_authors: frozenset[str]


def stale_reason(state: ReplyState) -> str | None:
    """Return why a reply in ``state`` is stale, or ``None`` when it may be posted.

    * A resolved or closed conversation gets no reply, and neither does one
      resolved after the message and reopened since, because the reply
      belongs to a finished topic.
    * A paused AI means a handoff has taken the conversation over.
    * An assigned agent owns the conversation, also without a handoff, so
      the AI stays silent until the agent is unassigned.
    * An agent's public reply after the message means a person has taken over.
    * A newer customer message gets its own reply, so only the newest
      message is answered.
    """
    if state.status == "closed":
        return CONVERSATION_CLOSED
    if state.status == "resolved":
        return CONVERSATION_RESOLVED
    if state.ai_paused:
        return HANDED_OFF
    if state.assigned_agent_id is not None:
        return AGENT_ASSIGNED
    if state.message_created_ms is None:
        return MESSAGE_NOT_FOUND
    if state.last_resolved_ms is not None and state.last_resolved_ms > state.message_created_ms:
        return CONVERSATION_RESOLVED
    if "agent" in state.later_authors:
        return AGENT_REPLIED
    if "customer" in state.later_authors:
        return NEWER_CUSTOMER_MESSAGE
    return None

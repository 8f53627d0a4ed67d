"""Status rules of a conversation, kept free of storage so they can be tested alone."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import Conflict

ACTIVE_STATUSES = ("open", "pending")


@dataclass(frozen=True, slots=True)
class MessageEffect:
    """How one new message changes its conversation.

    ``releases_assignee`` is true when the message unassigns the
    conversation, so that the AI answers it again.
    """

    status: str
    unread_count: int
    releases_assignee: bool = False


def effect_of_message(status: str, unread_count: int, author_type: str) -> MessageEffect:
    """Apply the message rules to a conversation in ``status``.

    * A customer message reopens a resolved or pending conversation and adds
      one to the unread count. Reopening a resolved conversation also
      releases its assignee and so hands it back to the AI, because the
      agent who resolved it may be offline by then. A later handoff goes
      back to that agent if the agent can take it (``routing.rules``). A
      pending conversation keeps its assignee, who is waiting for this reply.
    * An agent reply marks every earlier customer message read.
    * AI and system messages change neither.
    * A closed conversation takes no more messages.
    """
    if status == "closed":
        raise Conflict(
            "the conversation is closed and takes no more messages; reopen it with "
            'PATCH {"status": "open"} or start a new conversation',
            code="CONVERSATION_CLOSED",
            details={"status": status},
        )
    if author_type == "customer":
        reopened = "open" if status in ("resolved", "pending") else status
        return MessageEffect(reopened, unread_count + 1, releases_assignee=status == "resolved")
    if author_type == "agent":
        return MessageEffect(status, 0)
    return MessageEffect(status, unread_count)

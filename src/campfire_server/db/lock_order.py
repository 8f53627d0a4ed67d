"""Write order keys: the first row that a write locks, as text that sorts in lock order.

The writer runs a group whose works all name a key sorted by it
(``GroupWriter.submit``), so that groups of different processes take their
first locks in one order. Every routing change (handoffs, agents, a PATCH
of status or assignee, an AI reply that hands off) locks its organization's
routing row before any conversation, so routing keys sort before every
conversation key. Customer rows, which a new conversation or widget
session upserts, come next, and idempotency rows, which a request claims
before its own write and stores its response in after it, last.

A work that locks more rows after its first, such as a routing change
that assigns queued handoffs, can still deadlock with another process's
group, and the writer then runs its group again.
"""

from __future__ import annotations


def routing(org_id: str) -> str:
    """Return the key of a write that takes ``org_id``'s routing lock first."""
    return f"0 {org_id}"


def conversation(conversation_id: str) -> str:
    """Return the key of a write that locks the conversation ``conversation_id`` first."""
    return f"1 {conversation_id}"


def customer(org_id: str, customer_id: str | None) -> str:
    """Return the key of a write that upserts a customer first; None stands for a new id."""
    return f"2 {org_id}:{customer_id or ''}"


def idempotency(scope_key: str, key: str) -> str:
    """Return the key of a write to the idempotency row of ``key`` under ``scope_key``."""
    return f"3 {scope_key}:{key}"

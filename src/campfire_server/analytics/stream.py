"""A conversation's analytics stream and the step that folds one new item into its facts.

A conversation's messages, resolutions and handoff requests form one
stream, ordered by time and, at equal times, in the order they were stored:
messages by ``seq``, and a resolution or handoff request after the messages
stored before it. ``advance`` applies the next item of that stream to the
facts row of the conversation, the same rules by which ``facts`` derives
the row from the whole stream in SQL:

* a customer message starts a wait unless one is already open;
* an AI or agent reply answers the open wait of the reply series, and an
  agent reply the open wait of the human series;
* a resolution ends both open waits without a sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Stream item kinds. Their order breaks ties only between a resolution and
# a handoff request stored after the same messages in the same millisecond.
CUSTOMER, AI, AGENT, RESOLVED, AGENT_NOTE, HANDOFF = range(6)

# Kinds whose order decides the waits. Private agent notes and handoff
# requests only set the time of their first occurrence, in any order.
ORDERED_KINDS = (CUSTOMER, AI, AGENT, RESOLVED)

# analytics_waits.series: which replies answer a wait.
REPLY_SERIES = 0  # an AI or agent reply
HUMAN_SERIES = 1  # an agent reply; AI replies neither answer nor end the wait

# A stream position packs a timestamp and an ordered kind into one integer.
# Only its timestamp decides whether a new item is in order (``in_order``).
POSITION_FACTOR = 8

STATE_COLUMNS = (
    "resolved_at",
    "ai_at",
    "agent_at",
    "handoff_at",
    "first_response_ms",
    "first_reply_kind",
    "first_human_response_ms",
    "reply_waits",
    "reply_ms",
    "reply_squares",
    "ai_waits",
    "ai_ms",
    "ai_squares",
    "human_waits",
    "human_ms",
    "human_squares",
    "reply_wait_from",
    "human_wait_from",
    "stream_position",
    "ai_resolved",
)


@dataclass(frozen=True, slots=True)
class Wait:
    """One answered customer wait, as stored in ``analytics_waits``."""

    series: int
    answered: int
    reply_kind: int
    ms: int


def position(at_ms: int, kind: int) -> int:
    return at_ms * POSITION_FACTOR + kind


def in_order(facts: dict[str, Any], at_ms: int, kind: int) -> bool:
    """Tell whether a newly stored item sorts after every ordered item already applied.

    A new item was stored after every item already in the stream, so at an
    equal time it sorts last, and it is out of order only when its time is
    earlier than the stream's last one.
    """
    if kind not in ORDERED_KINDS:
        return True
    last = facts["stream_position"]
    return last is None or at_ms >= int(last) // POSITION_FACTOR


def _first(facts: dict[str, Any], changes: dict[str, Any], column: str, at_ms: int) -> None:
    current = facts[column]
    if current is None or at_ms < int(current):
        changes[column] = at_ms


def _answer(
    facts: dict[str, Any], changes: dict[str, Any], series: int, kind: int, at_ms: int
) -> Wait | None:
    """Close the open wait of ``series`` with a reply of ``kind``; return its sample."""
    prefix = "reply" if series == REPLY_SERIES else "human"
    started = facts[f"{prefix}_wait_from"]
    if started is None:
        return None

    ms = at_ms - int(started)
    answered = int(facts[f"{prefix}_waits"]) + 1
    changes[f"{prefix}_wait_from"] = None
    sums = [prefix] + (["ai"] if kind == AI else [])
    for name in sums:
        changes[f"{name}_waits"] = int(facts[f"{name}_waits"]) + 1
        changes[f"{name}_ms"] = int(facts[f"{name}_ms"]) + ms
        changes[f"{name}_squares"] = float(facts[f"{name}_squares"]) + float(ms) * ms
    if answered == 1 and series == REPLY_SERIES:
        changes["first_response_ms"] = ms
        changes["first_reply_kind"] = kind
    if answered == 1 and series == HUMAN_SERIES:
        changes["first_human_response_ms"] = ms
    return Wait(series, answered, kind, ms)


def advance(facts: dict[str, Any], kind: int, at_ms: int) -> tuple[dict[str, Any], list[Wait]]:
    """Apply one stream item to a conversation's facts; return the changed columns and waits.

    An ordered item must satisfy ``in_order``; the caller derives the facts
    again from the whole stream when it does not.
    """
    changes: dict[str, Any] = {}
    waits: list[Wait] = []
    if kind in ORDERED_KINDS:
        last = facts["stream_position"]
        latest = position(at_ms, kind) if last is None else max(int(last), position(at_ms, kind))
        if last != latest:
            changes["stream_position"] = latest

    if kind == CUSTOMER:
        for prefix in ("reply", "human"):
            if facts[f"{prefix}_wait_from"] is None:
                changes[f"{prefix}_wait_from"] = at_ms
    elif kind in (AI, AGENT):
        _first(facts, changes, "ai_at" if kind == AI else "agent_at", at_ms)
        series = (REPLY_SERIES, HUMAN_SERIES) if kind == AGENT else (REPLY_SERIES,)
        for number in series:
            wait = _answer(facts, changes, number, kind, at_ms)
            if wait is not None:
                waits.append(wait)
    elif kind == RESOLVED:
        if facts["resolved_at"] is None:
            # Items reach the facts in the order they were stored, so the
            # firsts already set are the items stored before this resolution.
            by_ai = (
                facts["ai_at"] is not None
                and facts["agent_at"] is None
                and facts["handoff_at"] is None
            )
            changes["ai_resolved"] = 1 if by_ai else 0
        _first(facts, changes, "resolved_at", at_ms)
        changes["reply_wait_from"] = None
        changes["human_wait_from"] = None
    elif kind == AGENT_NOTE:
        _first(facts, changes, "agent_at", at_ms)
    elif kind == HANDOFF:
        _first(facts, changes, "handoff_at", at_ms)

    return {column: value for column, value in changes.items() if facts[column] != value}, waits

"""The catalog of metrics: what each one measures, in words shown to API callers.

Two rules hold for every metric:

* A conversation belongs to the period in which it was created, and all of
  its messages, resolutions, handoffs and its rating count there, whenever
  they happened. A late rating or reply therefore changes the figures of
  the period the conversation was created in, never another one.
* A conversation counts as resolved when it has ever been resolved, once,
  at its first resolution. Reopening and resolving again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["duration", "share", "rating", "count"]

COHORT_RULE = (
    "Conversations are placed in a period by their creation time in the requested timezone; "
    "their later messages, resolutions, handoffs and ratings count in that same period."
)
RESOLUTION_RULE = (
    "A conversation is resolved if it has ever been resolved; it counts once, at its first "
    "resolution, even when it was reopened and resolved again."
)
WAIT_RULE = (
    "A wait starts at a customer message that is not already waiting (the first customer "
    "message since the last counted reply or resolution); later customer messages of the same "
    "wait do not start another. A resolution before any reply ends the wait without a sample. "
    "Private notes and system messages are ignored."
)


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    kind: Kind
    higher_is_better: bool | None
    definition: str


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric(
            "response_time",
            "duration",
            False,
            "Seconds from the start of each customer wait to the next AI or agent reply. "
            + WAIT_RULE,
        ),
        Metric(
            "first_response_time",
            "duration",
            False,
            "Seconds from the start of a conversation's first answered customer wait to its "
            "first AI or agent reply; one sample per conversation. " + WAIT_RULE,
        ),
        Metric(
            "human_response_time",
            "duration",
            False,
            "Seconds from the start of each customer wait to the next agent reply; AI replies "
            "neither answer nor end the wait, so this is the time the customer waited for a "
            "person. " + WAIT_RULE,
        ),
        Metric(
            "ai_response_time",
            "duration",
            False,
            "Seconds from the start of each customer wait to the reply that answered it, for "
            "the waits that the AI answered before any agent. " + WAIT_RULE,
        ),
        Metric(
            "resolution_rate",
            "share",
            True,
            "total_resolution is the share of the period's conversations that were resolved. "
            "ai_resolution is the share resolved with an AI reply and no agent involvement: "
            "at least one public AI reply came before the first resolution, and no agent "
            "message (private notes included) and no handoff request did, whoever set the "
            "status. A conversation resolved before any AI reply, such as one with customer "
            "messages only, counts as resolved but not as AI-resolved. An item in the same "
            "millisecond as the resolution counts by the order it was stored in. trend follows "
            "total_resolution. " + RESOLUTION_RULE,
        ),
        Metric(
            "handoff_rate",
            "share",
            False,
            "Share of the period's conversations with at least one handoff request to a "
            "person (handoff.requested events).",
        ),
        Metric(
            "satisfaction",
            "rating",
            True,
            "Average of the current 1-to-5 ratings of the period's rated conversations; a "
            "changed rating replaces the old one. total_responses counts rated conversations.",
        ),
        Metric(
            "conversation_volume",
            "count",
            None,
            "Number of conversations created in the period.",
        ),
    )
}

DEFAULT_METRICS = ("response_time", "resolution_rate", "satisfaction")

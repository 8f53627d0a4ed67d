"""Search queries built from the customer's message and the turns before it."""

from __future__ import annotations

from collections.abc import Sequence

from .index import Query
from .text import tokens

# The customer turn before the current one is searched at this weight: follow-up
# questions ("and how much does that cost?") name their subject only there.
PREVIOUS_TURN_WEIGHT = 0.5
CUSTOMER_AUTHORS = frozenset({"customer", "user"})


def build_query(
    question: str,
    history: Sequence[tuple[str, str]] = (),
    *,
    previous_turn_weight: float = PREVIOUS_TURN_WEIGHT,
) -> Query:
    """Build a query from ``question`` and the last earlier customer turn in ``history``.

    ``history`` holds ``(author_type, content)`` pairs, oldest first.
    """
    current = tokens(question)
    terms: dict[str, float] = {}
    for term in current:
        terms[term] = terms.get(term, 0.0) + 1.0

    previous = next(
        (content for author, content in reversed(history) if author in CUSTOMER_AUTHORS), None
    )
    text = question
    if previous and previous_turn_weight > 0:
        for term in tokens(previous):
            terms[term] = terms.get(term, 0.0) + previous_turn_weight
        text = f"{previous}\n{question}"
    return Query(text=text, terms=terms, current_terms=current)

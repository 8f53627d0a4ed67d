"""Search queries built from the customer's message and the turns before it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .index import Query
from .text import tokens

# The customer turn before the current one is searched at this weight: follow-up
# questions ("and how much does that cost?") name their subject only there.
PREVIOUS_TURN_WEIGHT = 0.5
CUSTOMER_AUTHORS = frozenset({"customer", "user"})

# A lead-in by which a customer starts a new topic, such as "New question:",
# "Unrelated -" or "Thanks! Another thing,". It may follow a greeting or
# thanks. It must end in punctuation, or be followed by a question word or
# a pronoun, so "Another thing broke" is no marker. The earlier turns then
# belong to another topic.
_LEAD = r"(?:(?:ok(?:ay)?|thanks?(?: you)?|cool|great|hi|hey|hello|also|and|but|so|oh)[\s,.!]+)*"
_TOPIC = (
    r"(?:(?:i\s+have|i've\s+got|i\s+got|got|here'?s)\s+)?(?:a\s+|an\s+|one\s+more\s+)?"
    r"(?:new|different|separate|unrelated|another|other|second)\s+"
    r"(?:question|topic|thing|issue|subject|matter|problem|one)"
    r"|one\s+more\s+(?:question|thing)"
    r"|something\s+(?:else|different|unrelated)"
    r"|unrelated(?:ly)?"
    r"|on\s+(?:a|an)\s*(?:other|different|unrelated|separate)\s+note"
    r"|chang(?:e|ing)\s+(?:of\s+)?(?:the\s+)?(?:subject|topic)"
)
_QUESTION_START = (
    r"(?:how|what|where|when|why|who|which|can|could|is|are|do|does|did|will|would|should"
    r"|i|i'm|my|we|our)\b"
)
_TOPIC_CHANGE = re.compile(
    rf"^\s*{_LEAD}(?:{_TOPIC})(?:\s*(?:[:,.!?;]+|[-\u2013\u2014]+)\s*|\s+(?={_QUESTION_START}))",
    re.IGNORECASE,
)


def split_topic_change(question: str) -> tuple[str, bool]:
    """Return ``question`` without a leading new-topic marker, and whether it had one.

    A question that is only the marker ("new question") is returned whole.
    """
    match = _TOPIC_CHANGE.match(question)
    if match is None:
        return question, False
    rest = question[match.end() :].strip()
    if not tokens(rest):
        return question, False
    return rest, True


def build_query(
    question: str,
    history: Sequence[tuple[str, str]] = (),
    *,
    previous_turn_weight: float = PREVIOUS_TURN_WEIGHT,
) -> Query:
    """Build a query from ``question`` and the last earlier customer turn in ``history``.

    ``history`` holds ``(author_type, content)`` pairs, oldest first. A
    question that starts with a new-topic marker ("New question: ...") is
    searched without the marker and without the earlier turns.
    """
    question, new_topic = split_topic_change(question)
    if new_topic:
        history = ()
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

"""Passage-level checks that the chosen passage answers this question.

An article can contain every rare word of a question and still not answer
it: the words sit in different sections, about different things. This
check looks at whether the question's neighbouring terms (a verb and its
object, a product and its version) also stand close together in the best
passage.
"""

from __future__ import annotations

from collections.abc import Sequence

# Two question terms count as a pair found in the passage when they occur
# within this many terms of each other there.
PAIR_DISTANCE = 3


def pair_coverage(question_terms: Sequence[str], passage_terms: Sequence[str]) -> float:
    """Return the share of the question's neighbouring term pairs that stay close in the passage.

    A pair is two distinct terms next to each other in the question ("reset
    password", "websphere 8.5"). It is found when both occur within
    ``PAIR_DISTANCE`` terms of each other in the passage, in either order.
    A question of one term has no pairs and scores 1.
    """
    pairs = {
        (first, second)
        for first, second in zip(question_terms, question_terms[1:], strict=False)
        if first != second
    }
    if not pairs:
        return 1.0
    wanted = {term for pair in pairs for term in pair}
    positions: dict[str, list[int]] = {}
    for position, term in enumerate(passage_terms):
        if term in wanted:
            positions.setdefault(term, []).append(position)

    found = 0
    for first, second in pairs:
        left = positions.get(first)
        right = positions.get(second)
        if not left or not right:
            continue
        if any(abs(a - b) <= PAIR_DISTANCE for a in left for b in right):
            found += 1
    return found / len(pairs)

"""A check that a short question's own subject occurs in the knowledge base at all.

"Can I pay with PayPal?" has two search terms. When no article mentions
PayPal, the best article matches "pay" alone, and on a knowledge base of a
few dozen articles that one match stands several standard deviations above
the rest, so the fitted confidence model reads it as a clear answer. The
model was fitted on questions of many terms, where a term that no article
contains is usually a typo, a log line or chat ("I meant ..."), so it gives
such a term little weight. In a question of a few terms each term is part of
the request, and a word that the knowledge base never uses, and that is not
a misspelling of one it uses, means the knowledge base cannot answer it.

This check stays outside the fitted model: it caps the confidence, as the
rules in ``handoff.py`` force a handoff.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence

# Questions of up to this many distinct search terms are checked. In longer
# messages most terms are context, and on the labelled sets of BENCHMARKS.md
# a term unknown to the knowledge base was then as often in an answerable
# question as in an unanswerable one.
MAX_QUESTION_TERMS = 4
# Shorter terms ("sf", "pls", "oop") are mostly abbreviations and chat.
MIN_TERM_CHARS = 4
# A term this similar to a knowledge-base term (difflib ratio) is read as a
# misspelling of it: "mortag" for "mortgag", "bevarag" for "beverag".
MISSPELLING_RATIO = 0.8
# The confidence ceiling of an answer whose question names something the
# knowledge base never mentions. It is the one of a reply that declined.
UNMATCHED_MAX_CONFIDENCE = 0.3

# Stemmed chat words and contractions written without an apostrophe. They
# tell how a customer writes, not what they ask about.
CHAT_TERMS = frozenset(
    """
    meant mean oop okay plz thx btw actual realli
    dont doesnt didnt isnt arent wasnt werent cant couldnt wont wouldnt shouldnt
    havent hasnt ive youv theyr
    """.split()
)


def unmatched_term(question_terms: Sequence[str], vocabulary: Collection[str]) -> str | None:
    """Return a term of a short question that the knowledge base never uses, else None.

    ``question_terms`` contains the search terms of the customer's last
    message (``knowledge.text.tokens``) and ``vocabulary`` every term of
    the knowledge base. Numbers, short terms, chat words and misspellings
    of a knowledge-base term do not count.
    """
    distinct = list(dict.fromkeys(question_terms))
    if not distinct or len(distinct) > MAX_QUESTION_TERMS:
        return None
    for term in distinct:
        if term in vocabulary or term in CHAT_TERMS:
            continue
        if len(term) < MIN_TERM_CHARS or term.isdigit():
            continue
        if _misspells(term, vocabulary):
            continue
        return term
    return None


def _misspells(term: str, vocabulary: Collection[str]) -> bool:
    """Tell whether ``term`` is within ``MISSPELLING_RATIO`` of a term in ``vocabulary``."""
    # A ratio of 0.8 needs lengths within a quarter of each other.
    shortest = int(len(term) * 0.75)
    longest = int(len(term) / 0.75) + 1
    nearby = [word for word in vocabulary if shortest <= len(word) <= longest]
    return bool(difflib.get_close_matches(term, nearby, n=1, cutoff=MISSPELLING_RATIO))

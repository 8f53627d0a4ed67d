"""A check that the product, service or code a short question names occurs in the knowledge base.

"Can I pay with PayPal?" has two search terms. When no article mentions
PayPal, the best article matches "pay" alone. On a knowledge base of a few
dozen articles most articles score 0 for "pay", so the one that matches lies
near the largest standard score that so few articles allow (the square root
of their number less one). The fitted confidence model learned its standard
score features on hundreds of articles, so it reads that as a clear match.
It also gives a name missing from the best article little weight, because
on its long training questions such names are mostly context. In a question
of a few terms the name is the subject, and when the knowledge base never
mentions it, no article can answer.

A word of everyday language that the knowledge base never uses counts only
when it is much rarer in general English than every question word the
knowledge base does use: "bitcoin" in "Can I pay with bitcoin?" beside
"pay". In a knowledge base of a few dozen articles "pay" is as rare as a
product name, so only its general frequency tells the two apart. A missing
word about as common as the matched ones ("colleague" beside "invite") is as
often in a question that an article answers in other words, so that case
stays with the model.

The check stays outside the fitted model: it caps the confidence, as the
rules of ``handoff.py`` force a handoff.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Sequence

import wordfreq

from ..knowledge.text import specific_terms, tokens
from .evidence import product_names
from .providers.question_terms import abbreviation_terms

# Questions of up to this many distinct search terms are checked. In longer
# messages a name is mostly context, because a forum post names the product,
# the platform and the versions around its question.
MAX_QUESTION_TERMS = 4
# A term this similar to a knowledge-base term (difflib ratio) is read as a
# misspelling of it: "Paypall" of "paypal", "Calendy" of "calendly".
MISSPELLING_RATIO = 0.8
# The confidence ceiling of an answer whose question names something the
# knowledge base never mentions. The engine caps a reply that the provider
# declined at the same value.
UNMATCHED_MAX_CONFIDENCE = 0.3
# A missing word counts when its Zipf frequency (log10 of its occurrences per
# billion words of general English) lies at least this far under that of the
# rarest question word the knowledge base contains, about three times rarer.
# NOTE: picked from 0, 0.25 and 0.5 on the demo questions, so "cash" beside
# "pay" (0.48 apart) is still left to the model.
RARE_WORD_MARGIN = 0.5
# The wordfreq list of English words that occur at least once per million
# words (Zipf 3), so rarer words read as 0. It loads once, here, in about
# 15 ms.
_WORDLIST = "small"
wordfreq.zipf_frequency("warm", "en", wordlist=_WORDLIST)
_WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")


def unmatched_name(
    question: str,
    question_terms: Sequence[str],
    vocabulary: Collection[str],
    passage: str,
) -> str | None:
    """Return the stemmed name or code of a short question that the knowledge base lacks, else None.

    ``question_terms`` contains the search terms of the customer's last
    message (``knowledge.text.tokens``), ``vocabulary`` every term of the
    knowledge base and ``passage`` the best passage. A name counts as
    present when the knowledge base contains it or a near spelling of it,
    and an abbreviation also when the passage spells it out ("2FA" and
    "two-factor authentication").
    """
    distinct = set(question_terms)
    if not distinct or len(distinct) > MAX_QUESTION_TERMS:
        return None
    names = (product_names(question) | specific_terms(question)) & distinct
    if not names:
        return None
    for name in sorted(names):
        if name in vocabulary or name.isdigit() or _misspells(name, vocabulary):
            continue
        if _abbreviates(name, question, passage):
            continue
        return name
    return None


def _abbreviates(name: str, question: str, passage: str) -> bool:
    """Tell whether ``name`` is one of the question's abbreviations that ``passage`` spells out."""
    for word in question.split():
        if tokens(word) == [name] and abbreviation_terms(word, passage):
            return True
    return False


def _misspells(term: str, vocabulary: Collection[str]) -> bool:
    """Tell whether ``term`` is within ``MISSPELLING_RATIO`` of a term in ``vocabulary``.

    Only terms with the same first letter are compared, on the assumption,
    common in spelling correction, that a misspelling keeps it. On the
    17,794 terms of the three labelled sets merged, that took the check
    from 21 to 6.5 ms wall clock (2.5 ms of CPU) on a loaded two-core
    Intel Xeon.
    """
    # A ratio of 0.8 needs lengths within a quarter of each other.
    shortest = int(len(term) * 0.75)
    longest = int(len(term) / 0.75) + 1
    nearby = [
        word for word in vocabulary if word[:1] == term[:1] and shortest <= len(word) <= longest
    ]
    return bool(difflib.get_close_matches(term, nearby, n=1, cutoff=MISSPELLING_RATIO))


def unmatched_rare_word(
    question: str, question_terms: Sequence[str], vocabulary: Collection[str]
) -> str | None:
    """Return a short question's stemmed word that no article contains and English rarely uses.

    Returns None when the question has no such word. The word must lie
    ``RARE_WORD_MARGIN`` under the general English frequency of every
    question term that ``vocabulary`` contains, so a question whose only
    matches are common words and whose rarest word no article uses is read
    as uncovered. Names and codes are left to
    ``unmatched_name``, and a near spelling of a known term counts as known.
    """
    distinct = set(question_terms)
    if not distinct or len(distinct) > MAX_QUESTION_TERMS:
        return None
    frequency = _term_frequencies(question, distinct)
    matched = [frequency[term] for term in distinct if term in vocabulary and term in frequency]
    if not matched:
        return None
    ceiling = min(matched) - RARE_WORD_MARGIN
    names = product_names(question) | specific_terms(question)
    for term in sorted(distinct - names):
        if term in vocabulary or term.isdigit() or term not in frequency:
            continue
        if frequency[term] <= ceiling and not _misspells(term, vocabulary):
            return term
    return None


def _term_frequencies(question: str, terms: Collection[str]) -> dict[str, float]:
    """Map each of ``terms`` to the lowest Zipf frequency of a question word stemming to it."""
    frequency: dict[str, float] = {}
    for match in _WORD.finditer(question.lower()):
        word = match.group()
        zipf = wordfreq.zipf_frequency(word, "en", wordlist=_WORDLIST)
        for term in tokens(word):
            if term in terms:
                frequency[term] = min(frequency.get(term, zipf), zipf)
    return frequency

"""A knowledge base's own scale for how far a matching article lies above the rest.

How many standard deviations the best article's BM25 score lies above the
mean over all articles grows with the size of the knowledge base, because
most articles score near zero and a larger base lowers the mean and the
spread. On the labelled sets of BENCHMARKS.md the answerable questions'
best article stood 8.6 standard deviations out on the techqa articles
alone and 11.9 with all three sets merged. So the evidence divides that
standard score by the one a known match reaches in the same knowledge base.
That reference is the median of the best article's standard score for a
query cut from the middle of a passage, over up to ``SAMPLE_PASSAGES`` passages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

from .text import tokens

# Every passage of a knowledge base up to this many is used. On the merged
# knowledge base of BENCHMARKS.md (2,022 passages) the median over all of them
# is 12.0 and took 0.16 s of CPU. Over 20 random draws, the median of 200
# passages ranged from 11.3 to 12.8, and the median of 1,000 from 11.9 to 12.4.
SAMPLE_PASSAGES = 1000
QUERY_WORDS = 12
# Cuts with fewer search terms than this are skipped, because they match too loosely.
MIN_QUERY_TERMS = 3


def standard_score(scores: np.ndarray, position: int) -> float:
    """Return how many standard deviations ``scores[position]`` lies above the mean of ``scores``.

    ``scores`` contains only finite values. A constant array has no spread, so
    every entry scores 0.
    """
    spread = float(scores.std())
    if spread <= 0:
        return 0.0
    return (float(scores[position]) - float(scores.mean())) / spread


def reference_standard_score(
    passage_texts: Sequence[str],
    article_scores: Callable[[dict[str, float]], np.ndarray],
) -> float:
    """Return the median standard score of the best article for queries cut from passages.

    ``article_scores`` maps a query of weighted terms to one lexical score
    per article. A larger knowledge base is sampled in the order of a hash
    of each passage's text, not in index order, because articles created in
    the same millisecond are indexed in the random order of their ids. So
    every build of the same articles gives the same result. Returns 1.0 when no passage
    yields a usable query or the median is not positive, so that dividing
    by it leaves a standard score unchanged.
    """
    count = len(passage_texts)
    if count == 0:
        return 1.0
    picks = sorted(range(count), key=lambda i: _text_hash(passage_texts[i]))[:SAMPLE_PASSAGES]

    found = []
    for pick in picks:
        words = passage_texts[pick].split()
        start = max(0, len(words) // 2 - QUERY_WORDS // 2)
        query: dict[str, float] = {}
        for term in tokens(" ".join(words[start : start + QUERY_WORDS])):
            query[term] = query.get(term, 0.0) + 1.0
        if len(query) < MIN_QUERY_TERMS:
            continue
        scores = article_scores(query)
        found.append(standard_score(scores, int(np.argmax(scores))))

    if not found:
        return 1.0
    median = float(np.median(found))
    return median if median > 0 else 1.0


def _text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()

"""Okapi BM25 over passages, held in memory as one posting array per term."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

K1 = 1.8
B = 0.8


class Bm25:
    """A BM25 index whose documents are term-frequency counters.

    The inverse document frequency is the non-negative variant
    ``log(1 + (N - df + 0.5) / (df + 0.5))``, so a term found in most
    documents adds little and never subtracts.
    """

    def __init__(self, documents: Sequence[Mapping[str, float]]) -> None:
        self.size = len(documents)
        lengths = np.array([sum(doc.values()) for doc in documents], dtype=np.float64)
        average = float(lengths.mean()) if self.size else 0.0
        norm = K1 * (1 - B + B * lengths / average) if average else np.full(self.size, K1)

        rows: dict[str, list[int]] = {}
        counts: dict[str, list[float]] = {}
        for index, doc in enumerate(documents):
            for term, tf in doc.items():
                rows.setdefault(term, []).append(index)
                counts.setdefault(term, []).append(tf)

        self.idf: dict[str, float] = {}
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, term_rows in rows.items():
            df = len(term_rows)
            idf = math.log(1 + (self.size - df + 0.5) / (df + 0.5))
            row_array = np.array(term_rows, dtype=np.int32)
            tf = np.array(counts[term], dtype=np.float64)
            weights = idf * tf * (K1 + 1) / (tf + norm[row_array])
            self.idf[term] = idf
            self._postings[term] = (row_array, weights.astype(np.float32))
        # The idf a term would have if it occurred in one document: the ceiling
        # used to weigh query terms the index has never seen.
        self.max_idf = math.log(1 + (self.size - 0.5) / 1.5) if self.size else 0.0

    def scores(self, query: Mapping[str, float]) -> np.ndarray:
        """Return the BM25 score of every document for a query of weighted terms."""
        total = np.zeros(self.size, dtype=np.float32)
        for term, weight in query.items():
            posting = self._postings.get(term)
            if posting is None:
                continue
            rows, weights = posting
            total[rows] += weight * weights
        return total

    def document_frequency(self, term: str) -> int:
        posting = self._postings.get(term)
        return 0 if posting is None else len(posting[0])


def term_counts(terms: Sequence[str], weight: float = 1.0) -> Counter[str]:
    counts: Counter[str] = Counter()
    for term in terms:
        counts[term] += weight
    return counts

"""The in-memory search index of one organization's knowledge base.

The index is built from the stored articles, so it ranks identically on
SQLite and PostgreSQL: both engines only store the rows. Articles are cut
into passages, a passage is scored by BM25 (title terms counted twice) and
optionally by embedding similarity, and an article is scored by its best
passage. With both retrievers the two article scores are fused as a
weighted sum of standard scores.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from .bm25 import Bm25
from .chunking import Passage, split_passages
from .hubness import passage_hubness, title_cosine_moments
from .reference import reference_standard_score
from .semantic import Encoder
from .text import tokens

RetrieverMode = Literal["lexical", "semantic", "fused"]

TITLE_WEIGHT = 2
# Credit of one query term in ``KnowledgeIndex.relevance``. A term in the title
# earns TITLE_CREDIT plus up to TITLE_FOCUS_CREDIT for the idf-weighted share
# of the title's terms that the query contains, so a title that is exactly the
# query earns 1. A term found only in the text earns BODY_CREDIT_MAX minus
# BODY_CREDIT_STEP / n for n occurrences: 0.7 once, 0.8 twice, under 0.9.
TITLE_CREDIT = 0.9
TITLE_FOCUS_CREDIT = 0.1
BODY_CREDIT_MAX = 0.9
BODY_CREDIT_STEP = 0.2
# The number of best-ranked articles that the search route and the CLI sort by
# relevance, so a result's place does not depend on a limit up to this size.
RELEVANCE_POOL = 50
# Weight of the lexical standard score in fused search; the semantic one gets
# the rest. On the three labelled sets of BENCHMARKS.md, the weight with the
# best hit@1 on any two sets was 0.3 to 0.45, and 0.35 on the sets alone.
FUSION_LEXICAL_WEIGHT = 0.35
# Knowledge bases with at most this many passages keep every passage's
# word-piece vectors, up to 126 x 384 float16 values (about 97 KB) each, so at
# most about 390 MB. The merged knowledge base of BENCHMARKS.md (2,035
# passages) keeps about 190 MB. Larger ones encode the best passage per answer.
# NOTE: the limit trades memory for answer time; it was not tuned.
MAX_PRECOMPUTED_PASSAGES = 4000


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    """The fields of a stored article that search and answers need."""

    id: str
    title: str
    text: str
    url: str | None
    mailbox_ids: tuple[str, ...] = ()
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class ScorePopulation:
    """The count, sum and sum of squares of one ranking's scores over the visible articles."""

    count: int
    total: float
    squares: float

    def standard_score(self, score: float, zeroed: Sequence[float] = ()) -> float:
        """Return ``score``'s standard score with the scores ``zeroed`` counted as 0.

        A score set to 0 stands for an article that matched nothing, so the
        count of articles stays the same. Returns 0 when the scores have no
        spread, as ``_standard_scores`` does.
        """
        if self.count < 2:
            return 0.0
        mean = (self.total - sum(zeroed)) / self.count
        variance = (self.squares - sum(s * s for s in zeroed)) / self.count - mean * mean
        if variance <= 1e-12:
            return 0.0
        return (score - mean) / math.sqrt(variance)


@dataclass(slots=True)
class ArticleHit:
    """One article in a ranking, with the evidence behind its place."""

    article: IndexedArticle
    rank: int
    lexical: float
    semantic: float
    fused: float
    passage: Passage
    passage_lexical: float = 0.0
    passages: list[Passage] = field(default_factory=list)
    # The position of ``passage`` in ``KnowledgeIndex.passages``.
    passage_index: int = -1
    # Each score's distance from its mean over the visible articles, in standard deviations.
    lexical_standard: float = 0.0
    semantic_standard: float = 0.0
    # The visible articles' scores that the standard scores were measured against.
    lexical_population: ScorePopulation | None = None
    semantic_population: ScorePopulation | None = None


@dataclass(slots=True)
class Query:
    """Weighted search terms and the text handed to the sentence encoder."""

    text: str
    terms: dict[str, float]
    current_terms: list[str]


class KnowledgeIndex:
    """Passages, BM25 postings and, when an encoder is given, passage embeddings."""

    def __init__(
        self,
        articles: Sequence[IndexedArticle],
        *,
        version: int = 0,
        encoder: Encoder | None = None,
    ) -> None:
        self.version = version
        # Ties in every ranking go to the earlier article, so articles are kept in
        # an order that does not depend on their random ids or the database engine.
        self.articles = sorted(articles, key=stable_order)
        self._positions = {article.id: index for index, article in enumerate(self.articles)}
        self.encoder = encoder
        self.passages: list[Passage] = []
        self.article_terms: list[frozenset[str]] = []
        self.title_terms: list[frozenset[str]] = []
        # How often each term occurs in an article's text, over all its passages.
        self.body_counts: list[Counter[str]] = []
        passage_articles: list[int] = []
        documents: list[Counter[str]] = []
        self._first_passage: list[int] = []

        for index, article in enumerate(self.articles):
            title_terms = tokens(article.title)
            self._first_passage.append(len(self.passages))
            article_vocabulary: set[str] = set(title_terms)
            body_counts: Counter[str] = Counter()
            for passage in split_passages(article.id, article.text):
                body = tokens(passage.text)
                article_vocabulary.update(body)
                body_counts.update(body)
                counts = Counter(body)
                for term in title_terms:
                    counts[term] += TITLE_WEIGHT
                documents.append(counts)
                self.passages.append(passage)
                passage_articles.append(index)
            self.article_terms.append(frozenset(article_vocabulary))
            self.title_terms.append(frozenset(title_terms))
            self.body_counts.append(body_counts)
        self._first_passage.append(len(self.passages))

        self.passage_article = np.array(passage_articles, dtype=np.int32)
        self.lexical = Bm25(documents)
        # The lexical standard score a known match reaches in this knowledge base.
        self.reference_lexical_standard = reference_standard_score(
            [passage.text for passage in self.passages], self._lexical_article_scores
        )
        self.vectors: np.ndarray | None = None
        if encoder is not None and self.passages:
            texts = [
                f"{self.articles[a].title}\n{p.text}"
                for a, p in zip(passage_articles, self.passages, strict=True)
            ]
            self.vectors = encoder.encode_passages(texts)
        # Mean cosine of each passage to its nearest other passages, over every
        # article whatever its mailboxes. About 0.04 s of CPU on one core for
        # 2,035 passages, the size of the merged knowledge base of BENCHMARKS.md.
        self.passage_hubness = (
            passage_hubness(self.vectors)
            if self.vectors is not None
            else np.zeros(len(self.passages), dtype=np.float32)
        )
        # Each passage's mean cosine to every distinct title embedded as a
        # question, and its standard deviation, for the evidence's
        # ``title_query_standard``. The titles go through the model in batches:
        # 803 distinct titles of the three labelled sets of BENCHMARKS.md took
        # 3.7 s of CPU on one core of an AMD EPYC, the cosines 0.02 s.
        self.title_cosine_mean = np.zeros(len(self.passages), dtype=np.float32)
        self.title_cosine_spread = np.ones(len(self.passages), dtype=np.float32)
        if encoder is not None and self.vectors is not None:
            titles = sorted({article.title for article in self.articles})
            self.title_cosine_mean, self.title_cosine_spread = title_cosine_moments(
                self.vectors, encoder.encode_passages(titles)
            )
        # Word-piece vectors of each distinct title, for the title kernels of
        # ``assistant/kernels.py``. Encoding the title per answer added about
        # 10 ms of CPU to a fused answer on one core. At build the 1,044
        # distinct titles of the merged knowledge base of BENCHMARKS.md took
        # 12 s of CPU and keep 10 MB of float16.
        # NOTE: one pass per title; batching the titles would cut the build time.
        self.title_pieces: dict[str, np.ndarray] = {}
        if encoder is not None and self.vectors is not None:
            for article in self.articles:
                if article.title not in self.title_pieces:
                    self.title_pieces[article.title] = encoder.encode_pieces(article.title)
        # Word-piece vectors of every passage, for the passage kernels. Encoding
        # the best passage per answer was one of the two model passes of a fused
        # answer, about 25 ms of CPU at 128 word pieces; at build the passages
        # go through the model in batches. Without them (no encoder, or more
        # passages than ``MAX_PRECOMPUTED_PASSAGES``) the evidence encodes the
        # best passage per answer, through the encoder's cache.
        self.passage_pieces: list[np.ndarray] | None = None
        if (
            encoder is not None
            and self.vectors is not None
            and len(self.passages) <= MAX_PRECOMPUTED_PASSAGES
        ):
            self.passage_pieces = encoder.encode_pieces_batch([p.text for p in self.passages])

    def __len__(self) -> int:
        return len(self.articles)

    @property
    def has_semantic(self) -> bool:
        return self.vectors is not None

    def article_passages(self, article_index: int) -> list[Passage]:
        start, end = self._first_passage[article_index], self._first_passage[article_index + 1]
        return self.passages[start:end]

    def visible(self, mailbox_id: str | None, scope: Sequence[str] = ()) -> np.ndarray:
        """Return a mask of the articles that ``mailbox_id`` may use (all when it is None).

        A non-empty ``scope`` (a credential's mailboxes) further keeps only the
        articles that serve every mailbox or one of those.
        """
        mask = np.ones(len(self.articles), dtype=bool)
        if mailbox_id is not None:
            mask &= np.array(
                [not a.mailbox_ids or mailbox_id in a.mailbox_ids for a in self.articles],
                dtype=bool,
            )
        if scope:
            scope_set = set(scope)
            shared = [
                not a.mailbox_ids or not scope_set.isdisjoint(a.mailbox_ids) for a in self.articles
            ]
            mask &= np.array(shared, dtype=bool)
        return mask

    def _lexical_article_scores(self, terms: Mapping[str, float]) -> np.ndarray:
        passage_scores = self.lexical.scores(terms).astype(np.float64)
        return self._best_passages(passage_scores)[0]

    def _best_passages(self, passage_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return each article's best passage score and that passage's index."""
        article_scores = np.full(len(self.articles), -np.inf, dtype=np.float64)
        np.maximum.at(article_scores, self.passage_article, passage_scores)
        best = np.zeros(len(self.articles), dtype=np.int64)
        # Walk passages once: the first passage that reaches its article's best wins.
        order = np.flatnonzero(passage_scores >= article_scores[self.passage_article])
        best[self.passage_article[order[::-1]]] = order[::-1]
        return article_scores, best

    def search(
        self,
        query: Query,
        *,
        mode: RetrieverMode = "lexical",
        mailbox_id: str | None = None,
        scope: Sequence[str] = (),
        limit: int = 10,
    ) -> list[ArticleHit]:
        """Rank the articles visible to ``mailbox_id`` and ``scope`` for ``query``, best first."""
        if not self.articles:
            return []
        if mode != "lexical" and self.vectors is None:
            raise ValueError(f"retriever mode {mode!r} needs an index built with an encoder")

        mask = self.visible(mailbox_id, scope)
        lexical_passages = self.lexical.scores(query.terms).astype(np.float64)
        lexical, lexical_best = self._best_passages(lexical_passages)
        lexical[~mask] = -np.inf

        semantic = np.zeros(len(self.articles))
        semantic_best = lexical_best
        if self.vectors is not None and mode != "lexical":
            vector = self.encoder.encode_query(query.text)
            semantic_passages = (self.vectors @ vector).astype(np.float64)
            semantic, semantic_best = self._best_passages(semantic_passages)
            semantic[~mask] = -np.inf

        if mode == "lexical":
            ranking_scores = lexical
            best = lexical_best
        elif mode == "semantic":
            ranking_scores = semantic
            best = semantic_best
        else:
            ranking_scores = _standard_score_fusion(lexical, semantic, mask)
            # The passage shown for a fused hit is the one its stronger ranking chose.
            lexical_rank = _ranks(lexical)
            semantic_rank = _ranks(semantic)
            best = np.where(semantic_rank < lexical_rank, semantic_best, lexical_best)

        candidates = np.flatnonzero(mask & np.isfinite(ranking_scores))
        if mode == "lexical":
            candidates = candidates[ranking_scores[candidates] > 0]
        order = candidates[np.lexsort((candidates, -ranking_scores[candidates]))][:limit]
        lexical_standard = _standard_scores(lexical, mask)
        semantic_standard = (
            _standard_scores(semantic, mask) if mode != "lexical" else np.zeros(len(semantic))
        )
        lexical_population = _population(lexical, mask)
        semantic_population = _population(semantic, mask) if mode != "lexical" else None

        hits = []
        for rank, article_index in enumerate(order, start=1):
            passage_index = int(best[article_index])
            hits.append(
                ArticleHit(
                    article=self.articles[article_index],
                    rank=rank,
                    lexical=float(max(lexical[article_index], 0.0)),
                    semantic=float(semantic[article_index]) if mode != "lexical" else 0.0,
                    fused=float(ranking_scores[article_index]),
                    passage=self.passages[passage_index],
                    passage_lexical=float(lexical_passages[passage_index]),
                    passages=self.article_passages(int(article_index)),
                    passage_index=passage_index,
                    lexical_standard=float(lexical_standard[article_index]),
                    semantic_standard=float(semantic_standard[article_index]),
                    lexical_population=lexical_population,
                    semantic_population=semantic_population,
                )
            )
        return hits

    def article_index(self, article_id: str) -> int:
        return self._positions[article_id]

    def relevance(self, query: Query, hit: ArticleHit) -> float:
        """Return how well ``hit``'s article matches ``query``, in 0..1, whatever else ranked.

        It is the idf-weighted mean credit of the query's terms. A term in the
        title earns 0.9 to 1 (1 when the title has no other terms), a term only
        in the text earns 0.7 for one occurrence and more for each further one,
        up to 0.9, and a missing term earns 0. A term that no article contains
        weighs as the rarest term. With a sentence encoder, the passage's
        cosine similarity (clipped to 0..1) counts when it is higher. The
        search route and the AI's sources report this value for the same
        query and article.
        """
        position = self.article_index(hit.article.id)
        title_terms = self.title_terms[position]
        body_counts = self.body_counts[position]
        focus = self._title_focus(query, title_terms)
        total = 0.0
        matched = 0.0
        for term, weight in query.terms.items():
            mass = weight * self.lexical.idf.get(term, self.lexical.max_idf)
            total += mass
            if term in title_terms:
                matched += mass * (TITLE_CREDIT + TITLE_FOCUS_CREDIT * focus)
            elif body_counts[term] > 0:
                matched += mass * (BODY_CREDIT_MAX - BODY_CREDIT_STEP / body_counts[term])
        score = matched / total if total > 0 else 0.0
        if hit.semantic > score:
            score = hit.semantic
        return round(min(1.0, max(0.0, score)), 3)

    def _title_focus(self, query: Query, title_terms: frozenset[str]) -> float:
        """Return the idf-weighted share of the title's terms that ``query`` contains."""
        total = 0.0
        matched = 0.0
        for term in title_terms:
            mass = self.lexical.idf.get(term, self.lexical.max_idf)
            total += mass
            if term in query.terms:
                matched += mass
        return matched / total if total > 0 else 0.0

    def search_by_relevance(
        self,
        query: Query,
        *,
        mode: RetrieverMode = "lexical",
        mailbox_id: str | None = None,
        scope: Sequence[str] = (),
        limit: int = 10,
    ) -> list[tuple[ArticleHit, float]]:
        """Return up to ``limit`` hits with their relevance, highest relevance first.

        The best ``RELEVANCE_POOL`` articles of the ranking are sorted by
        relevance, ties keeping their ranking order, and each hit's ``rank``
        becomes its place in that order.
        """
        hits = self.search(
            query,
            mode=mode,
            mailbox_id=mailbox_id,
            scope=scope,
            limit=max(limit, RELEVANCE_POOL),
        )
        scored = [(hit, self.relevance(query, hit)) for hit in hits]
        scored.sort(key=lambda pair: (-pair[1], pair[0].rank))
        for place, (hit, _) in enumerate(scored[:limit], start=1):
            hit.rank = place
        return scored[:limit]


def stable_order(article: IndexedArticle) -> tuple[str, str, str, str]:
    """Return the sort key of an article in the index: externalId, url, title, then id.

    These fields survive a re-import, unlike the generated id, so the same
    knowledge base ranks the same way whichever database built it. Python
    compares the strings by code point, whatever the database's collation.
    """
    return (article.external_id or "", article.url or "", article.title, article.id)


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Return the 0-based rank of every entry, highest score first, ties by position."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(len(scores))
    return ranks


def _standard_scores(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return each score's distance from the mean over the visible articles, in standard deviations.

    Hidden articles and a ranking without spread score 0.
    """
    standard = np.zeros(len(scores), dtype=np.float64)
    if not mask.any():
        return standard
    visible = scores[mask]
    spread = float(visible.std())
    if spread > 0:
        standard[mask] = (visible - float(visible.mean())) / spread
    return standard


def _population(scores: np.ndarray, mask: np.ndarray) -> ScorePopulation:
    visible = scores[mask].astype(np.float64)
    return ScorePopulation(
        count=int(visible.size),
        total=float(visible.sum()),
        squares=float((visible * visible).sum()),
    )


def _standard_score_fusion(
    lexical: np.ndarray, semantic: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """Return the weighted sum of each article's lexical and semantic standard scores.

    A standard score is the score's distance from the mean over the visible
    articles, in standard deviations. Unlike reciprocal-rank fusion it keeps
    the size of each article's lead, and the sum has almost no ties.
    """
    fused = np.full(len(mask), -np.inf, dtype=np.float64)
    if not mask.any():
        return fused
    combined = np.zeros(int(mask.sum()), dtype=np.float64)
    weights = ((lexical, FUSION_LEXICAL_WEIGHT), (semantic, 1 - FUSION_LEXICAL_WEIGHT))
    for scores, weight in weights:
        visible = scores[mask]
        spread = float(visible.std())
        combined += weight * (visible - float(visible.mean())) / (spread if spread > 0 else 1.0)
    fused[mask] = combined
    return fused


def weighted_terms(parts: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Merge the terms of several texts, each counted with its weight."""
    merged: dict[str, float] = {}
    for text, weight in parts:
        for term in tokens(text):
            merged[term] = merged.get(term, 0.0) + weight
    return merged


def lexical_query(terms: Mapping[str, float]) -> Query:
    return Query(text=" ".join(terms), terms=dict(terms), current_terms=list(terms))

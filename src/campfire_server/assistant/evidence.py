"""Evidence that the retrieved articles answer this particular question.

Retrieval scores alone rank well but say little about whether the best
article answers the question: unanswerable questions are on topic, and the
retriever still finds confident-looking neighbours. So besides the scores
this module checks the question against the chosen article, term by term:
how much of the question's rare vocabulary the article contains, and
whether its codes, versions and ids (``SQL0805N``, ``8.5.5.2``) appear there.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..knowledge.bm25 import K1
from ..knowledge.index import ArticleHit, KnowledgeIndex, Query
from ..knowledge.text import specific_terms, tokens
from .answerability import pair_coverage
from .kernels import READING_NAMES, reading_features

# Semantic standard scores are divided by this to fall in 0..1. On the labelled
# sets of BENCHMARKS.md about 1% of best articles lay further out.
SEMANTIC_STANDARD_CAP = 10.0
# The title standard score is divided by this to fall in 0..1. On the labelled
# sets of BENCHMARKS.md 0.2% of best passages lay further out and 1.1% under 0.
TITLE_STANDARD_CAP = 10.0
# ``semantic_gap`` compares the best passage cosine with the one at this rank.
# Ranks 5, 20 and 50 raised fewer held-out checks (BENCHMARKS.md).
GAP_RANK = 10
# ``piece_match_lead`` compares the best passage with the median of this many
# passages nearest the question.
LEAD_NEIGHBOURS = 10

SCALAR_FEATURE_NAMES = (
    "lexical_strength",
    "lexical_margin",
    "coverage",
    "passage_coverage",
    "rare_coverage",
    "specific_missing",
    "unknown_terms",
    "query_size",
    "semantic_top",
    "semantic_margin",
    "retrievers_agree",
    "title_coverage",
    "lexical_spread",
    "names_missing",
    "answer_type_missing",
    "pair_coverage",
    "lexical_standard",
    "semantic_standard",
    "passage_hubness",
    "title_query_standard",
    "semantic_gap",
    "piece_match_lead",
)
# The word-piece features of ``kernels.py`` come last; only semantic and fused
# retrieval measure them.
FEATURE_NAMES = SCALAR_FEATURE_NAMES + READING_NAMES
NO_KERNELS = (0.0,) * len(READING_NAMES)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Numbers that describe how well the best article fits the question, each in 0..1."""

    lexical_strength: float
    lexical_margin: float
    coverage: float
    passage_coverage: float
    rare_coverage: float
    specific_missing: float
    unknown_terms: float
    query_size: float
    semantic_top: float
    semantic_margin: float
    retrievers_agree: float
    title_coverage: float
    lexical_spread: float
    names_missing: float
    answer_type_missing: float
    pair_coverage: float
    lexical_standard: float
    semantic_standard: float
    # Mean cosine of the best passage to its nearest other passages
    # (``knowledge/hubness.py``). It is 0 without the semantic retriever.
    passage_hubness: float
    # How far the question's cosine to the best passage lies above the
    # cosines of the knowledge base's titles, read as questions, to that
    # passage: standard deviations divided by ``TITLE_STANDARD_CAP``, in
    # 0..1. It is 0 without the semantic retriever.
    title_query_standard: float
    # How far the question's best passage cosine lies above its tenth best,
    # over every passage of the knowledge base, clipped to 0..1. It is 0
    # without the semantic retriever.
    semantic_gap: float
    # How much better the last message's word pieces match the best passage
    # than the median of the ten passages nearest the question
    # (``piece_match_lead``), mapped from -1..1 onto 0..1. It is 0 without
    # the semantic retriever and 0.5 where the index keeps no word pieces.
    piece_match_lead: float
    # One value per ``kernels.READING_NAMES`` entry (passage kernels, title
    # kernels, weakest piece). All are 0 without the semantic retriever.
    kernels: tuple[float, ...] = NO_KERNELS

    def vector(self) -> list[float]:
        """Return the values in ``FEATURE_NAMES`` order."""
        return [getattr(self, name) for name in SCALAR_FEATURE_NAMES] + list(self.kernels)


# The hubness is 1 here, the crowded end, because a low hubness raises the
# fused confidence: at 0 the fused model gave this evidence 0.24.
NO_EVIDENCE = Evidence(0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0)


def measure(index: KnowledgeIndex, query: Query, hits: list[ArticleHit], question: str) -> Evidence:
    """Describe how well ``hits[0]`` fits ``question``; ``NO_EVIDENCE`` when nothing was found."""
    if not hits:
        return NO_EVIDENCE
    idf = index.lexical.idf
    unseen_idf = index.lexical.max_idf
    current = set(query.current_terms) or set(query.terms)
    if not current:
        return NO_EVIDENCE

    weights = {term: idf.get(term, unseen_idf) for term in current}
    total_weight = sum(weights.values()) or 1.0
    top = hits[0]
    article_terms = index.article_terms[index.article_index(top.article.id)]
    passage_terms = set(tokens(top.passage.text)) | set(tokens(top.article.title))

    coverage = sum(w for t, w in weights.items() if t in article_terms) / total_weight
    passage_coverage = sum(w for t, w in weights.items() if t in passage_terms) / total_weight

    # Rare terms: those in under 2% of passages, or unseen in the knowledge base.
    rare_floor = math.log(1 + 49.0)
    rare = {t: w for t, w in weights.items() if w >= min(rare_floor, unseen_idf)}
    if rare:
        rare_total = sum(rare.values())
        rare_coverage = sum(w for t, w in rare.items() if t in article_terms) / rare_total
    else:
        rare_coverage = 1.0

    codes = specific_terms(question)
    specific_missing = (
        sum(1 for code in codes if code not in article_terms) / len(codes) if codes else 0.0
    )
    unknown = sum(1 for term in current if term not in idf) / len(current)

    # The best score a passage could reach is about idf * (K1 + 1) per query term.
    ceiling = sum(query.terms.get(t, 1.0) * idf.get(t, unseen_idf) for t in query.terms) * (K1 + 1)
    lexical_strength = min(1.0, top.lexical / ceiling) if ceiling else 0.0
    # Runner-up articles that back the best one's answer do not compete with
    # it, so the margins, spread and standard scores leave them out.
    agreeing = agreeing_hits({t: w for t, w in weights.items() if t in idf}, hits)
    agreeing_ids = {hit.article.id for hit in agreeing}
    rivals = [hit for hit in hits[1:] if hit.article.id not in agreeing_ids]
    second = rivals[0].lexical if rivals else 0.0
    # The lead of the best article over the next, on the same scale as the strength.
    lexical_margin = min(1.0, max(0.0, (top.lexical - second) / ceiling)) if ceiling else 0.0

    # How much of the article's title the question repeats, weighted by rarity.
    title_terms = set(tokens(top.article.title))
    title_weight = sum(idf.get(t, unseen_idf) for t in title_terms)
    question_terms = set(query.terms)
    title_coverage = (
        sum(idf.get(t, unseen_idf) for t in title_terms & question_terms) / title_weight
        if title_weight
        else 0.0
    )

    # The lead of the best score over the rest of the ranking, in units of their spread.
    # Leaving agreeing hits out may leave too few hits to measure a spread,
    # so the larger of the two measures counts.
    lexical_spread = max(
        _spread_lead(top.lexical, [hit.lexical for hit in hits[1:]]),
        _spread_lead(top.lexical, [hit.lexical for hit in rivals]),
    )

    names = product_names(question)
    names_missing = (
        sum(1 for name in names if name not in article_terms) / len(names) if names else 0.0
    )
    answer_type_missing = float(not answer_type_present(question, top.passage.text))

    # Whether the question's neighbouring terms stand close together in the passage too.
    pairs = pair_coverage(
        query.current_terms or list(query.terms),
        tokens(top.article.title) + tokens(top.passage.text),
    )

    # How far the best article lies above the rest of the knowledge base, in
    # standard deviations. The lexical one is divided by what a known match
    # reaches in this knowledge base (``knowledge/reference.py``), then halved.
    # Agreeing hits count as articles that matched nothing, unless that lowers
    # the standard score.
    top_lexical_standard = top.lexical_standard
    top_semantic_standard = top.semantic_standard
    if agreeing and top.lexical_population is not None:
        top_lexical_standard = max(
            top_lexical_standard,
            top.lexical_population.standard_score(top.lexical, [h.lexical for h in agreeing]),
        )
    # NOTE: an unrelated passage's cosine is rarely 0, so zeroing an agreeing
    # article's semantic score overstates the change. The max() bounds it.
    if agreeing and top.semantic_population is not None:
        top_semantic_standard = max(
            top_semantic_standard,
            top.semantic_population.standard_score(top.semantic, [h.semantic for h in agreeing]),
        )
    lexical_standard = min(
        1.0, max(0.0, top_lexical_standard / index.reference_lexical_standard / 2)
    )
    semantic_standard = min(1.0, max(0.0, top_semantic_standard / SEMANTIC_STANDARD_CAP))

    semantic_top = max(0.0, top.semantic)
    semantic_margin = 0.0
    retrievers_agree = 0.0
    hubness = 0.0
    title_standard = 0.0
    gap = 0.0
    lead = 0.0
    kernels = NO_KERNELS
    if index.has_semantic and top.semantic:
        others = [hit.semantic for hit in rivals]
        semantic_margin = max(0.0, top.semantic - max(others)) if others else top.semantic
        best_lexical = max(hits, key=lambda hit: hit.lexical)
        best_semantic = max(hits, key=lambda hit: hit.semantic)
        retrievers_agree = float(best_lexical is best_semantic)
        # A passage close to many others comes near the top for many
        # questions, including ones it does not answer.
        if top.passage_index >= 0:
            hubness = min(1.0, max(0.0, float(index.passage_hubness[top.passage_index])))
            title_standard = title_query_standard(index, query, top.passage_index)
        cosines = index.vectors @ index.encoder.encode_query(query.text)
        gap = semantic_gap(cosines)
        message = message_pieces(index, query, question)
        kernels = passage_kernels(index, message, top)
        lead = piece_match_lead(index, message, cosines, top.passage_index)

    return Evidence(
        lexical_strength=lexical_strength,
        lexical_margin=lexical_margin,
        coverage=coverage,
        passage_coverage=passage_coverage,
        rare_coverage=rare_coverage,
        specific_missing=specific_missing,
        unknown_terms=unknown,
        query_size=min(1.0, math.log1p(len(current)) / math.log1p(100)),
        semantic_top=semantic_top,
        semantic_margin=semantic_margin,
        retrievers_agree=retrievers_agree,
        title_coverage=title_coverage,
        lexical_spread=lexical_spread,
        names_missing=names_missing,
        answer_type_missing=answer_type_missing,
        pair_coverage=pairs,
        lexical_standard=lexical_standard,
        semantic_standard=semantic_standard,
        passage_hubness=hubness,
        title_query_standard=title_standard,
        semantic_gap=gap,
        piece_match_lead=lead,
        kernels=kernels,
    )


def _spread_lead(top: float, rest: list[float]) -> float:
    """Return the lead of ``top`` over the mean of ``rest`` in tenths of their spread, in 0..1."""
    if len(rest) < 2 or top <= 0:
        return 0.0
    spread = float(np.std(rest)) or 1e-6
    return min(1.0, max(0.0, (top - float(np.mean(rest))) / spread / 10))


# The minimum number of question terms two passages must share to count as
# one answer. On one term, "cancel" in "cancel a booking" and in "cancel the
# plan", agreement and ambiguity look alike.
AGREEMENT_MIN_TERMS = 2
# The minimum idf-weighted share of the question's known terms that the
# shared terms make up. Terms that no article contains are left out, because
# no article can back them. At 0.8 the MTRAG set's handoff AUROC rose from
# 0.829 to 0.835 (lexical, bench evaluation of all three sets), and to 0.832
# once runner-ups that contradict the best passage stopped agreeing.
AGREEMENT_MIN_COVERAGE = 0.8


def agreeing_hits(weights: dict[str, float], hits: list[ArticleHit]) -> list[ArticleHit]:
    """Return the runner-up hits whose best passage supports the best hit's answer.

    ``weights`` maps the question's terms to their idf. A runner-up agrees
    when its passage and title contain every question term that the best
    hit's passage and title contain, and those are at least
    ``AGREEMENT_MIN_TERMS`` terms and ``AGREEMENT_MIN_COVERAGE`` of the
    question's weight, and its passage does not contradict the best one
    (``_contradicts``). Two articles that both explain resetting a password
    then read as support for one answer instead of as two rival answers,
    but two that give the add-on different prices stay rivals.
    """
    if len(hits) < 2:
        return []
    matched = set(weights) & _passage_terms(hits[0])
    total_weight = sum(weights.values())
    if len(matched) < AGREEMENT_MIN_TERMS or not total_weight:
        return []
    if sum(weights[term] for term in matched) / total_weight < AGREEMENT_MIN_COVERAGE - 1e-9:
        return []
    covering = [hit for hit in hits[1:] if matched <= _passage_terms(hit)]
    if not covering:
        return []
    best = _statements(hits[0], matched)
    return [hit for hit in covering if not _contradicts(best, _statements(hit, matched))]


def _passage_terms(hit: ArticleHit) -> frozenset[str]:
    return _text_terms(hit.passage.text) | _text_terms(hit.article.title)


# The same passages come back for many questions, so their terms and
# sentences are parsed once. Both caches together took 10 KB per MTRAG
# passage (tracemalloc), so about 10 MB when full.
PARSED_PASSAGES = 1024


@lru_cache(maxsize=PARSED_PASSAGES)
def _text_terms(text: str) -> frozenset[str]:
    return frozenset(tokens(text))


# A sentence ends at ".", "!" or "?" before a space, or at a line break, so
# the dots inside "15.00" and "8.5.5" do not split one.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# A number with optional thousands separators and decimals: "15", "1,000", "15.00", "8.5.5".
_NUMERIC = re.compile(r"\d+(?:[.,]\d+)*%?")
_THOUSANDS = re.compile(r",(?=\d{3}(?!\d))")
# English negation, because the stemmer in ``knowledge/text.py`` is English only.
_NEGATION = re.compile(r"\b(?:not|no|never|cannot)\b|n[’']t\b", re.I)


@dataclass(frozen=True, slots=True)
class _Statements:
    """The numbers and negation in a hit's title and passage sentences with question terms."""

    numbers: frozenset[str]
    negated: bool


def _statements(hit: ArticleHit, matched: set[str]) -> _Statements:
    """Collect the numbers and negation of the sentences of ``hit`` that name ``matched`` terms.

    Numbers count in every sentence with at least one of the terms. Negation
    counts only in sentences with at least two, so a "no" in a side remark
    that shares one common word does not read as denying the answer.
    """
    numbers: set[str] = set()
    negated = False
    for sentence in (*_marked_sentences(hit.article.title), *_marked_sentences(hit.passage.text)):
        shared = len(matched & sentence.terms)
        if not shared:
            continue
        numbers.update(sentence.numbers)
        if sentence.negation and shared >= min(2, len(matched)):
            negated = True
    return _Statements(frozenset(numbers), negated)


@dataclass(frozen=True, slots=True)
class _MarkedSentence:
    """A sentence that states a number or a negation, with its search terms."""

    terms: frozenset[str]
    numbers: frozenset[str]
    negation: bool


@lru_cache(maxsize=PARSED_PASSAGES)
def _marked_sentences(text: str) -> tuple[_MarkedSentence, ...]:
    """Return the sentences of ``text`` that state a number or a negation."""
    marked = []
    for sentence in _SENTENCE_END.split(text):
        found = _NUMERIC.findall(sentence)
        negation = _NEGATION.search(sentence) is not None
        if found or negation:
            numbers = frozenset(_normalise_number(number) for number in found)
            marked.append(_MarkedSentence(frozenset(tokens(sentence)), numbers, negation))
    return tuple(marked)


def _normalise_number(number: str) -> str:
    """Write ``number`` one way, so that "1,000", "1000" and "1000.00" compare equal."""
    plain = _THOUSANDS.sub("", number)
    percent = "%" if plain.endswith("%") else ""
    plain = plain.rstrip("%")
    if plain.count(".") == 1 and "," not in plain:
        plain = plain.rstrip("0").rstrip(".")
    return plain + percent


def _contradicts(best: _Statements, other: _Statements) -> bool:
    """Tell whether two passages state different numbers, or one negates what the other states.

    Numbers conflict when both passages state some and the sets differ: "$15
    per month" and "$40 per month", or "$15" and "until 2024 it cost $19".
    """
    # NOTE: numbers written as words ("one hour") and the same span in other
    # units ("60 minutes") are not compared, so such pairs still agree.
    if best.numbers and other.numbers and best.numbers != other.numbers:
        return True
    return best.negated != other.negated


def title_query_standard(index: KnowledgeIndex, query: Query, passage_index: int) -> float:
    """Return the question's title standard score for one passage, scaled to 0..1.

    The titles of the knowledge base, embedded like questions, are questions
    that each passage is measured against when the index is built. A real
    question's cosine is then read against that passage's mean and standard
    deviation, which neither the passage's hubness nor the standard score
    over articles (one scale per question) captures. The query vector is the
    cached one that ranked the passages.
    """
    vector = index.encoder.encode_query(query.text)
    cosine = float(index.vectors[passage_index] @ vector)
    mean = float(index.title_cosine_mean[passage_index])
    spread = float(index.title_cosine_spread[passage_index])
    return min(1.0, max(0.0, (cosine - mean) / spread / TITLE_STANDARD_CAP))


def semantic_gap(cosines: np.ndarray) -> float:
    """Return the question's best passage cosine minus its tenth best, clipped to 0..1.

    ``cosines`` holds the question's cosine to every passage of the index,
    from the cached query vector that ranked them. A question that one
    passage answers tends to lie clearly closer to it than to the rest,
    while a question that is merely on topic lies about as close to many
    passages. This is how peaked the top of the cosine ranking is, as query
    performance prediction measures it. The product over all passages
    repeats the one of the search: with the partial sort, 0.11 ms of CPU
    for 2,035 passages on one core of an Intel Xeon.
    """
    # NOTE: the cosines run over every passage, also those of articles
    # that the mailbox may not use, like the passage hubness.
    # A knowledge base of fewer passages compares with its lowest cosine.
    rank = min(GAP_RANK, len(cosines))
    if rank < 2:
        return 0.0
    highest = np.partition(cosines, len(cosines) - rank)[-rank:]
    return min(1.0, max(0.0, float(highest.max() - highest.min())))


def piece_match_lead(
    index: KnowledgeIndex, message: np.ndarray, cosines: np.ndarray, passage_index: int
) -> float:
    """Return how much better ``message`` matches the best passage than its neighbours, in 0..1.

    A passage's match is the mean, over the message's word pieces, of each
    piece's best cosine to a piece of the passage. The lead is the best
    passage's match minus the median match of the ``LEAD_NEIGHBOURS``
    passages with the highest ``cosines`` (the question's sentence
    cosines, which may include the best passage), mapped from -1..1 onto
    0..1. A passage that answers the question tends to match its words
    better than the other passages on the topic do. It is 0.5, no lead,
    when the index keeps no passage word pieces or the message has none.
    An index too large to keep every passage's pieces is scored by a
    confidence model fitted without this feature (``confidence.py``).
    """
    if index.passage_pieces is None or passage_index < 0 or not len(message):
        return 0.5
    count = min(LEAD_NEIGHBOURS, len(cosines))
    nearest = np.argpartition(cosines, len(cosines) - count)[-count:]
    message = message.astype(np.float32)

    def match(position: int) -> float:
        pieces = index.passage_pieces[position]
        if not len(pieces):
            return 0.0
        return float((message @ pieces.astype(np.float32).T).max(axis=1).mean())

    median = float(np.median([match(int(position)) for position in nearest]))
    return min(1.0, max(0.0, 0.5 + (match(passage_index) - median) / 2))


def message_pieces(index: KnowledgeIndex, query: Query, question: str) -> np.ndarray:
    """Return the word-piece vectors of the last customer message, one unit row each.

    They come from the pass that embedded the query, which is cached.
    """
    encoder = index.encoder
    encoding = encoder.encode_query_tokens(query.text)
    # The query text ends with the last message; earlier turns come before it.
    message_start = len(query.text) - len(question)
    pieces = encoding.tokens[encoding.starts >= message_start]
    if not len(pieces) and message_start > 0:
        # A long earlier turn filled the query's token limit, so the cut left
        # no piece of the last message. The message is then encoded alone.
        pieces = encoder.encode_query_tokens(question).tokens
    return pieces


def passage_kernels(
    index: KnowledgeIndex, message: np.ndarray, top: ArticleHit
) -> tuple[float, ...]:
    """Return the word-piece features of the last customer message against the best passage.

    ``message`` contains the message's word-piece vectors (``message_pieces``).
    The passage's and the title's were encoded when the index was built. A
    passage of an index too large to keep them is encoded here (and cached).
    """
    encoder = index.encoder
    if index.passage_pieces is not None and top.passage_index >= 0:
        passage_pieces = index.passage_pieces[top.passage_index]
    else:
        passage_pieces = encoder.encode_passage_tokens(top.passage.text)
    title_pieces = index.title_pieces.get(top.article.title)
    if title_pieces is None:
        title_pieces = encoder.encode_passage_tokens(top.article.title)
    return reading_features(message, passage_pieces, title_pieces)


# Capitalised words inside a sentence, acronyms and CamelCase: likely product names.
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b(?:[A-Z][a-z]+[A-Z]\w*|[A-Z]{2,}[a-z]?|[A-Z][a-z]{2,})\b")
_ASKS_COST = re.compile(r"\b(?:cost|costs|price|prices|pricing|how much|fee|fees|charge)\b", re.I)
_ASKS_COUNT = re.compile(
    r"\b(?:how (?:many|long|much|often|big|large)|maximum|minimum|limit|limits)\b", re.I
)
_ASKS_DATE = re.compile(r"\b(?:when|what date|which date|deadline|what year)\b", re.I)
_MONEY = re.compile(r"[$€£¥]|\b(?:usd|eur|dollars?|free|no charge|no cost|per month)\b", re.I)
_NUMBER = re.compile(r"\d")
_DATE = re.compile(
    r"\d|\b(?:january|february|march|april|may|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|weekly|daily|annual)\b",
    re.I,
)


def product_names(question: str) -> set[str]:
    """Return the stemmed terms of likely product and feature names in ``question``."""
    found: set[str] = set()
    for match in _NAME.finditer(question):
        found.update(t for t in tokens(match.group()) if t)
    return found


def answer_type_present(question: str, passage: str) -> bool:
    """Tell whether ``passage`` has the kind of fact the question asks for (sum, number, date)."""
    if _ASKS_COST.search(question) and not _MONEY.search(passage):
        return False
    if _ASKS_COUNT.search(question) and not _NUMBER.search(passage):
        return False
    if _ASKS_DATE.search(question) and not _DATE.search(passage):
        return False
    return True

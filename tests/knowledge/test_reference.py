"""Standard scores of the best article and the knowledge base's own reference scale."""

import numpy as np

from campfire_server.knowledge import reference
from campfire_server.knowledge.index import IndexedArticle, KnowledgeIndex
from campfire_server.knowledge.query import build_query
from campfire_server.knowledge.reference import reference_standard_score, standard_score

TOPICS = [
    "password reset sign-in forgot link email expires",
    "invoice receipt download billing history PDF",
    "calendar sync Google Outlook connection refresh",
    "refund request cancellation policy days",
    "team member invite role permission viewer admin",
    "booking page colour logo theme custom domain",
    "reminder SMS email schedule hours before appointment",
    "export CSV bookings customers spreadsheet columns",
]


def article(number: int, topic: str) -> IndexedArticle:
    body = " ".join([f"This guide covers {topic}."] * 3 + [f"Section {number} ends here."])
    return IndexedArticle(f"art_{number}", topic.split()[0].title(), body, None)


def knowledge_base(copies: int, *, reverse: bool = False) -> KnowledgeIndex:
    articles = [
        article(copy * len(TOPICS) + number, topic)
        for copy in range(copies)
        for number, topic in enumerate(TOPICS)
    ]
    return KnowledgeIndex(articles[::-1] if reverse else articles)


def test_standard_score_of_constant_scores_is_zero():
    assert standard_score(np.array([2.0, 2.0, 2.0]), 0) == 0.0


def test_standard_score_of_lead():
    scores = np.array([3.0, 1.0, 1.0, 1.0])
    assert standard_score(scores, 0) == (3.0 - 1.5) / float(scores.std())


def test_reference_of_empty_base_is_one():
    assert reference_standard_score([], lambda query: np.zeros(0)) == 1.0


def test_reference_skips_short_passages():
    calls = []

    def scores(query):
        calls.append(query)
        return np.array([1.0, 0.0])

    assert reference_standard_score(["ok", "tiny text"], scores) == 1.0
    assert calls == []


def test_reference_is_same_on_rebuild():
    first = knowledge_base(1).reference_lexical_standard
    second = knowledge_base(1).reference_lexical_standard
    assert first == second
    assert first > 1.0


def test_reference_ignores_article_order(monkeypatch):
    # Sampling must not follow index order, which follows random article ids.
    monkeypatch.setattr(reference, "SAMPLE_PASSAGES", 5)
    forward = knowledge_base(4).reference_lexical_standard
    backward = knowledge_base(4, reverse=True).reference_lexical_standard
    assert forward == backward


def test_reference_grows_with_base_size():
    small = knowledge_base(1).reference_lexical_standard
    large = knowledge_base(8).reference_lexical_standard
    assert large > small


def test_hits_carry_lexical_standard_score():
    index = knowledge_base(1)
    hits = index.search(build_query("download the invoice PDF by email"))
    assert hits[0].article.title == "Invoice"
    assert len(hits) == 3
    assert hits[0].lexical_standard > hits[1].lexical_standard
    assert hits[0].semantic_standard == 0.0

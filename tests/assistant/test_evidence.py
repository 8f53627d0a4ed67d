"""Evidence of how far the best article scores above the rest of its knowledge base."""

import numpy as np
import pytest

from campfire_server.assistant.evidence import (
    FEATURE_NAMES,
    NO_EVIDENCE,
    NO_KERNELS,
    agreeing_hits,
    measure,
)
from campfire_server.knowledge.index import IndexedArticle, KnowledgeIndex, ScorePopulation
from campfire_server.knowledge.query import build_query

ARTICLES = [
    IndexedArticle(
        f"art_{number}",
        title,
        " ".join([text] * 3),
        None,
    )
    for number, (title, text) in enumerate(
        [
            ("Resetting your password", "Choose Forgot password on the sign-in page."),
            ("Downloading invoices", "Invoices and receipts are under Billing, as PDF files."),
            ("Connecting Google Calendar", "Open Settings, then Calendars, and sign in."),
            ("Refunds", "Refunds reach your card within five working days."),
            ("Inviting team members", "Admins invite members by email from the Team page."),
            ("SMS reminders", "Reminders go out by text message a day before."),
        ]
    )
]


def evidence_for(index, question):
    query = build_query(question)
    return measure(index, query, index.search(query), question)


def test_no_evidence_has_every_feature():
    assert len(NO_EVIDENCE.vector()) == len(FEATURE_NAMES)


def test_lexical_standard_is_in_unit_range():
    index = KnowledgeIndex(ARTICLES)
    value = evidence_for(index, "how do I download invoices as PDF?").lexical_standard
    assert 0.0 < value <= 1.0


def test_clear_match_stands_out_more_than_vague_one():
    index = KnowledgeIndex(ARTICLES)
    clear = evidence_for(index, "how do I download invoices as PDF?")
    vague = evidence_for(index, "what about my card and the page?")
    assert clear.lexical_standard > vague.lexical_standard


def test_semantic_standard_is_zero_for_lexical_search():
    index = KnowledgeIndex(ARTICLES)
    assert evidence_for(index, "reset my password").semantic_standard == 0.0


def test_lexical_evidence_has_no_passage_hubness():
    index = KnowledgeIndex(ARTICLES)
    assert evidence_for(index, "reset my password").passage_hubness == 0.0


def test_lexical_evidence_has_no_title_standard():
    index = KnowledgeIndex(ARTICLES)
    assert evidence_for(index, "reset my password").title_query_standard == 0.0


def test_lexical_evidence_has_no_semantic_gap():
    index = KnowledgeIndex(ARTICLES)
    assert evidence_for(index, "reset my password").semantic_gap == 0.0


def test_lexical_evidence_has_no_piece_match_lead():
    index = KnowledgeIndex(ARTICLES)
    assert evidence_for(index, "reset my password").piece_match_lead == 0.0


def test_lexical_evidence_has_no_kernel_features():
    index = KnowledgeIndex([IndexedArticle("art_1", "Refunds", "Refunds take five days.", None)])
    query = build_query("how long do refunds take?")
    evidence = measure(index, query, index.search(query), "how long do refunds take?")
    assert evidence.kernels == NO_KERNELS
    assert evidence.vector()[-len(NO_KERNELS) :] == list(NO_KERNELS)


# A one-line article with the same instructions as "Resetting your password".
AGREEING = IndexedArticle(
    "art_agreeing",
    "plain text article about passwords. Reset it from the login page.",
    "plain text article about passwords. Reset it from the login page.",
    None,
)
# An article that shares one of the question's terms but answers another question.
RIVAL = IndexedArticle(
    "art_rival",
    "Calendar passwords",
    "Google asks for your calendar password when you connect it. " * 2,
    None,
)
# An article on another subject, so that both knowledge bases compared have
# as many articles: the lexical standard's scale depends on that count.
UNRELATED = IndexedArticle(
    "art_unrelated", "Opening hours", "Support answers from nine to five on weekdays.", None
)
LEAD_FEATURES = ("lexical_margin", "lexical_spread", "lexical_standard")


def test_agreeing_article_keeps_lead():
    question = "How do I reset my password?"
    alone = evidence_for(KnowledgeIndex([*ARTICLES, UNRELATED]), question)
    backed = evidence_for(KnowledgeIndex([*ARTICLES, AGREEING]), question)

    for name in LEAD_FEATURES:
        assert getattr(backed, name) >= getattr(alone, name) - 1e-9, name


def test_rival_article_lowers_margin():
    question = "How do I reset my password?"
    alone = evidence_for(KnowledgeIndex([*ARTICLES, UNRELATED]), question)
    rivalled = evidence_for(KnowledgeIndex([*ARTICLES, RIVAL]), question)

    assert rivalled.lexical_margin < alone.lexical_margin


def test_agreeing_hits_need_two_shared_terms():
    articles = [
        IndexedArticle("art_booking", "Cancel a booking", "Cancel a booking from its page.", None),
        IndexedArticle("art_plan", "Cancel the plan", "Cancel the plan under Billing.", None),
        *ARTICLES,
    ]
    index = KnowledgeIndex(articles)
    query = build_query("cancel")

    assert agreeing_hits(query.terms, index.search(query)) == []


def test_agreeing_hits_name_backing_article():
    index = KnowledgeIndex([*ARTICLES, AGREEING, RIVAL])
    query = build_query("How do I reset my password?")
    hits = index.search(query)
    weights = {term: index.lexical.idf[term] for term in query.current_terms}

    agreeing = [hit.article.id for hit in agreeing_hits(weights, hits)]

    assert hits[0].article.id == "art_0"
    assert agreeing == ["art_agreeing"]


def test_population_standard_score_matches_numpy():
    scores = np.array([0.0, 1.0, 2.0, 7.0, 7.5])
    population = ScorePopulation(len(scores), float(scores.sum()), float((scores**2).sum()))
    zeroed = np.array([0.0, 1.0, 2.0, 7.0, 0.0])

    assert population.standard_score(7.0) == pytest.approx((7.0 - scores.mean()) / scores.std())
    assert population.standard_score(7.0, [7.5]) == pytest.approx(
        (7.0 - zeroed.mean()) / zeroed.std()
    )


def test_population_without_spread_scores_zero():
    population = ScorePopulation(3, 6.0, 14.0)

    assert population.standard_score(3.0, [1.0, 2.0, 3.0]) == 0.0

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


PRICE_QUESTION = "How much does the Zephyr add-on cost per month?"
PRICE = IndexedArticle(
    "art_price",
    "Zephyr add-on pricing",
    "The Zephyr add-on costs $15 per month per calendar.",
    None,
)


def known_weights(index, query):
    """Return the idf of the query's terms that the index contains, as ``measure`` passes them."""
    idf = index.lexical.idf
    return {term: idf[term] for term in query.current_terms if term in idf}


def price_article(article_id, title, content):
    return IndexedArticle(article_id, title, content, None)


@pytest.mark.parametrize(
    "runner_up",
    [
        price_article(
            "art_other",
            "Zephyr add-on price",
            "The Zephyr add-on costs $40 per month per calendar.",
        ),
        price_article(
            "art_other",
            "Zephyr add-on price history",
            "Until 2024 the Zephyr add-on cost $19 per month per calendar.",
        ),
        price_article(
            "art_other", "Zephyr add-on price", "The Zephyr add-on does not cost $15 per month."
        ),
    ],
    ids=["other-price", "outdated-price", "negated"],
)
def test_contradicting_article_not_agreeing(runner_up):
    index = KnowledgeIndex([*ARTICLES, PRICE, runner_up])
    query = build_query(PRICE_QUESTION)
    hits = index.search(query)
    weights = known_weights(index, query)

    assert {hit.article.id for hit in hits[:2]} == {"art_price", "art_other"}
    assert agreeing_hits(weights, hits) == []


@pytest.mark.parametrize(
    "content",
    [
        "The Zephyr add-on costs $15 per month per calendar.",
        "Each calendar with the Zephyr add-on costs $15.00 per month.",
        "The Zephyr add-on is billed per calendar and costs 15 dollars a month.",
    ],
)
def test_same_price_article_agrees(content):
    runner_up = price_article("art_same", "Zephyr add-on cost", content)
    index = KnowledgeIndex([*ARTICLES, PRICE, runner_up])
    query = build_query(PRICE_QUESTION)
    hits = index.search(query)
    weights = known_weights(index, query)

    agreeing = [hit.article.id for hit in agreeing_hits(weights, hits)]

    assert len(agreeing) == 1
    assert agreeing[0] in {"art_price", "art_same"}


def test_conflicting_price_lowers_lead():
    alone = evidence_for(KnowledgeIndex([*ARTICLES, PRICE, UNRELATED]), PRICE_QUESTION)
    conflicting = price_article(
        "art_other", "Zephyr add-on price", "The Zephyr add-on costs $40 per month per calendar."
    )
    rivalled = evidence_for(KnowledgeIndex([*ARTICLES, PRICE, conflicting]), PRICE_QUESTION)

    assert rivalled.lexical_margin < alone.lexical_margin
    assert rivalled.lexical_standard < alone.lexical_standard

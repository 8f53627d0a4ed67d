"""Evidence of how far the best article scores above the rest of its knowledge base."""

from campfire_server.assistant.evidence import FEATURE_NAMES, NO_EVIDENCE, NO_KERNELS, measure
from campfire_server.knowledge.index import IndexedArticle, KnowledgeIndex
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

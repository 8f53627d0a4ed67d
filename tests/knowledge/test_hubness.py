"""Passage hubness: the mean cosine of each passage to its nearest other passages."""

import numpy as np
import pytest

from campfire_server.knowledge import hubness
from campfire_server.knowledge.hubness import passage_hubness


def unit_rows(count: int, width: int = 16, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, width)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def brute_force(vectors: np.ndarray, neighbours: int) -> np.ndarray:
    cosines = vectors @ vectors.T
    np.fill_diagonal(cosines, -np.inf)
    nearest = -np.sort(-cosines, axis=1)[:, :neighbours]
    return nearest.mean(axis=1)


def test_matches_brute_force_mean():
    vectors = unit_rows(40)

    result = passage_hubness(vectors, neighbours=5)

    assert result.dtype == np.float32
    assert result == pytest.approx(brute_force(vectors, 5), abs=1e-6)


def test_blocks_give_same_result(monkeypatch):
    vectors = unit_rows(50, seed=1)
    whole = passage_hubness(vectors, neighbours=3)

    monkeypatch.setattr(hubness, "BLOCK_ROWS", 7)

    assert passage_hubness(vectors, neighbours=3) == pytest.approx(whole, abs=1e-6)


def test_passage_is_not_its_own_neighbour():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)

    assert passage_hubness(vectors).tolist() == [0.0, 0.0]


def test_crowded_passage_scores_higher():
    # Three passages close together and one far away: the far one is no hub.
    vectors = np.array([[1.0, 0.0], [0.99, 0.141], [0.98, 0.199], [-0.6, 0.8]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    result = passage_hubness(vectors, neighbours=2)

    assert result[3] < result[0]
    assert result[3] < result[1]
    assert result[3] < result[2]


def test_fewer_passages_than_neighbours_uses_all():
    vectors = unit_rows(4, seed=2)

    assert passage_hubness(vectors, neighbours=10) == pytest.approx(
        brute_force(vectors, 3), abs=1e-6
    )


def test_single_and_empty_inputs_give_zeros():
    assert passage_hubness(unit_rows(1)).tolist() == [0.0]
    assert passage_hubness(np.zeros((0, 16), dtype=np.float32)).tolist() == []

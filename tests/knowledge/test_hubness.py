"""Passage hubness: the mean cosine of each passage to its nearest other passages."""

import numpy as np
import pytest

from campfire_server.knowledge import hubness
from campfire_server.knowledge.hubness import (
    MIN_TITLE_SPREAD,
    passage_hubness,
    title_cosine_moments,
)


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


def test_title_moments_match_brute_force():
    passages = unit_rows(30, seed=3)
    titles = unit_rows(12, seed=4)
    cosines = passages @ titles.T

    mean, spread = title_cosine_moments(passages, titles)

    assert mean == pytest.approx(cosines.mean(axis=1), abs=1e-6)
    assert spread == pytest.approx(cosines.std(axis=1), abs=1e-6)


def test_title_moments_blocks_give_same_result(monkeypatch):
    passages = unit_rows(25, seed=5)
    titles = unit_rows(9, seed=6)
    whole_mean, whole_spread = title_cosine_moments(passages, titles)

    monkeypatch.setattr(hubness, "BLOCK_ROWS", 4)
    mean, spread = title_cosine_moments(passages, titles)

    assert mean == pytest.approx(whole_mean, abs=1e-6)
    assert spread == pytest.approx(whole_spread, abs=1e-6)


def test_title_moments_floor_the_spread():
    # One title, so every passage has a single cosine and no spread.
    passages = unit_rows(3, seed=7)
    titles = unit_rows(1, seed=8)

    mean, spread = title_cosine_moments(passages, titles)

    assert mean == pytest.approx((passages @ titles.T)[:, 0], abs=1e-6)
    assert spread.tolist() == pytest.approx([MIN_TITLE_SPREAD] * 3)


def test_title_moments_without_titles():
    mean, spread = title_cosine_moments(unit_rows(2), np.zeros((0, 16), dtype=np.float32))

    assert mean.tolist() == [0.0, 0.0]
    assert spread.tolist() == pytest.approx([MIN_TITLE_SPREAD] * 2)

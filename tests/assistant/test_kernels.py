import numpy as np
import pytest

from campfire_server.assistant.kernels import KERNEL_MEANS, KERNEL_NAMES, kernel_features


def unit_rows(*rows):
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_one_feature_per_kernel():
    features = kernel_features(unit_rows([1, 0]), unit_rows([1, 0]))
    assert len(features) == len(KERNEL_NAMES) == len(KERNEL_MEANS)


def test_empty_side_gives_zeros():
    assert kernel_features(np.zeros((0, 2)), unit_rows([1, 0])) == (0.0,) * len(KERNEL_NAMES)
    assert kernel_features(unit_rows([1, 0]), np.zeros((0, 2))) == (0.0,) * len(KERNEL_NAMES)


def test_exact_match_fills_exact_kernel():
    features = kernel_features(unit_rows([1, 0]), unit_rows([1, 0], [0, 1]))
    exact = KERNEL_MEANS.index(1.0)
    unrelated = KERNEL_MEANS.index(0.1)
    # One exact match is a soft count of 1, log 0, which lies at 0.83 of the scale.
    assert features[exact] == pytest.approx(0.826, abs=0.001)
    # The orthogonal piece (cosine 0) counts in the kernels around 0.
    assert features[unrelated] > 0.75


def test_unrelated_passage_leaves_high_kernels_empty():
    features = kernel_features(unit_rows([1, 0]), unit_rows([0, 1], [0.1, 1]))
    assert features[KERNEL_MEANS.index(0.9)] == 0.0
    assert features[KERNEL_MEANS.index(1.0)] == 0.0
    assert features[KERNEL_MEANS.index(0.1)] > 0.5


def test_more_matching_pieces_raise_kernel():
    question = unit_rows([1, 0])
    one = kernel_features(question, unit_rows([0.95, 0.31], [0, 1]))
    three = kernel_features(question, unit_rows([0.95, 0.31], [0.95, 0.31], [0.95, 0.31]))
    kernel = KERNEL_MEANS.index(0.9)
    assert three[kernel] > one[kernel]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_stay_in_unit_range(seed):
    rng = np.random.default_rng(seed)
    question = rng.normal(size=(7, 16)).astype(np.float32)
    passage = rng.normal(size=(126, 16)).astype(np.float32)
    question /= np.linalg.norm(question, axis=1, keepdims=True)
    passage /= np.linalg.norm(passage, axis=1, keepdims=True)
    for value in kernel_features(question, passage):
        assert 0.0 <= value <= 1.0

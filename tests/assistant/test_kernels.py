import numpy as np
import pytest

from campfire_server.assistant.kernels import (
    KERNEL_MEANS,
    KERNEL_NAMES,
    READING_NAMES,
    TITLE_KERNEL_NAMES,
    kernel_features,
    reading_features,
)


def unit_rows(*rows):
    matrix = np.asarray(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_one_feature_per_kernel():
    features = kernel_features(unit_rows([1, 0]), unit_rows([1, 0]))
    assert len(features) == len(KERNEL_NAMES) == len(KERNEL_MEANS)


def test_empty_side_gives_zeros():
    assert kernel_features(np.zeros((0, 2)), unit_rows([1, 0])) == (0.0,) * len(KERNEL_NAMES)
    assert kernel_features(unit_rows([1, 0]), np.zeros((0, 2))) == (0.0,) * len(KERNEL_NAMES)


def test_matching_piece_fills_top_kernel():
    features = kernel_features(unit_rows([1, 0]), unit_rows([0.95, 0.31], [0, 1]))
    # The cosine of about 0.95 lies half a width from the kernel at 0.9: a soft
    # count of about exp(-0.128), which lies at 0.82 of the scale.
    assert features[KERNEL_MEANS.index(0.9)] == pytest.approx(0.822, abs=0.002)
    # The orthogonal piece (cosine 0) counts in the kernels around 0.
    assert features[KERNEL_MEANS.index(0.1)] > 0.75


def test_unrelated_passage_leaves_high_kernels_empty():
    features = kernel_features(unit_rows([1, 0]), unit_rows([0, 1], [0.1, 1]))
    assert features[KERNEL_MEANS.index(0.9)] == 0.0
    assert features[KERNEL_MEANS.index(0.1)] > 0.5


def test_kernels_that_no_pair_reached_are_gone():
    assert -0.9 not in KERNEL_MEANS
    assert 1.0 not in KERNEL_MEANS


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


def test_reading_features_in_name_order():
    question = unit_rows([1, 0, 0], [0, 1, 0])
    passage = unit_rows([1, 0, 0])
    title = unit_rows([0, 1, 0])
    features = reading_features(question, passage, title)
    assert len(features) == len(READING_NAMES)
    assert READING_NAMES == (*KERNEL_NAMES, *TITLE_KERNEL_NAMES, "weakest_piece")
    count = len(KERNEL_MEANS)
    assert features[:count] == kernel_features(question, passage)
    assert features[count : 2 * count] == kernel_features(question, title)


def test_weakest_piece_is_lowest_best_cosine():
    question = unit_rows([1, 0, 0], [0.6, 0.8, 0])
    passage = unit_rows([1, 0, 0], [0, 0, 1])
    weakest = reading_features(question, passage, unit_rows([1, 0, 0]))[-1]
    # The second piece's best cosine is 0.6 (to the first passage piece).
    assert weakest == pytest.approx(0.6, abs=1e-6)


def test_weakest_piece_clipped_at_zero():
    question = unit_rows([1, 0])
    passage = unit_rows([-1, 0.1])
    assert reading_features(question, passage, passage)[-1] == 0.0


def test_empty_title_leaves_title_kernels_zero():
    question = unit_rows([1, 0])
    features = reading_features(question, unit_rows([1, 0.1]), np.zeros((0, 2)))
    count = len(KERNEL_MEANS)
    assert features[count : 2 * count] == (0.0,) * count
    assert features[:count] != (0.0,) * count


def test_reading_features_zero_without_message():
    assert reading_features(np.zeros((0, 2)), unit_rows([1, 0]), unit_rows([1, 0])) == (
        (0.0,) * len(READING_NAMES)
    )

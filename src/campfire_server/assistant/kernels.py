"""Kernel pooling over word-piece similarities between the question and the best passage.

Kernel pooling as in K-NRM, over a frozen encoder. Every question word
piece is compared with every passage word piece by cosine. Gaussian
kernels centred at -0.7, -0.5, ..., 0.9 (width 0.1) count those cosines
softly. For each kernel, each question piece's soft count is summed over
the passage, and the logarithms of those counts are averaged over the
question's pieces. Unlike the sentence vectors, this reads which parts of
the question the passage matches. The same kernels run over the article's
title, and the weakest piece (the question piece whose best cosine to the
passage is lowest) marks a part of the question that the passage lacks.
"""

from __future__ import annotations

import math

import numpy as np

# K-NRM also has a kernel at -0.9 and a narrow exact-match kernel at 1.0. With
# all-MiniLM-L6-v2's contextual word-piece vectors no pair reached either
# cosine on the labelled sets of BENCHMARKS.md, so both were always 0 and are
# left out. Counting identical word-piece ids as exact matches instead did
# not raise the held-out AUROC there.
KERNEL_MEANS = (-0.7, -0.5, -0.3, -0.1, 0.1, 0.3, 0.5, 0.7, 0.9)
KERNEL_WIDTH = 0.1
KERNEL_NAMES = tuple(f"kernel_{index:02d}" for index in range(len(KERNEL_MEANS)))
TITLE_KERNEL_NAMES = tuple(f"title_kernel_{index:02d}" for index in range(len(KERNEL_MEANS)))
# Every feature this module measures, in the order ``reading_features`` returns them.
READING_NAMES = (*KERNEL_NAMES, *TITLE_KERNEL_NAMES, "weakest_piece")
# Soft counts are clipped here before the logarithm, as in K-NRM, so a
# kernel that no pair reaches gives log(1e-10) and not minus infinity.
_FLOOR = 1e-10
# A passage has at most 126 word pieces (128 tokens with the special ones),
# so a soft count lies in [_FLOOR, 126]; features are scaled from that log
# range onto 0..1. Titles are shorter and use the same scale.
_LOG_LOW = math.log(_FLOOR)
_LOG_HIGH = math.log(126.0)

_MEANS = np.asarray(KERNEL_MEANS, dtype=np.float32)


def kernel_features(question: np.ndarray, passage: np.ndarray) -> tuple[float, ...]:
    """Return one value in 0..1 per kernel for the word-piece unit vectors of both texts.

    ``question`` and ``passage`` are matrices with one unit row per word
    piece. Either one empty gives all zeros.
    """
    if not len(question) or not len(passage):
        return (0.0,) * len(KERNEL_MEANS)
    return _pool(_cosines(question, passage))


def reading_features(
    question: np.ndarray, passage: np.ndarray, title: np.ndarray
) -> tuple[float, ...]:
    """Return the values of ``READING_NAMES``: passage kernels, title kernels, weakest piece.

    The weakest piece is the lowest, over the question's word pieces, of
    each piece's best cosine to a passage piece, clipped to 0..1. It is 0
    when either side is empty.
    """
    if not len(question) or not len(passage):
        return (0.0,) * len(READING_NAMES)
    cosines = _cosines(question, passage)
    weakest = float(np.clip(cosines.max(axis=1).min(), 0.0, 1.0))
    return _pool(cosines) + kernel_features(question, title) + (weakest,)


def _cosines(question: np.ndarray, passage: np.ndarray) -> np.ndarray:
    return question.astype(np.float32) @ passage.astype(np.float32).T


def _pool(cosines: np.ndarray) -> tuple[float, ...]:
    # Soft count per question piece and kernel: shape (pieces, kernels).
    distance = cosines[:, :, None] - _MEANS
    counts = np.exp(-(distance**2) / (2 * KERNEL_WIDTH**2)).sum(axis=1)
    pooled = np.log(np.maximum(counts, _FLOOR)).mean(axis=0)
    scaled = (pooled - _LOG_LOW) / (_LOG_HIGH - _LOG_LOW)
    return tuple(float(value) for value in np.clip(scaled, 0.0, 1.0))

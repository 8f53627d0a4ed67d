"""Kernel pooling over word-piece similarities between the question and the best passage.

Kernel pooling as in K-NRM, over a frozen encoder. Every question word
piece is compared with every passage word piece by cosine. Gaussian
kernels centred at -0.9, -0.7, ..., 0.9 (width 0.1), and one narrow kernel
at 1.0 for exact matches, count those cosines softly. For each kernel, each
question piece's soft count is summed over the passage, and the logarithms
of those counts are averaged over the question's pieces. Unlike the
sentence vectors, this reads which parts of the question the passage
matches.
"""

from __future__ import annotations

import math

import numpy as np

KERNEL_MEANS = (-0.9, -0.7, -0.5, -0.3, -0.1, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
KERNEL_WIDTHS = (0.1,) * 10 + (0.001,)
KERNEL_NAMES = tuple(f"kernel_{index:02d}" for index in range(len(KERNEL_MEANS)))
# NOTE: with all-MiniLM-L6-v2's contextual word-piece vectors no pair reached a
# cosine near -0.9 or exactly 1.0 on the labelled sets of BENCHMARKS.md, so the
# first and the last kernel were always 0 there and the fitted models ignore them.
# Soft counts are clipped here before the logarithm, as in K-NRM, so a
# kernel that no pair reaches gives log(1e-10) and not minus infinity.
_FLOOR = 1e-10
# A passage has at most 126 word pieces (128 tokens with the special ones),
# so a soft count lies in [_FLOOR, 126]; features are scaled from that log
# range onto 0..1.
_LOG_LOW = math.log(_FLOOR)
_LOG_HIGH = math.log(126.0)

_MEANS = np.asarray(KERNEL_MEANS, dtype=np.float32)
_WIDTHS = np.asarray(KERNEL_WIDTHS, dtype=np.float32)


def kernel_features(question: np.ndarray, passage: np.ndarray) -> tuple[float, ...]:
    """Return one value in 0..1 per kernel for the word-piece unit vectors of both texts.

    ``question`` and ``passage`` are matrices with one unit row per word
    piece. Either one empty gives all zeros.
    """
    if not len(question) or not len(passage):
        return (0.0,) * len(KERNEL_MEANS)
    cosines = question.astype(np.float32) @ passage.astype(np.float32).T
    # Soft count per question piece and kernel: shape (pieces, kernels).
    distance = cosines[:, :, None] - _MEANS
    counts = np.exp(-(distance**2) / (2 * _WIDTHS**2)).sum(axis=1)
    pooled = np.log(np.maximum(counts, _FLOOR)).mean(axis=0)
    scaled = (pooled - _LOG_LOW) / (_LOG_HIGH - _LOG_LOW)
    return tuple(float(value) for value in np.clip(scaled, 0.0, 1.0))

"""How crowded each passage's neighbourhood is in the embedding space.

In nearest-neighbour search over sentence vectors some passages are hubs:
they lie close to many other passages, so they come near the top for many
queries, including ones they do not answer. A passage's hubness here is the
mean cosine to its ``NEIGHBOURS`` nearest other passages of the same
knowledge base. On the labelled sets of BENCHMARKS.md the best passage of an
unanswerable question had a mean hubness of 0.64 (techqa) and 0.65 (mtrag),
against 0.59 and 0.62 where the best article was a gold one. The evidence of
``assistant/evidence.py`` reads it for the best passage. It reads the best
passage's ``title_cosine_moments`` too: the mean and standard deviation of
the passage's cosines to every title of the knowledge base."""

from __future__ import annotations

import numpy as np

NEIGHBOURS = 10
# Rows of the similarity matrix computed at once: 1,024 x 2,035 float32 is 8 MB
# for the merged knowledge base of BENCHMARKS.md.
BLOCK_ROWS = 1024
# The smallest standard deviation ``title_cosine_moments`` returns, so that a
# passage that every title reaches alike does not divide by zero.
MIN_TITLE_SPREAD = 1e-3


def passage_hubness(vectors: np.ndarray, neighbours: int = NEIGHBOURS) -> np.ndarray:
    """Return each row's mean cosine to its ``neighbours`` nearest other rows, as float32.

    ``vectors`` contains one unit vector per passage. With fewer other rows than
    ``neighbours`` the mean runs over all of them, and a single row gets 0.

    NOTE: the cost grows with the square of the passage count, one 384-wide
    dot product per pair. By estimate, a passage's row stays cheaper than
    encoding that passage up to about 100,000 passages, but a much larger
    knowledge base would need an approximate nearest-neighbour search here.
    """
    count = len(vectors)
    hubness = np.zeros(count, dtype=np.float32)
    if count < 2:
        return hubness

    matrix = vectors.astype(np.float32)
    take = min(neighbours, count - 1)
    for start in range(0, count, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, count)
        cosines = matrix[start:stop] @ matrix.T
        # A passage is not its own neighbour.
        cosines[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        nearest = np.partition(cosines, count - take, axis=1)[:, count - take :]
        hubness[start:stop] = nearest.mean(axis=1)
    return hubness


def title_cosine_moments(
    vectors: np.ndarray, title_vectors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per passage, the mean and standard deviation of its cosines to every title.

    Each article title, embedded like a question, is a pseudo-question that
    the knowledge base supplies itself. The distance of a real question's
    cosine from their mean, in standard deviations, is then on a scale of
    its own for each passage. ``vectors`` and ``title_vectors`` contain unit
    rows. Without titles the means are 0, and a standard deviation is never
    below ``MIN_TITLE_SPREAD``.
    """
    count = len(vectors)
    mean = np.zeros(count, dtype=np.float32)
    spread = np.full(count, MIN_TITLE_SPREAD, dtype=np.float32)
    if not count or not len(title_vectors):
        return mean, spread
    titles = title_vectors.astype(np.float32)
    for start in range(0, count, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, count)
        cosines = vectors[start:stop].astype(np.float32) @ titles.T
        mean[start:stop] = cosines.mean(axis=1)
        spread[start:stop] = np.maximum(cosines.std(axis=1), MIN_TITLE_SPREAD)
    return mean, spread

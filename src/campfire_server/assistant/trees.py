"""A gradient-boosted tree ensemble over evidence features, read from a JSON file.

``bench/fit_confidence.py`` writes the file from a fitted binary classifier:
the log-odds of the training prior, a learning rate, and regression trees
whose leaves add to the log-odds. Prediction needs no machine-learning
library, only this walk down each tree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The value ``left`` and ``right`` hold at a leaf.
LEAF = -1
# The precisions a model file may compare its features in.
PRECISIONS = ("float32", "float64")


@dataclass(frozen=True, slots=True)
class Tree:
    """One regression tree in flat arrays: node ``i`` splits on ``feature[i] <= threshold[i]``."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def predict(self, vector: Sequence[float]) -> float:
        node = 0
        while self.left[node] != LEAF:
            if vector[self.feature[node]] <= self.threshold[node]:
                node = self.left[node]
            else:
                node = self.right[node]
        return self.value[node]


@dataclass(frozen=True, slots=True)
class BoostedTrees:
    """A binary classifier: ``sigmoid(prior + learning_rate * sum of tree outputs)``."""

    features: tuple[str, ...]
    prior_log_odds: float
    learning_rate: float
    trees: tuple[Tree, ...]
    # The precision features are compared in: "float32" for scikit-learn's
    # GradientBoostingClassifier, "float64" for its
    # HistGradientBoostingClassifier.
    precision: str = "float32"

    def probability(self, values: Mapping[str, float]) -> float:
        """Return the predicted probability for the named feature ``values``."""
        # GradientBoostingClassifier compares features as float32 against
        # float64 thresholds. A split lies between two float32 training
        # values, so a float64 feature just under it can round to the other
        # side. HistGradientBoostingClassifier compares float64 values.
        vector = np.asarray([values[name] for name in self.features], dtype=self.precision).tolist()
        total = sum(tree.predict(vector) for tree in self.trees)
        z = self.prior_log_odds + self.learning_rate * total
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict:
        data = {
            "kind": "boosted_trees",
            "features": list(self.features),
            "prior_log_odds": self.prior_log_odds,
            "learning_rate": self.learning_rate,
            "trees": [
                {
                    "feature": list(tree.feature),
                    "threshold": list(tree.threshold),
                    "left": list(tree.left),
                    "right": list(tree.right),
                    "value": list(tree.value),
                }
                for tree in self.trees
            ],
        }
        # Files written before the precision was recorded are float32 ones.
        if self.precision != "float32":
            data["precision"] = self.precision
        return data


def load(path: Path) -> BoostedTrees:
    """Read an ensemble that ``BoostedTrees.to_json`` wrote.

    Raises ``ValueError`` when the file is not such a model or a tree in it
    is malformed.
    """
    return from_json(json.loads(path.read_text(encoding="utf-8")), path)


def from_json(data: dict, path: Path) -> BoostedTrees:
    """Build an ensemble from the output of ``BoostedTrees.to_json``; ``path`` names errors."""
    if data.get("kind") != "boosted_trees":
        raise ValueError(f"{path} is not a boosted-trees model (kind {data.get('kind')!r})")

    features = tuple(data["features"])
    precision = data.get("precision", "float32")
    if precision not in PRECISIONS:
        raise ValueError(f"{path}: unknown precision {precision!r}; expected one of {PRECISIONS}")
    trees = []
    for number, raw in enumerate(data["trees"]):
        tree = Tree(
            feature=tuple(int(i) for i in raw["feature"]),
            threshold=tuple(float(t) for t in raw["threshold"]),
            left=tuple(int(i) for i in raw["left"]),
            right=tuple(int(i) for i in raw["right"]),
            value=tuple(float(v) for v in raw["value"]),
        )
        sizes = {len(tree.feature), len(tree.threshold), len(tree.left), len(tree.right)}
        if sizes != {len(tree.value)}:
            raise ValueError(f"{path}: tree {number} has arrays of different lengths")
        for node, (left, right) in enumerate(zip(tree.left, tree.right, strict=True)):
            if left == LEAF:
                continue
            if not 0 <= tree.feature[node] < len(features):
                raise ValueError(f"{path}: tree {number} splits on feature {tree.feature[node]}")
            # Children after their parent, so a walk down the tree always ends.
            if not node < left < len(tree.value) or not node < right < len(tree.value):
                raise ValueError(f"{path}: tree {number} node {node} has invalid children")
        trees.append(tree)
    return BoostedTrees(
        features=features,
        prior_log_odds=float(data["prior_log_odds"]),
        learning_rate=float(data["learning_rate"]),
        trees=tuple(trees),
        precision=precision,
    )

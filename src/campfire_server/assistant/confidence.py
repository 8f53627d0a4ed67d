"""Confidence in 0..1 that an answer from the best article is right.

A model over the evidence of ``evidence.py``, one per retriever mode:
gradient-boosted trees read from ``models/confidence-<mode>.json`` where
``bench/fit_confidence.py`` wrote one, else a logistic model whose weights
``bench/calibrate.py`` printed. Both were fitted on the labelled questions
of three public support data sets (IBM TechQA technotes, Wix Help Center
tickets, IBM MTRAG conversations), where a positive example is an
answerable question whose first retrieved article is a gold article. So a
confidence of 0.7 means that about 7 in 10 such answers came from the
right article on those sets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from . import trees
from .evidence import FEATURE_NAMES, Evidence

MODEL_DIR = Path(__file__).with_name("models")


class ConfidenceScorer(Protocol):
    def score(self, evidence: Evidence) -> float: ...


@dataclass(frozen=True, slots=True)
class TreeConfidenceModel:
    """Boosted trees over the named evidence features."""

    ensemble: trees.BoostedTrees

    def score(self, evidence: Evidence) -> float:
        values = dict(zip(FEATURE_NAMES, evidence.vector(), strict=True))
        return self.ensemble.probability(values)


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    """Logistic weights by evidence feature; a feature left out has weight 0."""

    weights: dict[str, float]
    bias: float

    def score(self, evidence: Evidence) -> float:
        z = self.bias + sum(
            self.weights.get(name, 0.0) * value
            for name, value in zip(FEATURE_NAMES, evidence.vector(), strict=True)
        )
        return 1.0 / (1.0 + math.exp(-z))


# Used only where confidence-fused.json is missing. Fitted with:
# python bench/calibrate.py DATA --retriever fused --drop unknown_terms,query_size
_FUSED = ConfidenceModel(
    weights={
        "lexical_strength": -0.763,
        "lexical_margin": 1.078,
        "coverage": 0.335,
        "passage_coverage": -0.196,
        "rare_coverage": 0.116,
        "specific_missing": -0.650,
        "semantic_top": 0.489,
        "semantic_margin": 1.886,
        "retrievers_agree": 0.400,
        "title_coverage": 1.369,
        "lexical_spread": 1.160,
        "names_missing": -0.160,
        "answer_type_missing": 0.185,
        "pair_coverage": 1.380,
        "lexical_standard": 1.833,
        "semantic_standard": 2.506,
    },
    bias=-2.675,
)

_MODELS = {
    # Fitted with:
    # python bench/calibrate.py DATA --retriever lexical --drop unknown_terms,query_size
    "lexical": ConfidenceModel(
        weights={
            "lexical_strength": 1.211,
            "lexical_margin": 0.863,
            "coverage": -0.574,
            "passage_coverage": -0.857,
            "rare_coverage": 0.431,
            "specific_missing": -0.509,
            "title_coverage": 1.668,
            "lexical_spread": 1.505,
            "names_missing": -0.277,
            "answer_type_missing": -0.215,
            "pair_coverage": 1.977,
            "lexical_standard": 4.705,
        },
        bias=-2.928,
    ),
    "fused": _FUSED,
    # NOTE: semantic-only ranking reuses the fused weights; it was not fitted on its own.
    "semantic": _FUSED,
}


def model_path(mode: str) -> Path:
    """Return the file of the boosted-tree model for retriever ``mode``."""
    return MODEL_DIR / f"confidence-{mode}.json"


@cache
def confidence_model(mode: str) -> ConfidenceScorer:
    """Return the confidence model of retriever ``mode``: its trees if shipped, else weights."""
    # Semantic-only ranking has no model of its own and shares the fused one.
    fitted_mode = "fused" if mode == "semantic" else mode
    path = model_path(fitted_mode)
    if path.exists():
        ensemble = trees.load(path)
        unknown = set(ensemble.features) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"{path} names unknown evidence features {sorted(unknown)}")
        return TreeConfidenceModel(ensemble)

    model = _MODELS.get(mode) or _MODELS["lexical"]
    unknown = set(model.weights) - set(FEATURE_NAMES)
    if unknown:
        raise AssertionError(f"confidence weights name unknown features: {sorted(unknown)}")
    return model

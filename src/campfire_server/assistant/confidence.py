"""Confidence in 0..1 that an answer from the best article is right.

A logistic model over the evidence of ``evidence.py``, one set of weights
per retriever mode. The weights were fitted by ``bench/calibrate.py`` on
the labelled questions of three public support data sets (IBM TechQA
technotes, Wix Help Center tickets, IBM MTRAG conversations), where a
positive example is an answerable question whose first retrieved article
is a gold article. So a confidence of 0.7 means that about 7 in 10 such
answers came from the right article on those sets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .evidence import FEATURE_NAMES, Evidence


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    weights: tuple[float, ...]
    bias: float

    def score(self, evidence: Evidence) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))


# Fitted weights, in the order of FEATURE_NAMES.
_FUSED = ConfidenceModel(
    # python bench/calibrate.py DATA --retriever fused --drop unknown_terms,query_size
    weights=(
        0.275,
        0.597,
        0.658,
        0.842,
        0.104,
        -0.831,
        0,
        0,
        0.724,
        2.674,
        0.643,
        1.343,
        1.886,
        -0.365,
        -0.101,
    ),
    bias=-2.044,
)
_MODELS = {
    # python bench/calibrate.py DATA --retriever lexical --drop unknown_terms,query_size
    "lexical": ConfidenceModel(
        weights=(
            2.870,
            1.610,
            0.312,
            0.120,
            0.228,
            -0.503,
            0,
            0,
            0,
            0,
            0,
            1.885,
            1.913,
            -0.190,
            -0.327,
        ),
        bias=-2.364,
    ),
    "fused": _FUSED,
    # NOTE: semantic-only ranking reuses the fused weights; it was not fitted on its own.
    "semantic": _FUSED,
}


def confidence_model(mode: str) -> ConfidenceModel:
    model = _MODELS.get(mode) or _MODELS["lexical"]
    if len(model.weights) != len(FEATURE_NAMES):
        raise AssertionError("confidence weights do not match the evidence features")
    return model

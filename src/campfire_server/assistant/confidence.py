"""Confidence in 0..1 that an answer from the best article is right.

A model over the evidence of ``evidence.py``, one per retriever mode, read
from ``models/confidence-<mode>.json`` where ``bench/fit_confidence.py``
wrote one: gradient-boosted trees, logistic weights, or the mean of the two
probabilities. Without a file the mode falls back to logistic weights that
``bench/calibrate.py`` printed. Both were fitted on the labelled questions
of three public support data sets (IBM TechQA technotes, Wix Help Center
tickets, IBM MTRAG conversations), where a positive example is an
answerable question whose first retrieved article is a gold article. So a
confidence of 0.7 means that about 7 in 10 such answers came from the
right article on those sets.
"""

from __future__ import annotations

import json
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

    def to_json(self) -> dict:
        return {
            "kind": "logistic",
            "features": list(self.weights),
            "weights": list(self.weights.values()),
            "bias": self.bias,
        }


@dataclass(frozen=True, slots=True)
class AverageConfidenceModel:
    """The mean of several models' probabilities."""

    members: tuple[ConfidenceScorer, ...]

    def score(self, evidence: Evidence) -> float:
        return sum(member.score(evidence) for member in self.members) / len(self.members)


# Used only where confidence-fused.json is missing: the logistic member of that
# file, which python bench/fit_confidence.py DATA --retriever fused writes.
_FUSED = ConfidenceModel(
    weights={
        "lexical_strength": -0.970,
        "lexical_margin": 1.164,
        "coverage": 0.320,
        "passage_coverage": -0.282,
        "rare_coverage": -0.010,
        "semantic_top": -0.707,
        "retrievers_agree": 0.413,
        "title_coverage": 1.346,
        "lexical_spread": 1.260,
        "names_missing": -0.141,
        "answer_type_missing": 0.104,
        "pair_coverage": 1.175,
        "lexical_standard": 1.927,
        "semantic_standard": 1.413,
        "passage_hubness": -2.778,
        "title_query_standard": 0.905,
        "semantic_gap": 1.657,
        "piece_match_lead": 1.043,
        "kernel_00": -0.072,
        "kernel_01": -0.069,
        "kernel_02": -0.126,
        "kernel_03": -0.187,
        "kernel_04": -0.148,
        "kernel_05": 0.097,
        "kernel_06": 0.369,
        "kernel_07": 0.784,
        "kernel_08": 1.262,
        "title_kernel_00": -0.045,
        "title_kernel_01": -0.570,
        "title_kernel_02": -0.653,
        "title_kernel_03": -0.426,
        "title_kernel_04": -0.295,
        "title_kernel_05": -0.231,
        "title_kernel_06": -0.259,
        "title_kernel_07": -0.376,
        "title_kernel_08": -0.399,
        "weakest_piece": 1.920,
    },
    bias=-0.678,
)

_MODELS = {
    # Used only where confidence-lexical.json is missing: the logistic member
    # of that file, which python bench/fit_confidence.py DATA writes.
    "lexical": ConfidenceModel(
        weights={
            "lexical_strength": 1.056,
            "lexical_margin": 1.170,
            "coverage": -0.543,
            "passage_coverage": -0.957,
            "rare_coverage": 0.460,
            "specific_missing": -0.557,
            "title_coverage": 1.714,
            "lexical_spread": 1.449,
            "names_missing": -0.307,
            "answer_type_missing": -0.214,
            "pair_coverage": 1.921,
            "lexical_standard": 4.571,
        },
        bias=-2.784,
    ),
    "fused": _FUSED,
    # NOTE: semantic-only ranking reuses the fused weights; it was not fitted on its own.
    "semantic": _FUSED,
}


# The fused model of an index that keeps no passage word pieces (more than
# ``knowledge/index.py``'s MAX_PRECOMPUTED_PASSAGES passages). Its evidence has
# no ``piece_match_lead``, so this model is fitted without that feature.
# NOTE: it was fitted and checked on knowledge bases of at most 2,035
# passages, because no labelled set is larger.
WITHOUT_LEAD = "fused-without-lead"


def model_path(mode: str) -> Path:
    """Return the file of the boosted-tree model for retriever ``mode``."""
    return MODEL_DIR / f"confidence-{mode}.json"


def index_confidence_model(mode: str, *, keeps_passage_pieces: bool) -> ConfidenceScorer:
    """Return the confidence model for retriever ``mode`` over one index.

    Semantic and fused answers from an index that keeps no passage word
    pieces get the model fitted without ``piece_match_lead``, because that
    feature is then a constant 0.5 the full model never saw.
    """
    if mode != "lexical" and not keeps_passage_pieces:
        return confidence_model(WITHOUT_LEAD)
    return confidence_model(mode)


@cache
def confidence_model(mode: str) -> ConfidenceScorer:
    """Return the confidence model of retriever ``mode``: its file if shipped, else weights."""
    # Semantic-only ranking has no model of its own and shares the fused one.
    fitted_mode = "fused" if mode == "semantic" else mode
    path = model_path(fitted_mode)
    if path.exists():
        return load_model(path)
    if mode == WITHOUT_LEAD:
        raise FileNotFoundError(
            f"{path} is missing; write it with python bench/fit_confidence.py DATA_DIR "
            f"--retriever fused --drop piece_match_lead --out {path}"
        )

    model = _MODELS.get(mode) or _MODELS["lexical"]
    unknown = set(model.weights) - set(FEATURE_NAMES)
    if unknown:
        raise AssertionError(f"confidence weights name unknown features: {sorted(unknown)}")
    return model


def load_model(path: Path) -> ConfidenceScorer:
    """Read a model file that ``bench/fit_confidence.py`` wrote.

    Raises ``ValueError`` when the file is of an unknown kind or names
    evidence features this version does not measure.
    """
    return _from_json(json.loads(path.read_text(encoding="utf-8")), path)


def _from_json(data: dict, path: Path) -> ConfidenceScorer:
    kind = data.get("kind")
    if kind == "average":
        members = tuple(_from_json(member, path) for member in data["members"])
        if not members:
            raise ValueError(f"{path}: an average model needs at least one member")
        return AverageConfidenceModel(members)

    if kind == "boosted_trees":
        ensemble = trees.from_json(data, path)
        named = set(ensemble.features)
        model: ConfidenceScorer = TreeConfidenceModel(ensemble)
    elif kind == "logistic":
        weights = dict(zip(data["features"], data["weights"], strict=True))
        named = set(weights)
        model = ConfidenceModel(
            weights={k: float(v) for k, v in weights.items()}, bias=float(data["bias"])
        )
    else:
        raise ValueError(
            f"{path}: unknown model kind {kind!r}; expected boosted_trees, logistic or average"
        )
    unknown = named - set(FEATURE_NAMES)
    if unknown:
        raise ValueError(f"{path} names unknown evidence features {sorted(unknown)}")
    return model

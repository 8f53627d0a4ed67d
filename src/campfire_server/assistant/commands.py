"""The ``campfire kb`` and ``campfire eval`` commands."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..cli_errors import USAGE, CommandError, require_migrated, require_organization
from ..config import get_settings
from ..db.database import open_database
from ..knowledge import actions, importer
from ..knowledge.query import build_query
from ..knowledge.registry import IndexRegistry
from ..knowledge.semantic import SEMANTIC_MISSING, semantic_available
from ..knowledge.urls import source_url
from ..validation import has_visible_character

SettingsHook = Callable[[argparse.Namespace], Any]


def cmd_kb_import(args: argparse.Namespace, settings_from_args: SettingsHook) -> int:
    """Import the articles of a folder, document or JSON Lines file.

    Invalid JSON Lines rows, and rows that would update the article of an
    earlier row (matched as ``import_articles`` matches stored articles), are
    skipped, listed on stderr by line number and in the output's ``skipped``.
    Invalid document files, such as empty or non-UTF-8 ones, are skipped the
    same way and named by their path inside the folder.
    Errors name rows by file line or file name. JSON Lines fields that are
    not article fields, and not misspellings of one, are ignored and named
    once on stderr and in the output's ``ignoredFields``.
    The command fails with ``USAGE`` only when rows or files were skipped and
    none is left to import. The path, the database and the organization are
    checked before any file is read, so a wrong argument fails without output.
    """
    settings = settings_from_args(args)
    path = Path(args.path)
    importer.check_source(path)
    require_migrated(settings.database_url)
    db = open_database(settings.database_url, pool_size=2)
    try:
        db.read_sync(lambda tx: require_organization(tx, args.org))
        return _import_rows(args, path, db)
    finally:
        asyncio.run(db.close())


def _import_rows(args: argparse.Namespace, path: Path, db: Any) -> int:
    """Read, report and import the articles of ``path`` into ``--org``."""
    rows = importer.read_source_rows(path)
    items, skipped = rows.articles, rows.skipped
    unit = "rows" if path.suffix.lower() in (".jsonl", ".ndjson") else "files"
    for row in skipped:
        print(f"skipped {row.label} of {str(path)!r}: {row.reason}", file=sys.stderr)
    if rows.ignored_fields:
        print(_ignored_fields_line(path, rows.ignored_fields), file=sys.stderr)
    if skipped and not items:
        fix = (
            "fix the rows listed above and import the file again"
            if unit == "rows"
            else "fix or remove the files listed above and import again"
        )
        raise CommandError(
            f"nothing imported: all {len(skipped)} {unit} of {str(path)!r} are invalid; {fix}",
            USAGE,
        )

    def work(tx: Any) -> tuple[Any, dict[int, str]]:
        require_organization(tx, args.org)
        unknown = actions.find_unknown_mailboxes(tx, args.org, items)
        kept = [index for index in range(len(items)) if index not in unknown]
        if not kept:
            return None, unknown
        imported = actions.import_articles(
            tx,
            args.org,
            [items[index] for index in kept],
            labels=[rows.labels[index] for index in kept],
        )
        return imported, unknown

    result, unknown = db.write_sync(work)
    for index, mailbox_id in unknown.items():
        row = rows.skip(index, _unknown_mailbox_reason(mailbox_id, args.org))
        print(f"skipped {row.label} of {str(path)!r}: {row.reason}", file=sys.stderr)
        skipped.append(row)
    skipped.sort(key=lambda row: (row.line or 0, row.file or ""))
    if result is None:
        raise CommandError(
            f"nothing imported: all {len(skipped)} {unit} of {str(path)!r} are invalid; "
            "fix the ones listed above and import again",
            USAGE,
        )
    output = result.model_dump(by_alias=True, exclude={"article_ids"})
    output["skipped"] = [_skipped_entry(row) for row in skipped]
    output["ignoredFields"] = list(rows.ignored_fields)
    print(json.dumps(output, indent=2))
    if skipped:
        imported = len(items) - len(unknown)
        print(
            f"imported {imported} {unit} of {str(path)!r} and skipped {len(skipped)} "
            f"invalid {unit} listed above",
            file=sys.stderr,
        )
    return 0


def _ignored_fields_line(path: Path, ignored: dict[str, int]) -> str:
    """Name each ignored JSON Lines field once, with the number of rows that have it."""
    names = ", ".join(
        f"{name!r} (in {count} {'row' if count == 1 else 'rows'})"
        for name, count in ignored.items()
    )
    return (
        f"ignored fields of {str(path)!r} that are not article fields: {names}. "
        "A row may have content (or text), title, url, tags, mailboxIds and externalId "
        "(or id); rename a field to one of these to import it"
    )


def _unknown_mailbox_reason(mailbox_id: str, org_id: str) -> str:
    return (
        f"mailbox {mailbox_id!r} in mailboxIds was not found; name mailboxes of this "
        f"organization (`campfire mailboxes list --org {org_id}` lists them)"
    )


def _skipped_entry(row: importer.SkippedRow) -> dict[str, Any]:
    """Describe a skipped row by ``line`` or a skipped file by ``file``, with the reason."""
    if row.file is not None:
        return {"file": row.file, "reason": row.reason}
    return {"line": row.line, "reason": row.reason}


def cmd_kb_search(args: argparse.Namespace, settings_from_args: SettingsHook) -> int:
    if not has_visible_character(args.query):
        raise CommandError(
            f"the query {args.query!r} is empty; give the text to search for, "
            'for example: campfire kb search "refund policy" --org ORG_ID',
            USAGE,
        )
    if args.limit < 1:
        raise CommandError(
            f"--limit {args.limit} is below 1; give the number of results to show, such as 10",
            USAGE,
        )
    require_semantic(args.retriever)
    settings = settings_from_args(args)
    require_migrated(settings.database_url)
    db = open_database(settings.database_url, pool_size=2)
    try:
        db.read_sync(lambda tx: require_organization(tx, args.org))
        registry = IndexRegistry(db, semantic=args.retriever != "lexical")
        index = registry.get_sync(args.org)
        hits = index.search_by_relevance(
            build_query(args.query), mode=args.retriever, mailbox_id=args.mailbox, limit=args.limit
        )
        registry.close()
    finally:
        asyncio.run(db.close())
    for hit, relevance in hits:
        url = source_url(hit.article.id, hit.article.url)
        print(f"{hit.rank:>2}. {relevance:5.3f}  {hit.article.title}  <{url}>")
    if not hits:
        print("no article matches the query")
    return 0


def require_semantic(retriever: str) -> None:
    """Raise ``CommandError`` when ``--retriever`` needs the semantic extra and it is missing."""
    if retriever != "lexical" and not semantic_available():
        raise CommandError(f"--retriever {retriever} cannot run because {SEMANTIC_MISSING}", USAGE)


def cmd_eval(args: argparse.Namespace, settings_from_args: SettingsHook) -> int:
    from .evaluation import evaluate, format_table
    from .question_sets import QuestionSetError

    if not 0 <= args.threshold <= 1:
        raise CommandError(
            f"--threshold {args.threshold:g} is invalid: it must be a confidence from 0 to 1, "
            "such as the default 0.6",
            USAGE,
        )
    require_semantic(args.retriever)
    folders = [Path(args.dataset), *(Path(p) for p in args.merge)]
    for folder in folders:
        if not folder.is_dir():
            problem = "is not a folder" if folder.exists() else "does not exist"
            raise CommandError(
                f"the question set {str(folder)!r} {problem}; give a folder that contains "
                "articles.jsonl and questions.jsonl",
                USAGE,
            )
        for name in ("articles.jsonl", "questions.jsonl"):
            if not (folder / name).is_file():
                raise CommandError(
                    f"the question set {str(folder)!r} has no {name}; give a folder that "
                    "contains articles.jsonl and questions.jsonl",
                    USAGE,
                )
    try:
        results = asyncio.run(
            evaluate(
                folders,
                merge=bool(args.merge),
                retriever=args.retriever,
                threshold=args.threshold,
            )
        )
    except QuestionSetError as error:
        raise CommandError(str(error), USAGE) from None
    if args.json:
        print(json.dumps(results["sets"], indent=2))
    else:
        scope = "merged knowledge base" if args.merge else "each set alone"
        print(f"retriever: {args.retriever}, threshold: {args.threshold}, {scope}")
        print(format_table(results))
    return 0


def add_commands(
    commands: argparse._SubParsersAction,
    *,
    add_database: Callable[[argparse.ArgumentParser], None],
    settings_from_args: SettingsHook = lambda args: get_settings(),
) -> None:
    """Register ``kb import``, ``kb search`` and ``eval`` on the ``campfire`` parser."""
    kb = commands.add_parser("kb", help="manage the knowledge base").add_subparsers(
        dest="kb_command", required=True, metavar="COMMAND"
    )
    kb_import = kb.add_parser(
        "import",
        help="import a folder of .md/.html/.txt files or a .jsonl file; "
        "articles are matched by externalId, else url, else (with neither) title, "
        "so importing again updates them; invalid rows and files are skipped and listed",
    )
    kb_import.add_argument("path", help="folder or file to import")
    kb_import.add_argument("--org", required=True, metavar="ORG_ID", help="organization id")
    add_database(kb_import)
    kb_import.set_defaults(handler=lambda a: cmd_kb_import(a, settings_from_args))

    kb_search = kb.add_parser("search", help="list matching articles, highest relevance first")
    kb_search.add_argument("query", help="search text")
    kb_search.add_argument("--org", required=True, metavar="ORG_ID", help="organization id")
    kb_search.add_argument("--mailbox", metavar="MAILBOX_ID", help="only this mailbox's articles")
    kb_search.add_argument("--limit", type=int, default=10, help="number of results (default 10)")
    kb_search.add_argument(
        "--retriever",
        choices=["lexical", "semantic", "fused"],
        default="lexical",
        help="ranking to use; semantic and fused need the semantic extra (default lexical)",
    )
    add_database(kb_search)
    kb_search.set_defaults(handler=lambda a: cmd_kb_search(a, settings_from_args))

    evaluation = commands.add_parser(
        "eval",
        help="measure retrieval, handoff and answer time on a labelled question set "
        "(a folder with articles.jsonl and questions.jsonl), in a scratch database",
    )
    evaluation.add_argument("dataset", help="folder of the question set")
    evaluation.add_argument(
        "--merge",
        nargs="+",
        default=[],
        metavar="DATASET",
        help="more sets to load into the same knowledge base, as distractors; "
        "each set's questions are scored",
    )
    evaluation.add_argument(
        "--retriever",
        choices=["lexical", "semantic", "fused"],
        default="lexical",
        help="ranking to evaluate (default lexical)",
    )
    evaluation.add_argument(
        "--threshold",
        type=float,
        default=0.6,
        help="handoff threshold on confidence, 0 to 1 (default 0.6)",
    )
    evaluation.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluation.set_defaults(handler=lambda a: cmd_eval(a, settings_from_args))

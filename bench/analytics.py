"""Analytics query time over 100,000 conversations and 1,000,000 messages, on both engines.

Bulk-loads a synthetic history (executemany on SQLite, COPY on PostgreSQL)
into freshly migrated databases, derives the analytics facts the way an
import must (``analytics.backfill.rebuild_facts``), then times
``GET /api/v2/analytics/metrics`` as the route runs it: one ``db.read`` of
``analytics.service.get_metrics``.
The bare baseline is a plain count of the same cohort's messages through
the same index, measured in the same run. Usage:
``python bench/analytics.py [--conversations N] [--runs N] [--engines sqlite,postgresql]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from report import machine, write_section  # noqa: E402

from campfire_server.analytics import backfill, service  # noqa: E402
from campfire_server.db import migrate  # noqa: E402
from campfire_server.db.database import Database, open_database  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "CAMPFIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ORG = "org_bench"
MAILBOXES = ("mailbox_support", "mailbox_sales")
NOW_MS = 1_717_200_000_000  # 2024-06-01T00:00:00Z
# Requests are made inside an hour, so every period starts and ends with a
# partial hour, as a real request's does.
REQUEST_MS = NOW_MS - 1_337_123
SPAN_MS = 90 * 86_400_000
ALL_METRICS = (
    "response_time,first_response_time,human_response_time,ai_response_time,"
    "resolution_rate,handoff_rate,satisfaction,conversation_volume"
)
CASES = (
    ("30d, the reference's three metrics", {"period": "30d", "metrics": None}),
    ("30d, all eight metrics", {"period": "30d", "metrics": ALL_METRICS}),
    ("90d, all eight metrics (every row)", {"period": "90d", "metrics": ALL_METRICS}),
    (
        "24h, all eight metrics, hourly series",
        {"period": "24h", "metrics": ALL_METRICS, "interval": "hour"},
    ),
    (
        "7d, all eight metrics, hourly series",
        {"period": "7d", "metrics": ALL_METRICS, "interval": "hour"},
    ),
    (
        "30d, all eight metrics, daily series",
        {"period": "30d", "metrics": ALL_METRICS, "interval": "day"},
    ),
    (
        "90d, all eight metrics, daily series",
        {"period": "90d", "metrics": ALL_METRICS, "interval": "day"},
    ),
    (
        "90d, all eight metrics, weekly series",
        {"period": "90d", "metrics": ALL_METRICS, "interval": "week"},
    ),
)


def synthesize(conversations: int, messages_per: int, seed: int = 7) -> dict[str, list[tuple]]:
    """Return rows per table: conversations spread evenly over the 90 days before NOW_MS.

    Each conversation alternates customer messages with AI or agent replies
    a few seconds to minutes apart; 70% are resolved (a tenth of those
    reopened and resolved again), 20% are handed off and 30% are rated.
    """
    rng = random.Random(seed)
    rows: dict[str, list[tuple]] = {
        "conversations": [],
        "messages": [],
        "events": [],
        "satisfaction_ratings": [],
    }
    event_number = 0
    for index in range(conversations):
        conversation_id = f"conv_b{index:09d}"
        mailbox_id = MAILBOXES[index % 2]
        created_at = NOW_MS - SPAN_MS + (index * SPAN_MS) // conversations
        moment = created_at
        for position in range(messages_per):
            if position % 2 == 0:
                author = "customer"
                moment += rng.randint(1_000, 300_000)
            else:
                author = "ai" if rng.random() < 0.6 else "agent"
                moment += rng.randint(500, 900_000)
            private = author == "agent" and rng.random() < 0.05
            rows["messages"].append(
                (
                    f"msg_b{index:09d}{position:02d}",
                    ORG,
                    conversation_id,
                    "benchmark message",
                    author,
                    None,
                    "{}",
                    private,
                    moment,
                    position + 1,
                )
            )
        status = "open"
        resolutions = []
        if rng.random() < 0.7:
            resolutions.append(moment + 1_000)
            status = "resolved"
            if rng.random() < 0.1:
                resolutions.append(moment + 3_600_000)
        for resolved_at in resolutions:
            event_number += 1
            rows["events"].append(
                (
                    f"evt_b{event_number:010d}",
                    ORG,
                    conversation_id,
                    mailbox_id,
                    None,
                    "conversation.resolved",
                    "{}",
                    resolved_at,
                )
            )
        if rng.random() < 0.2:
            event_number += 1
            rows["events"].append(
                (
                    f"evt_b{event_number:010d}",
                    ORG,
                    conversation_id,
                    mailbox_id,
                    None,
                    "handoff.requested",
                    "{}",
                    created_at + 30_000,
                )
            )
        if rng.random() < 0.3:
            rows["satisfaction_ratings"].append(
                (
                    conversation_id,
                    ORG,
                    rng.randint(1, 5),
                    None,
                    "secret:bench",
                    moment + 60_000,
                    moment + 60_000,
                )
            )
        rows["conversations"].append(
            (
                conversation_id,
                ORG,
                mailbox_id,
                f"customer_{index % 1000}",
                None,
                status,
                "medium",
                None,
                "{}",
                0,
                messages_per,
                1,
                False,
                moment,
                resolutions[-1] if status == "resolved" else None,
                created_at,
                moment,
            )
        )
    return rows


COLUMNS = {
    "conversations": "id, org_id, mailbox_id, customer_id, subject, status, priority, "
    "assigned_agent_id, metadata, unread_count, message_count, event_seq, ai_paused, "
    "last_message_at, resolved_at, created_at, updated_at",
    "messages": "id, org_id, conversation_id, content, author_type, author_id, metadata, "
    "private, created_at, seq",
    "events": "id, org_id, conversation_id, mailbox_id, sequence, type, data, created_at",
    "satisfaction_ratings": "conversation_id, org_id, rating, comment, rated_by, created_at, "
    "updated_at",
}


def parents() -> dict[str, list[tuple]]:
    return {
        "organizations": [(ORG, "Benchmark org", "{}", NOW_MS - SPAN_MS)],
        "mailboxes": [(ORG, mailbox, mailbox, "{}", 0, 0) for mailbox in MAILBOXES],
        "customers": [(ORG, f"customer_{n}", None, None, "{}", 0, 0) for n in range(1000)],
    }


PARENT_COLUMNS = {
    "organizations": "id, name, settings, created_at",
    "mailboxes": "org_id, id, name, settings, created_at, updated_at",
    "customers": "org_id, id, name, email, metadata, created_at, updated_at",
}


def load_sqlite(path: str, rows: dict[str, list[tuple]]) -> None:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for table, table_rows in [*parents().items(), *rows.items()]:
        columns = PARENT_COLUMNS.get(table) or COLUMNS[table]
        marks = ", ".join("?" for _ in columns.split(","))
        conn.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", table_rows)
    conn.execute("COMMIT")
    conn.close()


def load_postgres(url: str, rows: dict[str, list[tuple]]) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        with conn.cursor() as cursor:
            for table, table_rows in [*parents().items(), *rows.items()]:
                columns = PARENT_COLUMNS.get(table) or COLUMNS[table]
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in table_rows:
                        copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        # Autovacuum would analyze the new tables within a minute; do it now.
        conn.execute("VACUUM ANALYZE")


def baseline(database: Database, request: service.MetricsRequest) -> Any:
    window = request.window
    return database.read(
        lambda tx: tx.value(
            "SELECT COUNT(*) AS n FROM conversations c JOIN messages m "
            "ON m.conversation_id = c.id WHERE c.org_id = :org_id "
            "AND c.created_at >= :low AND c.created_at < :high",
            org_id=ORG,
            low=window.previous_start_ms,
            high=window.end_ms,
        )
    )


def metrics_request(params: dict[str, Any]) -> service.MetricsRequest:
    return service.parse_request(
        period=params["period"],
        date_from=None,
        date_to=None,
        timezone="America/Chicago",
        mailbox_id=None,
        metrics=params.get("metrics"),
        interval=params.get("interval"),
        now_ms=REQUEST_MS,
    )


async def answer(database: Database, request: service.MetricsRequest) -> dict[str, Any]:
    """Run what the metrics route runs after authentication: one read of the aggregates."""
    return await database.read(lambda tx: service.get_metrics(tx, ORG, request))


async def time_case(database: Database, params: dict[str, Any], runs: int) -> dict[str, float]:
    request = metrics_request(params)
    timings, baselines, cpu = [], [], []
    await answer(database, request)  # warm the page cache
    for _ in range(runs):
        started = time.perf_counter()
        await baseline(database, request)
        baselines.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        cpu_started = time.process_time()
        await answer(database, request)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return {
        "median": statistics.median(timings),
        "max": max(timings),
        "baseline": statistics.median(baselines),
        "cpu": statistics.median(cpu),
    }


def rebuild(url: str) -> dict[str, float]:
    """Derive every conversation's facts after the bulk load, as an import must."""
    database = open_database(url)
    try:
        started = time.perf_counter()
        written = backfill.rebuild_facts(database)
        return {"seconds": time.perf_counter() - started, "conversations": written}
    finally:
        asyncio.run(database.close())


async def run_engine(url: str, runs: int) -> tuple[list[tuple[str, dict[str, float]]], dict]:
    database = open_database(url)
    try:
        started = time.perf_counter()
        await answer(database, metrics_request(CASES[1][1]))
        first_ms = (time.perf_counter() - started) * 1000
        cases = [(label, await time_case(database, params, runs)) for label, params in CASES]
        return cases, {"first_ms": first_ms}
    finally:
        await database.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--no-report", action="store_true", help="print, leave BENCHMARKS.md")
    args = parser.parse_args()

    started = time.perf_counter()
    rows = synthesize(args.conversations, args.messages_per_conversation)
    print(f"synthesized in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    results: dict[str, tuple[list[tuple[str, dict[str, float]]], dict]] = {}
    workdir = tempfile.mkdtemp(prefix="campfire-bench-analytics-")
    for engine in args.engines.split(","):
        if engine == "sqlite":
            url = f"sqlite:///{workdir}/analytics.db"
            migrate.upgrade(url)
            started = time.perf_counter()
            load_sqlite(url[len("sqlite:///") :], rows)
        else:
            import psycopg

            name = f"campfire_bench_{secrets.token_hex(4)}"
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            url = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
            migrate.upgrade(url)
            started = time.perf_counter()
            load_postgres(url, rows)
        print(f"{engine}: loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        try:
            derived = rebuild(url)
            print(f"{engine}: facts derived in {derived['seconds']:.1f} s", file=sys.stderr)
            cases, first = asyncio.run(run_engine(url, args.runs))
            results[engine] = (cases, {**derived, **first})
        finally:
            if engine == "postgresql":
                with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    report = render(results, args, len(rows["messages"]), len(rows["events"]))
    print(report)
    if not args.no_report:
        write_section("analytics", report)


def render(results: dict, args: argparse.Namespace, messages: int, events: int) -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        "## Analytics",
        "",
        f"`python bench/analytics.py` on {machine()}: {args.conversations:,} conversations, "
        f"{messages:,} messages, {events:,} resolution and handoff events, bulk-loaded into "
        "freshly migrated databases, then their analytics facts derived in chunks of "
        "conversations as an import must; conversations spread evenly over 90 days, so a "
        "30-day period and its comparison read two thirds of them. Time zone America/Chicago. "
        f"Median and maximum of {args.runs} runs after one warm-up of what the route runs "
        "after authentication: one read transaction of aggregate queries (thread hops "
        "included, HTTP not). CPU ms is the benchmark process's CPU time per request, which "
        "includes the SQLite engine but not the PostgreSQL server. The baseline counts the "
        "same cohort's messages through `ix_messages_conversation`, in the same run. The "
        f"machine was shared with other work: load average {load} (1, 5, 15 minutes) at the "
        "end of the run, on 2 CPUs, so absolute times vary with the load and the ratios "
        "carry over better.",
        "",
        "| engine | case | median ms | max ms | CPU ms | baseline ms | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for engine, (cases, _derived) in results.items():
        for label, figures in cases:
            ratio = figures["median"] / figures["baseline"] if figures["baseline"] else 0
            lines.append(
                f"| {engine} | {label} | {figures['median']:.0f} | {figures['max']:.0f} | "
                f"{figures['cpu']:.0f} | {figures['baseline']:.0f} | {ratio:.2f} |"
            )
    lines += [
        "",
        "| engine | facts derived after the bulk load | first query after it (cold) |",
        "| --- | --- | --- |",
    ]
    for engine, (_cases, derived) in results.items():
        lines.append(
            f"| {engine} | {derived['seconds']:.1f} s ({derived['conversations']:,} "
            f"conversations) | {derived['first_ms']:.0f} ms |"
        )
    lines += [
        "",
        "Indexes and tables (migrations `0003_analytics_live` and `0004_analytics_wait_bins`): "
        "a period reads the primary key of `analytics_rollups` (org, UTC hour of creation, "
        "mailbox) for the hours it covers whole and `ix_analytics_facts_org_created` (org, "
        "creation time) for the partial hours at its ends, and picks each p95 by walking "
        "`ix_analytics_waits_org_series_ms` (org, series, wait length, creation time, ...) "
        "from the longest wait down. A series reads its buckets' totals the same way. For "
        "each bucket's p95 it sums the rows of `analytics_wait_bins` (primary key: org, hour, "
        "mailbox, wait-length bin) over the bucket's whole hours and counts the wait rows of "
        "its partial hours (`ix_analytics_facts_org_created`, then the waits' primary key) to "
        "find the bin that contains the nearest rank. It then reads only that bin's waits in "
        "the bucket, one range of `ix_analytics_waits_org_series_bin` (org, series, bin, "
        "creation time, wait length, ...), which covers the query. On PostgreSQL each kind "
        "of aggregate of a series runs as one lateral statement over all its buckets. Writes "
        "keep these tables current in their own transaction, so no request rebuilds "
        "anything; the derivation after a bulk load reads the foundation's "
        "`ix_messages_conversation` and `ix_events_conversation`.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
